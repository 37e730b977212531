"""One renderer for WADO-RS rendered resources, WADO-URI and WADO-WS (PS3.18 §8.3.5.1).

Pure: pixels and attributes in, image bytes out. The caller gives a `SourceImage`:
- `attributes`: the object's DICOM JSON model (as the archive stores it);
- `frame(number)`: the decoded frame `number` (1-based) as pydicom's `pixel_array` gives
  one frame: after decompression, before any LUT; (rows, columns) for monochrome and
  palette, (rows, columns, 3) for colour, planar configuration undone
  (`pixel_description.native_frame` makes it from native frame bytes); or a pair of that
  array and the photometric interpretation it is in, when only decoding tells;
- `photometric_interpretation`: what the arrays are in, when the decoder converted them
  (pydicom and JPEG decoders usually give RGB for YBR_FULL_422); default the object's;
- `bulk_data`: reads a BulkDataURI of the model, for LUT Data kept as bulk data.

Monochrome frames go through Modality LUT, VOI LUT and presentation (`grayscale`);
colour frames are turned into RGB (`color`). A Grayscale Softcopy Presentation State
(`RenderRequest.presentation`, see `presentation_state`) replaces the image's Modality
LUT, VOI and Presentation LUT, then selects its displayed area and flips and rotates.
Then region, flip, viewport, annotation, encoding (`image_encoding`, `annotation`).
Impossible requests raise RenderParameterError (400);
objects without renderable pixels, or media types not produced, NotRenderableError (406).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from hounsfield.dicom.render import annotation, image_encoding
from hounsfield.dicom.render.color import to_rgb8
from hounsfield.dicom.render.frame_attributes import BulkDataReader, FrameAttributes, Model
from hounsfield.dicom.render.grayscale import grayscale_chain
from hounsfield.dicom.render.image_encoding import GIF, PNG, Region
from hounsfield.dicom.render.pixel_description import PixelDescription, pixel_description
from hounsfield.dicom.render.presentation_state import FramePresentation, PresentationState
from hounsfield.dicom.render.voi import VoiTransform, Window
from hounsfield.errors import NotRenderableError, RenderParameterError

MAX_GIF_FRAMES = 1000


@dataclass(frozen=True)
class RenderRequest:
    """What to render and how (the rendered resource parameters of PS3.18 §8.3.5.1)."""

    media_type: str = image_encoding.JPEG
    frame: int | None = None  # 1-based; None: the first, or every frame for GIF
    window: Window | None = None
    viewport_width: int | None = None
    viewport_height: int | None = None
    region: Region | None = None
    quality: int | None = None
    bits: int = 8  # 16: a 16-bit PNG of a monochrome frame
    annotations: tuple[str, ...] = ()
    flip_horizontal: bool = False  # PS3.18 §8.3.5.1.3: a negative source width
    flip_vertical: bool = False  # ... or height
    icc_profile: bool = False  # embed the sRGB profile (JPEG and PNG)
    presentation: PresentationState | None = None  # a GSPS bound to the object
    deidentified: bool = False  # annotations without what the Basic Profile removes

    def check(self) -> None:
        if self.media_type not in image_encoding.MEDIA_TYPES:
            raise NotRenderableError(f"{self.media_type} is not one of "
                                     f"{', '.join(image_encoding.MEDIA_TYPES)}")
        image_encoding.check_viewport(self.viewport_width, self.viewport_height)
        image_encoding.check_quality(self.quality)
        annotation.check_annotations(self.annotations)
        if self.bits not in (8, 16) or (self.bits == 16 and self.media_type != PNG):
            raise RenderParameterError(f"{self.bits}-bit output is not offered in "
                                       f"{self.media_type}; PNG has 8 and 16 bits")


@dataclass(frozen=True)
class SourceImage:
    """The object to render: its JSON model and a way to get each decoded frame."""

    attributes: Model
    frame: Callable[[int], np.ndarray | tuple[np.ndarray, str]]
    photometric_interpretation: str | None = None
    bulk_data: BulkDataReader | None = None


def render(source: SourceImage, request: RenderRequest) -> bytes:
    """The image bytes of `request` for `source`."""
    request.check()
    pixels = pixel_description(source.attributes)
    numbers = frame_numbers(request, pixels.number_of_frames)
    images = [render_frame(source, request, pixels, number) for number in numbers]
    top = FrameAttributes(source.attributes)
    return image_encoding.encode(images, request.media_type, request.quality,
                                 frame_time_ms(top), icc_profile=request.icc_profile)


def frame_numbers(request: RenderRequest, frames: int) -> list[int]:
    if request.frame is not None:
        if not 1 <= request.frame <= frames:
            raise RenderParameterError(
                f"frame {request.frame} requested; the object has {frames} frame(s)")
        return [request.frame]
    if request.media_type == GIF:
        return list(range(1, min(frames, MAX_GIF_FRAMES) + 1))
    return [1]


def render_frame(source: SourceImage, request: RenderRequest, pixels: PixelDescription,
                 number: int) -> Image.Image:
    """One frame as a Pillow image: display values, cropped, resized, annotated."""
    attributes = FrameAttributes(source.attributes, number, source.bulk_data)
    decoded = source.frame(number)
    array, photometric = (decoded if isinstance(decoded, tuple)
                          else (decoded, source.photometric_interpretation))
    photometric = (photometric or pixels.photometric_interpretation).upper()
    frame = _checked(array, pixels, photometric)
    presentation = request.presentation.frame(number) if request.presentation else None
    display, voi = display_values(frame, pixels, attributes, photometric, request,
                                  presentation)
    if presentation is not None:
        display = presentation.spatial(display)
    display = image_encoding.crop(display, request.region)
    display = image_encoding.flip(display, request.flip_horizontal, request.flip_vertical)
    size = image_encoding.fitted_size(display.shape[1], display.shape[0],
                                      request.viewport_width, request.viewport_height)
    image = image_encoding.to_image(display, size)
    if not request.annotations:
        return image
    wanted = request.annotations
    top = (annotation.patient_lines(attributes)
           if "patient" in wanted and not request.deidentified else [])
    bottom = (annotation.technique_lines(attributes, voi, number, pixels.number_of_frames,
                                         deidentified=request.deidentified)
              if "technique" in wanted else [])
    return annotation.annotate(image, top, bottom)


def display_values(frame: np.ndarray, pixels: PixelDescription, attributes: FrameAttributes,
                   photometric: str, request: RenderRequest,
                   presentation: FramePresentation | None = None
                   ) -> tuple[np.ndarray, VoiTransform | None]:
    """The frame's display values (uint8, or uint16 for 16-bit output) and its VOI."""
    if photometric in ("MONOCHROME1", "MONOCHROME2"):
        chain = grayscale_chain(frame, pixels, attributes, photometric, request.window,
                                presentation)
        return chain.render(frame, 65535 if request.bits == 16 else 255), chain.voi
    return to_rgb8(frame, photometric, pixels, attributes), None


def frame_time_ms(attributes: FrameAttributes) -> float | None:
    """Frame Time (0018,1063), else from Recommended Display Frame Rate (0008,2144)."""
    frame_time = attributes.number("FrameTime")
    if frame_time and frame_time > 0:
        return frame_time
    rate = attributes.number("RecommendedDisplayFrameRate")
    return 1000.0 / rate if rate and rate > 0 else None


def _checked(frame: np.ndarray, pixels: PixelDescription, photometric: str) -> np.ndarray:
    samples = 3 if photometric not in ("MONOCHROME1", "MONOCHROME2", "PALETTE COLOR") else 1
    expected = (pixels.rows, pixels.columns) + ((3,) if samples == 3 else ())
    if frame.shape != expected:
        raise NotRenderableError(f"decoded frame has shape {frame.shape}; {photometric} "
                                 f"{pixels.columns}x{pixels.rows} needs {expected}")
    if pixels.signed and frame.dtype.kind == "u" and samples == 1:
        return frame.view(f"i{frame.dtype.itemsize}")
    return frame
