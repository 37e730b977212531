"""WADO-RS: Retrieve Transaction (PS3.18 §10.4), studies, series and instances.

GET (and HEAD) {rs}/studies/{study}, .../series/{series}, .../instances/{instance}:
the stored files, as stored or transcoded, streamed as `multipart/related;
type="application/dicom"` parts (or one `application/dicom` body for an instance); and
their `/metadata` as DICOM JSON or multipart DICOM XML from the precomputed metadata,
without opening a stored file. Frames and bulk data are in `wado_bulk`.
"""

from __future__ import annotations

import anyio
import orjson
from starlette.requests import Request
from starlette.responses import Response

from hounsfield.archive.retrieve import StoredInstance, Target
from hounsfield.dicom.json_model import instance_path, with_base_url, without_private
from hounsfield.dicom.transcode import MAX_DECODED_BYTES
from hounsfield.dicom.xml_model import json_to_xml
from hounsfield.errors import BadRequestError
from hounsfield.web.conditional import not_modified, validators
from hounsfield.web.context import ae_title, rs_base_url, services, uid_param
from hounsfield.web.headers import dicomweb_warning_values
from hounsfield.web.negotiation import negotiate
from hounsfield.web.qido_response import DICOM_JSON, JSON, MULTIPART_XML, encoded
from hounsfield.web.wado_negotiation import accepted, instance_plan
from hounsfield.web.wado_response import (
    OutgoingInstance,
    instance_single,
    instances_multipart,
    multipart_type,
)

_SUPPORTED = {False: frozenset({"accept"}), True: frozenset({"accept", "excludeprivate"})}
METADATA_OFFERS = {
    DICOM_JSON: DICOM_JSON,
    JSON: JSON,
    "multipart/related;type=application/dicom+xml": MULTIPART_XML,
}


async def retrieve_study(request: Request) -> Response:
    return warn_ignored(request, await _retrieve_instances(request))


async def retrieve_series(request: Request) -> Response:
    return warn_ignored(request, await _retrieve_instances(request))


async def retrieve_instance(request: Request) -> Response:
    return warn_ignored(request, await _retrieve_instances(request))


async def retrieve_study_metadata(request: Request) -> Response:
    return warn_ignored(request, await _retrieve_metadata(request))


async def retrieve_series_metadata(request: Request) -> Response:
    return warn_ignored(request, await _retrieve_metadata(request))


async def retrieve_instance_metadata(request: Request) -> Response:
    return warn_ignored(request, await _retrieve_metadata(request))


def warn_ignored(request: Request, response: Response) -> Response:
    """A Warning for each query parameter not supported here (PS3.18 §8.3.4 form)."""
    ignored = dict.fromkeys(k for k in request.query_params if k not in _SUPPORTED[
        request.url.path.endswith("/metadata")])
    texts = [f"The query parameter {name} is not supported and was ignored"
             for name in ignored]
    for value in dicomweb_warning_values(rs_base_url(request), texts):
        response.headers.append("warning", value)
    return response


def exclude_private(request: Request) -> bool:
    """The `excludeprivate` parameter of dcm4chee-arc-light: true or false."""
    value = request.query_params.get("excludeprivate", "false").lower()
    if value not in ("true", "false"):
        raise BadRequestError(f"excludeprivate={value[:20]!r}: expected true or false")
    return value == "true"


def target_of(request: Request) -> Target:
    """The study, series or instance of the URL (400 for a malformed UID)."""
    ae_title(request)
    study = uid_param(request, "study", "StudyInstanceUID")
    assert study is not None
    return Target(study, uid_param(request, "series", "SeriesInstanceUID"),
                  uid_param(request, "instance", "SOPInstanceUID"))


def accept_of(request: Request) -> str | None:
    """The `accept` query parameter (PS3.18 §8.3.3.1) wins over the Accept header."""
    return request.query_params.get("accept") or request.headers.get("accept")


async def find(request: Request, target: Target, **columns: bool) -> list[StoredInstance]:
    archive = services(request).archive
    return await anyio.to_thread.run_sync(
        lambda: archive.stored_instances(target, **columns))


async def _retrieve_instances(request: Request) -> Response:
    target = target_of(request)
    accept = accept_of(request)
    choices = accepted(accept)
    base_url = rs_base_url(request)
    found = await find(request, target)
    multipart, syntaxes = instance_plan(
        choices, [i.transfer_syntax_uid for i in found],
        single_allowed=target.sop_instance is not None, accept=accept,
        names=[f"instance {i.sop_instance}" for i in found],
        may_decode=[i.decoded_size_bound <= MAX_DECODED_BYTES for i in found],
        bits_allocated=[i.bits_allocated for i in found])
    current = validators([i.digest for i in found], [i.created_at for i in found],
                         "dicom", str(multipart), base_url, *syntaxes)
    if (unchanged := not_modified(request, current)) is not None:
        return unchanged
    outgoing = [OutgoingInstance(i, s, base_url + instance_path(i.study, i.series, i.sop_instance))
                for i, s in zip(found, syntaxes, strict=True)]
    archive = services(request).archive
    head_only = request.method == "HEAD"
    if multipart:
        return instances_multipart(archive, outgoing, current.token, current.headers,
                                   head_only)
    return await instance_single(archive, outgoing[0], current.headers, head_only)


async def _retrieve_metadata(request: Request) -> Response:
    target = target_of(request)
    base_url = rs_base_url(request)
    media_type = negotiate(accept_of(request), METADATA_OFFERS)
    private = exclude_private(request)
    found = await find(request, target, metadata=True)
    current = validators([i.digest for i in found], [i.created_at for i in found],
                         "metadata", media_type, base_url, str(private))
    if (unchanged := not_modified(request, current)) is not None:
        return unchanged
    documents = [with_base_url(i.metadata_json or b"{}", base_url.encode()) for i in found]
    if private:
        documents = await anyio.to_thread.run_sync(
            lambda: [orjson.dumps(without_private(orjson.loads(d))) for d in documents])
    accept_encoding = request.headers.get("accept-encoding")
    response = await anyio.to_thread.run_sync(  # XML and gzip cost CPU: not on the loop
        lambda: encoded(*_metadata_body(documents, media_type, current.token),
                        accept_encoding))
    response.headers.update(current.headers)
    return head(request, response)


def _metadata_body(documents: list[bytes], media_type: str,
                   boundary: str) -> tuple[bytes, str]:
    if media_type != MULTIPART_XML:
        return b"[" + b",".join(documents) + b"]", media_type
    parts = []
    for document in documents:
        parts.append(f"--{boundary}\r\nContent-Type: application/dicom+xml\r\n\r\n".encode())
        parts += [json_to_xml(orjson.loads(document)), b"\r\n"]
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), multipart_type("application/dicom+xml", boundary)


def head(request: Request, response: Response) -> Response:
    """For HEAD, the same headers (Content-Length included) without the body."""
    if request.method == "HEAD":
        response.body = b""
    return response
