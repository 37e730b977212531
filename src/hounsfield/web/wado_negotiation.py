"""WADO-RS content negotiation (PS3.18 §8.7.3-§8.7.5): which representation of each
stored instance, frame or bulk data element a request's Accept asks for.

Media ranges are tried in the client's order of preference (q, then specificity, then
written order); q=0 ranges are skipped. A transfer-syntax parameter of `*` means "as
stored". Nothing acceptable: NotAcceptableError (406), never 400.

Instances (application/dicom):
- no Accept, `*/*`, `multipart/*`, `multipart/related` without a type parameter and
  `multipart/related; type="application/dicom"` ask for the multipart representation;
- `application/dicom` and `application/*` ask for a single part (one instance only);
- without a transfer-syntax parameter the transfer syntax is Explicit VR Little Endian,
  the default of application/dicom (PS3.18 Table 8.7.3-2), which `dicom.transcode`
  makes from the native, deflated and decodable transfer syntaxes.

`application/zip` (Supplement 211) asks for the instances as Part 10 files in a ZIP
archive: its transfer-syntax parameter means what it means for application/dicom (none:
Explicit VR Little Endian; `*`: as stored), so each file takes the transfer syntax a
multipart part would. It is used when it is the most preferred range, or when nothing
preferred to it can be produced.

Frames and bulk data (application/octet-stream and the compressed media types of
PS3.18 Tables 8.7.3-4/-5): without a transfer-syntax parameter any transfer syntax of
that media type is acceptable, so a JPEG tile asked as image/jpeg goes out as stored
(Hounsfield's choice; the tables name a default, which would mean re-encoding).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.uid import ExplicitVRLittleEndian

from hounsfield.dicom import transcode
from hounsfield.dicom.transfer_syntax import OCTET_STREAM, transfer_syntax
from hounsfield.errors import NotAcceptableError
from hounsfield.web.media_types import MediaRange, parse_accept

DICOM = "application/dicom"
ZIP = "application/zip"
EXPLICIT_LE = str(ExplicitVRLittleEndian)
AS_STORED = "*"


@dataclass(frozen=True)
class Choice:
    """One acceptable representation: envelope, media type (`*` or `type/*` ranges
    allowed) and transfer syntax (None: not named; `*`: as stored)."""

    multipart: bool
    media_type: str
    transfer_syntax: str | None


def accepted(accept: str | None) -> list[Choice]:
    """The acceptable representations of an Accept value, most preferred first."""
    if not accept or not accept.strip():
        return [Choice(True, "*/*", None)]
    return [c for r in parse_accept(accept) if r.q > 0 and (c := _choice(r)) is not None]


def _choice(media_range: MediaRange) -> Choice | None:
    syntax = media_range.params.get("transfer-syntax")
    syntax = syntax.strip() if syntax is not None else None
    if media_range.type in ("*/*", "multipart/*"):
        return Choice(True, "*/*", syntax)
    if media_range.type == "multipart/related":
        inner = media_range.params.get("type", "*/*").strip().lower()
        return Choice(True, inner, syntax)
    if media_range.type.startswith("multipart/"):
        return None
    return Choice(False, media_range.type, syntax)


def _matches(wanted: str, produced: str) -> bool:
    if wanted == "*/*":
        return True
    if wanted.endswith("/*"):
        return produced.startswith(wanted[:-1])
    return wanted == produced.lower()


# -- instances -------------------------------------------------------------------------

def instance_syntax(choice: Choice, stored: str, may_decode: bool = True) -> str | None:
    """The transfer syntax `choice` gives an instance stored in `stored`, or None;
    `may_decode` False when its pixel data is too large to decode in memory."""
    if not _matches(choice.media_type, DICOM):
        return None
    wanted = choice.transfer_syntax or EXPLICIT_LE
    if wanted in (AS_STORED, stored):
        return stored
    if wanted == EXPLICIT_LE and stored in transcode.SOURCES and (
            may_decode or stored not in transcode.DECODABLE):
        return EXPLICIT_LE
    return None


def instance_plan(choices: list[Choice], stored: list[str], *, single_allowed: bool,
                  accept: str | None, names: list[str],
                  may_decode: list[bool] | None = None) -> tuple[bool, list[str]]:
    """(multipart?, transfer syntax of each instance) for instances stored in `stored`.

    A single part only when `single_allowed` (one instance); otherwise each instance
    takes the first multipart choice that can produce it."""
    decode = may_decode or [True] * len(stored)
    for choice in choices:
        if not choice.multipart:
            if single_allowed and (syntax := instance_syntax(choice, stored[0], decode[0])):
                return False, [syntax]
            continue
        if instance_syntax(choice, stored[0], decode[0]) is None and len(stored) == 1:
            continue
        plan = [_first_syntax(choices, s, d) for s, d in zip(stored, decode, strict=True)]
        missing = [i for i, s in enumerate(plan) if s is None]
        if missing:
            first = missing[0]
            raise _unproducible(accept, names[first], stored[first], len(missing),
                                not decode[first])
        return True, plan  # type: ignore[return-value]
    raise _unproducible(accept, names[0], stored[0], len(stored), not decode[0])


def zip_choices(choices: list[Choice]) -> list[Choice]:
    """The application/zip ranges, as the multipart choices of Part 10 files they mean."""
    return [Choice(True, DICOM, c.transfer_syntax) for c in choices
            if not c.multipart and c.media_type == ZIP]


def prefers_zip(choices: list[Choice]) -> bool:
    """Is application/zip the client's most preferred range?"""
    return bool(choices) and not choices[0].multipart and choices[0].media_type == ZIP


