"""WADO-RS negotiation of frames and bulk data (PS3.18 §8.7.3.3-§8.7.3.5): which media
type and transfer syntax a frame or bulk data element goes out in.

Pixel data is asked for as application/octet-stream (native, little endian) or in a
compressed media type of PS3.18 Table 8.7.3-5: image/jpeg, image/jls, image/jp2,
image/jpx, image/jphc, image/dicom-rle (and the older names image/x-jls and
image/x-dicom-rle, answered under the name asked for). For each acceptable range, in
the client's order of preference:
1. as stored, when the range takes the stored representation: a positioned read, no
   decoding (native little-endian frames as octet-stream, compressed frames in their own
   media type); a range without a transfer-syntax parameter takes any transfer syntax of
   its media type (so a JPEG tile asked as image/jpeg goes out untouched);
2. otherwise transcoded: the range's transfer syntax, or its media type's default (PS3.18
   Table 8.7.3-5: JPEG Lossless SV1 for image/jpeg, JPEG-LS Lossless, JPEG 2000
   Lossless, HTJ2K Lossless, RLE Lossless), when it is one of `transcode.TARGETS` and the
   stored transfer syntax decodes; `*/*` and `application/*` take Explicit VR Little Endian
   octets. Image wildcards (`image/*`) take what is stored only.
Bulk data other than pixel data is never transcoded. Nothing acceptable: 406, naming why.
"""

from __future__ import annotations

from dataclasses import dataclass

from hounsfield.dicom import codecs, transcode
from hounsfield.dicom.transfer_syntax import (
    OCTET_STREAM,
    default_transfer_syntax_for_media_type,
    transfer_syntax,
)
from hounsfield.errors import NotAcceptableError
from hounsfield.web.wado_negotiation import AS_STORED, EXPLICIT_LE, Choice

ALIASES = {"image/x-dicom-rle": "image/dicom-rle", "image/x-jls": "image/jls"}
_OCTET_SYNTAXES = (EXPLICIT_LE, codecs.IMPLICIT_LE)  # the same native bytes


@dataclass(frozen=True)
class BulkRepresentation:
    """What a frame or bulk data element goes out as: media type and transfer syntax;
    `as_stored` when its bytes are read from the stored file unchanged."""

    media_type: str
    transfer_syntax: str  # empty for a document (application/pdf, text/xml, ...)
    as_stored: bool = True

    @property
    def content_type(self) -> str:
        if not self.transfer_syntax:
            return self.media_type
        return f"{self.media_type}; transfer-syntax={self.transfer_syntax}"


def canonical(media_type: str) -> str:
    return ALIASES.get(media_type.lower(), media_type.lower())


def stored_representation(stored: str, *, pixel_data: bool) -> BulkRepresentation | None:
    """How bulk data of an instance stored in `stored` goes out without decoding: native
    little-endian bytes as application/octet-stream, compressed pixel data in its media
    type; None for what would need decoding or byte swapping (big endian, deflated)."""
    row = transfer_syntax(stored)
    if row is None or row.deflated or not row.little_endian:
        return None
    if pixel_data and row.encapsulated and row.media_type != OCTET_STREAM:
        return BulkRepresentation(row.media_type, row.uid)
    if row.encapsulated and pixel_data:
        return None
    return BulkRepresentation(OCTET_STREAM, EXPLICIT_LE)


def bulk_plan(choices: list[Choice], stored: str, *, pixel_data: bool, parts: int,
              accept: str | None, what: str, may_decode: bool = True
              ) -> tuple[bool, BulkRepresentation]:
    """(multipart?, representation) of the frames or bulk data of an instance stored in
    `stored`; a single part only when there is one part. `may_decode` False when the
    parts are too large to decode in memory."""
    as_stored = stored_representation(stored, pixel_data=pixel_data)
    reasons: list[str] = []
    for choice in choices:
        if not (choice.multipart or parts == 1):
            continue
        if as_stored is not None and _takes(choice, as_stored):
            return choice.multipart, as_stored
        if pixel_data:
            produced = _transcoded(choice, stored, may_decode, reasons)
            if produced is not None:
                return choice.multipart, produced
    raise _unproducible(accept, what, stored, as_stored, reasons)


