"""Attribute identifiers of query parameters (PS3.18 §8.3.1, §8.3.4.1).

An attribute is a keyword (`PatientName`) or a tag of 8 hex digits (`00100010`), or a
dotted path of such into sequences (`RequestAttributesSequence.RequestedProcedureID`,
`0040A370.00080050`): every step but the last has VR SQ. Keywords and VRs come from
pydicom's data dictionary; a private tag has no dictionary entry and is taken as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from pydicom.datadict import dictionary_VR, keyword_for_tag, tag_for_keyword

from hounsfield.errors import BadRequestError

_TAG = re.compile(r"[0-9A-Fa-f]{8}")
_KEYWORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
MAX_DEPTH = 4


@dataclass(frozen=True)
class AttributePath:
    """A top-level attribute, or a path into sequences; `tags` from outermost to leaf."""

    tags: tuple[int, ...]

    @property
    def tag(self) -> int:
        return self.tags[-1]

    @property
    def top(self) -> int:
        return self.tags[0]

    @property
    def in_sequence(self) -> bool:
        return len(self.tags) > 1

    @cached_property
    def vr(self) -> str:
        return vr_of(self.tag)

    @property
    def hex_tags(self) -> tuple[str, ...]:
        return tuple(f"{t:08X}" for t in self.tags)

    def __str__(self) -> str:
        return ".".join(keyword_for_tag(t) or f"{t:08X}" for t in self.tags)


@lru_cache(maxsize=4096)
def vr_of(tag: int) -> str:
    """The VR the dictionary gives (the first of 'US or SS'); a Private Creator is LO, any
    other attribute the dictionary does not know is UN (matched as text)."""
    if tag >> 16 & 1 and 0x10 <= tag & 0xFFFF <= 0xFF:
        return "LO"
    try:
        return dictionary_VR(tag).split(" or ")[0]
    except KeyError:
        return "UN"


def parse_attribute(text: str) -> AttributePath:
    """Parse `text` (keyword, tag or dotted path); BadRequestError naming what is wrong."""
    steps = text.split(".")
    if not text or len(steps) > MAX_DEPTH:
        raise BadRequestError(f"attribute {text!r} is not a keyword, a tag or a path of "
                              f"at most {MAX_DEPTH} of them")
    path = AttributePath(tuple(_parse_step(step, text) for step in steps))
    for tag in path.tags[:-1]:
        if vr_of(tag) != "SQ":
            raise BadRequestError(f"attribute {text!r}: {keyword_for_tag(tag) or f'{tag:08X}'}"
                                  " is not a sequence, so nothing can follow it")
    return path


def _parse_step(step: str, text: str) -> int:
    if _TAG.fullmatch(step):
        tag = int(step, 16)
        if tag & 0xFFFF == 0 or tag >> 16 in (0x0000, 0x0002, 0xFFFE):
            raise BadRequestError(f"attribute {text!r}: tag {step} cannot be queried")
        return tag
    if _KEYWORD.fullmatch(step):
        tag = tag_for_keyword(step)
        if tag is None:
            raise BadRequestError(f"unknown attribute keyword {step!r} in {text!r}")
        return tag
    raise BadRequestError(f"attribute {text!r}: {step!r} is neither a keyword nor a tag")
