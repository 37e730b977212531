"""RetrieveRenderedImagingDocumentSet (PS3.18 2013 §6.4.2): each document rendered by the
shared renderer (`dicom.render`, pixels from `archive.render_source`), an XOP attachment
of a RetrieveRenderedImagingDocumentSetResponse shaped as dcm4chee-arc-light's.

The parameters of a RenderedDocumentRequest mean what the WADO-URI parameters of the
same names mean (PS3.18 2013 §8.1-8.2): Rows and Columns bound the image, which keeps
its aspect ratio; Region is "xmin,ymin,xmax,ymax" as fractions; WindowCenter and
WindowWidth come together; ImageQuality is 1-100 (JPEG); Annotation lists `patient`
and/or `technique`; FrameNumber picks the frame (default: the first); ContentTypeList
gives image/jpeg, image/png or image/gif in the client's order (none: image/jpeg).
Each bad value is a RegistryError for its document, urn:dicom:wado:0012;
a frame beyond the object's, 0018; a content type not produced, 0006. Anonymize=yes
renders the pixels as stored (the Basic Profile does not clean pixels) with annotations
that carry nothing it removes: no patient lines, no dates or descriptions.
PresentationUID with PresentationSeriesUID names a Grayscale
Softcopy Presentation State of the same study, applied by the renderer; one not found
is 0019 (or 0020 for its series), one that does not reference the object 0012.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any, NoReturn

import orjson
from lxml import etree

from hounsfield.archive.archive import Archive
from hounsfield.archive.render_source import bulk_data_reader, frame_count, render_source
from hounsfield.archive.retrieve import StoredInstance, Target
from hounsfield.dicom.render import GIF, JPEG, PNG, Region, RenderRequest, Window, render
from hounsfield.dicom.render.annotation import ANNOTATIONS
from hounsfield.dicom.render.image_encoding import MAX_VIEWPORT
from hounsfield.dicom.render.presentation_state import PresentationState, presentation_state
from hounsfield.dicom.uid import is_valid_uid
from hounsfield.errors import InstanceNotFoundError, RenderParameterError, SeriesNotFoundError
from hounsfield.xdsi.documents import each_document, find_document
from hounsfield.xdsi.messages import WADO, XDSB, DocumentRequest, Request, children
from hounsfield.xdsi.mtom import Attachment, include, new_content_id
from hounsfield.xdsi.registry import (
    FORMAT_NOT_SUPPORTED,
    FRAME_OUT_OF_RANGE,
    INVALID_PARAMETER,
    RS,
    UNKNOWN_PRESENTATION,
    UNKNOWN_PRESENTATION_SERIES,
    DocumentError,
    registry_response,
)

# the parameters echoed in a RenderedDocumentResponse, in the schema's order
ECHOED = ("Annotation", "Rows", "Columns", "Region", "WindowWidth", "WindowCenter",
          "ImageQuality", "PresentationUID", "PresentationSeriesUID", "Anonymize",
          "FrameNumber")
MEDIA_TYPES = (JPEG, PNG, GIF)
_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?")
_NAMESPACES = {None: XDSB, "ns7": WADO, "rs": RS}


def retrieve_rendered_imaging_document_set(archive: Archive, request: Request
                                           ) -> tuple[etree._Element, list[Attachment]]:
    def serve(document: DocumentRequest) -> Attachment:
        wanted = render_request(document)
        stored = find_document(archive, document, metadata=True, locations=True)
        frames = frame_count(stored)
        if wanted.frame is not None and wanted.frame > frames:
            raise DocumentError(FRAME_OUT_OF_RANGE, f"FrameNumber {wanted.frame} requested; "
                                f"the object has {frames} frame(s)")
        wanted = replace(wanted, presentation=_presentation(archive, document, stored))
        image = render(render_source(archive, stored), wanted)
        return Attachment(new_content_id(), wanted.media_type, [image])

    served, errors = each_document(request.documents, serve)
    response = etree.Element(f"{{{WADO}}}RetrieveRenderedImagingDocumentSetResponse",
                             nsmap=_NAMESPACES)
    response.append(registry_response(f"{{{WADO}}}RegistryResponse", len(served), errors))
    for document, attachment in served:
        response.append(_rendered_response(document, attachment))
    return response, [attachment for _, attachment in served]


def render_request(document: DocumentRequest) -> RenderRequest:
    """The renderer's request for the parameters of `document`; DocumentError if bad."""
    _refuse_unsupported(document)
    value = document.parameter
    rows, columns = _integer(value("Rows"), "Rows"), _integer(value("Columns"), "Columns")
    for name, size in (("Rows", rows), ("Columns", columns)):
        if size is not None and not 1 <= size <= MAX_VIEWPORT:
            _invalid(f"{name} {size} is outside 1..{MAX_VIEWPORT}")
    quality = _integer(value("ImageQuality"), "ImageQuality")
    if quality is not None and not 1 <= quality <= 100:
        _invalid(f"ImageQuality {quality} is outside 1..100")
    frame = _integer(value("FrameNumber"), "FrameNumber")
    if frame is not None and frame < 1:
        raise DocumentError(FRAME_OUT_OF_RANGE, f"FrameNumber {frame} is below 1")
    return _checked(lambda: RenderRequest(
        media_type=_media_type(document), frame=frame, window=_window(document),
        viewport_width=columns, viewport_height=rows, region=_region(value("Region")),
        quality=quality, annotations=_annotations(value("Annotation")),
        deidentified=value("Anonymize") == "yes"))


