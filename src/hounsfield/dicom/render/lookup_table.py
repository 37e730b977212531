"""Lookup tables stored in a data set: a LUT Descriptor and its LUT Data.

PS3.3 C.11.1.1 (Modality LUT) and C.11.2.1 (VOI LUT): the descriptor's three values are
the number of entries (0 means 65536), the first stored value mapped, and the bits per
entry; input values below the first are mapped to the first entry, above the last to the
last. The data are 16-bit words (US or OW), except 8-bit palette entries, which are
packed one per byte (C.7.6.3.1.6); a value with as many bytes as entries is read so.
The first value mapped is US or SS: with signed pixels, a number above 32767 is negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from hounsfield.dicom.render.frame_attributes import FrameAttributes, Model, key_of
from hounsfield.errors import NotRenderableError


@dataclass(frozen=True)
class LookupTable:
    """One LUT: input `first` maps to entry 0; entries hold `bits` bits."""

    first: int
    bits: int
    data: bytes  # the entries as little-endian uint16, or uint8 when `wide` is False
    wide: bool = True

    @cached_property
    def entries(self) -> np.ndarray:
        return np.frombuffer(self.data, "<u2" if self.wide else "u1")

    @property
    def maximum(self) -> int:
        return (1 << self.bits) - 1

    def apply(self, values: np.ndarray) -> np.ndarray:
        """The entries for `values`, clamped to the table's range (C.11.1.1, C.11.2.1)."""
        index = np.clip(values - self.first, 0, len(self.entries) - 1).astype(np.intp)
        return self.entries[index]


def lookup_table(item: Model, attributes: FrameAttributes, signed: bool,
                 descriptor: str = "LUTDescriptor", data: str = "LUTData") -> LookupTable:
    """The LUT of a sequence item (or data set) holding `descriptor` and `data`."""
    numbers = [int(v) for v in (item.get(key_of(descriptor)) or {}).get("Value") or []]
    if len(numbers) != 3:
        raise NotRenderableError(f"{descriptor} does not have three values")
    count, first, bits = numbers
    count = count or 65536
    if signed and first > 0x7FFF:
        first -= 0x10000
    raw = attributes.binary(item.get(key_of(data)), data)
    return LookupTable(first, bits, *_entries(raw, count, data))


def _entries(raw: bytes | list[int], count: int, name: str) -> tuple[bytes, bool]:
    if isinstance(raw, list):
        return np.asarray(raw, "<u2").tobytes(), True
    if len(raw) in (count, count + 1) and len(raw) < 2 * count:
        return raw[:count], False
    if len(raw) < 2 * count:
        raise NotRenderableError(f"{name} holds {len(raw)} bytes for {count} entries")
    return raw[: 2 * count], True
