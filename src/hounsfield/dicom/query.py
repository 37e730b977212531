"""QIDO-RS search parameters (PS3.18 §8.3.4) parsed into a typed query.

Each match parameter becomes a `Condition` whose kind is the PS3.4 C.2.2.2 matching it
asks for; includefield, fuzzymatching, limit and offset become fields of `SearchQuery`.
Everything here is pure: no SQL, no I/O. `hounsfield.dicom.matching` applies conditions
to DICOM JSON data sets; the archive turns them into SQL.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import Enum

from pydicom.datadict import tag_for_keyword

from hounsfield.dicom.attribute_path import AttributePath, parse_attribute
from hounsfield.dicom.levels import Level, level_of
from hounsfield.dicom.query_values import parse_value
from hounsfield.errors import BadRequestError

MAX_CONDITIONS = 64
UNSUPPORTED_PARAMETERS = ("orderby", "emptyvaluematching", "returnempty", "charset")


class MatchKind(Enum):
    """PS3.4 C.2.2.2: the kinds of matching a key can ask for."""

    UNIVERSAL = "universal"  # C.2.2.2.3: empty value (or "*"): every entity matches
    SINGLE = "single value"  # C.2.2.2.1 (several values: any of them)
    WILDCARD = "wildcard"  # C.2.2.2.4: "*" and "?"
    UID_LIST = "UID list"  # C.2.2.2.2
    RANGE = "range"  # C.2.2.2.5: [low, high) in text order, either end open
    DATETIME_RANGE = "combined date-time range"  # C.2.2.2.5.1: a DA key and its TM partner


@dataclass(frozen=True)
class Condition:
    """One matching key. Range ends are text bounds: `low` inclusive, `high` exclusive.

    For DATETIME_RANGE, `path` is the DA attribute, `partner` the TM one, and `low`/`high`
    the date bounds with `low_time`/`high_time` the time bounds on the boundary days."""

    path: AttributePath
    kind: MatchKind
    values: tuple[str, ...] = ()
    low: str | None = None
    high: str | None = None
    partner: AttributePath | None = None
    low_time: str | None = None
    high_time: str | None = None
    fuzzy: bool = False

    @property
    def vr(self) -> str:
        return self.path.vr


@dataclass(frozen=True)
class SearchQuery:
    """A QIDO-RS search: level, the UIDs of the resource, keys and parameters."""

    level: Level
    study: str | None = None
    series: str | None = None
    conditions: tuple[Condition, ...] = ()
    includes: tuple[AttributePath, ...] = ()
    include_all: bool = False
    fuzzy: bool = False
    limit: int | None = None
    offset: int = 0
    warnings: tuple[str, ...] = field(default=())

    @property
    def returned_paths(self) -> tuple[AttributePath, ...]:
        """Attributes asked for by includefield or by a match key, at or above the level."""
        asked = [*self.includes, *(c.path for c in self.conditions),
                 *(c.partner for c in self.conditions if c.partner)]
        return tuple(dict.fromkeys(p for p in asked if level_of(p.top) <= self.level))


def parse_search(level: Level, params: Sequence[tuple[str, str]], *,
                 study: str | None = None, series: str | None = None) -> SearchQuery:
    """Parse decoded query parameters; BadRequestError naming the bad key or value."""
    parser = _Parser(level)
    for name, value in params:
        parser.add(name, value)
    return parser.query(study, series)


class _Parser:
    def __init__(self, level: Level):
        self.level = level
        self.keys: dict[AttributePath, str] = {}
        self.includes: list[AttributePath] = []
        self.include_all = False
        self.fuzzy: bool | None = None
        self.limit: int | None = None
        self.offset: int | None = None
        self.warnings: list[str] = []

    def add(self, name: str, value: str) -> None:
        handler = _PARAMETERS.get(name)
        if handler is not None:
            handler(self, name, value)
        elif name[:1].islower() or name[:1] == "_":
            self.warnings.append(f"The query parameter {name} is not supported and was "
                                 "ignored")
        else:
            self._add_key(name, value)

    def _add_key(self, name: str, value: str) -> None:
        path = parse_attribute(name)
        if path in self.keys:
            raise BadRequestError(f"attribute {path} ({name}) is given twice "
                                  "(PS3.18 §8.3.4.1)")
        if len(self.keys) >= MAX_CONDITIONS:
            raise BadRequestError(f"more than {MAX_CONDITIONS} matching keys")
        if level_of(path.top) > self.level:
            self.warnings.append(f"The attribute {path} is not supported for matching at "
                                 f"the {self.level.label} level and was ignored")
            return
        self.keys[path] = value

    def include(self, name: str, value: str) -> None:
        for item in value.split(","):
            item = item.strip()
            if item == "all":
                self.include_all = True
            elif item:
                self._include_path(parse_attribute(item))
            else:
                raise BadRequestError(f"includefield={value!r} holds an empty attribute")

    def _include_path(self, path: AttributePath) -> None:
        if level_of(path.top) > self.level:
            self.warnings.append(f"The attribute {path} is below the {self.level.label} "
                                 "level and is not returned")
        elif path not in self.includes:
            self.includes.append(path)

    def fuzzymatching(self, name: str, value: str) -> None:
        if value not in ("true", "false"):
            raise BadRequestError(f"fuzzymatching={value!r}: must be true or false")
        self.fuzzy = value == "true"

    def paging(self, name: str, value: str) -> None:
        if getattr(self, name) is not None:
            raise BadRequestError(f"{name} is given twice")
        if not re.fullmatch(r"[0-9]{1,9}", value):
            raise BadRequestError(f"{name}={value!r} is not an unsigned integer "
                                  "(at most 9 digits)")
        setattr(self, name, int(value))

    def ignore(self, name: str, value: str) -> None:
        """Parameters other adapters read (Accept) or that carry no query meaning."""

    def query(self, study: str | None, series: str | None) -> SearchQuery:
        fuzzy = bool(self.fuzzy)
        conditions = _combine_date_time(
            [_condition(path, value, fuzzy) for path, value in self.keys.items()])
        return SearchQuery(self.level, study, series, tuple(conditions),
                           tuple(self.includes), self.include_all, fuzzy, self.limit,
                           self.offset or 0, tuple(self.warnings))

    def unsupported(self, name: str, value: str) -> None:
        self.warnings.append(f"The query parameter {name} is not supported and was ignored")


_PARAMETERS = {
    "includefield": _Parser.include,
    "fuzzymatching": _Parser.fuzzymatching,
    "limit": _Parser.paging,
    "offset": _Parser.paging,
    "accept": _Parser.ignore,
    **{name: _Parser.unsupported for name in UNSUPPORTED_PARAMETERS},
}


def _condition(path: AttributePath, text: str, fuzzy: bool) -> Condition:
    parsed = parse_value(path, text)
    return Condition(path, MatchKind(parsed.kind), parsed.values, parsed.low, parsed.high,
                     fuzzy=fuzzy and path.vr == "PN")


def _combine_date_time(conditions: list[Condition]) -> list[Condition]:
    """A DA key with its TM partner key is one combined date-time range (PS3.4 C.2.2.2.5.1;
    QIDO-RS always combines them, as dcm4chee-arc-light does)."""
    by_path = {c.path: c for c in conditions}
    result = []
    for c in conditions:
        partner = _time_partner(c, by_path)
        if partner is not None:
            result.append(_combined(c, partner))
        elif not any(_time_partner(d, by_path) == c for d in conditions):
            result.append(c)
    return result


def _time_partner(c: Condition, by_path: dict[AttributePath, Condition]) -> Condition | None:
    if c.vr != "DA" or c.path.in_sequence or not _is_bounded(c):
        return None
    keyword = str(c.path)
    if not keyword.endswith("Date"):
        return None
    tag = tag_for_keyword(keyword[:-4] + "Time")
    partner = by_path.get(AttributePath((tag,))) if tag else None
    return partner if partner is not None and _is_bounded(partner) else None


def _is_bounded(c: Condition) -> bool:
    return c.kind in (MatchKind.SINGLE, MatchKind.RANGE) and len(c.values) <= 1


def _combined(date: Condition, time: Condition) -> Condition:
    low, high = (date.values[0], date.values[0]) if date.kind is MatchKind.SINGLE \
        else (date.low, _inclusive_date(date.high))
    return replace(date, kind=MatchKind.DATETIME_RANGE, values=(), low=low, high=high,
                   partner=time.path, low_time=time.low, high_time=time.high)


def _inclusive_date(high: str | None) -> str | None:
    """Undo the exclusive bound of a DA range: '20220929' -> '20220928' (text decrement
    of the last digit, as the bound was made by incrementing it)."""
    return None if high is None else high[:-1] + chr(ord(high[-1]) - 1)
