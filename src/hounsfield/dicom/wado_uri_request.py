"""The parameters of a WADO-URI request (PS3.18 2013 §8; current edition §9.4 and §9.5).

`parse_wado_uri` turns the query of `{context}/aets/{AET}/wado?requestType=WADO&...` into a
`WadoUriRequest`, or raises `WadoUriParameterError` (400) naming the parameter at fault.
It checks each value's syntax and the restrictions between parameters:

- requestType, studyUID, seriesUID, objectUID are required; the value of requestType is
  "WADO" (§8.1.1) and the three UIDs follow PS3.5 §9.1 (§8.1.2-8.1.4).
- contentType and charset are lists of values with optional q-values (§8.1.5, §8.1.6).
- anonymize (value "yes") and transferSyntax (a UID, or "*" for the stored one, as
  dcm4chee-arc-light accepts) ask for a DICOM response: they need application/dicom
  among the content types (§8.1.7, §8.2.11).
- annotation, rows, columns, region, windowCenter, windowWidth, frameNumber,
  presentationUID and presentationSeriesUID ask for a rendered image: they need a content
  type other than application/dicom (§8.2.1-8.2.10). imageQuality is a rendering
  parameter too, except with a lossy transferSyntax (§8.2.8).
- A request with both kinds is refused: one response cannot be both.
- windowCenter and windowWidth come together (§8.2.5, §8.2.6), and not with
  presentationUID; presentationUID and presentationSeriesUID come together (§8.2.9,
  §8.2.10). region may come with presentationUID: as in the 2013 text, the region is then
  cut from the presented image (later editions forbid the pair).

With a list mixing application/dicom and other types, the parameters decide which kind
of response is possible, and `media_types` keeps only the types of that kind. Parameters
this module does not know are kept in `unknown_parameters`, for a Warning; a parameter
given twice is refused.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hounsfield.dicom import transfer_syntax as ts
from hounsfield.dicom.render import Region, RenderRequest, Window
from hounsfield.dicom.render.annotation import ANNOTATIONS
from hounsfield.dicom.render.image_encoding import MAX_VIEWPORT
from hounsfield.dicom.render.presentation_state import PresentationState
from hounsfield.dicom.uid import is_valid_uid
from hounsfield.errors import WadoUriParameterError

DICOM = "application/dicom"
DEFAULT_MEDIA_TYPE = "image/jpeg"  # §7.1.2: no contentType gives image/jpeg
ANY_TRANSFER_SYNTAX = "*"

REQUIRED = ("requestType", "studyUID", "seriesUID", "objectUID")
DICOM_PARAMETERS = ("anonymize", "transferSyntax")
RENDERING_PARAMETERS = ("annotation", "rows", "columns", "region", "windowCenter",
                        "windowWidth", "frameNumber", "imageQuality", "presentationUID",
                        "presentationSeriesUID")
KNOWN = REQUIRED + ("contentType", "charset") + DICOM_PARAMETERS + RENDERING_PARAMETERS

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_RANGE = re.compile(rf"({_TOKEN})/({_TOKEN})")
_QVALUE = re.compile(r"(0(\.[0-9]{0,3})?|1(\.0{0,3})?)")
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True)
class Preference:
    """One value of a list parameter (contentType, charset) with its q-value."""

    value: str
    quality: float = 1.0
    parameters: tuple[tuple[str, str], ...] = ()

    @property
    def is_dicom(self) -> bool:
        return self.value == DICOM


@dataclass(frozen=True)
class WadoUriRequest:
    """A valid WADO-URI request."""

    study_uid: str
    series_uid: str
    object_uid: str
    content_types: tuple[Preference, ...] = ()  # as asked, best first; () if absent
    charsets: tuple[Preference, ...] = ()
    anonymize: bool = False
    annotations: tuple[str, ...] = ()
    rows: int | None = None
    columns: int | None = None
    region: Region | None = None
    window: Window | None = None
    frame_number: int | None = None
    image_quality: int | None = None
    presentation_uid: str | None = None
    presentation_series_uid: str | None = None
    transfer_syntax: str | None = None
    unknown_parameters: tuple[str, ...] = ()
    dicom_only: bool = False  # a DICOM parameter was given
    rendered_only: bool = False  # a rendering parameter was given

    @property
    def media_types(self) -> tuple[Preference, ...]:
        """The acceptable content types, best first, of the kind the parameters allow."""
        asked = self.content_types or (Preference(DEFAULT_MEDIA_TYPE),)
        if self.dicom_only:
            return tuple(p for p in asked if p.is_dicom)
        if self.rendered_only:
            return tuple(p for p in asked if not p.is_dicom)
        return asked

    def render_request(self, media_type: str,
                       presentation: PresentationState | None = None) -> RenderRequest:
        """The renderer's request for a rendered `media_type` (rows and columns form the
        viewport, as §8.2.2-8.2.3 scale the image to fit them), with the presentation
        state the caller bound to the object when presentationUID was given."""
        return RenderRequest(media_type=media_type, frame=self.frame_number,
                             window=self.window, viewport_width=self.columns,
                             viewport_height=self.rows, region=self.region,
                             quality=self.image_quality, annotations=self.annotations,
                             presentation=presentation)


Query = Mapping[str, str] | Iterable[tuple[str, str]]


def parse_wado_uri(query: Query) -> WadoUriRequest:
    """The request of a WADO-URI query, given as a mapping or as (name, value) pairs."""
    values = _single_values(query)
    for name in REQUIRED:
        if not values.get(name):
            raise WadoUriParameterError(name, "is required")
    if values["requestType"] != "WADO":
        raise WadoUriParameterError("requestType", f"must be WADO, not "
                                    f"{values['requestType'][:40]!r}")
    uids = [_uid(values, name) for name in REQUIRED[1:]]
    window = _window(values)
    presentation = _presentation(values)
    transfer = _transfer_syntax(values)
    content_types = _preferences(values, "contentType", _media_range)
    dicom_kind, rendered_kind = _kinds(values, content_types, transfer)
    return WadoUriRequest(
        *uids, content_types=content_types,
        charsets=_preferences(values, "charset", _charset),
        anonymize=_anonymize(values), annotations=_annotations(values),
        rows=_size(values, "rows"), columns=_size(values, "columns"),
        region=_region(values), window=window,
        frame_number=_integer(values, "frameNumber", 1, None),
        image_quality=_integer(values, "imageQuality", 1, 100),
        presentation_uid=presentation[0], presentation_series_uid=presentation[1],
        transfer_syntax=transfer,
        unknown_parameters=tuple(name for name in values if name not in KNOWN),
        dicom_only=dicom_kind, rendered_only=rendered_kind)


def _single_values(query: Query) -> dict[str, str]:
    pairs = query.items() if isinstance(query, Mapping) else query
    values: dict[str, str] = {}
    for name, value in pairs:
        if name in values:
            raise WadoUriParameterError(name, "is given more than once")
        values[name] = value.strip()
    return values


def _uid(values: dict[str, str], name: str) -> str | None:
    value = values.get(name)
    if value is None:
        return None
    if not is_valid_uid(value):
        raise WadoUriParameterError(name, f"{value[:80]!r} is not a valid UID "
                                    "(PS3.5 §9.1, at most 64 characters)")
    return value


def _kinds(values: dict[str, str], content_types: tuple[Preference, ...],
           transfer: str | None) -> tuple[bool, bool]:
    """Whether the parameters ask for a DICOM and/or a rendered response; refuse both,
    and refuse a kind that no content type of the request allows."""
    lossy = transfer is not None and _lossy(transfer)
    dicom = [n for n in DICOM_PARAMETERS if n in values]
    if lossy and "imageQuality" in values:
        dicom.append("imageQuality")
    rendered = [n for n in RENDERING_PARAMETERS if n in values and n not in dicom]
    if dicom and rendered:
        raise WadoUriParameterError(rendered[0], f"asks for a rendered image and "
                                    f"{dicom[0]} for a DICOM object; one response "
                                    "cannot be both")
    asked = content_types or (Preference(DEFAULT_MEDIA_TYPE),)
    if dicom and not any(p.is_dicom for p in asked):
        raise WadoUriParameterError(dicom[0], "is only allowed with contentType "
                                    "application/dicom")
    if rendered and all(p.is_dicom for p in asked):
        raise WadoUriParameterError(rendered[0], "is not allowed with contentType "
                                    "application/dicom")
    return bool(dicom), bool(rendered)


def _lossy(uid: str) -> bool:
    row = ts.transfer_syntax(uid)
    return row is not None and row.lossy


def _preferences(values: dict[str, str], name: str, check) -> tuple[Preference, ...]:
    """A comma-separated list of values, each with optional `;q=` and parameters,
    sorted by q-value (stable), values with q=0 left out."""
    text = values.get(name)
    if text is None:
        return ()
    items = [_preference(name, item, check) for item in text.split(",")]
    kept = sorted((p for p in items if p.quality > 0), key=lambda p: -p.quality)
    if not kept:
        raise WadoUriParameterError(name, "accepts nothing (every q-value is 0)")
    return tuple(kept)


def _preference(name: str, item: str, check) -> Preference:
    value, *parameters = [part.strip() for part in item.split(";")]
    check(name, value)
    quality, others = 1.0, []
    for parameter in parameters:
        key, sep, text = parameter.partition("=")
        key = key.strip().lower()
        if not sep or not re.fullmatch(_TOKEN, key):
            raise WadoUriParameterError(name, f"parameter {parameter!r} is not key=value")
        if key == "q":
            if not _QVALUE.fullmatch(text.strip()):
                raise WadoUriParameterError(name, f"q-value {text!r} is not 0 to 1 with "
                                            "at most three decimals")
            quality = float(text)
        else:
            others.append((key, text.strip().strip('"')))
    return Preference(value.lower(), quality, tuple(others))


def _media_range(name: str, value: str) -> None:
    if not _MEDIA_RANGE.fullmatch(value):
        raise WadoUriParameterError(name, f"{value[:60]!r} is not a media type "
                                    "(type/subtype)")


def _charset(name: str, value: str) -> None:
    if not re.fullmatch(_TOKEN, value):
        raise WadoUriParameterError(name, f"{value[:60]!r} is not a character set name")


def _anonymize(values: dict[str, str]) -> bool:
    value = values.get("anonymize")
    if value is None:
        return False
    if value != "yes":
        raise WadoUriParameterError("anonymize", f"must be yes, not {value[:40]!r}")
    return True


def _annotations(values: dict[str, str]) -> tuple[str, ...]:
    text = values.get("annotation")
    if text is None:
        return ()
    names = tuple(part.strip() for part in text.split(","))
    for name in names:
        if name not in ANNOTATIONS:
            raise WadoUriParameterError("annotation", f"{name[:40]!r} is not one of "
                                        f"{', '.join(ANNOTATIONS)}")
    return tuple(dict.fromkeys(names))


def _integer(values: dict[str, str], name: str, low: int, high: int | None) -> int | None:
    text = values.get(name)
    if text is None:
        return None
    if not _INTEGER.fullmatch(text) or len(text) > 12:
        raise WadoUriParameterError(name, f"{text[:40]!r} is not an integer")
    number = int(text)
    if number < low or (high is not None and number > high):
        limit = f"{low} to {high}" if high is not None else f"{low} or more"
        raise WadoUriParameterError(name, f"{number} is outside {limit}")
    return number


def _size(values: dict[str, str], name: str) -> int | None:
    return _integer(values, name, 1, MAX_VIEWPORT)


def _decimal(name: str, text: str) -> float:
    if not _DECIMAL.fullmatch(text) or len(text) > 16:
        raise WadoUriParameterError(name, f"{text[:40]!r} is not a decimal number")
    number = float(text)
    if not math.isfinite(number):
        raise WadoUriParameterError(name, f"{text[:40]!r} is not a finite number")
    return number


def _region(values: dict[str, str]) -> Region | None:
    text = values.get("region")
    if text is None:
        return None
    parts = text.split(",")
    if len(parts) != 4:
        raise WadoUriParameterError("region", "needs four decimals x1,y1,x2,y2")
    x1, y1, x2, y2 = (_decimal("region", part.strip()) for part in parts)
    if not all(0.0 <= v <= 1.0 for v in (x1, y1, x2, y2)):
        raise WadoUriParameterError("region", "values must lie between 0.0 and 1.0")
    if x1 >= x2 or y1 >= y2:
        raise WadoUriParameterError("region", "needs x1 < x2 and y1 < y2 (top left, "
                                    "then bottom right)")
    return Region(x1, y1, x2, y2)


def _window(values: dict[str, str]) -> Window | None:
    center, width = values.get("windowCenter"), values.get("windowWidth")
    if center is None and width is None:
        return None
    if width is None:
        raise WadoUriParameterError("windowWidth", "is required with windowCenter")
    if center is None:
        raise WadoUriParameterError("windowCenter", "is required with windowWidth")
    if "presentationUID" in values:
        raise WadoUriParameterError("windowCenter", "is not allowed with presentationUID")
    c, w = _decimal("windowCenter", center), _decimal("windowWidth", width)
    if w < 1:
        raise WadoUriParameterError("windowWidth", f"{width!r} is below 1 (PS3.3 "
                                    "C.11.2.1.2: the width of a LINEAR window is >= 1)")
    return Window(c, w)


def _presentation(values: dict[str, str]) -> tuple[str | None, str | None]:
    uid, series = _uid(values, "presentationUID"), _uid(values, "presentationSeriesUID")
    if uid and not series:
        raise WadoUriParameterError("presentationSeriesUID",
                                    "is required with presentationUID")
    if series and not uid:
        raise WadoUriParameterError("presentationUID",
                                    "is required with presentationSeriesUID")
    return uid, series


def _transfer_syntax(values: dict[str, str]) -> str | None:
    value = values.get("transferSyntax")
    if value is None or value == ANY_TRANSFER_SYNTAX:
        return value
    return _uid(values, "transferSyntax")
