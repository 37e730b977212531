"""The one error hierarchy of Hounsfield.

Every layer raises these; the web adapter turns them into HTTP responses in exactly one
place (`hounsfield.web.errors`). Each class carries the HTTP status it maps to, so that the
mapping is data, not a chain of ifs. Anything that is not a `HounsfieldError` is a bug and
becomes a 500 with a generic text and a logged traceback.
"""

from __future__ import annotations


class HounsfieldError(Exception):
    """Base of every error Hounsfield raises on purpose."""

    http_status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadRequestError(HounsfieldError):
    """The request cannot be understood: malformed syntax, invalid parameter or body."""

    http_status = 400


class InvalidUIDError(BadRequestError):
    """A UID does not follow the PS3.5 §9 grammar or is longer than 64 characters."""


class RenderParameterError(BadRequestError):
    """A rendering parameter (window, viewport, region, quality, frame) cannot be met."""


class WadoUriParameterError(BadRequestError):
    """A WADO-URI query parameter is missing, malformed, or not allowed with the others
    (PS3.18 §8); the message starts with the parameter's name."""

    def __init__(self, parameter: str, problem: str):
        super().__init__(f"{parameter} {problem}")
        self.parameter = parameter


class PresentationStateError(BadRequestError):
    """The presentation state of the request cannot be applied to the requested object:
    it is not a Grayscale Softcopy Presentation State, or does not reference the object."""


class NotFoundError(HounsfieldError):
    """The addressed resource does not exist."""

    http_status = 404


class UnknownAETitleError(NotFoundError):
    """The AE title in the URL is not one this archive serves."""


class NotAcceptableError(HounsfieldError):
    """No media type the client accepts can be produced."""

    http_status = 406


class NotRenderableError(NotAcceptableError):
    """The object has no pixels that can be rendered in the requested media type."""


class ConflictError(HounsfieldError):
    """The request conflicts with the state of the archive."""

    http_status = 409


class PayloadTooLargeError(HounsfieldError):
    """The request body (or its inflated form) is over the configured limit."""

    http_status = 413


class UnsupportedMediaTypeError(HounsfieldError):
    """The request's Content-Type is not one this resource accepts."""

    http_status = 415


class StorageUnavailableError(HounsfieldError):
    """The index or the blob store cannot be reached or written."""

    http_status = 503


class ConfigError(HounsfieldError):
    """The settings are invalid; raised at start, never while serving."""


class InstanceRejectedError(HounsfieldError):
    """One instance cannot be stored; carries the DICOM failure reason (PS3.18 §10.5.3).

    STOW-RS turns it into an item of the FailedSOPSequence, not into the HTTP status of
    the whole request; where it does reach the HTTP layer on its own it is a 409.
    """

    http_status = 409

    def __init__(self, failure_reason: int, message: str,
                 sop_class_uid: str | None = None, sop_instance_uid: str | None = None):
        super().__init__(message)
        self.failure_reason = failure_reason
        self.sop_class_uid = sop_class_uid
        self.sop_instance_uid = sop_instance_uid


class StudyNotFoundError(NotFoundError):
    """No study with the Study Instance UID of the request is stored."""


class SeriesNotFoundError(NotFoundError):
    """No series with the Series Instance UID of the request is stored in that study."""


class InstanceNotFoundError(NotFoundError):
    """No instance with the SOP Instance UID of the request is stored in that series."""


class PresentationStateNotFoundError(NotFoundError):
    """No presentation state with the presentationUID of a WADO-URI request is stored in
    its presentationSeriesUID of the request's study."""


class RangeNotSatisfiableError(HounsfieldError):
    """A byte Range lies outside the representation (RFC 9110 §15.5.17)."""

    http_status = 416

    def __init__(self, message: str, length: int):
        super().__init__(message)
        self.length = length


class SoapFaultError(BadRequestError):
    """A SOAP message that is not a valid envelope for the service (SOAP 1.2 Part 1 §5.4):
    WADO-WS answers it with a SOAP Fault instead of a RegistryResponse.

    `code` is the fault's Code value: Sender (the message is wrong), VersionMismatch (not
    a SOAP 1.2 envelope) or MustUnderstand (a header block that must be understood is
    not). All three are the client's doing, so all are HTTP 400: the SOAP 1.2 HTTP
    binding (Part 2 §7.5.2.2) would answer the last two with 500, but no request makes
    Hounsfield answer 500 by what it sends (docs/conformance.md, WADO-WS)."""

    def __init__(self, message: str, code: str = "Sender"):
        super().__init__(message)
        self.code = code
