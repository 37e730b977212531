"""The query parameters of rendered resources and thumbnails (PS3.18 §8.3.5.1, Table
8.3.5-1): window, viewport, quality, annotation, charset, iccprofile.

Parsed once per request into `RenderedParameters` (400 for a malformed value); the
renderer's `RenderRequest` is then made for each instance, since the source region of
`viewport` is given in pixels of the image it is cut from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.requests import Request

from hounsfield.dicom.render import Region, RenderRequest, Window
from hounsfield.dicom.render.annotation import check_annotations
from hounsfield.dicom.render.image_encoding import check_quality, check_viewport
from hounsfield.errors import NotAcceptableError, RenderParameterError

RENDERED = frozenset({"accept", "window", "viewport", "quality", "annotation", "charset",
                      "iccprofile"})
THUMBNAIL = frozenset({"accept", "viewport", "charset"})
_FUNCTIONS = {"linear": "LINEAR", "linear-exact": "LINEAR_EXACT", "sigmoid": "SIGMOID"}
_INTEGER = re.compile(r"-?[0-9]{1,9}")
_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?")
_PROFILES = {"no": False, "yes": True, "srgb": True}
_NOT_PRODUCED = ("adobergb", "rommrgb")


@dataclass(frozen=True)
class SourceRegion:
    """sx, sy, sw, sh of `viewport`: a region in pixels of the source; a negative width
    or height mirrors the image (PS3.18 §8.3.5.1.3)."""

    x: int
    y: int
    width: int
    height: int

    def region(self, columns: int, rows: int) -> Region:
        """As fractions of an image of `columns` x `rows`, clipped to it."""
        left, right = sorted((self.x, self.x + self.width))
        top, bottom = sorted((self.y, self.y + self.height))
        left, top = max(left, 0), max(top, 0)
        right, bottom = min(right, columns), min(bottom, rows)
        if left >= right or top >= bottom:
            raise RenderParameterError(
                f"viewport source region {self.x},{self.y},{self.width},{self.height} lies "
                f"outside the {columns}x{rows} image")
        return Region(left / columns, top / rows, right / columns, bottom / rows)


@dataclass(frozen=True)
class RenderedParameters:
    window: Window | None = None
    viewport_width: int | None = None
    viewport_height: int | None = None
    source: SourceRegion | None = None
    quality: int | None = None
    annotations: tuple[str, ...] = ()
    icc_profile: bool = False

    def request(self, media_type: str, columns: int, rows: int,
                frame: int | None = None) -> RenderRequest:
        """The renderer's request for frame `frame` of a `columns` x `rows` image."""
        region = self.source.region(columns, rows) if self.source else None
        return RenderRequest(
            media_type, frame, self.window, self.viewport_width, self.viewport_height,
            region, self.quality, annotations=self.annotations,
            flip_horizontal=bool(self.source and self.source.width < 0),
            flip_vertical=bool(self.source and self.source.height < 0),
            icc_profile=self.icc_profile)

    def key(self) -> str:
        """What the parameters change in the output, for the ETag."""
        return repr(self)


def rendered_parameters(request: Request, *, default_viewport: int | None = None
                        ) -> RenderedParameters:
    """The rendering parameters of `request`; `default_viewport` (thumbnails) applies
    when the request gives no viewport."""
    query = request.query_params
    width, height, source = _viewport(query.get("viewport"))
    if query.get("viewport") is None and default_viewport is not None:
        width = height = default_viewport
    return RenderedParameters(
        window=_window(query.get("window")), viewport_width=width, viewport_height=height,
        source=source, quality=_quality(query.get("quality")),
        annotations=_annotations(query.getlist("annotation")),
        icc_profile=_icc_profile(query.get("iccprofile")))


def _window(value: str | None) -> Window | None:
    """window=center,width[,function] (function: linear, linear-exact, sigmoid)."""
    if value is None:
        return None
    fields = [f.strip() for f in value.split(",")]
    if len(fields) not in (2, 3) or not all(_NUMBER.fullmatch(f) for f in fields[:2]):
        raise RenderParameterError(f"window={value[:60]!r}: expected center,width[,function] "
                                   "such as 40,400 or 40,400,sigmoid")
    function = _FUNCTIONS.get(fields[2].lower()) if len(fields) == 3 else "LINEAR"
    if function is None:
        raise RenderParameterError(f"window function {fields[2][:20]!r} is not one of "
                                   f"{', '.join(_FUNCTIONS)}")
    return Window(float(fields[0]), float(fields[1]), function)


def _viewport(value: str | None) -> tuple[int | None, int | None, SourceRegion | None]:
    """viewport=vw,vh[,sx,sy,sw,sh]; vw or vh may be left empty to scale by the other."""
    if value is None:
        return None, None, None
    fields = [f.strip() for f in value.split(",")]
    malformed = RenderParameterError(
        f"viewport={value[:60]!r}: expected vw,vh or vw,vh,sx,sy,sw,sh in pixels")
    if len(fields) not in (2, 6) or not all(_INTEGER.fullmatch(f) for f in fields[2:]):
        raise malformed
    sizes = [int(f) if _INTEGER.fullmatch(f) else None for f in fields[:2]]
    if any(f and s is None for f, s in zip(fields[:2], sizes, strict=True)) \
            or sizes == [None, None]:
        raise malformed
    check_viewport(*sizes)
    if len(fields) == 2:
        return sizes[0], sizes[1], None
    x, y, width, height = map(int, fields[2:])
    if x < 0 or y < 0 or width == 0 or height == 0:
        raise RenderParameterError(f"viewport={value[:60]!r}: sx and sy must not be "
                                   "negative, sw and sh not zero")
    return sizes[0], sizes[1], SourceRegion(x, y, width, height)


def _quality(value: str | None) -> int | None:
    if value is None:
        return None
    if not _INTEGER.fullmatch(value.strip()):
        raise RenderParameterError(f"quality={value[:20]!r}: expected an integer 1..100")
    check_quality(int(value))
    return int(value)


def _annotations(values: list[str]) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip().lower() for v in values for n in v.split(",")))
    check_annotations(names)
    return names


def _icc_profile(value: str | None) -> bool:
    """iccprofile: no (default); yes and srgb embed sRGB; adobergb and rommrgb are 406."""
    name = (value or "no").strip().lower()
    if name in _NOT_PRODUCED:
        raise NotAcceptableError(f"iccprofile={name}: images are rendered in sRGB only; "
                                 "use iccprofile=srgb, yes or no")
    if name not in _PROFILES:
        raise RenderParameterError(f"iccprofile={name[:20]!r} is not one of no, yes, srgb, "
                                   "adobergb, rommrgb")
    return _PROFILES[name]
