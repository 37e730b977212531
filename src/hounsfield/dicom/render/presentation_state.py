"""A Grayscale Softcopy Presentation State applied to the images it references
(PS3.4 N.2 pipeline; PS3.3 A.33.1, C.11.11, C.11.6, C.11.8, C.10.4, C.10.6).

The caller has what WADO-URI's presentationUID points at: the state's DICOM JSON model
(as the index stores it) and a `BulkDataReader` for LUT Data kept as bulk data.
`presentation_state(model, series_uid, instance_uid, bulk_data)` checks that the state is
a GSPS and that it references the image (Referenced Series Sequence, C.11.11), else
raises PresentationStateError (400: the two UIDs of the request do not go together).
`.frame(number)` then gives what the renderer applies to that frame, in this order:

1. Modality LUT of the state (Rescale Slope/Intercept or Modality LUT Sequence, C.11.1):
   it replaces the image's; without one the stage is identity (PS3.4 N.2.1.1).
2. VOI: the first item of the Softcopy VOI LUT Sequence (0028,3110) whose Referenced
   Image Sequence names the image and frame, or has none (all images): its window or
   its VOI LUT. With no such item the image's own VOI is used (a choice: the standard
   says identity, which shows little of a 12-bit image).
3. Presentation LUT: Presentation LUT Shape IDENTITY or INVERSE, or a Presentation LUT
   Sequence table (C.11.6).
4. Displayed Area (C.10.4): the first Displayed Area Selection item naming the image (or
   naming none); the rectangle from the top left to the bottom right corner, in pixel
   coordinates of the image before the spatial transformation (1\\1 is the first pixel);
   parts outside the image are shown black.
5. Spatial transformation (C.10.6): Image Horizontal Flip, then Image Rotation clockwise.

The renderer then cuts the region, fits the viewport and annotates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hounsfield.dicom.render.frame_attributes import (
    BulkDataReader,
    FrameAttributes,
    Model,
    key_of,
)
from hounsfield.dicom.render.lookup_table import LookupTable, lookup_table
from hounsfield.dicom.render.modality_lut import ModalityTable, ModalityTransform, Rescale
from hounsfield.dicom.render.voi import FUNCTIONS, VoiTable, VoiTransform, Window
from hounsfield.errors import PresentationStateError, RenderParameterError

GSPS_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.11.1"
ROTATIONS = (0, 90, 180, 270)


@dataclass(frozen=True)
class FramePresentation:
    """What a GSPS does to one frame of one image."""

    modality: ModalityTransform = Rescale()
    voi: VoiTransform | None = None  # None: the image's own VOI
    inverse: bool = False
    presentation_lut: LookupTable | None = None
    displayed_area: tuple[int, int, int, int] | None = None  # columns, rows 1-based
    flip: bool = False
    rotation: int = 0

    def spatial(self, display: np.ndarray) -> np.ndarray:
        """Displayed area, flip, rotation on display values (rows, columns[, 3])."""
        if self.displayed_area is not None:
            display = displayed_area(display, self.displayed_area)
        if self.flip:
            display = display[:, ::-1]
        return np.rot90(display, -self.rotation // 90) if self.rotation else display


@dataclass(frozen=True)
class PresentationState:
    """A GSPS bound to one referenced image."""

    model: Model
    instance_uid: str
    frames: tuple[int, ...] | None  # the frames referenced; None: every frame
    bulk_data: BulkDataReader | None = None

    def frame(self, number: int) -> FramePresentation:
        if self.frames is not None and number not in self.frames:
            raise PresentationStateError(
                f"the presentation state does not reference frame {number}")
        top = FrameAttributes(self.model, 1, self.bulk_data)
        area_item = self._item("DisplayedAreaSelectionSequence", number)
        return FramePresentation(
            _modality(top), self._voi(top, number), *_presentation_lut(top),
            _area(area_item) if area_item is not None else None,
            top.text("ImageHorizontalFlip").upper() == "Y", _rotation(top))

    def _item(self, keyword: str, frame: int) -> Model | None:
        for item in FrameAttributes(self.model).items(keyword):
            references = _items(item, "ReferencedImageSequence")
            if not references or any(_names(ref, self.instance_uid, frame)
                                     for ref in references):
                return item
        return None

    def _voi(self, top: FrameAttributes, frame: int) -> VoiTransform | None:
        item = self._item("SoftcopyVOILUTSequence", frame)
        if item is None:
            return None
        attributes = FrameAttributes(item, 1, self.bulk_data)
        centers, widths = attributes.numbers("WindowCenter"), attributes.numbers("WindowWidth")
        if centers and widths:
            function = attributes.text("VOILUTFunction", "LINEAR").upper() or "LINEAR"
            return Window(centers[0], widths[0], function if function in FUNCTIONS
                          else "LINEAR")
        tables = attributes.items("VOILUTSequence")
        return VoiTable(_table(tables[0], top)) if tables else None


def presentation_state(model: Model, series_uid: str, instance_uid: str,
                       bulk_data: BulkDataReader | None = None) -> PresentationState:
    """The GSPS `model` bound to the image `instance_uid` of series `series_uid`."""
    top = FrameAttributes(model)
    sop_class = top.text("SOPClassUID")
    if sop_class != GSPS_SOP_CLASS:
        raise PresentationStateError(f"the presentation object is of SOP class "
                                     f"{sop_class or 'unknown'}, not a Grayscale Softcopy "
                                     "Presentation State")
    for series in top.items("ReferencedSeriesSequence"):
        if FrameAttributes(series).text("SeriesInstanceUID") != series_uid:
            continue
        for reference in _items(series, "ReferencedImageSequence"):
            ref = FrameAttributes(reference)
            if ref.text("ReferencedSOPInstanceUID") == instance_uid:
                frames = [int(v) for v in ref.numbers("ReferencedFrameNumber")]
                return PresentationState(model, instance_uid, tuple(frames) or None,
                                         bulk_data)
    raise PresentationStateError(f"the presentation state does not reference object "
                                 f"{instance_uid} of series {series_uid}")


def displayed_area(display: np.ndarray, area: tuple[int, int, int, int]) -> np.ndarray:
    """The pixels from (left, top) to (right, bottom), 1-based and inclusive; outside
    the image black (0)."""
    left, top, right, bottom = area
    out = np.zeros((bottom - top + 1, right - left + 1) + display.shape[2:], display.dtype)
    src_top, src_left = max(top - 1, 0), max(left - 1, 0)
    src_bottom, src_right = min(bottom, display.shape[0]), min(right, display.shape[1])
    if src_top < src_bottom and src_left < src_right:
        out[src_top - (top - 1):src_bottom - (top - 1),
            src_left - (left - 1):src_right - (left - 1)] = display[src_top:src_bottom,
                                                                    src_left:src_right]
    return out


def _items(item: Model, keyword: str) -> list[Model]:
    return [v for v in (item.get(key_of(keyword)) or {}).get("Value") or []
            if isinstance(v, dict)]


def _names(reference: Model, instance_uid: str, frame: int) -> bool:
    ref = FrameAttributes(reference)
    frames = ref.numbers("ReferencedFrameNumber")
    return (ref.text("ReferencedSOPInstanceUID") == instance_uid
            and (not frames or frame in frames))


def _signed(item: Model, descriptor: str = "LUTDescriptor") -> bool:
    return (item.get(key_of(descriptor)) or {}).get("vr") == "SS"


def _table(item: Model, top: FrameAttributes) -> LookupTable:
    return lookup_table(item, top, _signed(item))


def _modality(top: FrameAttributes) -> ModalityTransform:
    tables = top.items("ModalityLUTSequence")
    if tables:
        return ModalityTable(_table(tables[0], top))
    return Rescale(top.number("RescaleSlope", 1.0) or 1.0,
                   top.number("RescaleIntercept", 0.0) or 0.0)


def _presentation_lut(top: FrameAttributes) -> tuple[bool, LookupTable | None]:
    tables = top.items("PresentationLUTSequence")
    if tables:
        return False, lookup_table(tables[0], top, False)
    return top.text("PresentationLUTShape").upper() == "INVERSE", None


def _rotation(top: FrameAttributes) -> int:
    rotation = top.integer("ImageRotation", 0) or 0
    if rotation not in ROTATIONS:
        raise RenderParameterError(f"Image Rotation {rotation} of the presentation state "
                                   "is not 0, 90, 180 or 270")
    return rotation


def _area(item: Model) -> tuple[int, int, int, int] | None:
    attributes = FrameAttributes(item)
    first = [int(v) for v in attributes.numbers("DisplayedAreaTopLeftHandCorner")]
    last = [int(v) for v in attributes.numbers("DisplayedAreaBottomRightHandCorner")]
    if len(first) != 2 or len(last) != 2:
        return None
    left, right = sorted((first[0], last[0]))
    top, bottom = sorted((first[1], last[1]))
    return left, top, right, bottom
