"""The Modality LUT stage (PS3.3 C.11.1): stored values to modality values.

Either Rescale Slope and Intercept (C.11.1.1.2: output = slope * stored + intercept),
or a Modality LUT Sequence (0028,3000) whose first item holds the table; for enhanced
multi-frame objects both come from the frame's Pixel Value Transformation functional
group (C.7.6.16.2.9) when present. Colour images have no Modality LUT stage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hounsfield.dicom.render.frame_attributes import FrameAttributes
from hounsfield.dicom.render.lookup_table import LookupTable, lookup_table


@dataclass(frozen=True)
class Rescale:
    """A linear Modality LUT (C.11.1.1.2)."""

    slope: float = 1.0
    intercept: float = 0.0

    def apply(self, values: np.ndarray) -> np.ndarray:
        if self.slope == 1.0 and self.intercept == 0.0:
            return values.astype(np.float64)
        return values * self.slope + self.intercept


@dataclass(frozen=True)
class ModalityTable:
    """A Modality LUT Sequence table (C.11.1.1.1)."""

    table: LookupTable

    def apply(self, values: np.ndarray) -> np.ndarray:
        return self.table.apply(values).astype(np.float64)


ModalityTransform = Rescale | ModalityTable


def modality_transform(attributes: FrameAttributes, signed: bool) -> ModalityTransform:
    """The frame's Modality LUT: a table if one is given, else its rescale (1, 0 if none)."""
    items = attributes.items("ModalityLUTSequence")
    if items:
        return ModalityTable(lookup_table(items[0], attributes, signed))
    return Rescale(attributes.number("RescaleSlope", 1.0) or 1.0,
                   attributes.number("RescaleIntercept", 0.0) or 0.0)