def as_stored_plan(choices: list[Choice], produced: BulkRepresentation, *, parts: int,
                   accept: str | None, what: str) -> bool:
    """Is the answer multipart, for parts that go out only as stored (`produced`: a
    video stream, a document)? NotAcceptableError when no choice takes them."""
    for choice in choices:
        if (choice.multipart or parts == 1) and _takes(choice, produced):
            return choice.multipart
    raise NotAcceptableError(
        f"cannot produce {accept or 'the default representation'!r} for {what}: it is "
        f"available as {produced.content_type} only")


def multipart_pick(choices: list[Choice], offered: tuple[BulkRepresentation, ...]
                   ) -> BulkRepresentation | None:
    """The representation one part of a multipart answer takes: the first of `offered`
    that the most preferred multipart choice taking any of them takes; None if none."""
    for choice in choices:
        if choice.multipart:
            for produced in offered:
                if _takes(choice, produced):
                    return produced
    return None


def _takes(choice: Choice, produced: BulkRepresentation) -> bool:
    if not _matches(choice.media_type, produced.media_type):
        return False
    wanted = choice.transfer_syntax
    if wanted in (None, AS_STORED, produced.transfer_syntax):
        return True
    return produced.media_type == OCTET_STREAM and wanted in _OCTET_SYNTAXES


def _matches(wanted: str, produced: str) -> bool:
    if wanted == "*/*":
        return True
    if wanted.endswith("/*"):
        return produced.startswith(wanted[:-1])
    return canonical(wanted) == canonical(produced)


def _transcoded(choice: Choice, stored: str, may_decode: bool, reasons: list[str]
                ) -> BulkRepresentation | None:
    """The representation `choice` asks for when it must be decoded and encoded again."""
    media_type, wanted = _target_of(choice)
    if media_type is None or wanted is None:
        return None
    row = transfer_syntax(wanted)
    if row is None or canonical(media_type) not in (row.media_types or ()):
        reasons.append(f"{wanted[:64]} is not a transfer syntax of {media_type}")
    elif wanted not in transcode.TARGETS:
        reasons.append(f"Hounsfield does not encode {row.name} ({wanted})")
    elif stored not in transcode.SOURCES:
        reasons.append(f"Hounsfield cannot decode {_label(stored)}")
    elif not may_decode:
        reasons.append(f"decoding is limited to {transcode.MAX_DECODED_BYTES >> 20} MiB of "
                       "pixel data per request")
    else:
        return BulkRepresentation(media_type, wanted, as_stored=False)
    return None


def _target_of(choice: Choice) -> tuple[str | None, str | None]:
    """(media type, transfer syntax) a range asks for; None where it names neither."""
    media_type = choice.media_type
    if media_type in ("*/*", "application/*"):
        media_type = OCTET_STREAM
    elif media_type.endswith("/*"):
        return None, None
    wanted = choice.transfer_syntax
    if wanted == AS_STORED:
        return None, None
    if media_type == OCTET_STREAM:
        return media_type, EXPLICIT_LE if wanted in (None, *_OCTET_SYNTAXES) else wanted
    return media_type, wanted or default_transfer_syntax_for_media_type(canonical(media_type))


def _unproducible(accept: str | None, what: str, stored: str,
                  as_stored: BulkRepresentation | None, reasons: list[str]
                  ) -> NotAcceptableError:
    available = (f"available as {as_stored.content_type}" if as_stored is not None else
                 f"stored in {_label(stored)}, which only decoding would turn into "
                 "another representation")
    why = f" ({'; '.join(dict.fromkeys(reasons))})" if reasons else ""
    return NotAcceptableError(
        f"cannot produce {accept or 'the default representation'!r} for {what}: it is "
        f"{available}{why}")


def _label(uid: str) -> str:
    row = transfer_syntax(uid)
    return f"{row.name} ({uid})" if row else uid
