"""The attributes that apply to one frame, read from the DICOM JSON model (PS3.18 F.2).

An enhanced multi-frame object (PS3.3 C.7.6.16) keeps the attributes that vary by frame
in functional group macros: the frame's item of the Per-Frame Functional Groups Sequence
(5200,9230) wins over the Shared Functional Groups Sequence (5200,9229), which wins over
the top level of the data set. Each macro is a sequence of one item (e.g. the Pixel Value
Transformation Sequence (0028,9145) holding Rescale Slope), so an attribute is looked for
in the first item of every sequence of the functional group item.

Binary values are either inline (InlineBinary, or a Value list for US/SS) or bulk data
(BulkDataURI); the caller resolves a BulkDataURI to bytes with a `BulkDataReader`, so
that this package does no I/O.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from pydicom.datadict import tag_for_keyword

from hounsfield.errors import NotRenderableError

BulkDataReader = Callable[[str], bytes]
"""Answers the bytes of the value a BulkDataURI (as it stands in the model) points to."""

Model = dict[str, Any]

PER_FRAME = "52009230"
SHARED = "52009229"


def key_of(keyword: str) -> str:
    """The JSON model key (eight hex digits) of a dictionary keyword."""
    tag = tag_for_keyword(keyword)
    if tag is None:
        raise KeyError(keyword)
    return f"{tag:08X}"


class FrameAttributes:
    """Attribute values that apply to frame `frame` (1-based) of the object `model`."""

    def __init__(self, model: Model, frame: int = 1, bulk_data: BulkDataReader | None = None):
        self.model = model
        self.frame = frame
        self.bulk_data = bulk_data
        self._groups = [g for g in (_item(model, PER_FRAME, frame - 1), _item(model, SHARED, 0))
                        if g is not None]

    def element(self, keyword: str) -> dict[str, Any] | None:
        """The JSON attribute for `keyword`: from the frame's groups, else the top level."""
        key = key_of(keyword)
        for group in self._groups:
            for macro in group.values():
                item = _first_item(macro)
                if item is not None and key in item:
                    return item[key]
        return self.model.get(key)

    def values(self, keyword: str) -> list[Any]:
        element = self.element(keyword)
        return list(element.get("Value") or []) if element else []

    def value(self, keyword: str, default: Any = None) -> Any:
        values = self.values(keyword)
        return values[0] if values and values[0] is not None else default

    def number(self, keyword: str, default: float | None = None) -> float | None:
        value = self.value(keyword)
        return default if value is None else float(value)

    def numbers(self, keyword: str) -> list[float]:
        return [float(v) for v in self.values(keyword) if v not in (None, "")]

    def integer(self, keyword: str, default: int | None = None) -> int | None:
        value = self.value(keyword)
        return default if value is None else int(value)

    def text(self, keyword: str, default: str = "") -> str:
        value = self.value(keyword)
        return default if value is None else str(value).strip()

    def items(self, keyword: str) -> list[Model]:
        """The items of a sequence attribute (empty when absent)."""
        return [item for item in self.values(keyword) if isinstance(item, dict)]

    def binary(self, element: dict[str, Any] | None, name: str) -> bytes | list[int]:
        """A binary value: bytes (inline or bulk data) or, for a US/SS value, its numbers."""
        if element is None:
            raise NotRenderableError(f"{name} is missing")
        if "InlineBinary" in element:
            return base64.b64decode(element["InlineBinary"])
        if "BulkDataURI" in element:
            if self.bulk_data is None:
                raise NotRenderableError(f"{name} is bulk data and no reader was given")
            return self.bulk_data(element["BulkDataURI"])
        if "Value" in element:
            return [int(v) for v in element["Value"]]
        raise NotRenderableError(f"{name} has no value")


def _item(model: Model, key: str, index: int) -> Model | None:
    items = (model.get(key) or {}).get("Value") or []
    return items[index] if 0 <= index < len(items) else None


def _first_item(element: Any) -> Model | None:
    if not isinstance(element, dict) or element.get("vr") != "SQ":
        return None
    items = element.get("Value") or []
    return items[0] if items and isinstance(items[0], dict) else None
