"""QIDO-RS searches over the index (PS3.18 §10.6): the Archive's `search`.

One SELECT per search: the level's table joined to the levels above it, conditions on
indexed attributes as SQL, a stable order, and LIMIT/OFFSET. Conditions on attributes
that are not indexed are matched against the stored JSON metadata (of the instance, or
of the first instance of a series or study): those rows are filtered and paged here,
which reads every candidate row and is slower (see docs/conformance.md).

Order, so that paging never skips or repeats a match while the data is unchanged:
studies, and series or instances not scoped to a study or series, newest first (by the
index's primary key); a study's series by Series Number, a series' instances by
Instance Number, then by arrival.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Select, func, select
from sqlalchemy.sql.util import find_tables

from hounsfield.archive.count_cache import CountCache
from hounsfield.archive.index.schema import instance, patient, series, study, study_modality
from hounsfield.archive.index.search_columns import MODALITIES_IN_STUDY
from hounsfield.archive.index.search_sql import Where
from hounsfield.archive.search_result import ResultBuilder
from hounsfield.dicom.json_model import with_base_url
from hounsfield.dicom.levels import Level
from hounsfield.dicom.matching import dataset_matches
from hounsfield.dicom.query import Condition, MatchKind, SearchQuery

_ANY_INSTANCE_OF_SERIES = (
    select(instance.c.metadata_json).where(instance.c.series_fk == series.c.pk)
    .order_by(instance.c.instance_number, instance.c.pk).limit(1).correlate(series))
_FIRST_SERIES_OF_STUDY = (select(series.c.pk).where(series.c.study_fk == study.c.pk)
                          .order_by(series.c.pk).limit(1).correlate(study))
_ANY_INSTANCE_OF_STUDY = (
    select(instance.c.metadata_json).where(
        instance.c.series_fk == _FIRST_SERIES_OF_STUDY.scalar_subquery())
    .order_by(instance.c.instance_number, instance.c.pk).limit(1).correlate(study))


@dataclass
class SearchResult:
    datasets: list[dict[str, Any]]  # DICOM JSON model, one per match
    remaining: int  # matches after these (PS3.18 §8.3.4.4.1)
    warnings: list[str]


@dataclass(frozen=True)
class SearchContext:
    base_url: str  # the DICOMweb root of the request (…/rs), for RetrieveURL
    ae_title: str
    max_limit: int
    extra: frozenset[int]  # tags of the extra query attributes
    counts: CountCache | None = None


def search(conn: Connection, query: SearchQuery, context: SearchContext) -> SearchResult:
    where = Where(conn.dialect.name, context.extra)
    clauses = {c: where.clause(c) for c in query.conditions}
    residual = [c for c, clause in clauses.items()
                if clause is None and c.kind is not MatchKind.UNIVERSAL]
    builder = ResultBuilder(query, context.base_url, context.ae_title)
    with_metadata = bool(residual) or builder.needs_metadata
    driver = _modality_driver(query)
    sql = [clause for c, clause in clauses.items()
           if clause is not None and c is not driver] + _scope(query)
    limit = min(query.limit if query.limit is not None else context.max_limit,
                context.max_limit)
    if residual:
        statement = _rows(query.level, with_metadata, builder.labels).where(*sql) \
            .order_by(*_order_by(query))
        rows, remaining = _filtered_page(conn, statement, residual, query.offset, limit,
                                         context.base_url)
    else:
        rows, remaining = _page(conn, query, sql, _rows(query.level, with_metadata,
                                                        builder.labels), limit, driver)
        if remaining < 0:  # the page was full: count the matches
            remaining = _count(conn, query, _keys(query, sql, driver), context.counts) \
                - query.offset - limit
    datasets = [builder.dataset(row) for row in rows]
    return SearchResult(datasets, remaining, list(query.warnings))


_LEVEL_TABLES = {Level.STUDY: study, Level.SERIES: series, Level.INSTANCE: instance}
_CHAIN = (instance, series, study, patient)  # each joined to the next by its foreign key
_JOINS = {instance: instance.c.series_fk == series.c.pk,
          series: series.c.study_fk == study.c.pk, study: study.c.patient_fk == patient.c.pk}


def _source(level: Level, needed: set[Any]) -> Any:
    """The level's table joined up the hierarchy as far as `needed` tables require."""
    chain = list(_CHAIN[_CHAIN.index(_LEVEL_TABLES[level]):])
    while len(chain) > 1 and chain[-1] not in needed:
        chain.pop()
    source = chain[0]
    for child, parent in zip(chain, chain[1:], strict=False):
        source = source.join(parent, _JOINS[child])
    return source


def _keys(query: SearchQuery, sql: list[Any], driver: Condition | None) -> Select:
    """The keys of the matches, in order, with the columns they are ordered by (labelled
    k, o0, o1, ...): sorting and skipping touch narrow rows only."""
    if driver is not None:
        return _driven_keys(driver, sql, _tables(sql))
    order = _order(query)
    needed = _tables([*sql, *(column for column, _ in order)])
    key = _LEVEL_TABLES[query.level].c.pk
    return _ordered(select(key.label("k")).select_from(_source(query.level, needed))
                    .where(*sql), order)


def _ordered(keys: Select, order: list[tuple[Any, bool]]) -> Select:
    labelled = [column.label(f"o{i}") for i, (column, _) in enumerate(order)]
    return keys.add_columns(*labelled).order_by(
        *(column.desc() if descending else column for column, descending in order))


