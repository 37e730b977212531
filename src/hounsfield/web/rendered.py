"""WADO-RS Retrieve Rendered Transaction (PS3.18 §10.4.1.1.3, parameters §8.3.5.1).

GET (and HEAD) {study}/rendered, {series}/rendered, {instance}/rendered and
{instance}/frames/{list}/rendered. An image is rendered (`dicom.render`) from frames read
by `archive.render_source` in a worker thread: JPEG by default, PNG or GIF when asked
(a multi-frame instance as GIF is an animation of its frames). A study or series answers
multipart/related, one rendered instance per part, streamed as they are rendered; a
frame list of more than one frame answers one part per frame. Objects that are not
images go out in their own rendered media type (`rendered_objects`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from hounsfield.archive.archive import Archive
from hounsfield.archive.render_source import frame_count, render_source
from hounsfield.archive.retrieve import StoredInstance
from hounsfield.dicom.json_model import instance_path
from hounsfield.dicom.render import GIF, JPEG, PNG, render
from hounsfield.errors import HounsfieldError, NotRenderableError
from hounsfield.web.conditional import Validators, not_modified, validators
from hounsfield.web.context import rs_base_url, services
from hounsfield.web.negotiation import negotiate
from hounsfield.web.rendered_objects import is_image, respond_object
from hounsfield.web.rendered_params import RENDERED, RenderedParameters, rendered_parameters
from hounsfield.web.wado import accept_of, find, head, target_of, warn, warn_unsupported
from hounsfield.web.wado_paths import check_frame_numbers, frame_numbers
from hounsfield.web.wado_response import multipart_type

log = logging.getLogger(__name__)

IMAGE_OFFERS = {media_type: media_type for media_type in (JPEG, PNG, GIF)} | {
    f"multipart/related;type={media_type}": media_type for media_type in (JPEG, PNG, GIF)}


async def retrieve_study_rendered(request: Request) -> Response:
    return await rendered_set(request, rendered_parameters(request), RENDERED)


async def retrieve_series_rendered(request: Request) -> Response:
    return await rendered_set(request, rendered_parameters(request), RENDERED)


async def retrieve_instance_rendered(request: Request) -> Response:
    params = rendered_parameters(request)
    [found] = await find(request, target_of(request), metadata=True, locations=True)
    if not is_image(found):
        return warn_unsupported(request, await respond_object(request, found), RENDERED)
    response = await rendered_image(request, found, params, None)
    return warn_unsupported(request, response, RENDERED)


async def retrieve_instance_frames_rendered(request: Request) -> Response:
    numbers = frame_numbers(request.path_params["frames"])
    params = rendered_parameters(request)
    [found] = await find(request, target_of(request), metadata=True, locations=True)
    if not is_image(found):
        raise NotRenderableError(f"instance {found.sop_instance} has no frames to render")
    check_frame_numbers(numbers, frame_count(found), found.sop_instance)
    if len(numbers) == 1:
        response = await rendered_image(request, found, params, numbers[0])
    else:
        media_type = negotiate(accept_of(request), IMAGE_OFFERS)
        base = rs_base_url(request) + _path(found)
        parts = [(found, n, f"{base}/frames/{n}/rendered") for n in numbers]
        response = await _multipart(request, parts, params, media_type, [found])
    return warn_unsupported(request, response, RENDERED)


async def rendered_image(request: Request, found: StoredInstance,
                         params: RenderedParameters, frame: int | None,
                         variant: str = "rendered") -> Response:
    """One frame (or the instance: its first frame, every frame as GIF) as the body."""
    media_type = negotiate(accept_of(request), IMAGE_OFFERS)
    current = validators([found.digest], [found.created_at], variant, media_type,
                         params.key(), str(frame))
    if (unchanged := not_modified(request, current)) is not None:
        return unchanged
    archive = services(request).archive
    body = await anyio.to_thread.run_sync(
        lambda: render_image(archive, found, params, media_type, frame))
    return head(request, Response(body, headers=current.headers, media_type=media_type))


def render_image(archive: Archive, found: StoredInstance, params: RenderedParameters,
                 media_type: str, frame: int | None) -> bytes:
    """The rendered bytes of `found` (run in a worker thread)."""
    source = render_source(archive, found)
    columns, rows = found.columns or 1, found.rows or 1
    return render(source, params.request(media_type, columns, rows, frame))


async def rendered_set(request: Request, params: RenderedParameters,
                       supported: frozenset[str]) -> Response:
    """A study or series: each image instance rendered, one part each."""
    target = target_of(request)
    media_type = negotiate(accept_of(request), IMAGE_OFFERS)
    found = await find(request, target, metadata=True, locations=True)
    images = [i for i in found if is_image(i)]
    if not images:
        raise NotRenderableError("no instance of the "
                                 f"{'series' if target.series else 'study'} is an image")
    base = rs_base_url(request)
    parts = [(i, None, f"{base}{_path(i)}/rendered") for i in images]
    response = await _multipart(request, parts, params, media_type, found)
    if len(images) < len(found):
        warn(request, response, f"{len(found) - len(images)} instances are not images "
             "and were left out; retrieve them one by one")
    return warn_unsupported(request, response, supported)


Part = tuple[StoredInstance, int | None, str]  # instance, frame (None: first), location


async def _multipart(request: Request, parts: list[Part], params: RenderedParameters,
                     media_type: str, found: list[StoredInstance]) -> Response:
    """Rendered parts streamed as they are made; the first is rendered before the answer
    starts, so that a problem common to all of them is an error status."""
    current = validators([i.digest for i in found], [i.created_at for i in found],
                         "rendered-multipart", media_type, params.key(),
                         *[location for _, _, location in parts])
    if (unchanged := not_modified(request, current)) is not None:
        return unchanged
    archive = services(request).archive
    instance, frame, _ = parts[0]
    first = await anyio.to_thread.run_sync(
        lambda: render_image(archive, instance, params, media_type, frame))
    content_type = multipart_type(media_type, current.token)
    if request.method == "HEAD":
        return Response(b"", headers=current.headers, media_type=content_type)
    body = _parts(archive, parts, params, media_type, current, first)
    return StreamingResponse(body, headers=current.headers, media_type=content_type)


async def _parts(archive: Archive, parts: list[Part], params: RenderedParameters,
                 media_type: str, current: Validators, first: bytes) -> AsyncIterator[bytes]:
    boundary = current.token
    yield _part(boundary, media_type, parts[0][2], first)
    for instance, frame, location in parts[1:]:
        try:
            data = await anyio.to_thread.run_sync(
                lambda i=instance, f=frame: render_image(archive, i, params, media_type, f))
        except HounsfieldError as exc:  # the status is sent: leave the part out
            log.warning("rendering %s failed: %s", location, exc.message)
            continue
        yield _part(boundary, media_type, location, data)
    yield f"--{boundary}--\r\n".encode()


def _part(boundary: str, media_type: str, location: str, data: bytes) -> bytes:
    return (f"--{boundary}\r\nContent-Type: {media_type}\r\nContent-Location: {location}\r\n"
            f"Content-Length: {len(data)}\r\n\r\n").encode() + data + b"\r\n"


def _path(found: StoredInstance) -> str:
    return instance_path(found.study, found.series, found.sop_instance)
