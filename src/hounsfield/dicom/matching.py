"""PS3.4 C.2.2.2 matching of query conditions against DICOM JSON data sets.

The archive matches indexed attributes in SQL; every other attribute is matched here,
against the stored JSON metadata, with the same rules:

- single value: equal text (numbers: equal value); any of several key values;
- wildcard: `*` any run of characters, `?` exactly one, the whole value must match;
- UID list: any of the UIDs;
- range: `low <= value < high` in text order (see `query_values` for the bounds);
- combined date-time range: the (date, time) pair between (low, low_time) and
  (high, high_time);
- sequence matching: an item of the sequence matches every key inside it;
- multi-valued attributes match when any of their values matches;
- a value that is absent or empty matches only universal matching.

Person names (PN) match case-insensitively, on the Alphabetic group with every
component kept: `Doe^J*` matches `DOE^JOHN^^^`. With fuzzy matching each word of the key
must be a prefix of some name component, in any order: `jo do` matches `Doe^John`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from hounsfield.dicom.query import Condition, MatchKind

_SPLIT_WORDS = re.compile(r"[\^\s,]+")


def normalized_name(name: str | None) -> str | None:
    """The matching form of a PN value: Alphabetic group, upper case, components trimmed,
    trailing empty components dropped ('Doe^John^^^' -> 'DOE^JOHN')."""
    if not name:
        return None
    alphabetic = name.split("=")[0]
    components = [c.strip() for c in alphabetic.upper().split("^")]
    while components and not components[-1]:
        components.pop()
    return "^".join(components) or None


def name_words(key: str) -> list[str]:
    """The words of a fuzzy PN key, upper case: 'Doe^Jo' -> ['DOE', 'JO']."""
    return [w for w in _SPLIT_WORDS.split(key.upper().replace("*", "").replace("?", "")) if w]


@lru_cache(maxsize=256)
def wildcard_regex(pattern: str) -> re.Pattern[str]:
    """`*` any run, `?` one character; everything else literal."""
    parts = ("." if ch == "?" else ".*" if ch == "*" else re.escape(ch) for ch in pattern)
    return re.compile("".join(parts), re.DOTALL)


def dataset_matches(conditions: Iterable[Condition], dataset: dict[str, Any]) -> bool:
    return all(condition_matches(c, dataset) for c in conditions)


def condition_matches(c: Condition, dataset: dict[str, Any], depth: int = 0) -> bool:
    if c.kind is MatchKind.UNIVERSAL:
        return True
    element = dataset.get(c.path.hex_tags[depth]) or {}
    if depth < len(c.path.tags) - 1:
        return any(condition_matches(c, item or {}, depth + 1)
                   for item in element.get("Value") or ())
    if c.kind is MatchKind.DATETIME_RANGE:
        return _date_time_matches(c, dataset)
    return any(value_matches(c, text) for text in element_texts(element))


def element_texts(element: dict[str, Any]) -> list[str]:
    """The values of a JSON attribute as text (PN: its Alphabetic and other groups)."""
    texts = []
    for value in element.get("Value") or ():
        if isinstance(value, dict):
            value = "=".join(value.get(g) or "" for g in ("Alphabetic", "Ideographic",
                                                          "Phonetic")).rstrip("=")
        if value is not None and value != "":
            texts.append(value if isinstance(value, str) else repr(value))
    return texts


def value_matches(c: Condition, text: str) -> bool:
    """Does one stored value (as text) match condition `c` (not universal)?"""
    if c.vr == "PN":
        return _name_matches(c, text)
    if c.kind is MatchKind.SINGLE:
        return any(_equal(c.vr, key, text) for key in c.values)
    if c.kind is MatchKind.WILDCARD:
        return wildcard_regex(c.values[0]).fullmatch(text) is not None
    if c.kind is MatchKind.UID_LIST:
        return text in c.values
    if c.kind is MatchKind.RANGE:
        return in_range(text, c.low, c.high)
    return False


def in_range(text: str, low: str | None, high: str | None) -> bool:
    return (low is None or text >= low) and (high is None or text < high)


def _equal(vr: str, key: str, text: str) -> bool:
    if vr in ("IS", "DS", "US", "SS", "UL", "SL", "UV", "SV", "FL", "FD"):
        try:
            return float(key) == float(text)
        except ValueError:
            return False
    return key == text.strip()


def _name_matches(c: Condition, text: str) -> bool:
    name = normalized_name(text)
    if name is None:
        return False
    if c.fuzzy:
        return fuzzy_name_matches(c.values[0], name)
    key = c.values[0].upper()
    if c.kind is MatchKind.WILDCARD:
        return wildcard_regex(key).fullmatch(name) is not None
    return any(normalized_name(k) == name for k in c.values)


def fuzzy_name_matches(key: str, name: str) -> bool:
    components = [w for w in _SPLIT_WORDS.split(name) if w]
    return all(any(c.startswith(word) for c in components) for word in name_words(key))


def _date_time_matches(c: Condition, dataset: dict[str, Any]) -> bool:
    dates = element_texts(dataset.get(c.path.hex_tags[0]) or {})
    times = element_texts(dataset.get(c.partner.hex_tags[0]) or {}) if c.partner else []
    return bool(dates) and date_time_in_range(c, dates[0], times[0] if times else "")


def date_time_in_range(c: Condition, date: str, time: str) -> bool:
    """Combined range: after (low, low_time) and before (high, high_time)."""
    if c.low is not None and (date < c.low or (date == c.low and c.low_time is not None
                                                and time < c.low_time)):
        return False
    return c.high is None or date < c.high or (
        date == c.high and (c.high_time is None or time < c.high_time))
