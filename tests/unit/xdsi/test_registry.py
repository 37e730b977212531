"""RegistryResponse statuses and error codes (PS3.18 2013 §6.4.4, ITI TF-3 §4.2.4.2)."""

from __future__ import annotations

import pytest

from hounsfield.errors import (
    InstanceNotFoundError,
    InvalidUIDError,
    NotRenderableError,
    RenderParameterError,
    SeriesNotFoundError,
    StorageUnavailableError,
    StudyNotFoundError,
)
from hounsfield.xdsi.registry import (
    FAILURE,
    PARTIAL_SUCCESS,
    RS,
    SUCCESS,
    WARNING,
    DocumentError,
    RegistryError,
    registry_error,
    registry_response,
    response_status,
)

ERROR = RegistryError("urn:dicom:wado:0017", "unknown", "1.2.3")


@pytest.mark.parametrize(("returned", "errors", "status"), [
    (2, [], SUCCESS), (0, [], SUCCESS),  # an empty request is refused before this
    (1, [ERROR], PARTIAL_SUCCESS), (1, [RegistryError("x", "w", "1", WARNING)],
                                    PARTIAL_SUCCESS),
    (0, [ERROR], FAILURE), (0, [ERROR, ERROR], FAILURE),
])
def test_status_follows_what_was_returned(returned: int, errors: list[RegistryError],
                                          status: str) -> None:
    assert response_status(returned, errors) == status


@pytest.mark.parametrize(("exc", "code"), [
    (StudyNotFoundError("s"), "urn:dicom:wado:0015"),
    (SeriesNotFoundError("s"), "urn:dicom:wado:0016"),
    (InstanceNotFoundError("s"), "urn:dicom:wado:0017"),
    (InvalidUIDError("s"), "urn:dicom:wado:0012"),
    (RenderParameterError("s"), "urn:dicom:wado:0012"),
    (NotRenderableError("s"), "urn:dicom:wado:0007"),
    (StorageUnavailableError("s"), "urn:dicom:wado:0014"),
    (DocumentError("urn:dicom:wado:0002", "s"), "urn:dicom:wado:0002"),
    (KeyError("bug"), "urn:dicom:wado:0014"),
])
def test_each_failure_has_its_code(exc: Exception, code: str) -> None:
    error = registry_error(exc, "1.2.3")
    assert (error.code, error.location) == (code, "1.2.3")
    assert error.context == ("internal error" if isinstance(exc, KeyError) else "s")


def test_the_error_list_carries_every_error() -> None:
    element = registry_response(f"{{{RS}}}RegistryResponse", 1, [ERROR])
    assert element.get("status") == PARTIAL_SUCCESS
    [listed] = element
    assert listed.get("highestSeverity").endswith(":Error")
    assert [dict(e.attrib) for e in listed] == [{
        "errorCode": "urn:dicom:wado:0017", "codeContext": "unknown",
        "severity": "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error",
        "location": "1.2.3"}]
