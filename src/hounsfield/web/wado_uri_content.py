"""What a WADO-URI request gets back (PS3.18 2013 §7, §8.1.5, §8.1.6, §8.2.11): the media
type, for application/dicom the transfer syntax, for text the character set.

Media types an object offers, its default first:
- a single-frame image, or one frame of a multi-frame image (frameNumber given, §7.1):
  image/jpeg, application/dicom, image/gif, image/png;
- a multi-frame image without frameNumber (§7.2): application/dicom, image/gif (every
  frame, animated), image/jpeg and image/png (its first frame);
- a structured report: text/html, text/plain, application/dicom;
- an encapsulated document: its own type (application/pdf, text/xml for CDA, ...), then
  application/dicom; a video: its stream's type (video/mpeg, video/mp4, ...), then
  application/dicom; anything else: application/dicom.
A DICOM parameter (anonymize, transferSyntax) keeps only application/dicom, a rendering
parameter only the others. Without contentType the object's default is sent; otherwise
the first contentType value (by q-value, then as written; `type/*` and `*/*` ranges
allowed) that the object offers. None: 406 naming what the object offers.

transferSyntax: absent, Explicit VR Little Endian; `*`, as stored; a UID, that syntax
when it can be made, else Explicit VR Little Endian, else as stored (§8.2.11), the
fallback announced by a Warning. charset: the first value (by q-value) that names a
text encoding Python has (`*`: UTF-8); none: UTF-8 with a Warning.
"""

from __future__ import annotations

import codecs

from hounsfield.archive.render_source import frame_count
from hounsfield.archive.retrieve import StoredInstance
from hounsfield.dicom import transcode
from hounsfield.dicom.render import GIF, JPEG, PNG
from hounsfield.dicom.transcode import MAX_DECODED_BYTES
from hounsfield.dicom.transfer_syntax import label
from hounsfield.dicom.wado_uri_request import ANY_TRANSFER_SYNTAX, DICOM, WadoUriRequest
from hounsfield.errors import NotAcceptableError
from hounsfield.web.rendered_objects import is_image, is_video_syntax, object_media_types
from hounsfield.web.wado_negotiation import (
    EXPLICIT_LE,
    Choice,
    instance_syntax,
)

IMAGE_TYPES = (JPEG, GIF, PNG)
UTF8 = "utf-8"


def offered_media_types(found: StoredInstance, frame_given: bool) -> tuple[str, ...]:
    """The media types `found` can be sent in, its default first."""
    if is_image(found):
        if frame_count(found) > 1 and not frame_given:
            return (DICOM, GIF, JPEG, PNG)
        return (JPEG, DICOM, GIF, PNG)
    return (*object_media_types(found), DICOM)


def content_type(request: WadoUriRequest, found: StoredInstance) -> str:
    """The media type of the response (NotAcceptableError: none the request allows)."""
    offered = offered_media_types(found, request.frame_number is not None)
    if request.dicom_only:
        offered = (DICOM,)
    elif request.rendered_only:
        offered = tuple(t for t in offered if t != DICOM)
    if not request.content_types and offered:
        return offered[0]
    for preference in request.media_types:
        match = next((t for t in offered if _matches(preference.value, t)), None)
        if match is not None:
            return match
    asked = ", ".join(p.value for p in request.media_types) or "a rendered representation"
    available = ", ".join(offered) or "no rendered representation"
    raise NotAcceptableError(f"contentType {asked} cannot be produced for object "
                             f"{found.sop_instance} ({describe(found)}); available: "
                             f"{available}")


def describe(found: StoredInstance) -> str:
    """What kind of object `found` is, in words."""
    if is_image(found):
        return "a multi-frame image" if frame_count(found) > 1 else "a single-frame image"
    if is_video_syntax(found):
        return "a video"
    offered = object_media_types(found)
    if offered and offered[0].startswith("text/html"):
        return "a structured report"
    return "an encapsulated document" if offered else "an object without pixel data"


def _matches(wanted: str, offered: str) -> bool:
    offered = offered.lower()
    if wanted in ("*/*", offered):
        return True
    return wanted.endswith("/*") and offered.startswith(wanted[:-1])


def transfer_syntax(request: WadoUriRequest, found: StoredInstance
                    ) -> tuple[str, str | None]:
    """(the transfer syntax of the application/dicom response, a Warning text when it is
    not the one asked for)."""
    stored = found.transfer_syntax_uid
    wanted = request.transfer_syntax or EXPLICIT_LE
    if wanted == ANY_TRANSFER_SYNTAX:
        return stored, None
    may_decode = found.decoded_size_bound <= MAX_DECODED_BYTES
    for candidate in (wanted, EXPLICIT_LE):
        syntax = instance_syntax(Choice(False, DICOM, candidate), stored, may_decode,
                                 found.bits_allocated)
        if syntax is not None:
            break
    else:
        syntax = stored
    if syntax == wanted:
        return syntax, None
    reason = transcode.cannot_transcode(stored, wanted, may_decode=may_decode,
                                        bits_allocated=found.bits_allocated)
    return syntax, (f"transferSyntax {wanted} cannot be produced for object "
                    f"{found.sop_instance}: {reason}; it is sent in "
                    f"{label(syntax)}")


def text_encoding(request: WadoUriRequest) -> tuple[str, str | None]:
    """(the character set of a text response, a Warning text when none asked for is
    known)."""
    for preference in request.charsets:
        if preference.value == "*":
            return UTF8, None
        try:
            if codecs.lookup(preference.value)._is_text_encoding:  # type: ignore[attr-defined]
                return preference.value, None
        except LookupError:
            continue
    if not request.charsets:
        return UTF8, None
    asked = ", ".join(p.value for p in request.charsets)
    return UTF8, f"charset {asked} is not a character set Hounsfield knows; the text is UTF-8"
