"""The frame table: where every frame of an instance lies in its stored file.

Computed once at store time so that retrieving a frame is one positioned read. A frame
is a tuple of (offset, length) runs: one run for native pixel data and for a frame in
one fragment, several for a frame split over fragments (read the span from the first
run's offset to the last run's end, then keep the runs).

For encapsulated pixel data the frames are found, in order of trust, from the Extended
Offset Table (PS3.5 A.4, 7FE0,0001), the Basic Offset Table, one fragment per frame,
or, when the offset table is empty and fragments outnumber frames, from the codec's
start-of-image markers (JPEG, JPEG-LS, JPEG 2000). When none of these works the table
is None and a reader must parse the file.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import BinaryIO

from pydicom.dataset import Dataset

from hounsfield.dicom.part10 import Fragment, PixelData

Run = tuple[int, int]
Frame = tuple[Run, ...]

_START_MARKERS = (b"\xff\xd8", b"\xff\x4f\xff\x51", b"\x00\x00\x00\x0cjP  ")
_ITEM_HEADER = 8


def number_of_frames(dataset: Dataset) -> int:
    """NumberOfFrames (IS), 1 when absent or unreadable."""
    try:
        value = int(dataset.get("NumberOfFrames") or 1)
    except (TypeError, ValueError):
        return 1
    return max(value, 1)


def frame_table(fp: BinaryIO, pixel: PixelData, dataset: Dataset) -> list[Frame] | None:
    """The frames of `pixel` in file `fp`, or None when they cannot be located."""
    count = number_of_frames(dataset)
    if pixel.encapsulated:
        return _encapsulated_frames(fp, pixel, dataset, count)
    return _native_frames(pixel, dataset, count)


def _native_frames(pixel: PixelData, dataset: Dataset, count: int) -> list[Frame] | None:
    try:
        bits = (int(dataset.Rows) * int(dataset.Columns)
                * int(dataset.get("SamplesPerPixel") or 1) * int(dataset.BitsAllocated))
    except (AttributeError, TypeError, ValueError):
        return None
    if bits % 8 or bits == 0:
        return None  # frames of 1-bit data need not start on a byte
    size = bits // 8
    assert pixel.length is not None
    if count * size > pixel.length:
        return None
    return [((pixel.value_offset + i * size, size),) for i in range(count)]


def _encapsulated_frames(fp: BinaryIO, pixel: PixelData, dataset: Dataset,
                         count: int) -> list[Frame] | None:
    fragments = pixel.fragments
    if not fragments:
        return None
    starts = _starts_from_extended_table(dataset, fragments)
    if starts is None:
        starts = _starts_from_basic_table(fp, pixel)
    if starts is None:
        starts = _starts_without_table(fp, fragments, count)
    if starts is None or len(starts) != count:
        return None
    return _group(fragments, starts)


def _starts_from_extended_table(dataset: Dataset, fragments: Sequence[Fragment]
                                ) -> list[int] | None:
    table = dataset.get("ExtendedOffsetTable")
    if table is None or not table.value:
        return None
    raw = bytes(table.value)
    offsets = struct.unpack(f"<{len(raw) // 8}Q", raw[: len(raw) // 8 * 8])
    return _fragment_indexes(offsets, fragments)


def _starts_from_basic_table(fp: BinaryIO, pixel: PixelData) -> list[int] | None:
    table = pixel.offset_table
    if table is None or table.length == 0 or table.length % 4:
        return None
    fp.seek(table.offset)
    raw = fp.read(table.length)
    offsets = struct.unpack(f"<{len(raw) // 4}L", raw)
    return _fragment_indexes(offsets, pixel.fragments)


def _fragment_indexes(offsets: Sequence[int], fragments: Sequence[Fragment]
                      ) -> list[int] | None:
    """Map offsets (from the first fragment's item tag) to fragment indexes."""
    base = fragments[0].offset - _ITEM_HEADER
    index_of = {f.offset - _ITEM_HEADER - base: i for i, f in enumerate(fragments)}
    starts = [index_of.get(offset) for offset in offsets]
    if any(s is None for s in starts) or starts != sorted(starts):
        return None
    return starts  # type: ignore[return-value]


def _starts_without_table(fp: BinaryIO, fragments: Sequence[Fragment],
                          count: int) -> list[int] | None:
    if count == 1:
        return [0]
    if len(fragments) == count:
        return list(range(count))
    starts = [i for i, f in enumerate(fragments) if _begins_image(fp, f)]
    return starts if starts and starts[0] == 0 else None


def _begins_image(fp: BinaryIO, fragment: Fragment) -> bool:
    fp.seek(fragment.offset)
    head = fp.read(12)
    return any(head.startswith(marker) for marker in _START_MARKERS)


def _group(fragments: Sequence[Fragment], starts: list[int]) -> list[Frame]:
    ends = starts[1:] + [len(fragments)]
    return [tuple((f.offset, f.length) for f in fragments[s:e])
            for s, e in zip(starts, ends, strict=True)]
