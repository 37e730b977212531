"""WADO-RS frames and bulk data (PS3.18 §10.4.1.1.4-5; CP 2040 /pixeldata).

GET (and HEAD) {instance}/frames/{list}, {instance}/bulkdata/{tag path} and
{instance}/pixeldata. As stored, they are positioned reads of the stored file at the
places the frame and bulk data tables recorded at store time; nothing is parsed or
decoded: native pixel data goes out as application/octet-stream, compressed frames in
their own media type (image/jpeg, image/jls, image/jp2, ...), untouched. Asked for in
another representation (`bulk_negotiation`), frames are decoded and encoded one by one
in a worker thread (`archive.transcoded`), at most `MAX_DECODED_BYTES` per request.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
from starlette.requests import Request
from starlette.responses import Response

from hounsfield.archive.archive import Archive
from hounsfield.archive.retrieve import Run, StoredInstance, Target
from hounsfield.archive.transcoded import transcoded_frames
from hounsfield.dicom.json_model import instance_path
from hounsfield.dicom.transcode import MAX_DECODED_BYTES
from hounsfield.errors import NotAcceptableError, NotFoundError
from hounsfield.web.bulk_negotiation import BulkRepresentation, bulk_plan, stored_representation
from hounsfield.web.bulk_parts import is_video
from hounsfield.web.conditional import not_modified, validators
from hounsfield.web.context import rs_base_url, services
from hounsfield.web.wado import accept_of, find, head, target_of, warn_ignored
from hounsfield.web.wado_bulkdata import retrieve_video
from hounsfield.web.wado_negotiation import accepted
from hounsfield.web.wado_paths import bulk_data_key, check_frame_numbers, frame_numbers
from hounsfield.web.wado_response import byte_range, parts_multipart, single_part

PIXEL_DATA = "pixeldata"


async def retrieve_instance_frames(request: Request) -> Response:
    numbers = frame_numbers(request.path_params["frames"])
    archive, target = services(request).archive, target_of(request)
    found, read = await anyio.to_thread.run_sync(
        lambda: _find_and_read(archive, target, numbers))
    if found.frames is None and PIXEL_DATA not in (found.bulk_data or {}) \
            and found.number_of_frames <= 1:
        raise NotFoundError(f"instance {found.sop_instance} has no pixel data")
    count = len(found.frames) if found.frames is not None else found.number_of_frames
    check_frame_numbers(numbers, count, found.sop_instance)
    return warn_ignored(request, await _frames(request, found, numbers, read=read))


PREFETCHED_FRAMES = 16


def _find_and_read(archive: Archive, target: Target, numbers: list[int]
                   ) -> tuple[StoredInstance, list[bytes] | None]:
    """The instance and, when it is likely to go out as stored, the frames' stored
    bytes, in one worker-thread hop (a viewer asks for one frame at a time)."""
    [found] = archive.stored_instances(target, locations=True)
    frames = found.frames
    if (frames is None or len(numbers) > PREFETCHED_FRAMES
            or not all(1 <= n <= len(frames) for n in numbers)
            or stored_representation(found.transfer_syntax_uid, pixel_data=True) is None):
        return found, None
    return found, archive.read_runs(found.blob_key, [frames[n - 1] for n in numbers])


async def retrieve_bulkdata(request: Request) -> Response:
    key = bulk_data_key(request.path_params["path"])
    return warn_ignored(request, await _bulk_data(request, await _instance(request), key))


async def retrieve_instance_pixeldata(request: Request) -> Response:
    found = await _instance(request)
    if is_video(found):
        return warn_ignored(request, await retrieve_video(request, found))
    if PIXEL_DATA not in (found.bulk_data or {}) and found.frames:
        every_frame = list(range(1, len(found.frames) + 1))
        return warn_ignored(request, await _frames(request, found, every_frame, whole=True))
    return warn_ignored(request, await _bulk_data(request, found, PIXEL_DATA))


async def _instance(request: Request) -> StoredInstance:
    [found] = await find(request, target_of(request), locations=True)
    return found


async def _frames(request: Request, found: StoredInstance, numbers: list[int],
                  whole: bool = False, read: list[bytes] | None = None) -> Response:
    """The frames `numbers`; `whole`: all of them as the pixel data, whose one frame is
    then located at its BulkDataURI, .../pixeldata; `read`: their stored bytes, when
    already read."""
    what = f"the frames of instance {found.sop_instance}"
    decoded = found.decoded_size_bound // max(found.number_of_frames, 1) * len(numbers)
    multipart, produced = _plan(request, found, pixel_data=True, parts=len(numbers),
                                what=what, may_decode=decoded <= MAX_DECODED_BYTES)
    base = rs_base_url(request) + _path(found)
    locations = [f"{base}/frames/{n}" for n in numbers]
    if whole and len(numbers) == 1:
        locations = [f"{base}/{PIXEL_DATA}"]
    archive = services(request).archive
    if not produced.as_stored:
        target = produced.transfer_syntax
        return await _respond(request, found, multipart, produced, locations,
                              lambda: transcoded_frames(archive, found, numbers, target))
    if found.frames is None:
        raise _no_frame_table(found)
    spans = [found.frames[n - 1] for n in numbers]
    return await _respond(request, found, multipart, produced, locations,
                          read or (lambda: archive.read_runs(found.blob_key, spans)))


async def _bulk_data(request: Request, found: StoredInstance, key: str) -> Response:
    run = (found.bulk_data or {}).get(key)
    if run is None:
        raise NotFoundError(f"instance {found.sop_instance} has no bulk data at {key}")
    what = f"bulk data {key} of instance {found.sop_instance}"
    multipart, produced = _plan(request, found, pixel_data=key == PIXEL_DATA, parts=1,
                                what=what, may_decode=True)
    if not produced.as_stored:  # native pixel data in another representation: its frames
        count = len(found.frames) if found.frames else found.number_of_frames
        return await _frames(request, found, list(range(1, count + 1)))
    location = rs_base_url(request) + _path(found) + (
        f"/{key}" if key == PIXEL_DATA else f"/bulkdata/{key}")
    archive = services(request).archive
    spans: list[tuple[Run, ...]] = [(run,)]
    return await _respond(request, found, multipart, produced, [location],
                          lambda: archive.read_runs(found.blob_key, spans))


def _plan(request: Request, found: StoredInstance, *, pixel_data: bool, parts: int,
          what: str, may_decode: bool) -> tuple[bool, BulkRepresentation]:
    accept = accept_of(request)
    return bulk_plan(accepted(accept), found.transfer_syntax_uid, pixel_data=pixel_data,
                     parts=parts, accept=accept, what=what, may_decode=may_decode)


async def _respond(request: Request, found: StoredInstance, multipart: bool,
                   produced: BulkRepresentation, locations: list[str],
                   read: Callable[[], list[bytes]] | list[bytes]) -> Response:
    current = validators([found.digest], [found.created_at], "bulk", str(multipart),
                         produced.content_type, *locations)
    if (unchanged := not_modified(request, current)) is not None:
        return unchanged
    parts = read if isinstance(read, list) else await anyio.to_thread.run_sync(read)
    headers = dict(current.headers)
    if len(parts) == 1:  # one element: Range applies to its bytes, in either envelope
        parts[0], range_headers = byte_range(parts[0], request.headers.get("range"))
        headers.update(range_headers)
    if multipart:
        response = parts_multipart(parts, produced.media_type, produced.content_type,
                                   current.token, headers, locations)
    else:
        response = single_part(parts[0], produced.content_type, headers)
    if "content-range" in headers:
        response.status_code = 206
    return head(request, response)


def _path(found: StoredInstance) -> str:
    return instance_path(found.study, found.series, found.sop_instance)


def _no_frame_table(found: StoredInstance) -> Exception:
    if PIXEL_DATA not in (found.bulk_data or {}) and found.number_of_frames <= 1:
        return NotFoundError(f"instance {found.sop_instance} has no pixel data")
    return NotAcceptableError(
        f"the frames of instance {found.sop_instance} (stored in "
        f"{found.transfer_syntax_uid}) were not located at store time: they can be "
        "retrieved decoded (e.g. as application/octet-stream), not as stored")
