"""Display pixels to image bytes: region crop, viewport resize, JPEG, PNG and GIF.

PS3.18 §8.3.5.1: the region (normalised xmin, ymin, xmax, ymax) is cut from the frame
first; the result is then scaled to fit the viewport keeping its aspect ratio (a viewport
giving only a width or a height scales by that one). JPEG is baseline with the requested
quality (default 90, as dcm4chee-arc-light); PNG is 8-bit, or 16-bit for monochrome when
asked; GIF is 8-bit, palette for colour, animated when given several frames.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageCms

from hounsfield.errors import NotRenderableError, RenderParameterError

JPEG, PNG, GIF = "image/jpeg", "image/png", "image/gif"
MEDIA_TYPES = (JPEG, PNG, GIF)
MAX_VIEWPORT = 8192
DEFAULT_QUALITY = 90


@dataclass(frozen=True)
class Region:
    """A part of the frame as fractions of its width and height (PS3.18 §8.3.5.1.4)."""

    xmin: float = 0.0
    ymin: float = 0.0
    xmax: float = 1.0
    ymax: float = 1.0

    def __post_init__(self) -> None:
        values = (self.xmin, self.ymin, self.xmax, self.ymax)
        if not all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in values):
            raise RenderParameterError("region values must lie between 0.0 and 1.0")
        if self.xmin >= self.xmax or self.ymin >= self.ymax:
            raise RenderParameterError("region must have xmin < xmax and ymin < ymax")

    def box(self, width: int, height: int) -> tuple[int, int, int, int]:
        """Pixel box (left, top, right, bottom), at least one pixel each way."""
        left, top = math.floor(self.xmin * width), math.floor(self.ymin * height)
        right = max(left + 1, math.ceil(self.xmax * width))
        bottom = max(top + 1, math.ceil(self.ymax * height))
        return left, top, min(right, width), min(bottom, height)


def check_viewport(width: int | None, height: int | None) -> None:
    for name, value in (("width", width), ("height", height)):
        if value is not None and not 0 < value <= MAX_VIEWPORT:
            raise RenderParameterError(
                f"viewport {name} {value} is outside 1..{MAX_VIEWPORT}")


def check_quality(quality: int | None) -> None:
    if quality is not None and not 1 <= quality <= 100:
        raise RenderParameterError(f"quality {quality} is outside 1..100")


def crop(pixels: np.ndarray, region: Region | None) -> np.ndarray:
    if region is None:
        return pixels
    left, top, right, bottom = region.box(pixels.shape[1], pixels.shape[0])
    return pixels[top:bottom, left:right]


def flip(pixels: np.ndarray, horizontal: bool, vertical: bool) -> np.ndarray:
    """Mirror left-right and/or top-bottom."""
    if horizontal:
        pixels = pixels[:, ::-1]
    if vertical:
        pixels = pixels[::-1]
    return pixels


def fitted_size(width: int, height: int, viewport_width: int | None,
                viewport_height: int | None) -> tuple[int, int]:
    """The size of a `width` x `height` image scaled to fit the viewport, same aspect."""
    scales = [v / s for v, s in ((viewport_width, width), (viewport_height, height)) if v]
    if not scales:
        return width, height
    scale = min(scales)
    return max(1, round(width * scale)), max(1, round(height * scale))


def to_image(pixels: np.ndarray, size: tuple[int, int]) -> Image.Image:
    """A Pillow image of `pixels` (uint8 L/RGB, or uint16 L) resized to `size`."""
    if pixels.dtype == np.uint16:
        image = Image.fromarray(pixels.astype(np.float32), "F")
        if image.size != size:
            image = image.resize(size, Image.Resampling.BICUBIC)
        wide = np.clip(np.rint(np.asarray(image)), 0, 65535).astype("<u2")
        return Image.frombytes("I;16", size, wide.tobytes())
    image = Image.fromarray(np.ascontiguousarray(pixels))
    if image.size == size:
        return image
    if _shrinks(image.size, size):  # each output pixel the mean of the area it covers
        return image.resize(size, Image.Resampling.BOX)
    return image.resize(size, Image.Resampling.BICUBIC)


def encode(images: Sequence[Image.Image], media_type: str, quality: int | None,
           frame_time_ms: float | None = None, *, icc_profile: bool = False) -> bytes:
    """The bytes of `images` in `media_type`; several images only for GIF. With
    `icc_profile`, colour JPEG and PNG carry the sRGB profile (an RGB profile does not
    describe a grey image; GIF has no place for one)."""
    out = io.BytesIO()
    first = images[0]
    icc = {"icc_profile": srgb_profile()} if icc_profile and first.mode == "RGB" else {}
    if media_type == JPEG:
        first = first.convert("L") if first.mode == "I;16" else first
        first.save(out, "JPEG", quality=quality or DEFAULT_QUALITY, **icc)
    elif media_type == PNG:
        first.save(out, "PNG", compress_level=1, **icc)
    elif media_type == GIF:
        frames = [_for_gif(image) for image in images]
        extra = {"save_all": True, "append_images": frames[1:], "loop": 0,
                 "duration": round(frame_time_ms or 100)} if len(frames) > 1 else {}
        frames[0].save(out, "GIF", **extra)
    else:
        raise NotRenderableError(f"{media_type} is not one of {', '.join(MEDIA_TYPES)}")
    return out.getvalue()


@functools.cache
def srgb_profile() -> bytes:
    """The sRGB ICC profile (IEC 61966-2-1) as Little CMS makes it."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _for_gif(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image.quantize(256, dither=Image.Dither.NONE)
    return image


def _shrinks(size: tuple[int, int], target: tuple[int, int]) -> bool:
    return target[0] < size[0] or target[1] < size[1]
