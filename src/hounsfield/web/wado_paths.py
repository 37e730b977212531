"""The parts of WADO-RS URLs that are not UIDs: frame lists and bulk data paths."""

from __future__ import annotations

import re

from hounsfield.errors import BadRequestError, NotFoundError

MAX_FRAMES_PER_REQUEST = 10_000
_FRAME_LIST = re.compile(r"[0-9]+(?:,[0-9]+)*")
_BULK_PATH = re.compile(r"[0-9A-Fa-f]{8}(?:/[0-9]+/[0-9A-Fa-f]{8})*")
_TOO_BIG = 1 << 62


def frame_numbers(text: str) -> list[int]:
    """The frame numbers of `{frames}` (PS3.18 §10.4.1.1.4: "1", "1,3,5"), in the order
    given; 400 when malformed."""
    if _FRAME_LIST.fullmatch(text) is None:
        raise BadRequestError(f"malformed frame list {text[:80]!r}: expected frame numbers "
                              "separated by commas, such as 1,3,5")
    tokens = text.split(",")
    if len(tokens) > MAX_FRAMES_PER_REQUEST:
        raise BadRequestError(f"more than {MAX_FRAMES_PER_REQUEST} frames in one request")
    return [int(t) if len(t) <= 18 else _TOO_BIG for t in tokens]


def check_frame_numbers(numbers: list[int], number_of_frames: int, instance: str) -> None:
    """404 for a frame number outside 1..NumberOfFrames."""
    outside = next((n for n in numbers if not 1 <= n <= number_of_frames), None)
    if outside is not None:
        shown = "a number too large" if outside == _TOO_BIG else str(outside)
        raise NotFoundError(f"frame {shown} is outside 1..{number_of_frames} of instance "
                            f"{instance}")


def bulk_data_key(path: str) -> str:
    """The key of the bulk data table for a `{tag path}` such as 00480105/0/00282000."""
    path = path.strip("/")
    if _BULK_PATH.fullmatch(path) is None:
        raise BadRequestError(f"malformed bulk data path {path[:120]!r}: expected tags and "
                              "item numbers such as 00420011 or 00480105/0/00282000")
    return path.upper()