def _tables(clauses: list[Any]) -> set[Any]:
    return {t for clause in clauses for t in find_tables(clause, check_columns=True)}


def _modality_driver(query: SearchQuery) -> Condition | None:
    """A study search for one modality is driven by the (modality, study) index: its keys
    come in study order straight from it, and counting them reads nothing else."""
    if query.level is not Level.STUDY:
        return None
    return next((c for c in query.conditions if c.path.tag == MODALITIES_IN_STUDY
                 and c.kind is MatchKind.SINGLE and len(c.values) == 1), None)


def _driven_keys(driver: Condition, sql: list[Any], needed: set[Any]) -> Select:
    key = study_modality.c.study_fk
    source = study_modality
    if needed - {study_modality}:
        source = source.join(_source(Level.STUDY, needed), study.c.pk == key)
    return _ordered(select(key.label("k")).select_from(source)
                    .where(study_modality.c.modality == driver.values[0], *sql),
                    [(key, True)])


def _rows(level: Level, with_metadata: bool, labels: set[str]) -> Select:
    """The columns the answer needs (`labels`, and the keys), for the level and above."""
    tables = _CHAIN[_CHAIN.index(_LEVEL_TABLES[level]):]
    labelled = [c.label(label) for table in tables for c in table.c
                if (label := f"{table.name}_{c.name}") in labels or c.name == "pk"]
    if with_metadata:
        labelled.append(_metadata_column(level).label("metadata"))
    return select(*labelled).select_from(_source(level, set(tables)))


def _metadata_column(level: Level) -> Any:
    if level is Level.INSTANCE:
        return instance.c.metadata_json
    if level is Level.SERIES:
        return _ANY_INSTANCE_OF_SERIES.scalar_subquery()
    return _ANY_INSTANCE_OF_STUDY.scalar_subquery()


def _scope(query: SearchQuery) -> list[Any]:
    scope = []
    if query.study is not None:
        scope.append(study.c.study_instance_uid == query.study)
    if query.series is not None:
        scope.append(series.c.series_instance_uid == query.series)
    return scope


def _order(query: SearchQuery) -> list[tuple[Any, bool]]:
    """(column, descending) pairs: the documented order of each resource."""
    if query.level is Level.STUDY:
        return [(study.c.pk, True)]
    if query.level is Level.SERIES:
        return [(series.c.series_number, False), (series.c.pk, False)] if query.study \
            else [(series.c.pk, True)]
    if query.series is not None:
        return [(instance.c.instance_number, False), (instance.c.pk, False)]
    if query.study is not None:
        return [(series.c.series_number, False), (series.c.pk, False),
                (instance.c.instance_number, False), (instance.c.pk, False)]
    return [(instance.c.pk, True)]


def _order_by(query: SearchQuery) -> list[Any]:
    return [column.desc() if descending else column for column, descending in _order(query)]


def _page(conn: Connection, query: SearchQuery, sql: list[Any], rows: Select,
          limit: int, driver: Condition | None) -> tuple[list[Any], int]:
    """One statement: the page of keys, one more than asked (then the remaining count is
    -1: the caller counts), joined to the rows of those keys."""
    keys = _keys(query, sql, driver)
    page = keys.limit(limit + 1).offset(query.offset).subquery("page")
    order = [c for c in page.c if c.name.startswith("o")]
    descending = [d for _, d in (_order(query) if driver is None else [(None, True)])]
    statement = rows.join(page, _LEVEL_TABLES[query.level].c.pk == page.c.k).order_by(
        *(c.desc() if d else c for c, d in zip(order, descending, strict=True)))
    result = conn.execute(statement)
    names = list(result.keys())
    found = [dict(zip(names, row, strict=True)) for row in result]
    return (found, 0) if len(found) <= limit else (found[:limit], -1)


def _count(conn: Connection, query: SearchQuery, keys: Select,
           counts: CountCache | None) -> int:
    key = (query.level, query.study, query.series, query.conditions)
    total = counts.get(key) if counts is not None else None
    if total is None:
        total = conn.execute(select(func.count()).select_from(
            keys.order_by(None).subquery())).scalar_one()
        if counts is not None:
            counts.put(key, total)
    return total


def _filtered_page(conn: Connection, statement: Select, residual: list[Condition],
                   offset: int, limit: int, base_url: str) -> tuple[list[Any], int]:
    """Match every candidate row's metadata; keep the page, count the rest."""
    page, seen = [], 0
    for row, model in _matching(conn, statement, residual, base_url):
        if offset <= seen < offset + limit:
            page.append({**row, "metadata_model": model})
        seen += 1
    return page, max(0, seen - offset - limit)


def _matching(conn: Connection, statement: Select, residual: list[Condition],
              base_url: str) -> Iterator[tuple[Any, dict[str, Any]]]:
    base = base_url.encode()
    for row in _stream(conn, statement):
        raw = row["metadata"]
        model = orjson.loads(with_base_url(raw, base)) if raw else {}
        if dataset_matches(residual, model):
            yield row, model


def _stream(conn: Connection, statement: Select) -> Iterable[Any]:
    result = conn.execution_options(yield_per=500).execute(statement)
    names = list(result.keys())
    try:
        for row in result:
            yield dict(zip(names, row, strict=True))
    finally:
        result.close()
