"""STOW-RS: Store Instances (PS3.18 §10.5).

POST {rs}/studies and POST {rs}/studies/{StudyInstanceUID}, with a multipart/related
body of Part 10 instances (type="application/dicom") or of metadata parts
(type="application/dicom+json" / "application/dicom+xml") and the bulk data they
reference. The body is spooled to disk as it arrives; parsing and storing run in worker
threads; the response lists what was stored and what failed, and its status is a pure
function of those outcomes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import anyio
import orjson
from starlette.requests import Request
from starlette.responses import Response

from hounsfield.archive.record import Disposition, StoreOutcome
from hounsfield.dicom import status
from hounsfield.dicom.xml_model import json_to_xml
from hounsfield.errors import (
    BadRequestError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from hounsfield.web.context import Services, rs_base_url, services, uid_param
from hounsfield.web.headers import warning_values
from hounsfield.web.media_types import MediaType, parse_media_type
from hounsfield.web.multipart import Part, spool_multipart
from hounsfield.web.negotiation import negotiate
from hounsfield.web.stow_metadata import store_metadata_parts
from hounsfield.web.stow_response import stow_response
from hounsfield.web.stow_status import stow_http_status

log = logging.getLogger(__name__)

DICOM = "application/dicom"
DICOM_JSON = "application/dicom+json"
DICOM_XML = "application/dicom+xml"
PART_TYPES = (DICOM, DICOM_JSON, DICOM_XML)
RESPONSE_TYPES = {
    DICOM_JSON: DICOM_JSON,
    "application/json": DICOM_JSON,
    DICOM_XML: DICOM_XML,
    "multipart/related;type=application/dicom+xml": DICOM_XML,
}


async def store_instances(request: Request) -> Response:
    """Store the instances of the request body; answer with the STOW-RS response."""
    base_url = rs_base_url(request)
    study = uid_param(request, "study", "StudyInstanceUID")
    part_type, boundary = _body_media_type(request.headers.get("content-type"))
    response_type = negotiate(request.headers.get("accept"), RESPONSE_TYPES)
    svc = services(request)
    _check_declared_length(request, svc.settings.max_request_bytes)
    parts = await spool_multipart(
        request.stream(), boundary, svc.archive.blobs.spool_dir,
        max_bytes=svc.settings.max_request_bytes,
        encoding=request.headers.get("content-encoding"),
        max_inflated_bytes=svc.settings.max_inflated_bytes)
    try:
        outcomes = await _store(svc, part_type, parts, study)
    finally:
        for part in parts:
            part.path.unlink(missing_ok=True)
    return _response(outcomes, base_url, study, response_type)


def _body_media_type(header: str | None) -> tuple[str, str]:
    if not header:
        raise UnsupportedMediaTypeError(
            'Content-Type is missing; expected multipart/related; type="application/dicom"')
    media_type = parse_media_type(header)
    if media_type.type != "multipart/related":
        raise UnsupportedMediaTypeError(
            f"Content-Type {media_type.type} is not supported; expected multipart/related "
            f"with type {', '.join(PART_TYPES)}")
    part_type = media_type.params.get("type", DICOM).lower()
    if part_type not in PART_TYPES:
        raise UnsupportedMediaTypeError(
            f"multipart/related type {part_type!r} is not supported; "
            f"expected one of {', '.join(PART_TYPES)}")
    boundary = media_type.params.get("boundary")
    if not boundary:
        raise BadRequestError("Content-Type multipart/related has no boundary parameter")
    return part_type, boundary


def _check_declared_length(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"request body of {declared} bytes is over the limit "
                                   f"of {limit} bytes")


async def _store(svc: Services, part_type: str, parts: Sequence[Part],
                 study: str | None) -> list[StoreOutcome]:
    if part_type == DICOM:
        return await _store_files(svc, parts, study)
    return await store_metadata_parts(svc, part_type, parts, study, _store_files)


async def _store_files(svc: Services, parts: Sequence[Part],
                       study: str | None) -> list[StoreOutcome]:
    """Store Part 10 parts in worker threads, concurrently, keeping their order."""
    if len(parts) == 1:
        return [await _store_file(svc, parts[0], study)]
    outcomes: list[StoreOutcome | None] = [None] * len(parts)

    async def store_one(index: int, part: Part) -> None:
        outcomes[index] = await _store_file(svc, part, study)

    async with anyio.create_task_group() as group:
        for index, part in enumerate(parts):
            group.start_soon(store_one, index, part)
    return [o for o in outcomes if o is not None]


async def _store_file(svc: Services, part: Part, study: str | None) -> StoreOutcome:
    media_type: MediaType | None = part.media_type
    if media_type is not None and media_type.type not in (DICOM, "application/octet-stream"):
        return StoreOutcome(Disposition.FAILED, failure_reason=status.CANNOT_UNDERSTAND,
                            message=f"a part has media type {media_type.type}, "
                                    f"expected {DICOM}")
    return await anyio.to_thread.run_sync(
        lambda: svc.archive.store_file(part.path, expected_study=study),
        limiter=svc.store_limiter)


def _response(outcomes: list[StoreOutcome], base_url: str, study: str | None,
              response_type: str) -> Response:
    if not outcomes:
        raise BadRequestError("the request body holds no part to store")
    dataset = stow_response(outcomes, base_url, study)
    body = json_to_xml(dataset) if response_type == DICOM_XML else orjson.dumps(dataset)
    response = Response(body, status_code=stow_http_status(outcomes), media_type=response_type)
    for value in warning_values(_problems(outcomes)):
        response.headers.append("warning", value)
    return response


def _problems(outcomes: Sequence[StoreOutcome]) -> list[str]:
    texts = []
    for o in outcomes:
        if not o.stored:
            texts.append(f"{o.sop_instance_uid or 'part'}: failed ({o.failure_reason:04X}H): "
                         f"{o.message}")
        texts += [f"{o.sop_instance_uid}: warning ({code:04X}H): {text}"
                  for code, text in o.warnings]
    return texts
