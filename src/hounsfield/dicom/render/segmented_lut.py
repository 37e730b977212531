"""Segmented Palette Color LUT Data (PS3.3 C.7.9.2) expanded to a plain table.

The data are 16-bit words forming segments: discrete (opcode 0: length, then that many
values), linear (opcode 1: length, then the end value; the values run from the previous
segment's last value to it in `length` steps) and indirect (opcode 2: length, then a
32-bit offset, low word first, to a segment from which `length` segments are replayed).
"""

from __future__ import annotations

import numpy as np

from hounsfield.errors import NotRenderableError

DISCRETE, LINEAR, INDIRECT = 0, 1, 2


def expand_segmented(words: np.ndarray, count: int) -> np.ndarray:
    """The `count` entries the segments of `words` describe."""
    values: list[float] = []
    _expand(words.astype(np.int64), 0, len(words), values, depth=0)
    if len(values) < count:
        raise NotRenderableError(f"segmented LUT gives {len(values)} of {count} entries")
    return np.rint(np.asarray(values[:count])).astype(np.uint16)


def _expand(words: np.ndarray, start: int, stop: int | None, values: list[float],
            depth: int, segments: int | None = None) -> None:
    if depth > 2:
        raise NotRenderableError("segmented LUT has nested indirect segments")
    position, done = start, 0
    while position < len(words) and (stop is None or position < stop) and (
            segments is None or done < segments):
        opcode, length = int(words[position]), int(words[position + 1])
        if opcode == DISCRETE:
            values.extend(words[position + 2 : position + 2 + length].tolist())
            position += 2 + length
        elif opcode == LINEAR:
            if not values:
                raise NotRenderableError("segmented LUT begins with a linear segment")
            end, begin = float(words[position + 2]), values[-1]
            values.extend((begin + (end - begin) * np.arange(1, length + 1) / length).tolist())
            position += 3
        elif opcode == INDIRECT:
            offset = int(words[position + 2]) | (int(words[position + 3]) << 16)
            _expand(words, offset, None, values, depth + 1, segments=length)
            position += 4
        else:
            raise NotRenderableError(f"segmented LUT has an unknown opcode {opcode}")
        done += 1
