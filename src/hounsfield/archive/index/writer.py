"""Writing the index: one transaction per stored instance, counters kept as it goes.

Every function takes an open connection inside a write transaction; the archive owns
the transaction boundaries. The study row is locked (`FOR UPDATE` on PostgreSQL; SQLite
serialises writers anyway) before its counters and lists change, so concurrent stores
into one study never lose an update.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from hounsfield.archive.blobs.base import sop_instance_of
from hounsfield.archive.index.plain_sql import Unprepared, run, run_each, run_many, run_one
from hounsfield.archive.index.schema import instance, patient, series, study
from hounsfield.archive.record import InstanceRecord

E = TypeVar("E")
_FOUND_COLUMNS = ("pk", "digest", "blob_key", "series_fk", "size_bytes")


def find_instance(conn: Connection, sop_instance_uid: str) -> dict[str, Any] | None:
    """The stored version of an instance: its digest, blob key and place (the one-UID
    case of the look-up `insert_new_instances` makes)."""
    (rows,) = run_each(conn, _find_statement([sop_instance_uid]))
    return _found(rows).get(sop_instance_uid)


def _find_statement(sop_instance_uids: Sequence[str]) -> tuple[str, dict[str, str]]:
    names = [f"uid{number}" for number in range(len(sop_instance_uids))]
    sql = Unprepared(f"SELECT sop_instance_uid, {', '.join(_FOUND_COLUMNS)} FROM instance "
                     f"WHERE sop_instance_uid IN ({', '.join(':' + name for name in names)})")
    return sql, dict(zip(names, sop_instance_uids, strict=True))


def _found(rows: list[tuple[Any, ...]]) -> dict[str, dict[str, Any]]:
    return {row[0]: dict(zip(_FOUND_COLUMNS, row[1:], strict=True)) for row in rows}


def is_referenced(conn: Connection, key: str) -> bool:
    """Whether an instance row holds blob key `key`: found through the key's SOP
    Instance UID (the unique index; the blob key has no index of its own)."""
    uid = sop_instance_of(key)
    if uid is None:  # not a key blob_key makes: a scan, but a right answer
        return run_one(conn, _BLOB_KEY_USED, key=key) is not None
    return run_one(conn, _BLOB_KEY_OF_INSTANCE, uid=uid, key=key) is not None


# The statements every store runs are plain SQL handed straight to the driver
# (plain_sql: building and compiling SQLAlchemy constructs cost more than SQLite's work).
_INSTANCE_COLUMNS = [c.name for c in instance.columns if c.name != "pk"]
_INSERT_INSTANCE = (f"INSERT INTO instance ({', '.join(_INSTANCE_COLUMNS)}) VALUES "
                    f"({', '.join(':' + c for c in _INSTANCE_COLUMNS)})")
_LOCK_STUDY = ("SELECT st.pk, st.modalities_in_study, st.sop_classes_in_study, se.pk, "
               "se.study_fk FROM study st LEFT JOIN series se "
               "ON se.series_instance_uid = :series WHERE st.study_instance_uid = :study")
_SERIES_PK = "SELECT pk, study_fk FROM series WHERE series_instance_uid = :uid"
_BLOB_KEY_OF_INSTANCE = ("SELECT 1 FROM instance WHERE sop_instance_uid = :uid "
                         "AND blob_key = :key")
_BLOB_KEY_USED = "SELECT 1 FROM instance WHERE blob_key = :key"
_COUNT_SERIES = ("UPDATE series SET number_of_instances = number_of_instances + :count, "
                 "updated_at = :now WHERE pk = :pk")
_COUNT_STUDY = ("UPDATE study SET number_of_instances = number_of_instances + :count, "
                "number_of_series = number_of_series + :new_series, "
                "size_bytes = size_bytes + :size, modalities_in_study = :modalities, "
                "sop_classes_in_study = :classes, updated_at = :now WHERE pk = :pk")


def insert_instance(conn: Connection, record: InstanceRecord, blob_key: str) -> None:
    """Add the instance and its patient, study and series rows; update the counters."""
    insert_instances(conn, [(record, blob_key)])


def insert_new_instances(conn: Connection, entries: Sequence[tuple[InstanceRecord, str]]
                         ) -> dict[str, dict[str, Any]]:
    """Add those of the instances whose SOP Instance UID is not stored yet, as
    `insert_instances` does; return the stored versions of the others, by SOP Instance
    UID. The look-up and the lock of the first study go together (one round trip to a
    server database, with the transaction's BEGIN)."""
    if not entries:
        return {}
    first = _by_study(entries)[0][0][0].uids
    found, locked = run_each(conn, _find_statement([r.uids.sop_instance for r, _ in entries]),
                             _lock_statement(conn, first.study, first.series))
    stored = _found(found)
    insert_instances(conn, [entry for entry in entries
                            if entry[0].uids.sop_instance not in stored],
                     locked=(first.study, first.series, locked[0] if locked else None))
    return stored


def insert_instances(conn: Connection, entries: Sequence[tuple[InstanceRecord, str]],
                     locked: tuple[str, str, Any] | None = None) -> None:
    """Add many instances (with their blob keys) set-based: per study one lock and one
    counter update, per series one look-up and one counter update, and one multi-row
    insert of the instance rows. Raises SeriesInOtherStudyError for an instance whose
    series is stored in another study. `locked`: (study UID, series UID, the row of
    `_LOCK_STUDY`), for a study this transaction has locked already."""
    now = time.time()
    for in_study in _by_study(entries):
        by_series = _grouped(in_study, lambda entry: entry[0].uids.series)
        study_pk, modalities, classes, known = _locked_study(conn, in_study[0][0], now, locked)
        new_series = 0
        rows, counted = [], []
        for in_series in by_series:
            record = in_series[0][0]
            found = known.get(record.uids.series) or run_one(conn, _SERIES_PK,
                                                             uid=record.uids.series)
            series_pk = _series_in(found, record, study_pk)
            if series_pk is None:
                series_pk = _new_series(conn, record, study_pk, now)
                new_series += 1
            rows += [_instance_values(r, key, series_pk, now) for r, key in in_series]
            counted.append((series_pk, len(in_series)))
        records = [record for record, _ in in_study]
        # no answer is needed: on a server database, these go with the COMMIT
        run_many(conn, _INSERT_INSTANCE, rows)
        for series_pk, count in counted:
            run(conn, _COUNT_SERIES, count=count, now=now, pk=series_pk)
        run(conn, _COUNT_STUDY, count=len(records), new_series=new_series,
            size=sum(record.size_bytes for record in records),
            modalities=_with(modalities, *(r.series.get("modality") for r in records)),
            classes=_with(classes, *(r.uids.sop_class for r in records)),
            now=now, pk=study_pk)


class SeriesInOtherStudyError(Exception):
    """The instance's Series Instance UID is stored in another study."""

    def __init__(self, record: InstanceRecord, study_pk: int):
        super().__init__(f"series {record.uids.series} is stored in another study than "
                         f"{record.uids.study}")
        self.record = record
        self.study_pk = study_pk


def _series_in(found: Any, record: InstanceRecord, study_pk: int) -> int | None:
    """The pk of the series row `found` (pk, study_fk), None if there is none."""
    if found is None or found[0] is None:
        return None
    if found[1] != study_pk:
        raise SeriesInOtherStudyError(record, study_pk)
    return found[0]


def _by_study(entries: Sequence[tuple[InstanceRecord, str]]
              ) -> list[list[tuple[InstanceRecord, str]]]:
    """The entries grouped by study, in Study Instance UID order (one lock order for all
    writers: no deadlock)."""
    studies = _grouped(entries, lambda entry: entry[0].uids.study)
    studies.sort(key=lambda in_study: in_study[0][0].uids.study)
    return studies


def _grouped(entries: Sequence[E], key: Callable[[E], str]) -> list[list[E]]:
    """`entries` in groups of equal key, in the order each key first appears."""
    groups: dict[str, list[E]] = {}
    for entry in entries:
        groups.setdefault(key(entry), []).append(entry)
    return list(groups.values())


def _instance_values(record: InstanceRecord, blob_key: str, series_pk: int,
                     now: float) -> dict[str, Any]:
    return dict(
        sop_instance_uid=record.uids.sop_instance, series_fk=series_pk,
        sop_class_uid=record.uids.sop_class, **record.instance,
        transfer_syntax_uid=record.transfer_syntax_uid,
        number_of_frames=record.number_of_frames, blob_key=blob_key,
        size_bytes=record.size_bytes, digest=record.digest,
        metadata_json=record.metadata_json, frames_json=record.frames_json,
        bulk_data_json=record.bulk_data_json, created_at=now,
        preamble_missing=record.preamble_missing)


def _locked_study(conn: Connection, record: InstanceRecord, now: float,
                  locked: tuple[str, str, Any] | None) -> Any:
    """The study row (pk, modalities, SOP classes), created if new, locked for update,
    and the rows (pk, study_fk) of series known to be stored, by UID: the record's
    series is looked up in the same statement (or was, in `locked`)."""
    uids = record.uids
    if locked is not None and locked[0] == uids.study:
        series_uid, row = locked[1], locked[2]
    else:
        series_uid, row = uids.series, _lock(conn, uids.study, uids.series)
    if row is None:
        _study_pk(conn, record, now)
        row = _lock(conn, uids.study, series_uid)
    known = {series_uid: (row[3], row[4])} if row[3] is not None else {}
    return row[0], row[1], row[2], known


def _lock(conn: Connection, study_uid: str, series_uid: str) -> Any:
    sql, params = _lock_statement(conn, study_uid, series_uid)
    return run_one(conn, sql, **params)


def _lock_statement(conn: Connection, study_uid: str, series_uid: str
                    ) -> tuple[str, dict[str, str]]:
    lock = _LOCK_STUDY + (" FOR UPDATE OF st" if conn.dialect.name == "postgresql" else "")
    return lock, {"study": study_uid, "series": series_uid}


def _new_series(conn: Connection, record: InstanceRecord, study_pk: int, now: float) -> int:
    return conn.execute(insert(series).values(
        series_instance_uid=record.uids.series, study_fk=study_pk, **record.series,
        number_of_instances=0, created_at=now, updated_at=now).returning(series.c.pk)
    ).scalar_one()


def delete_instance(conn: Connection, instance_pk: int) -> None:
    """Remove an instance row, its counters, and its series and study once empty."""
    row = conn.execute(
        select(instance.c.series_fk, instance.c.size_bytes, series.c.study_fk)
        .join(series, series.c.pk == instance.c.series_fk)
        .where(instance.c.pk == instance_pk)).first()
    if row is None:
        return
    series_pk, size, study_pk = row
    _lock_study(conn, study_pk)
    conn.execute(delete(instance).where(instance.c.pk == instance_pk))
    conn.execute(update(series).where(series.c.pk == series_pk).values(
        number_of_instances=series.c.number_of_instances - 1))
    conn.execute(update(study).where(study.c.pk == study_pk).values(
        number_of_instances=study.c.number_of_instances - 1,
        size_bytes=study.c.size_bytes - size))
    _drop_if_empty(conn, series_pk, study_pk)
    _refresh_study_lists(conn, study_pk)


def _study_pk(conn: Connection, record: InstanceRecord, now: float) -> int:
    uid = record.uids.study
    pk = conn.execute(select(study.c.pk).where(study.c.study_instance_uid == uid)).scalar()
    if pk is None:
        patient_pk = _patient_pk(conn, record, now)
        conn.execute(_upsert(conn, study, ["study_instance_uid"]).values(
            study_instance_uid=uid, patient_fk=patient_pk, **record.study,
            modalities_in_study="", sop_classes_in_study="", number_of_series=0,
            number_of_instances=0, size_bytes=0, created_at=now, updated_at=now))
    return _lock_study(conn, None, uid)


def _lock_study(conn: Connection, pk: int | None, uid: str | None = None) -> int:
    where = study.c.pk == pk if uid is None else study.c.study_instance_uid == uid
    return conn.execute(select(study.c.pk).where(where).with_for_update()).scalar_one()


def _patient_pk(conn: Connection, record: InstanceRecord, now: float) -> int:
    values = dict(record.patient)
    values["issuer_of_patient_id"] = values.get("issuer_of_patient_id") or ""
    if not values.get("patient_id"):
        return conn.execute(insert(patient).values(**values, created_at=now)
                            .returning(patient.c.pk)).scalar_one()
    statement = _upsert(conn, patient, ["patient_id", "issuer_of_patient_id"],
                        where=patient.c.patient_id.isnot(None))
    conn.execute(statement.values(**values, created_at=now))
    return conn.execute(select(patient.c.pk).where(
        patient.c.patient_id == values["patient_id"],
        patient.c.issuer_of_patient_id == values["issuer_of_patient_id"])).scalar_one()


def _with(listed: str, *values: str | None) -> str:
    """A backslash-separated list with `values` added once each, kept sorted."""
    items = set(filter(None, listed.split("\\")))
    items.update(filter(None, values))
    return "\\".join(sorted(items))


def _drop_if_empty(conn: Connection, series_pk: int, study_pk: int) -> None:
    left = conn.execute(select(series.c.number_of_instances)
                        .where(series.c.pk == series_pk)).scalar_one()
    if left <= 0:
        conn.execute(delete(series).where(series.c.pk == series_pk))
        conn.execute(update(study).where(study.c.pk == study_pk).values(
            number_of_series=study.c.number_of_series - 1))
    remaining = conn.execute(select(study.c.number_of_series, study.c.patient_fk)
                             .where(study.c.pk == study_pk)).one()
    if remaining[0] <= 0:
        conn.execute(delete(study).where(study.c.pk == study_pk))
        others = conn.execute(select(func.count()).select_from(study)
                              .where(study.c.patient_fk == remaining[1])).scalar_one()
        if not others:
            conn.execute(delete(patient).where(patient.c.pk == remaining[1]))


def _refresh_study_lists(conn: Connection, study_pk: int) -> None:
    modalities = conn.execute(select(series.c.modality).distinct()
                              .where(series.c.study_fk == study_pk)).scalars()
    classes = conn.execute(
        select(instance.c.sop_class_uid).distinct()
        .join(series, series.c.pk == instance.c.series_fk)
        .where(series.c.study_fk == study_pk)).scalars()
    conn.execute(update(study).where(study.c.pk == study_pk).values(
        modalities_in_study="\\".join(sorted(filter(None, modalities))),
        sop_classes_in_study="\\".join(sorted(filter(None, classes)))))


def _upsert(conn: Connection, table: Any, keys: list[str], where: Any = None) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for the connection's dialect."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=keys, index_where=where)
