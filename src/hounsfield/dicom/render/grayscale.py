"""Monochrome frames through Modality LUT, VOI LUT and Presentation LUT (PS3.3 C.11).

For integer frames of at most 16 bits the three stages are composed once into a table
indexed by the stored bit pattern (256 or 65536 entries), which also masks Bits Stored
and sign-extends signed pixels; one `np.take` then renders the frame. The last tables are
kept, so a series rendered with one window builds its table once. Wider integers and
float pixels go through the same stages value by value, vectorised.

The output is inverted (Presentation LUT Shape INVERSE, C.11.6) when the frame's
Presentation LUT Shape (2050,0020) says INVERSE, or, without one, for MONOCHROME1.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from hounsfield.dicom.render.frame_attributes import FrameAttributes
from hounsfield.dicom.render.lookup_table import LookupTable
from hounsfield.dicom.render.modality_lut import ModalityTransform, modality_transform
from hounsfield.dicom.render.pixel_description import PixelDescription, masked
from hounsfield.dicom.render.presentation_state import FramePresentation
from hounsfield.dicom.render.voi import VoiTransform, Window, choose_voi


@dataclass(frozen=True)
class GrayscaleChain:
    """The transforms applied to one monochrome frame."""

    modality: ModalityTransform
    voi: VoiTransform
    inverse: bool
    bits_stored: int
    signed: bool
    presentation_lut: LookupTable | None = None

    def render(self, frame: np.ndarray, maximum: int) -> np.ndarray:
        """Display values 0..maximum (255 or 65535) for the stored values of `frame`."""
        out_type = np.uint8 if maximum <= 255 else np.uint16
        if frame.dtype.kind in "iu" and frame.dtype.itemsize <= 2:
            table = _table(self, frame.dtype.str, maximum)
            return np.take(table, frame.view(f"u{frame.dtype.itemsize}"))
        return self.display(masked(frame, self.bits_stored, self.signed), maximum
                            ).astype(out_type)

    def display(self, stored: np.ndarray, maximum: int) -> np.ndarray:
        """The three stages on stored values, as rounded floats 0..maximum."""
        shown = self.voi.apply(self.modality.apply(stored))
        if self.presentation_lut is not None:
            shown = presentation_lut(self.presentation_lut, shown)
        if self.inverse:
            shown = 1.0 - shown
        return np.rint(shown * maximum)


def inverse_presentation(attributes: FrameAttributes, photometric: str) -> bool:
    shape = attributes.text("PresentationLUTShape").upper()
    if shape in ("INVERSE", "IDENTITY"):
        return shape == "INVERSE"
    return photometric == "MONOCHROME1"


def grayscale_chain(frame: np.ndarray, pixels: PixelDescription,
                    attributes: FrameAttributes, photometric: str,
                    window: Window | None,
                    presentation: FramePresentation | None = None) -> GrayscaleChain:
    """The chain for `frame`: its Modality LUT, the chosen VOI, the presentation; a
    presentation state's stages replace the image's (`presentation_state`)."""
    bits = min(pixels.bits_stored or 16, frame.dtype.itemsize * 8)
    if presentation is None:
        modality = modality_transform(attributes, pixels.signed)
        inverse, table = inverse_presentation(attributes, photometric), None
    else:
        modality = presentation.modality
        inverse, table = presentation.inverse, presentation.presentation_lut
        window = window or presentation.voi  # type: ignore[assignment]
    value_range = (0.0, 0.0)
    if window is None and not stored_voi(attributes):
        value_range = _modality_range(frame, pixels, modality)
    voi = choose_voi(attributes, window, pixels.signed, value_range)
    return GrayscaleChain(modality, voi, inverse, bits, pixels.signed, table)


def presentation_lut(table: LookupTable, shown: np.ndarray) -> np.ndarray:
    """A Presentation LUT Sequence table (C.11.6.1) on VOI output 0..1: its input range
    is the table's entries, its output divided by 2^bits - 1."""
    index = np.rint(shown * (len(table.entries) - 1)) + table.first
    return table.apply(index) / float(table.maximum)


def stored_voi(attributes: FrameAttributes) -> bool:
    return bool(attributes.values("WindowWidth") or attributes.items("VOILUTSequence"))


def _modality_range(frame: np.ndarray, pixels: PixelDescription,
                    modality: ModalityTransform) -> tuple[float, float]:
    stored = masked(frame, min(pixels.bits_stored, frame.dtype.itemsize * 8), pixels.signed)
    finite = stored[np.isfinite(stored)] if stored.dtype.kind == "f" else stored
    if finite.size == 0:
        return (0.0, 0.0)
    low, high = finite.min(), finite.max()
    if stored.dtype.kind in "iu" and high - low <= 65536:
        mapped = modality.apply(np.arange(int(low), int(high) + 1))
    else:
        mapped = modality.apply(np.array([low, high], np.float64))
    return float(mapped.min()), float(mapped.max())


@lru_cache(maxsize=32)
def _table(chain: GrayscaleChain, dtype: str, maximum: int) -> np.ndarray:
    """The display value for every bit pattern of `dtype` (e.g. '<i2')."""
    kind = np.dtype(dtype)
    patterns = np.arange(1 << (kind.itemsize * 8), dtype=f"u{kind.itemsize}").view(kind)
    stored = masked(patterns, chain.bits_stored, chain.signed)
    out_type = np.uint8 if maximum <= 255 else np.uint16
    return chain.display(stored, maximum).astype(out_type)
