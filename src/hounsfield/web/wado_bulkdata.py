"""WADO-RS bulk data of studies, series and instances (PS3.18 §10.4.1.1.5-6, §10.4.3.3.5-6;
CP 2040 Pixel Data resources).

GET (and HEAD):
- `{rs}/studies/{s}/bulkdata`, `.../series/{se}/bulkdata`, `.../instances/{i}/bulkdata`
  (Study, Series and Instance Bulkdata): every bulk data element of every instance,
  its pixel data included;
- `{rs}/studies/{s}/pixeldata`, `.../series/{se}/pixeldata` (Study and Series Pixel
  Data): the pixel data of every instance;
- `{rs}/studies/{s}`, `.../series/{se}`, `.../instances/{i}` with an Accept that asks
  for no `application/dicom` but for multipart bulk data (PS3.18 2013 §6.5.1-6.5.3,
  as dcm4chee-arc-light): the same as their `/bulkdata`.

One part per element, frame or video stream (see `bulk_parts`), each with the
Content-Location the metadata names it by, streamed from the stored files. Parts the
Accept does not take, or that would need decoding, are left out and a Warning counts
them; when none is left the answer is 406 (404 when there is no bulk data at all).
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
from starlette.requests import Request
from starlette.responses import Response

from hounsfield.archive.retrieve import StoredInstance, Target
from hounsfield.errors import NotAcceptableError, NotFoundError
from hounsfield.web import wado
from hounsfield.web.bulk_negotiation import as_stored_plan
from hounsfield.web.bulk_parts import (
    BulkPart,
    OutgoingPart,
    Selection,
    bulk_data_parts,
    pixel_data_parts,
    select,
)
from hounsfield.web.bulk_stream import multipart_parts, single_part, with_range
from hounsfield.web.conditional import not_modified, validators
from hounsfield.web.context import rs_base_url, services
from hounsfield.web.headers import dicomweb_warning_values
from hounsfield.web.wado import accept_of, find, target_of, warn_ignored
from hounsfield.web.wado_negotiation import DICOM, Choice, accepted

PartsOf = Callable[[StoredInstance, str], list[BulkPart | None]]


async def retrieve_study(request: Request) -> Response:
    if asks_for_bulk_data(accepted(accept_of(request))):
        return await retrieve_study_bulkdata(request)
    return await wado.retrieve_study(request)


async def retrieve_series(request: Request) -> Response:
    if asks_for_bulk_data(accepted(accept_of(request))):
        return await retrieve_series_bulkdata(request)
    return await wado.retrieve_series(request)


async def retrieve_instance(request: Request) -> Response:
    if asks_for_bulk_data(accepted(accept_of(request))):
        return await retrieve_instance_bulkdata(request)
    return await wado.retrieve_instance(request)


async def retrieve_study_bulkdata(request: Request) -> Response:
    return warn_ignored(request, await _bulk_set(request, bulk_data_parts, "bulk data"))


async def retrieve_series_bulkdata(request: Request) -> Response:
    return warn_ignored(request, await _bulk_set(request, bulk_data_parts, "bulk data"))


async def retrieve_instance_bulkdata(request: Request) -> Response:
    return warn_ignored(request, await _bulk_set(request, bulk_data_parts, "bulk data"))


async def retrieve_study_pixeldata(request: Request) -> Response:
    return warn_ignored(request, await _bulk_set(request, pixel_data_parts, "pixel data"))


async def retrieve_series_pixeldata(request: Request) -> Response:
    return warn_ignored(request, await _bulk_set(request, pixel_data_parts, "pixel data"))


async def retrieve_video(request: Request, found: StoredInstance,
                         accept: str | None = None) -> Response:
    """The Instance Pixel Data of a video: its whole stream, one part or the body, with
    byte ranges (a player seeks with them); negotiated by `accept` when given, else by
    the request's."""
    [part] = pixel_data_parts(found, rs_base_url(request))
    assert part is not None
    representation = part.offered[0]
    accept = accept or accept_of(request)
    multipart = as_stored_plan(accepted(accept), representation, parts=1, accept=accept,
                               what=f"the video of instance {found.sop_instance}")
    current = validators([found.digest], [found.created_at], "video", str(multipart),
                         representation.content_type, part.location)
    if (unchanged := not_modified(request, current)) is not None:
        return unchanged
    outgoing, range_headers = with_range(OutgoingPart(part, representation),
                                         request.headers.get("range"))
    headers = {**current.headers, **range_headers}
    archive, head_only = services(request).archive, request.method == "HEAD"
    response = (multipart_parts(archive, [outgoing], current.token, headers, head_only)
                if multipart else single_part(archive, outgoing, headers, head_only))
    if "content-range" in headers:
        response.status_code = 206
    return response


def asks_for_bulk_data(choices: list[Choice]) -> bool:
    """No acceptable media type could be application/dicom, and one is multipart: the
    client asks a study, series or instance for its bulk data."""
    dicom = ("*/*", "application/*", DICOM)
    return (not any(c.media_type in dicom for c in choices)
            and any(c.multipart for c in choices))


async def _bulk_set(request: Request, parts_of: PartsOf, kind: str) -> Response:
    target = target_of(request)
    accept = accept_of(request)
    choices = accepted(accept)
    base_url = rs_base_url(request)
    found = await find(request, target, locations=True)
    candidates, selection = await anyio.to_thread.run_sync(  # many frames: CPU, off the loop
        lambda: _candidates_and_selection(parts_of, found, base_url, choices))
    if not selection.outgoing:
        raise _nothing_to_send(target, kind, accept, candidates)
    current = validators([i.digest for i in found], [i.created_at for i in found],
                         kind, base_url, repr(choices))
    if (unchanged := not_modified(request, current)) is not None:
        return unchanged
    response = multipart_parts(services(request).archive, selection.outgoing,
                               current.token, current.headers, request.method == "HEAD")
    for value in dicomweb_warning_values(base_url, _left_out(selection, kind)):
        response.headers.append("warning", value)
    return response


def _candidates_and_selection(parts_of: PartsOf, found: list[StoredInstance], base_url: str,
                              choices: list[Choice]
                              ) -> tuple[list[list[BulkPart | None]], Selection]:
    candidates = [parts_of(i, base_url) for i in found]
    return candidates, select(choices, found, candidates)


def _left_out(selection: Selection, kind: str) -> list[str]:
    if not selection.left_out:
        return []
    instances = selection.left_out_instances
    return [f"{selection.left_out} {kind} part(s) of {len(instances)} instance(s) "
            f"(the first {instances[0]}) are not available in an acceptable media type "
            "without decoding and were left out"]


def _nothing_to_send(target: Target, kind: str, accept: str | None,
                     candidates: list[list[BulkPart | None]]) -> Exception:
    what = _name(target)
    if not any(candidates):
        return NotFoundError(f"{what} has no {kind}")
    return NotAcceptableError(
        f"cannot produce {accept or 'the default representation'!r} for the {kind} of "
        f"{what}: none of it is stored in an acceptable media type (decoding bulk data "
        "is not supported yet)")


def _name(target: Target) -> str:
    if target.sop_instance is not None:
        return f"instance {target.sop_instance}"
    if target.series is not None:
        return f"series {target.series}"
    return f"study {target.study}"
