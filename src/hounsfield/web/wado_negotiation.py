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
  the default of application/dicom (PS3.18 Table 8.7.3-2);
- any transfer syntax of `transcode.TARGETS` is made from the native, deflated and
  decodable ones (`transcode.SOURCES`), JPEG Baseline only from 8-bit pixel data.

`application/zip` (Supplement 211) asks for the instances as Part 10 files in a ZIP
archive: its transfer-syntax parameter means what it means for application/dicom (none:
Explicit VR Little Endian; `*`: as stored), so each file takes the transfer syntax a
multipart part would. It is used when it is the most preferred range, or when nothing
preferred to it can be produced.

Frames and bulk data are negotiated in `bulk_negotiation`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.uid import ExplicitVRLittleEndian

from hounsfield.dicom import transcode
from hounsfield.dicom.transfer_syntax import label
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

def instance_syntax(choice: Choice, stored: str, may_decode: bool = True,
                    bits_allocated: int | None = None) -> str | None:
    """The transfer syntax `choice` gives an instance stored in `stored`, or None;
    `may_decode` False when its pixel data is too large to decode in memory."""
    if not _matches(choice.media_type, DICOM):
        return None
    wanted = choice.transfer_syntax or EXPLICIT_LE
    if wanted in (AS_STORED, stored):
        return stored
    refused = transcode.cannot_transcode(stored, wanted, may_decode=may_decode,
                                         bits_allocated=bits_allocated)
    return wanted if refused is None else None


@dataclass(frozen=True)
class StoredSyntax:
    """What negotiation needs of one stored instance."""

    uid: str
    may_decode: bool = True  # False: its pixel data is too large to decode in memory
    bits_allocated: int | None = None


def instance_plan(choices: list[Choice], stored: list[str], *, single_allowed: bool,
                  accept: str | None, names: list[str],
                  may_decode: list[bool] | None = None,
                  bits_allocated: list[int | None] | None = None) -> tuple[bool, list[str]]:
    """(multipart?, transfer syntax of each instance) for instances stored in `stored`.

    A single part only when `single_allowed` (one instance); otherwise each instance
    takes the first multipart choice that can produce it."""
    items = [StoredSyntax(uid, d, b) for uid, d, b in zip(
        stored, may_decode or [True] * len(stored), bits_allocated or [None] * len(stored),
        strict=True)]
    first = items[0]
    for choice in choices:
        if not choice.multipart:
            if single_allowed and (syntax := _syntax(choice, first)):
                return False, [syntax]
            continue
        if _syntax(choice, first) is None and len(items) == 1:
            continue
        plan = [_first_syntax(choices, item) for item in items]
        missing = [i for i, s in enumerate(plan) if s is None]
        if missing:
            raise _unproducible(choices, accept, names[missing[0]], items[missing[0]],
                                len(missing))
        return True, plan  # type: ignore[return-value]
    raise _unproducible(choices, accept, names[0], first, len(items))


def zip_choices(choices: list[Choice]) -> list[Choice]:
    """The application/zip ranges, as the multipart choices of Part 10 files they mean."""
    return [Choice(True, DICOM, c.transfer_syntax) for c in choices
            if not c.multipart and c.media_type == ZIP]


def prefers_zip(choices: list[Choice]) -> bool:
    """Is application/zip the client's most preferred range?"""
    return bool(choices) and not choices[0].multipart and choices[0].media_type == ZIP


def _syntax(choice: Choice, item: StoredSyntax) -> str | None:
    return instance_syntax(choice, item.uid, item.may_decode, item.bits_allocated)


def _first_syntax(choices: list[Choice], item: StoredSyntax) -> str | None:
    return next((s for c in choices if c.multipart and (s := _syntax(c, item)) is not None),
                None)


def _unproducible(choices: list[Choice], accept: str | None, name: str, item: StoredSyntax,
                  count: int) -> NotAcceptableError:
    others = f" (and {count - 1} more)" if count > 1 else ""
    wanted = next((c.transfer_syntax or EXPLICIT_LE for c in choices
                   if _matches(c.media_type, DICOM)), None)
    reason = None if wanted in (None, AS_STORED) else transcode.cannot_transcode(
        item.uid, wanted, may_decode=item.may_decode, bits_allocated=item.bits_allocated)
    return NotAcceptableError(
        f"cannot produce {accept or 'the default representation'!r} for {name}{others}, "
        f"stored in {label(item.uid)}: {reason or 'no such representation'}; ask for "
        "transfer-syntax=* to get it as stored")
