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
from dataclasses import dataclass
from typing import Any, BinaryIO

from pydicom.dataset import Dataset

from hounsfield.dicom.part10 import Fragment, PixelData

Run = tuple[int, int]
Frame = tuple[Run, ...]

_START_MARKERS = (b"\xff\xd8", b"\xff\x4f\xff\x51", b"\x00\x00\x00\x0cjP  ")
_ITEM_HEADER = 8


@dataclass(frozen=True)
class ImageLayout:
    """What locating frames needs from the data set (None: absent or unreadable)."""

    rows: int | None
    columns: int | None
    samples_per_pixel: int | None
    bits_allocated: int | None
    number_of_frames: int
    extended_offset_table: bytes | None

    @classmethod
    def of_dataset(cls, dataset: Dataset) -> ImageLayout:
        table = dataset.get("ExtendedOffsetTable")
        return cls(_int(dataset, "Rows"), _int(dataset, "Columns"),
                   _int(dataset, "SamplesPerPixel"), _int(dataset, "BitsAllocated"),
                   number_of_frames(dataset),
                   bytes(table.value) if table is not None and table.value else None)

    @classmethod
    def of_model(cls, model: dict[str, Any], extended_offset_table: bytes | None
                 ) -> ImageLayout:
        """From the DICOM JSON model (US values as numbers, NumberOfFrames as IS text)."""
        return cls(_model_int(model, "00280010"), _model_int(model, "00280011"),
                   _model_int(model, "00280002"), _model_int(model, "00280100"),
                   _frames_from_text(_model_int_text(model, "00280008")),
                   extended_offset_table or None)


def number_of_frames(dataset: Dataset) -> int:
    """NumberOfFrames (IS), 1 when absent or unreadable."""
    try:
        value = int(dataset.get("NumberOfFrames") or 1)
    except (TypeError, ValueError):
        return 1
    return max(value, 1)


def frame_table(fp: BinaryIO, pixel: PixelData, layout: ImageLayout) -> list[Frame] | None:
    """The frames of `pixel` in file `fp`, or None when they cannot be located."""
    if pixel.encapsulated:
        return _encapsulated_frames(fp, pixel, layout)
    return _native_frames(pixel, layout)


def _native_frames(pixel: PixelData, layout: ImageLayout) -> list[Frame] | None:
    count = layout.number_of_frames
    if layout.rows is None or layout.columns is None or layout.bits_allocated is None:
        return None
    bits = (layout.rows * layout.columns * (layout.samples_per_pixel or 1)
            * layout.bits_allocated)
    if bits % 8 or bits == 0:
        return None  # frames of 1-bit data need not start on a byte
    size = bits // 8
    assert pixel.length is not None
    if count * size > pixel.length:
        return None
    return [((pixel.value_offset + i * size, size),) for i in range(count)]


def _encapsulated_frames(fp: BinaryIO, pixel: PixelData, layout: ImageLayout
                         ) -> list[Frame] | None:
    fragments = pixel.fragments
    count = layout.number_of_frames
    if not fragments:
        return None
    starts = _starts_from_extended_table(layout.extended_offset_table, fragments)
    if starts is None:
        starts = _starts_from_basic_table(fp, pixel)
    if starts is None:
        starts = _starts_without_table(fp, fragments, count)
    if starts is None or len(starts) != count:
        return None
    return _group(fragments, starts)


def _starts_from_extended_table(raw: bytes | None, fragments: Sequence[Fragment]
                                ) -> list[int] | None:
    if not raw:
        return None
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


def _int(dataset: Dataset, keyword: str) -> int | None:
    try:
        value = dataset.get(keyword)
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _model_int(model: dict[str, Any], key: str) -> int | None:
    values = (model.get(key) or {}).get("Value")
    if not values or len(values) != 1 or not isinstance(values[0], int):
        return None
    return int(values[0])


def _model_int_text(model: dict[str, Any], key: str) -> str | None:
    values = (model.get(key) or {}).get("Value")
    return values[0] if values and len(values) == 1 else None


def _frames_from_text(text: Any) -> int:
    """NumberOfFrames (IS text), 1 when absent or unreadable."""
    try:
        return max(int(text), 1) if text else 1
    except (TypeError, ValueError):
        return 1
