"""The value of one matching key, checked against its VR (PS3.4 C.2.2.2, PS3.5 §6.2).

Ranges come out as text bounds, `low` inclusive and `high` exclusive, so that one text
comparison serves DA, TM and DT alike and partial times mean what PS3.4 says: the upper
bound `22` of a TM range is every time before 23, the lower bound `2130` is 21:30:00.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hounsfield.dicom.attribute_path import AttributePath
from hounsfield.dicom.uid import is_valid_uid
from hounsfield.errors import BadRequestError

MAX_VALUE_LENGTH = 1024
MAX_LIST_LENGTH = 1000
_DA = r"[0-9]{8}"
_TM = r"[0-9]{2}(?:[0-9]{2}(?:[0-9]{2}(?:\.[0-9]{1,6})?)?)?"
_DT = (r"[0-9]{4}(?:[0-9]{2}(?:[0-9]{2}(?:[0-9]{2}(?:[0-9]{2}(?:[0-9]{2}(?:\.[0-9]{1,6})?)?"
       r")?)?)?)?(?:[+-][0-9]{4})?")
_FORMATS = {"DA": (_DA, "YYYYMMDD"), "TM": (_TM, "HH[MM[SS[.FFFFFF]]]"),
            "DT": (_DT, "YYYY[MM[DD[HH[MM[SS[.FFFFFF]]]]]][&ZZXX]")}
_INTEGER_VRS = frozenset({"IS", "US", "SS", "UL", "SL", "UV", "SV"})
_DECIMAL_VRS = frozenset({"DS", "FL", "FD"})
_NOT_MATCHABLE = frozenset({"OB", "OD", "OF", "OL", "OV", "OW"})
_TIMEZONE = re.compile(r"[+-][0-9]{4}$")
_INTEGER = re.compile(r"[+-]?[0-9]{1,20}")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


@dataclass(frozen=True)
class ParsedValue:
    kind: str  # a MatchKind value
    values: tuple[str, ...] = ()
    low: str | None = None
    high: str | None = None


UNIVERSAL = ParsedValue("universal")


def parse_value(path: AttributePath, text: str) -> ParsedValue:
    """What the key `path=text` asks for; BadRequestError naming the key when malformed."""
    if len(text) > MAX_VALUE_LENGTH:
        raise BadRequestError(f"{path}: value longer than {MAX_VALUE_LENGTH} characters")
    if "\x00" in text:
        raise BadRequestError(f"{path}: value holds a NUL character")
    if not text.isascii() and not _is_unicode(text):
        raise BadRequestError(f"{path}: value is not valid Unicode text")
    vr = path.vr
    if text in ("", "*"):
        return UNIVERSAL
    if vr == "SQ":
        raise BadRequestError(f"{path} is a sequence: give an attribute inside it "
                              f"({path}.Keyword=value), or an empty value")
    if vr in _NOT_MATCHABLE:
        raise BadRequestError(f"{path} has VR {vr}: binary values cannot be matched")
    return _PARSERS.get(vr, _text)(path, text)


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True


def _uids(path: AttributePath, text: str) -> ParsedValue:
    uids = [u.strip() for u in re.split(r"[,\\]", text)]
    if len(uids) > MAX_LIST_LENGTH:
        raise BadRequestError(f"{path}: more than {MAX_LIST_LENGTH} UIDs")
    for uid in uids:
        if not is_valid_uid(uid):
            raise BadRequestError(f"{path}: {uid[:80]!r} is not a valid UID "
                                  "(PS3.5 §9.1; UIDs allow no wildcards)")
    return ParsedValue("UID list", tuple(dict.fromkeys(uids)))


def _date_time(path: AttributePath, text: str) -> ParsedValue:
    pattern, shape = _FORMATS[path.vr]
    low, dash, high = text.partition("-") if path.vr != "DT" else _split_dt(text)
    if not (re.fullmatch(pattern, low) or (dash and not low)) or \
            not (re.fullmatch(pattern, high) or not high) or (dash and not low and not high):
        raise BadRequestError(f"{path}: {text[:80]!r} is not a {path.vr} value or range "
                              f"({shape}, {shape}-{shape}, -{shape} or {shape}-)")
    for value in (low, high):
        if value and not _plausible(_TIMEZONE.sub("", value), path.vr):
            raise BadRequestError(f"{path}: {value!r} is not a valid {path.vr} value "
                                  "(month, day, hour, minute or second out of range)")
    if not dash:
        high = low
        if path.vr == "DA":
            return ParsedValue("single value", (low,))
    if path.vr == "DT":  # offsets from UTC are not applied: compared as local values
        low, high = _TIMEZONE.sub("", low), _TIMEZONE.sub("", high)
    return ParsedValue("range", (), _lower_bound(low, path.vr), _upper_bound(high))


def _plausible(value: str, vr: str) -> bool:
    """Calendar and clock fields within their ranges (values are checked for shape)."""
    date, time = (value, "") if vr == "DA" else ("", value) if vr == "TM" \
        else (value[:8], value[8:])
    date_ok = len(date) < 6 or (1 <= int(date[4:6]) <= 12 and
                                (len(date) < 8 or 1 <= int(date[6:8]) <= 31))
    fields = [int(time[i:i + 2]) for i in range(0, min(len(time.split(".")[0]), 6), 2)
              if time[i:i + 2].isdigit()]
    return date_ok and all(f < limit for f, limit in zip(fields, (24, 60, 61), strict=False))


def _split_dt(text: str) -> tuple[str, str, str]:
    """A DT range splits at the '-' that is not a timezone sign (which follows 4 digits
    of a full value only after at least the year): take the '-' surrounded by values."""
    for match in re.finditer("-", text):
        low, high = text[:match.start()], text[match.end():]
        if (not low or re.fullmatch(_DT, low)) and (not high or re.fullmatch(_DT, high)):
            return low, "-", high
    return text, "", ""


def _lower_bound(value: str, vr: str) -> str | None:
    """Inclusive text bound; trailing zeros of a time carry no meaning ('2100' = '21')."""
    if not value:
        return None
    return value if vr == "DA" else value.rstrip("0").rstrip(".") or value[:1]


def _upper_bound(value: str) -> str | None:
    """Exclusive text bound: the value with its last character incremented, so that
    every value it is a prefix of ('22' -> '2259') still falls below it."""
    return value[:-1] + chr(ord(value[-1]) + 1) if value else None


def _number(path: AttributePath, text: str) -> ParsedValue:
    pattern = _INTEGER if path.vr in _INTEGER_VRS else _DECIMAL
    if not pattern.fullmatch(text.strip()):
        raise BadRequestError(f"{path}: {text[:80]!r} is not a {path.vr} number "
                              "(numbers allow no wildcards or ranges)")
    return ParsedValue("single value", (text.strip(),))


def _text(path: AttributePath, text: str) -> ParsedValue:
    values = tuple(v for v in _split_list(path, text) if v)
    if not values:
        return UNIVERSAL
    if any("*" in v or "?" in v for v in values):
        if len(values) > 1:
            raise BadRequestError(f"{path}: wildcards are allowed in a single value only")
        return UNIVERSAL if set(values[0]) == {"*"} else ParsedValue("wildcard", values)
    return ParsedValue("single value", values)


def _split_list(path: AttributePath, text: str) -> list[str]:
    """Several values are allowed where a list makes sense: backslash-separated, and for
    Modalities in Study also comma-separated (`ModalitiesInStudy=CT,MR`)."""
    if path.tag == 0x00080061:
        return [v.strip() for v in re.split(r"[,\\]", text)]
    if path.vr == "PN":
        return [text.strip()]
    return text.split("\\")


_PARSERS = {
    "UI": _uids,
    "DA": _date_time, "TM": _date_time, "DT": _date_time,
    **{vr: _number for vr in _INTEGER_VRS | _DECIMAL_VRS},
}
