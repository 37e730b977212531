"""The VOI LUT stage (PS3.3 C.11.2): modality values to a display range, here 0..1.

A window (Window Center and Width, C.11.2.1.2) with its VOI LUT Function (0028,1056):
- LINEAR (C.11.2.1.2.1): x <= c - 0.5 - (w-1)/2 gives 0, x > c - 0.5 + (w-1)/2 gives 1,
  between them ((x - (c - 0.5)) / (w-1) + 0.5); the width must be at least 1.
- LINEAR_EXACT (C.11.2.1.3.2): x <= c - w/2 gives 0, x > c + w/2 gives 1, between
  them (x - c) / w + 0.5; the width must be above 0.
- SIGMOID (C.11.2.1.3.1): 1 / (1 + exp(-4 (x - c) / w)); the width must be above 0.
Or a VOI LUT Sequence (0028,3010) table, whose entries are divided by 2^bits - 1.

Which one applies (`choose_voi`): the requested window; else the frame's first Window
Center/Width (from its Frame VOI LUT functional group when present); else the first
VOI LUT Sequence item; else the frame's own minimum and maximum modality values, as a
window mapping the minimum to 0 and the maximum to 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hounsfield.dicom.render.frame_attributes import FrameAttributes
from hounsfield.dicom.render.lookup_table import LookupTable, lookup_table
from hounsfield.errors import RenderParameterError

FUNCTIONS = ("LINEAR", "LINEAR_EXACT", "SIGMOID")


@dataclass(frozen=True)
class Window:
    """A VOI window: center, width and VOI LUT Function."""

    center: float
    width: float
    function: str = "LINEAR"

    def __post_init__(self) -> None:
        if self.function not in FUNCTIONS:
            raise RenderParameterError(f"VOI LUT Function {self.function!r} is not one of "
                                       f"{', '.join(FUNCTIONS)}")
        if not np.isfinite(self.center) or not np.isfinite(self.width):
            raise RenderParameterError("window center and width must be finite numbers")
        smallest = 1.0 if self.function == "LINEAR" else 0.0
        if self.width < smallest or (self.width == 0 and smallest == 0):
            raise RenderParameterError(
                f"window width {self.width:g} is too small for {self.function}")

    def apply(self, values: np.ndarray) -> np.ndarray:
        x = np.asarray(values, np.float64)
        c, w = self.center, self.width
        if self.function == "SIGMOID":
            return 1.0 / (1.0 + np.exp(-4.0 * (x - c) / w))
        if self.function == "LINEAR_EXACT":
            return np.clip((x - c) / w + 0.5, 0.0, 1.0)
        if w == 1:
            return (x > c - 0.5).astype(np.float64)
        return np.clip((x - (c - 0.5)) / (w - 1) + 0.5, 0.0, 1.0)


@dataclass(frozen=True)
class VoiTable:
    """A VOI LUT Sequence table (C.11.2.1.1)."""

    table: LookupTable

    def apply(self, values: np.ndarray) -> np.ndarray:
        return self.table.apply(np.rint(values)) / float(self.table.maximum)


VoiTransform = Window | VoiTable


def choose_voi(attributes: FrameAttributes, requested: Window | None, signed: bool,
               value_range: tuple[float, float]) -> VoiTransform:
    """The VOI transform for a frame whose modality values span `value_range`."""
    if requested is not None:
        return requested
    window = stored_window(attributes)
    if window is not None:
        return window
    items = attributes.items("VOILUTSequence")
    if items:
        return VoiTable(lookup_table(items[0], attributes, signed))
    return min_max_window(*value_range)


def stored_window(attributes: FrameAttributes) -> Window | None:
    """The first Window Center/Width of the frame, with its function; None if unusable."""
    centers, widths = attributes.numbers("WindowCenter"), attributes.numbers("WindowWidth")
    if not centers or not widths:
        return None
    function = attributes.text("VOILUTFunction", "LINEAR").upper() or "LINEAR"
    try:
        return Window(centers[0], widths[0], function if function in FUNCTIONS else "LINEAR")
    except RenderParameterError:
        return None  # e.g. a stored width of 0: fall through to the next source


def min_max_window(low: float, high: float) -> Window:
    """The LINEAR window that maps `low` to 0 and `high` to 1."""
    if high <= low:
        return Window(low + 0.5, 1.0)
    return Window((low + high + 1) / 2, high - low + 1)