def _refuse_unsupported(document: DocumentRequest) -> None:
    anonymize = document.parameter("Anonymize")
    if anonymize not in (None, "", "no", "yes"):
        _invalid(f"Anonymize {anonymize[:20]!r} is neither yes nor no")
    presentation = [document.parameter(n) for n in ("PresentationUID",
                                                    "PresentationSeriesUID")]
    for uid in presentation:
        if uid is not None and not is_valid_uid(uid):
            _invalid(f"{uid[:80]!r} is not a valid UID")
    if (presentation[0] is None) != (presentation[1] is None):
        _invalid("PresentationUID and PresentationSeriesUID must be given together")


def _presentation(archive: Archive, document: DocumentRequest, stored: StoredInstance
                  ) -> PresentationState | None:
    """The Grayscale Softcopy Presentation State the request names, from the same study
    (PS3.18 2013 §8.1.11-12), bound to the object; None if none is named."""
    uid, series = (document.parameter("PresentationUID"),
                   document.parameter("PresentationSeriesUID"))
    if uid is None or series is None:
        return None
    try:
        [state] = archive.stored_instances(Target(stored.study, series, uid),
                                           metadata=True, locations=True)
    except SeriesNotFoundError:
        raise DocumentError(UNKNOWN_PRESENTATION_SERIES, f"PresentationSeriesUID {series} "
                            f"is no series of study {stored.study}") from None
    except InstanceNotFoundError:
        raise DocumentError(UNKNOWN_PRESENTATION, f"PresentationUID {uid} is not in "
                            f"series {series}") from None
    return presentation_state(orjson.loads(state.metadata_json or b"{}"), stored.series,
                              stored.sop_instance, bulk_data_reader(archive, state))


def _media_type(document: DocumentRequest) -> str:
    listed = [(c.text or "").strip().lower() for lists in children(document.element,
              "ContentTypeList") for c in children(lists, "ContentType")]
    for wanted in listed or [JPEG]:
        media_type = wanted.split(";")[0].strip()
        if media_type in MEDIA_TYPES:
            return media_type
        if media_type in ("image/*", "*/*"):
            return JPEG
    raise DocumentError(FORMAT_NOT_SUPPORTED, f"none of the content types "
                        f"{', '.join(listed)[:200]} is rendered here; offered: "
                        f"{', '.join(MEDIA_TYPES)}")


def _window(document: DocumentRequest) -> Window | None:
    center, width = document.parameter("WindowCenter"), document.parameter("WindowWidth")
    if center is None and width is None:
        return None
    if center is None or width is None:
        _invalid("WindowCenter and WindowWidth must be given together")
    return _checked(lambda: Window(_decimal(center, "WindowCenter"),
                                   _decimal(width, "WindowWidth")))


def _region(text: str | None) -> Region | None:
    if text is None:
        return None
    values = [_decimal(v.strip(), "Region") for v in text.split(",")]
    if len(values) != 4:
        _invalid(f"Region {text[:80]!r} must be xmin,ymin,xmax,ymax")
    return _checked(lambda: Region(*values))


def _annotations(text: str | None) -> tuple[str, ...]:
    if text is None:
        return ()
    names = tuple(n.strip().lower() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in ANNOTATIONS]
    if unknown or not names:
        _invalid(f"Annotation {text[:80]!r}: expected {' and/or '.join(ANNOTATIONS)}")
    return names


def _integer(text: str | None, name: str) -> int | None:
    if text is None:
        return None
    if not re.fullmatch(r"[+-]?[0-9]{1,9}", text):
        _invalid(f"{name} {text[:40]!r} is not an integer")
    return int(text)


def _decimal(text: str, name: str) -> float:
    if not _NUMBER.fullmatch(text):
        _invalid(f"{name} {text[:40]!r} is not a decimal number")
    return float(text)


def _checked(make: Callable[[], Any]) -> Any:
    try:
        return make()
    except RenderParameterError as exc:
        raise DocumentError(INVALID_PARAMETER, exc.message) from None


def _invalid(message: str) -> NoReturn:
    raise DocumentError(INVALID_PARAMETER, message)


def _rendered_response(document: DocumentRequest, attachment: Attachment) -> etree._Element:
    """A RenderedDocumentResponse: ids, the parameters given, mimeType, Document."""
    element = etree.Element(f"{{{WADO}}}RenderedDocumentResponse")
    if document.home_community is not None:
        etree.SubElement(element, f"{{{XDSB}}}HomeCommunityId").text = document.home_community
    etree.SubElement(element, f"{{{XDSB}}}RepositoryUniqueId").text = document.repository
    etree.SubElement(element, f"{{{WADO}}}SourceDocumentUniqueId").text = document.document
    for name in ECHOED:
        if (text := document.parameter(name)) is not None:
            etree.SubElement(element, f"{{{WADO}}}{name}").text = text
    etree.SubElement(element, f"{{{XDSB}}}mimeType").text = attachment.content_type
    etree.SubElement(element, f"{{{XDSB}}}Document").append(include(attachment.content_id))
    return element
