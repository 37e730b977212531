"""Values of the DICOM JSON model (PS3.18 F.2) straight from raw element bytes.

The store path renders every element of every instance once; going through pydicom's
element conversion costs several times more than decoding the bytes here. This module
handles the common value representations in the common character sets and answers None
for anything else, which the caller then renders with pydicom.

Choices where PS3.18 leaves room, as dcm4chee-arc-light makes them: IS and DS values are
JSON strings holding the stored text (no precision lost); an empty value of a
multi-valued attribute is null.
"""

from __future__ import annotations

import base64
import struct
from typing import Any

# (0008,0005) values whose text decodes with one Python codec, no code extensions
CODECS = {"": "latin-1", "ISO_IR 6": "latin-1", "ISO_IR 100": "latin-1",
          "ISO_IR 192": "utf-8"}
_MULTI_TEXT = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "SH", "TM", "UC"})
_SINGLE_TEXT = frozenset({"LT", "ST", "UT", "UR"})
_NUMBERS = {"US": "H", "SS": "h", "UL": "L", "SL": "l", "FL": "f", "FD": "d",
            "UV": "Q", "SV": "q"}
_INLINE = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})


def json_value(vr: str, value: bytes, little_endian: bool, codec: str | None
               ) -> dict[str, Any] | None:
    """The JSON attribute for a raw value, or None when pydicom must render it."""
    if not value:
        return {"vr": vr}
    if vr in _NUMBERS:
        return _numbers(vr, value, little_endian)
    if vr in _INLINE:
        return {"vr": vr, "InlineBinary": base64.b64encode(value).decode("ascii")}
    if vr == "UI":
        return _strings(vr, value.rstrip(b"\0 ").decode("ascii", "replace"))
    if vr == "AT":
        return _tags(value, little_endian)
    if codec is None:
        return None
    text = value.decode(codec, "replace")
    if vr in _MULTI_TEXT:
        return _strings(vr, text)
    if vr in _SINGLE_TEXT:
        text = text.rstrip("\0 ") if vr != "UR" else text.strip()
        return {"vr": vr, "Value": [text]} if text else {"vr": vr}
    if vr == "PN":
        return _names(text)
    return None


def _strings(vr: str, text: str) -> dict[str, Any]:
    values = [v.strip(" \0") or None for v in text.split("\\")]
    if values == [None]:
        return {"vr": vr}
    return {"vr": vr, "Value": values}


def _names(text: str) -> dict[str, Any]:
    values: list[Any] = []
    for name in text.rstrip(" \0").split("\\"):
        groups = [g.rstrip(" ") for g in name.split("=")]
        value = {key: group for key, group in zip(("Alphabetic", "Ideographic", "Phonetic"),
                                                   groups, strict=False) if group}
        values.append(value or None)
    if values == [None]:
        return {"vr": "PN"}
    return {"vr": "PN", "Value": values}


def _numbers(vr: str, value: bytes, little_endian: bool) -> dict[str, Any] | None:
    code = _NUMBERS[vr]
    size = struct.calcsize("<" + code)
    if len(value) % size:
        return None
    numbers = list(struct.unpack(f"{'<' if little_endian else '>'}{len(value) // size}{code}",
                                 value))
    return {"vr": vr, "Value": numbers}


def _tags(value: bytes, little_endian: bool) -> dict[str, Any] | None:
    if len(value) % 4:
        return None
    pairs = struct.unpack(f"{'<' if little_endian else '>'}{len(value) // 2}H", value)
    tags = [f"{pairs[i]:04X}{pairs[i + 1]:04X}" for i in range(0, len(pairs), 2)]
    return {"vr": "AT", "Value": tags}
