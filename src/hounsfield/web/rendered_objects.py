"""Rendered representations of instances that are not images (PS3.18 §8.7.4, Table
8.7.4-1): an encapsulated document in its own media type (application/pdf, text/xml for
CDA, model/stl, ...), a video as its stored stream (video/mpeg, video/mp4, video/H265),
a structured report as HTML or plain text (`dicom.sr_document`). Anything else without
pixels is 406, naming why.

`object_media_types` says what an instance offers, `object_response` makes one of them:
WADO-RS rendered negotiates with Accept (`respond_object`), WADO-URI with its contentType
and charset parameters.
"""

from __future__ import annotations

import base64
from typing import Any

import anyio
import orjson
from starlette.requests import Request
from starlette.responses import Response

from hounsfield.archive.retrieve import StoredInstance
from hounsfield.dicom import sr_document
from hounsfield.dicom.encapsulated_document import ENCAPSULATED_DOCUMENT, document_media_type
from hounsfield.dicom.transfer_syntax import transfer_syntax
from hounsfield.errors import NotRenderableError
from hounsfield.web.bulk_parts import is_video
from hounsfield.web.conditional import not_modified, validators
from hounsfield.web.context import services
from hounsfield.web.negotiation import negotiate
from hounsfield.web.wado import accept_of, head
from hounsfield.web.wado_bulkdata import retrieve_video

HTML, TEXT = "text/html", "text/plain"
_DOCUMENT_LENGTH = "00420015"


def is_video_syntax(found: StoredInstance) -> bool:
    row = transfer_syntax(found.transfer_syntax_uid)
    return row is not None and row.media_type.startswith("video/")


def is_image(found: StoredInstance) -> bool:
    """Whether the instance has pixels to render as an image (not a video stream)."""
    return bool(found.rows and found.columns) and not is_video_syntax(found)


def object_media_types(found: StoredInstance) -> tuple[str, ...]:
    """The rendered media types of a non-image instance, the default first; () if none."""
    if is_video_syntax(found):
        row = transfer_syntax(found.transfer_syntax_uid)
        return (row.media_type,) if row is not None else ()
    document = document_media_type(found.sop_class)
    if document is not None:
        return (document,)
    if sr_document.is_structured_report(found.sop_class):
        return (HTML, TEXT)
    return ()


async def respond_object(request: Request, found: StoredInstance) -> Response:
    """The rendered representation of a non-image instance, negotiated by Accept (a
    video's envelope and byte ranges as for its pixel data)."""
    offered = object_media_types(found)
    if not offered:
        raise not_renderable(found)
    if is_video_syntax(found):
        return await _video(request, found, None)
    media_type = negotiate(accept_of(request), {t: t for t in offered})
    return await object_response(request, found, media_type)


def not_renderable(found: StoredInstance) -> NotRenderableError:
    return NotRenderableError(f"instance {found.sop_instance} (SOP class {found.sop_class}) "
                              "has no pixel data, document, video or report to render")


async def object_response(request: Request, found: StoredInstance, media_type: str, *,
                          encoding: str = "utf-8") -> Response:
    """`media_type`, one of `object_media_types(found)`, as the whole body; `encoding` is
    the character set of a report's text."""
    if is_video_syntax(found):
        return await _video(request, found, media_type)
    if sr_document.is_structured_report(found.sop_class):
        return await _report(request, found, media_type, encoding)
    return await _document(request, found, media_type)


async def _video(request: Request, found: StoredInstance, accept: str | None) -> Response:
    if not is_video(found):
        raise NotRenderableError(f"the video stream of instance {found.sop_instance} "
                                 "was not located at store time")
    return await retrieve_video(request, found, accept)


async def _document(request: Request, found: StoredInstance, media_type: str) -> Response:
    current = validators([found.digest], [found.created_at], "rendered", media_type)
    if (unchanged := not_modified(request, current)) is not None:
        return unchanged
    model = orjson.loads(found.metadata_json or b"{}")
    run = (found.bulk_data or {}).get(ENCAPSULATED_DOCUMENT)
    if run is not None:
        archive = services(request).archive
        [data] = await anyio.to_thread.run_sync(
            lambda: archive.read_runs(found.blob_key, [(run,)]))
    else:
        data = _inline_document(model, found)
    return head(request, Response(_unpadded(data, model), headers=current.headers,
                                  media_type=media_type))


def _inline_document(model: dict[str, Any], found: StoredInstance) -> bytes:
    """A document below the bulk data threshold, inline in the metadata."""
    inline = (model.get(ENCAPSULATED_DOCUMENT) or {}).get("InlineBinary")
    if inline is None:
        raise NotRenderableError(f"instance {found.sop_instance} holds no Encapsulated "
                                 "Document to render")
    return base64.b64decode(inline)


def _unpadded(data: bytes, model: dict[str, Any]) -> bytes:
    """The document without the value's padding, when Encapsulated Document Length
    (0042,0015) says how long it is."""
    length = ((model.get(_DOCUMENT_LENGTH) or {}).get("Value") or [None])[0]
    return data[:length] if isinstance(length, int) and 0 <= length <= len(data) else data


async def _report(request: Request, found: StoredInstance, media_type: str,
                  encoding: str) -> Response:
    """The report as HTML or plain text in `encoding`: characters it lacks are character
    references in HTML and "?" in plain text."""
    current = validators([found.digest], [found.created_at], "rendered", media_type,
                         encoding)
    if (unchanged := not_modified(request, current)) is not None:
        return unchanged
    model = orjson.loads(found.metadata_json or b"{}")
    if media_type == HTML:
        text = await anyio.to_thread.run_sync(lambda: sr_document.to_html(model))
        text = text.replace('<meta charset="utf-8">', f'<meta charset="{encoding}">', 1)
        body = text.encode(encoding, "xmlcharrefreplace")
    else:
        text = await anyio.to_thread.run_sync(lambda: sr_document.to_text(model))
        body = text.encode(encoding, "replace")
    return head(request, Response(body, headers=current.headers,
                                  media_type=f"{media_type}; charset={encoding}"))
