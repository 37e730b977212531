"""QIDO-RS conditions as SQL (SQLAlchemy Core, bound parameters only).

`Where` turns each condition on an indexed attribute into a clause; a condition it cannot
express (an attribute that is not a column) is left for matching against the stored
metadata. Wildcards: user text is escaped before it becomes a pattern; a literal prefix
also becomes an index range. SQLite's LIKE ignores case, so case-sensitive wildcards use
GLOB there; person names are matched on upper-case columns with either.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, or_, select

from hounsfield.archive.index.schema import instance, query_attribute, series, study_modality
from hounsfield.archive.index.search_columns import (
    COLUMNS,
    MODALITIES_IN_STUDY,
    OWNER_KEYS,
    SOP_CLASSES_IN_STUDY,
)
from hounsfield.dicom.levels import level_of
from hounsfield.dicom.matching import name_words, normalized_name
from hounsfield.dicom.query import Condition, MatchKind


class Where:
    """Clauses for one dialect; `extra` are the tags of the extra query attributes."""

    def __init__(self, dialect: str, extra: frozenset[int]):
        self.sqlite = dialect == "sqlite"
        self.extra = extra

    def clause(self, c: Condition) -> ColumnElement[bool] | None:
        """The SQL for `c`, or None when it must be matched against metadata."""
        if c.kind is MatchKind.UNIVERSAL or c.path.in_sequence:
            return None
        if c.kind is MatchKind.DATETIME_RANGE:
            return self._date_time(c)
        if c.path.tag == MODALITIES_IN_STUDY:
            return self._modalities(c)
        if c.path.tag == SOP_CLASSES_IN_STUDY:
            return self._sop_classes(c)
        column = COLUMNS.get(c.path.tag)
        if column is not None:
            return self.compare(column.match, c, column.kind)
        if c.path.tag in self.extra:
            return self._extra(c)
        return None

    def compare(self, column: Any, c: Condition, kind: str = "str") -> ColumnElement[bool]:
        if c.fuzzy:
            return and_(*(self._word(column, w) for w in name_words(c.values[0]))) \
                if name_words(c.values[0]) else literal(True)
        if c.kind is MatchKind.WILDCARD:
            pattern = c.values[0].upper() if c.vr == "PN" else c.values[0]
            return self.wildcard(column, pattern)
        if c.kind is MatchKind.RANGE:
            return _range(column, c.low, c.high)
        return column.in_(_keys(c, kind))

    def wildcard(self, column: Any, pattern: str) -> ColumnElement[bool]:
        prefix = _literal_prefix(pattern)
        match = column.op("GLOB")(_glob(pattern)) if self.sqlite \
            else column.like(_like(pattern), escape="\\")
        if not prefix:
            return match
        return and_(_range(column, prefix, _next_prefix(prefix)), match)

    def _word(self, column: Any, word: str) -> ColumnElement[bool]:
        """Fuzzy PN: `word` starts some component of the (upper-case) name."""
        spaced = literal("^") + func.replace(column, " ", "^")
        return spaced.like(f"%^{_like_escape(word)}%", escape="\\")

    def _date_time(self, c: Condition) -> ColumnElement[bool] | None:
        date, time = COLUMNS.get(c.path.tag), COLUMNS.get(c.partner.tag) if c.partner else None
        if date is None or time is None or date.column.table is not time.column.table:
            return None
        d, t = date.column, func.coalesce(time.column, "")
        parts = []
        if c.low is not None:
            parts.append(d > c.low if c.low_time is not None else d >= c.low)
            if c.low_time is not None:
                parts[-1] = or_(parts[-1], and_(d == c.low, t >= c.low_time))
        if c.high is not None:
            high = and_(d == c.high, t < c.high_time) if c.high_time is not None \
                else d == c.high
            parts.append(or_(d < c.high, high))
        return and_(d.isnot(None), *parts)

    def _modalities(self, c: Condition) -> ColumnElement[bool]:
        inner = select(study_modality.c.study_fk).where(
            self.compare(study_modality.c.modality, c))
        return OWNER_KEYS[level_of(c.path.tag)].in_(inner)

    def _sop_classes(self, c: Condition) -> ColumnElement[bool]:
        inner = select(series.c.study_fk).join(instance, instance.c.series_fk == series.c.pk
                                               ).where(self.compare(instance.c.sop_class_uid, c))
        return OWNER_KEYS[level_of(c.path.tag)].in_(inner)

    def _extra(self, c: Condition) -> ColumnElement[bool]:
        level = level_of(c.path.tag)
        value = query_attribute.c.value
        inner = select(query_attribute.c.owner_fk).where(
            query_attribute.c.tag == c.path.hex_tags[0], query_attribute.c.level == int(level),
            self.compare(value, c))
        return OWNER_KEYS[level].in_(inner)


def _keys(c: Condition, kind: str) -> list[Any]:
    if c.vr == "PN":
        return [normalized_name(v) for v in c.values]
    if kind == "int":  # no stored count or number is beyond 64 bits: such keys match none
        numbers = [int(float(v)) for v in c.values if float(v).is_integer()]
        return [n for n in numbers if -_INT64 <= n < _INT64] or [None]
    return list(c.values)


_INT64 = 1 << 63


def _range(column: Any, low: str | None, high: str | None) -> ColumnElement[bool]:
    parts = []
    if low is not None:
        parts.append(column >= low)
    if high is not None:
        parts.append(column < high)
    return and_(*parts)


def _literal_prefix(pattern: str) -> str:
    ends = [i for i in (pattern.find("*"), pattern.find("?")) if i >= 0]
    return pattern[:min(ends)] if ends else pattern


def _next_prefix(prefix: str) -> str | None:
    last = ord(prefix[-1])
    return prefix[:-1] + chr(last + 1) if last < 0x10FFFF else None


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like(pattern: str) -> str:
    return "".join("%" if ch == "*" else "_" if ch == "?" else _like_escape(ch)
                   for ch in pattern)


def _glob(pattern: str) -> str:
    special = {"[": "[[]", "]": "[]]"}
    return "".join(ch if ch in "*?" else special.get(ch, ch) for ch in pattern)
