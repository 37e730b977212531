"""WADO-RS: Retrieve Transaction (PS3.18 §10.4), studies, series and instances.

GET (and HEAD) {rs}/studies/{study}, .../series/{series}, .../instances/{instance}:
the stored files, as stored or transcoded, streamed as `multipart/related;
type="application/dicom"` parts (or one `application/dicom` body for an instance, or
an `application/zip` archive, `wado_zip`); and
their `/metadata` as DICOM JSON or multipart DICOM XML from the precomputed metadata,
without opening a stored file. Frames and bulk data are in `wado_bulk`.
"""

from __future__ import annotations

from typing import Any

import anyio
import orjson
from starlette.requests import Request
from starlette.responses import Response

from hounsfield.archive.retrieve import StoredInstance, Target
from hounsfield.dicom.attribute_path import parse_attribute
from hounsfield.dicom.json_model import (
    IDENTIFYING_TAGS,
    instance_path,
    only_attributes,
    with_base_url,
    without_private,
)
from hounsfield.dicom.transcode import MAX_DECODED_BYTES
from hounsfield.dicom.xml_model import json_to_xml
from hounsfield.errors import BadRequestError, NotAcceptableError
from hounsfield.web.conditional import not_modified, validators
from hounsfield.web.context import ae_title, rs_base_url, services, uid_param
from hounsfield.web.headers import dicomweb_warning_values
from hounsfield.web.negotiation import negotiate
from hounsfield.web.qido_response import DICOM_JSON, JSON, MULTIPART_XML, encoded
from hounsfield.web.wado_negotiation import (
    ZIP,
    Choice,
    accepted,
    instance_plan,
    prefers_zip,
    zip_choices,
)
from hounsfield.web.wado_response import (
    OutgoingInstance,
    instance_single,
    instances_multipart,
    multipart_type,
    read_small_file,
)
from hounsfield.web.wado_zip import dicomdir_wanted, zip_response

_SUPPORTED = {False: frozenset({"accept", "dicomdir"}),
              True: frozenset({"accept", "excludeprivate", "includefield", "includefields"})}
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
    return warn_unsupported(request, response,
                            _SUPPORTED[request.url.path.endswith("/metadata")])


def warn_unsupported(request: Request, response: Response,
                     supported: frozenset[str]) -> Response:
    """A Warning for each query parameter of the request not in `supported`."""
    for name in dict.fromkeys(k for k in request.query_params if k not in supported):
        warn(request, response, f"The query parameter {name} is not supported and was ignored")
    return response


def warn(request: Request, response: Response, text: str) -> None:
    for value in dicomweb_warning_values(rs_base_url(request), [text]):
        response.headers.append("warning", value)


def exclude_private(request: Request) -> bool:
    """The `excludeprivate` parameter of dcm4chee-arc-light: true or false."""
    value = request.query_params.get("excludeprivate", "false").lower()
    if value not in ("true", "false"):
        raise BadRequestError(f"excludeprivate={value[:20]!r}: expected true or false")
    return value == "true"


def included_tags(request: Request) -> frozenset[str] | None:
    """The top-level tags `includefield` names (dcm4chee-arc-light: `includefields`), a
    comma-separated list of keywords, tags or paths, repeatable; None for all of them
    (absent, or `all`)."""
    values = [v.strip() for name in ("includefield", "includefields")
              for value in request.query_params.getlist(name) for v in value.split(",")]
    if not values or "all" in values:
        return None
    return frozenset(parse_attribute(v).hex_tags[0] for v in values) | IDENTIFYING_TAGS


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
    with_dicomdir = dicomdir_wanted(request)
    if prefers_zip(choices):
        return await _retrieve_zip(request, target, accept, choices, with_dicomdir)
    found, prefetched = await _find_instances(request, target)
    try:
        multipart, syntaxes = _plan(choices, found, accept,
                                   single_allowed=target.sop_instance is not None)
    except NotAcceptableError:
        if not zip_choices(choices):
            raise
        return await _retrieve_zip(request, target, accept, choices, with_dicomdir)
    base_url = rs_base_url(request)
    current = validators([i.digest for i in found], [i.created_at for i in found],
                         "dicom", str(multipart), base_url, *syntaxes)
    if (unchanged := not_modified(request, current)) is not None:
        return unchanged
    outgoing = [OutgoingInstance(i, s, base_url + instance_path(i.study, i.series, i.sop_instance),
                                 prefetched)
                for i, s in zip(found, syntaxes, strict=True)]
    archive = services(request).archive
    head_only = request.method == "HEAD"
    if multipart:
        response = instances_multipart(archive, outgoing, current.token, current.headers,
                                       head_only)
    else:
        response = await instance_single(archive, outgoing[0], current.headers, head_only)
    if with_dicomdir:
        warn(request, response, "The query parameter dicomdir applies to application/zip "
              "only and was ignored")
    return response