def _first_syntax(choices: list[Choice], stored: str, may_decode: bool) -> str | None:
    return next((s for c in choices if c.multipart
                 and (s := instance_syntax(c, stored, may_decode)) is not None), None)


def _unproducible(accept: str | None, name: str, stored: str, count: int,
                  too_large: bool) -> NotAcceptableError:
    row = transfer_syntax(stored)
    label = row.name if row else stored
    others = f" (and {count - 1} more)" if count > 1 else ""
    return NotAcceptableError(
        f"cannot produce {accept or 'the default representation'!r} for {name}{others}, "
        f"stored in {label} ({stored}): transcoding to that representation is not "
        f"supported{_TOO_LARGE if too_large and stored in transcode.DECODABLE else ''}; ask for "
        "transfer-syntax=* to get it as stored")


_TOO_LARGE = (f" (decoding only up to {transcode.MAX_DECODED_BYTES >> 20} MiB of pixel "
              "data per instance)")


# -- frames and bulk data ----------------------------------------------------------------

@dataclass(frozen=True)
class BulkRepresentation:
    """What a frame or bulk data element goes out as: media type and transfer syntax."""

    media_type: str
    transfer_syntax: str  # empty for a document (application/pdf, text/xml, ...)

    @property
    def content_type(self) -> str:
        if not self.transfer_syntax:
            return self.media_type
        return f"{self.media_type}; transfer-syntax={self.transfer_syntax}"


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


def bulk_plan(choices: list[Choice], produced: BulkRepresentation | None, *, parts: int,
              accept: str | None, what: str, stored: str) -> bool:
    """Is the answer multipart? Raises NotAcceptableError when no choice takes `produced`
    (None: bulk data of transfer syntax `stored` that would need decoding or byte
    swapping); a single part only when there is one part."""
    if produced is not None:
        for choice in choices:
            if (choice.multipart or parts == 1) and _takes(choice, produced):
                return choice.multipart
        available = f"available as {produced.content_type} only"
    else:
        row = transfer_syntax(stored)
        available = (f"stored in {row.name if row else 'an unknown transfer syntax'} "
                     f"({stored}), which would need decoding or byte swapping")
    raise NotAcceptableError(
        f"cannot produce {accept or 'the default representation'!r} for {what}: it is "
        f"{available} (transcoding of frames and bulk data is not supported yet)")


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
    # native bytes of Implicit VR Little Endian are those of Explicit VR Little Endian
    return produced.media_type == OCTET_STREAM and wanted == "1.2.840.10008.1.2"
