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

from hounsfield.archive.index.schema import instance, patient, series, study
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


def search(conn: Connection, query: SearchQuery, context: SearchContext) -> SearchResult:
    where = Where(conn.dialect.name, context.extra)
    clauses = {c: where.clause(c) for c in query.conditions}
    residual = [c for c, clause in clauses.items()
                if clause is None and c.kind is not MatchKind.UNIVERSAL]
    builder = ResultBuilder(query, context.base_url, context.ae_title)
    with_metadata = bool(residual) or builder.needs_metadata
    statement = _statement(query, [c for c in clauses.values() if c is not None],
                           with_metadata)
    limit = min(query.limit if query.limit is not None else context.max_limit,
                context.max_limit)
    if residual:
        rows, remaining = _filtered_page(conn, statement, residual, query.offset, limit,
                                         context.base_url)
    else:
        rows, remaining = _page(conn, statement, query.offset, limit)
    datasets = [builder.dataset(row) for row in rows]
    return SearchResult(datasets, remaining, list(query.warnings))


def _statement(query: SearchQuery, clauses: list[Any], with_metadata: bool) -> Select:
    level = query.level
    columns = [*patient.c, *study.c]
    source = study.join(patient, patient.c.pk == study.c.patient_fk)
    if level >= Level.SERIES:
        columns += series.c
        source = series.join(source, study.c.pk == series.c.study_fk)
    if level is Level.INSTANCE:
        columns += [c for c in instance.c if c.name not in _INSTANCE_BLOBS]
        source = instance.join(source, series.c.pk == instance.c.series_fk)
    labelled = [c.label(f"{c.table.name}_{c.name}") for c in columns]
    if with_metadata:
        labelled.append(_metadata_column(level).label("metadata"))
    statement = select(*labelled).select_from(source).where(*clauses, *_scope(query))
    return statement.order_by(*_order(query))


_INSTANCE_BLOBS = frozenset({"metadata_json", "frames_json", "bulk_data_json", "blob_key",
                             "digest"})


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


def _order(query: SearchQuery) -> list[Any]:
    if query.level is Level.STUDY:
        return [study.c.pk.desc()]
    if query.level is Level.SERIES:
        return [series.c.series_number, series.c.pk] if query.study else [series.c.pk.desc()]
    if query.series is not None:
        return [instance.c.instance_number, instance.c.pk]
    if query.study is not None:
        return [series.c.series_number, series.c.pk, instance.c.instance_number,
                instance.c.pk]
    return [instance.c.pk.desc()]


def _page(conn: Connection, statement: Select, offset: int, limit: int
          ) -> tuple[list[Any], int]:
    """One page in SQL (one row more tells whether to count the rest)."""
    rows = conn.execute(statement.limit(limit + 1).offset(offset)).mappings().all()
    if len(rows) <= limit:
        return list(rows), 0
    total = conn.execute(select(func.count()).select_from(
        statement.order_by(None).with_only_columns(study.c.pk).subquery())).scalar_one()
    return list(rows[:limit]), total - offset - limit


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
    result = conn.execution_options(yield_per=500).execute(statement).mappings()
    try:
        yield from result
    finally:
        result.close()
