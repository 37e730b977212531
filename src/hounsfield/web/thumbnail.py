"""WADO-RS thumbnails (PS3.18 §10.4.1.1.x, from Supplement 203): {study}/thumbnail,
{series}/thumbnail, {instance}/thumbnail, {instance}/frames/{n}/thumbnail.

A thumbnail is one rendered image that represents its resource, fitted to a square
viewport of `thumbnail_size` pixels unless the request gives `viewport`. The
representative instance of a series is the middle image instance in instance order; of
a study, that of its first series (in series order) holding an image; of a multi-frame
instance, its first frame. JPEG by default; PNG and GIF as for rendered resources.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hounsfield.archive.render_source import frame_count
from hounsfield.archive.retrieve import StoredInstance
from hounsfield.errors import BadRequestError, NotRenderableError
from hounsfield.web.context import services
from hounsfield.web.rendered import rendered_image
from hounsfield.web.rendered_objects import is_image
from hounsfield.web.rendered_params import THUMBNAIL, rendered_parameters
from hounsfield.web.wado import find, target_of, warn_unsupported
from hounsfield.web.wado_paths import check_frame_numbers, frame_numbers


async def retrieve_study_thumbnail(request: Request) -> Response:
    return await _thumbnail(request, None)


async def retrieve_series_thumbnail(request: Request) -> Response:
    return await _thumbnail(request, None)


async def retrieve_instance_thumbnail(request: Request) -> Response:
    return await _thumbnail(request, None)


async def retrieve_frame_thumbnail(request: Request) -> Response:
    numbers = frame_numbers(request.path_params["frames"])
    if len(numbers) != 1:
        raise BadRequestError("a thumbnail is of one frame; the request names "
                                 f"{len(numbers)}")
    return await _thumbnail(request, numbers[0])


async def _thumbnail(request: Request, frame: int | None) -> Response:
    size = services(request).settings.thumbnail_size
    params = rendered_parameters(request, default_viewport=size)
    target = target_of(request)
    found = await find(request, target, metadata=True, locations=True)
    chosen = representative(found)
    if chosen is None:
        what = ("instance" if target.sop_instance else
                "series" if target.series else "study")
        raise NotRenderableError(f"the {what} has no image to make a thumbnail of")
    if frame is not None:
        check_frame_numbers([frame], frame_count(chosen), chosen.sop_instance)
    response = await rendered_image(request, chosen, params, frame or 1, "thumbnail")
    return warn_unsupported(request, response, THUMBNAIL)


def representative(found: list[StoredInstance]) -> StoredInstance | None:
    """The middle image instance of the first series that has one (`found` is in series
    then instance order)."""
    first_series = next((i.series for i in found if is_image(i)), None)
    images = [i for i in found if i.series == first_series and is_image(i)]
    return images[(len(images) - 1) // 2] if images else None
