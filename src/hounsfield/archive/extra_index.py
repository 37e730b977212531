"""Administrator-chosen query attributes (`extra_query_attributes`) and re-indexing.

Each configured attribute gets a row per value in `query_attribute`, at the level it
belongs to (Study and Series attributes from the first instance stored of them), written
in the store's own transaction. `reindex` rebuilds those rows and every indexed column
from the stored JSON metadata: run it (`hounsfield reindex`) after changing the setting or
upgrading the schema.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, delete, insert, select, update

from hounsfield.archive.index.engine import WRITE
from hounsfield.archive.index.schema import instance, patient, query_attribute, series, study
from hounsfield.archive.record import InstanceRecord
from hounsfield.dicom import attributes
from hounsfield.dicom.attribute_path import AttributePath
from hounsfield.dicom.levels import Level, level_of
from hounsfield.dicom.matching import element_texts, normalized_name

log = logging.getLogger(__name__)
MAX_VALUE = 256
BATCH = 1000


def index_instance(conn: Connection, record: InstanceRecord,
                   paths: tuple[AttributePath, ...]) -> None:
    """Add the extra attribute rows of a stored instance (inside its store transaction)."""
    owners = _owners(conn, record.uids.sop_instance)
    model = orjson.loads(record.metadata_json)
    rows = [row for path in paths for row in _rows(conn, path, model, owners)]
    if rows:
        conn.execute(insert(query_attribute), rows)


def _owners(conn: Connection, sop_instance_uid: str) -> dict[Level, int]:
    row = conn.execute(select(series.c.study_fk, instance.c.series_fk, instance.c.pk)
                       .join(series, series.c.pk == instance.c.series_fk)
                       .where(instance.c.sop_instance_uid == sop_instance_uid)).one()
    return {Level.STUDY: row[0], Level.SERIES: row[1], Level.INSTANCE: row[2]}


def _rows(conn: Connection, path: AttributePath, model: dict[str, Any],
          owners: dict[Level, int]) -> list[dict[str, Any]]:
    level = level_of(path.tag)
    tag = path.hex_tags[0]
    if level is not Level.INSTANCE and _indexed_already(conn, level, owners[level], tag):
        return []
    return [{"level": int(level), "owner_fk": owners[level], "tag": tag, "value": value}
            for value in attribute_values(path, model)]


def _indexed_already(conn: Connection, level: Level, owner: int, tag: str) -> bool:
    return conn.execute(select(query_attribute.c.pk).where(
        query_attribute.c.level == int(level), query_attribute.c.owner_fk == owner,
        query_attribute.c.tag == tag).limit(1)).first() is not None


def attribute_values(path: AttributePath, model: dict[str, Any]) -> list[str]:
    """The values to index: as stored, person names in their matching form."""
    texts = element_texts(model.get(path.hex_tags[0]) or {})
    if path.vr == "PN":
        texts = [n for n in map(normalized_name, texts) if n]
    return list(dict.fromkeys(t[:MAX_VALUE] for t in texts))


# -- re-indexing ---------------------------------------------------------------------


def reindex(engine: Engine, paths: tuple[AttributePath, ...]) -> int:
    """Recompute every indexed column and extra attribute row; return instances read."""
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        conn.execute(delete(query_attribute))
    done, last = 0, 0
    seen: set[tuple[str, int, int]] = set()
    while True:
        with engine.connect().execution_options(**WRITE) as conn, conn.begin():
            batch = _next_batch(conn, last)
            for row in batch:
                _reindex_one(conn, row, paths, seen)
        if not batch:
            return done
        done, last = done + len(batch), batch[-1].pk
        log.info("re-indexed %d instances", done)


def _next_batch(conn: Connection, after: int) -> list[Any]:
    return list(conn.execute(
        select(instance.c.pk, instance.c.series_fk, series.c.study_fk, study.c.patient_fk,
               instance.c.metadata_json)
        .join(series, series.c.pk == instance.c.series_fk)
        .join(study, study.c.pk == series.c.study_fk)
        .where(instance.c.pk > after).order_by(instance.c.pk).limit(BATCH)).all())


def _reindex_one(conn: Connection, row: Any, paths: tuple[AttributePath, ...],
                 seen: set[tuple[str, int, int]]) -> None:
    model = orjson.loads(row.metadata_json)
    owners = {Level.STUDY: row.study_fk, Level.SERIES: row.series_fk, Level.INSTANCE: row.pk}
    _update(conn, instance, row.pk, attributes.level_values(model, attributes.INSTANCE_COLUMNS))
    for name, table, columns, pk in (("patient", patient, attributes.PATIENT_COLUMNS,
                                      row.patient_fk),
                                     ("study", study, attributes.STUDY_COLUMNS, row.study_fk),
                                     ("series", series, attributes.SERIES_COLUMNS,
                                      row.series_fk)):
        if (name, 0, pk) not in seen:  # the first instance of each gives its values
            seen.add((name, 0, pk))
            values = attributes.level_values(model, columns)
            for identity in _IDENTITY:  # the patient row's identity stays as stored
                values.pop(identity, None)
            _update(conn, table, pk, values)
    rows = [{"level": int(level_of(p.tag)), "owner_fk": owners[level_of(p.tag)],
             "tag": p.hex_tags[0], "value": value}
            for p in _first_time(paths, owners, seen) for value in attribute_values(p, model)]
    if rows:
        conn.execute(insert(query_attribute), rows)


_IDENTITY = ("patient_id", "issuer_of_patient_id")


def _first_time(paths: Iterable[AttributePath], owners: dict[Level, int],
                seen: set[tuple[str, int, int]]) -> list[AttributePath]:
    """Instance attributes always; Study and Series ones from their first instance only."""
    chosen = []
    for path in paths:
        level = level_of(path.tag)
        key = ("extra", int(level), owners[level])
        if level is Level.INSTANCE or key not in seen:
            chosen.append(path)
            if level is not Level.INSTANCE:
                seen.add(key)
    return chosen


def _update(conn: Connection, table: Any, pk: int, values: dict[str, Any]) -> None:
    conn.execute(update(table).where(table.c.pk == pk).values(**values))
