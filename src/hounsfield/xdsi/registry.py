"""Statuses and errors of WADO-WS responses (PS3.18 2013 §6.4.4, ebRS 3.0
RegistryResponse, IHE ITI TF-3 §4.2.4).

Each request that could not be served for one document adds a RegistryError naming the
document in `location`; the status of the whole response follows from what was
returned (`response_status`). The error codes are the rows of Table 6.4-1, plus the
XDS code for a repository unique id this archive does not hold (ITI TF-3 Table
4.2.4.1-2).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from lxml import etree

from hounsfield.errors import (
    HounsfieldError,
    InstanceNotFoundError,
    InvalidUIDError,
    NotAcceptableError,
    PresentationStateError,
    RenderParameterError,
    SeriesNotFoundError,
    StudyNotFoundError,
)
from hounsfield.xdsi.soap import xml_text

log = logging.getLogger(__name__)
RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
PARTIAL_SUCCESS = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"
FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
ERROR = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"
WARNING = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Warning"

# PS3.18 2013 Table 6.4-1
UNABLE_TO_ANONYMIZE = "urn:dicom:wado:0001"
ANONYMIZATION_NOT_SUPPORTED = "urn:dicom:wado:0002"
FORMAT_NOT_SUPPORTED = "urn:dicom:wado:0006"  # not by this server at all
FORMAT_NOT_PROVIDED = "urn:dicom:wado:0007"  # not for this instance
INVALID_PARAMETER = "urn:dicom:wado:0012"
UNSUPPORTED_PARAMETER = "urn:dicom:wado:0013"
PROCESSING_FAILURE = "urn:dicom:wado:0014"
UNKNOWN_STUDY = "urn:dicom:wado:0015"
UNKNOWN_SERIES = "urn:dicom:wado:0016"
UNKNOWN_DOCUMENT = "urn:dicom:wado:0017"
FRAME_OUT_OF_RANGE = "urn:dicom:wado:0018"
UNKNOWN_PRESENTATION = "urn:dicom:wado:0019"
UNKNOWN_PRESENTATION_SERIES = "urn:dicom:wado:0020"
# IHE ITI TF-3 Table 4.2.4.1-2
UNKNOWN_REPOSITORY = "XDSUnknownRepositoryId"

_CODES = ((StudyNotFoundError, UNKNOWN_STUDY), (SeriesNotFoundError, UNKNOWN_SERIES),
          (InstanceNotFoundError, UNKNOWN_DOCUMENT), (InvalidUIDError, INVALID_PARAMETER),
          (RenderParameterError, INVALID_PARAMETER),
          (PresentationStateError, INVALID_PARAMETER), (NotAcceptableError, FORMAT_NOT_PROVIDED))


@dataclass(frozen=True)
class RegistryError:
    """One rs:RegistryError: what went wrong (`context`) for which document."""

    code: str
    context: str
    location: str
    severity: str = ERROR


class DocumentError(Exception):
    """A document of the request cannot be served; becomes its RegistryError."""

    def __init__(self, code: str, context: str):
        super().__init__(context)
        self.code = code
        self.context = context


def registry_error(exc: Exception, location: str) -> RegistryError:
    """The RegistryError of an exception raised while serving the document `location`."""
    if isinstance(exc, DocumentError):
        return RegistryError(exc.code, exc.context, location)
    if isinstance(exc, HounsfieldError):
        code = next((c for kind, c in _CODES if isinstance(exc, kind)), PROCESSING_FAILURE)
        return RegistryError(code, exc.message, location)
    log.error("WADO-WS failed on document %s", location, exc_info=exc)
    return RegistryError(PROCESSING_FAILURE, "internal error", location)


def response_status(returned: int, errors: list[RegistryError]) -> str:
    """Success: every document and no error or warning; Failure: no document at all;
    PartialSuccess otherwise (ITI TF-3 §4.2.4.2, PS3.18 2013 §6.4.1.2)."""
    if not errors:
        return SUCCESS
    return PARTIAL_SUCCESS if returned else FAILURE


def registry_response(tag: str, returned: int, errors: list[RegistryError]
                      ) -> etree._Element:
    """The RegistryResponse element (named `tag`) of a response."""
    response = etree.Element(tag, nsmap={"rs": RS})
    response.set("status", response_status(returned, errors))
    if errors:
        listed = etree.SubElement(response, f"{{{RS}}}RegistryErrorList")
        listed.set("highestSeverity", ERROR if any(e.severity == ERROR for e in errors)
                   else WARNING)
        for error in errors:
            etree.SubElement(listed, f"{{{RS}}}RegistryError", {
                "errorCode": error.code, "codeContext": xml_text(error.context),
                "severity": error.severity, "location": xml_text(error.location)})
    return response