async def _find_instances(request: Request, target: Target
                          ) -> tuple[list[StoredInstance], bytes | None]:
    """The instances of `target`; for one instance, its stored file too when small
    enough, read in the same worker-thread hop."""
    archive = services(request).archive

    def find_and_read() -> tuple[list[StoredInstance], bytes | None]:
        found = archive.stored_instances(target)
        return found, read_small_file(archive, found[0]) if target.sop_instance else None

    return await anyio.to_thread.run_sync(find_and_read)


def _plan(choices: list[Choice], found: list[StoredInstance], accept: str | None, *,
          single_allowed: bool) -> tuple[bool, list[str]]:
    """(multipart?, transfer syntax of each instance), by `instance_plan`."""
    return instance_plan(
        choices, [i.transfer_syntax_uid for i in found],
        single_allowed=single_allowed, accept=accept,
        names=[f"instance {i.sop_instance}" for i in found],
        may_decode=[i.decoded_size_bound <= MAX_DECODED_BYTES for i in found],
        bits_allocated=[i.bits_allocated for i in found])


async def _retrieve_zip(request: Request, target: Target, accept: str | None,
                        choices: list[Choice], with_dicomdir: bool) -> Response:
    """The instances in a ZIP archive, each file in the transfer syntax the
    application/zip ranges give it."""
    found = await find(request, target, metadata=with_dicomdir)
    _, syntaxes = _plan(zip_choices(choices), found, accept, single_allowed=False)
    current = validators([i.digest for i in found], [i.created_at for i in found],
                         ZIP, str(with_dicomdir), *syntaxes)
    if (unchanged := not_modified(request, current)) is not None:
        return unchanged
    return zip_response(services(request).archive, found, syntaxes, current, target=target,
                        with_dicomdir=with_dicomdir, head_only=request.method == "HEAD")


async def _retrieve_metadata(request: Request) -> Response:
    target = target_of(request)
    base_url = rs_base_url(request)
    media_type = negotiate(accept_of(request), METADATA_OFFERS)
    private = exclude_private(request)
    included = included_tags(request)
    found = await find(request, target, metadata=True)
    current = validators([i.digest for i in found], [i.created_at for i in found],
                         "metadata", media_type, base_url, str(private),
                         ",".join(sorted(included or ("all",))))
    if (unchanged := not_modified(request, current)) is not None:
        return unchanged
    documents = [with_base_url(i.metadata_json or b"{}", base_url.encode()) for i in found]
    if private or included is not None:
        documents = await anyio.to_thread.run_sync(
            lambda: [orjson.dumps(_filtered(orjson.loads(d), private, included))
                     for d in documents])
    accept_encoding = request.headers.get("accept-encoding")
    response = await anyio.to_thread.run_sync(  # XML and gzip cost CPU: not on the loop
        lambda: encoded(*_metadata_body(documents, media_type, current.token),
                        accept_encoding))
    response.headers.update(current.headers)
    return head(request, response)


def _filtered(model: dict[str, Any], private: bool,
              included: frozenset[str] | None) -> dict[str, Any]:
    if included is not None:
        model = only_attributes(model, included)
    return without_private(model) if private else model


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
