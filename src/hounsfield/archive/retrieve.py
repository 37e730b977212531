"""What WADO-RS reads from the index: the stored instances of a study, series or instance.

One query per request, in the order of the series and of their Instance Numbers; no
stored file is opened here. An empty answer says precisely what was not found.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, select

from hounsfield.archive.frame_tables import FrameTable, FrameTableCache
from hounsfield.archive.index.plain_sql import run_all
from hounsfield.archive.index.schema import instance, series, study
from hounsfield.errors import (
    InstanceNotFoundError,
    SeriesNotFoundError,
    StorageUnavailableError,
    StudyNotFoundError,
)

Run = tuple[int, int]
FRAGMENTS = "fragments"  # the key `instance_file` records fragment runs under


@dataclass(frozen=True)
class Target:
    """The resource a retrieve names: a study, a series of it, or one instance."""

    study: str
    series: str | None = None
    sop_instance: str | None = None


@dataclass(frozen=True)
class StoredInstance:
    """One stored instance as WADO-RS needs it; the JSON columns only when asked for."""

    study: str
    series: str
    sop_instance: str
    sop_class: str
    transfer_syntax_uid: str
    number_of_frames: int
    blob_key: str
    size_bytes: int
    digest: str
    created_at: float
    rows: int | None
    columns: int | None
    bits_allocated: int | None
    preamble_missing: bool | None  # None: not recorded (stored before migration 0005)
    metadata_json: bytes | None = None
    frames: FrameTable | None = None
    bulk_data: dict[str, Run] | None = None  # tag path (or "pixeldata") -> its value
    # encapsulated pixel data: every fragment's [offset, length], as the index keeps them
    # (made into runs only where a video's stream is sent: a tile request needs none)
    fragments: list[list[int]] | None = None

    @property
    def served_size(self) -> int | None:
        """Its length as a Part 10 file sent as stored (None: unknown)."""
        if self.preamble_missing is None:
            return None
        return self.size_bytes + 132 * bool(self.preamble_missing)

    @property
    def decoded_size_bound(self) -> int:
        """At most how many bytes its pixel data takes decoded (3 samples per pixel
        assumed, as Samples per Pixel is not indexed)."""
        pixels = (self.rows or 0) * (self.columns or 0) * max(self.number_of_frames, 1)
        return pixels * 3 * ((self.bits_allocated or 16) + 7) // 8


_BASE = ("study.study_instance_uid", "series.series_instance_uid",
         "instance.sop_instance_uid", "instance.sop_class_uid",
         "instance.transfer_syntax_uid", "instance.number_of_frames", "instance.blob_key",
         "instance.size_bytes", "instance.digest", "instance.created_at", "instance.rows",
         "instance.columns", "instance.bits_allocated", "instance.preamble_missing")
_KEY = _BASE.index("instance.blob_key")
_LEVEL_CONDITIONS = ("study.study_instance_uid = :study",
                     "series.series_instance_uid = :series",
                     "instance.sop_instance_uid = :sop_instance")


def _statement(level: int, metadata: bool, locations: bool) -> str:
    """The SELECT for a target of `level` (1 study, 2 series, 3 instance)."""
    columns = list(_BASE) + ["instance.metadata_json"] * metadata + [
        "instance.pk", "instance.bulk_data_json"] * locations
    return (f"SELECT {', '.join(columns)} FROM instance "
            "JOIN series ON series.pk = instance.series_fk "
            "JOIN study ON study.pk = series.study_fk "
            f"WHERE {' AND '.join(_LEVEL_CONDITIONS[:level])} "
            "ORDER BY series.pk, instance.instance_number, instance.pk")


_STATEMENTS = {(level, metadata, locations): _statement(level, metadata, locations)
               for level in (1, 2, 3) for metadata in (False, True)
               for locations in (False, True)}


def stored_instances(conn: Connection, target: Target, *, metadata: bool = False,
                     locations: FrameTableCache | None = None) -> list[StoredInstance]:
    """The instances of `target`, in series then instance order; raises a NotFoundError.

    `metadata` adds the DICOM JSON; `locations` the frame and bulk data tables, the
    frame tables taken from that cache where it has them. One plain SQL statement
    (plain_sql: a Core select cost ten times SQLite's work for one instance)."""
    level = 1 + (target.series is not None) + (target.sop_instance is not None)
    assert target.series is not None or target.sop_instance is None
    sql = _STATEMENTS[level, metadata, locations is not None]
    rows = run_all(conn, sql, study=target.study, series=target.series,
                   sop_instance=target.sop_instance)
    if not rows:
        raise _not_found(conn, target)
    if locations is None:
        return [_stored(row, metadata) for row in rows]
    pk_column = len(_BASE) + metadata
    tables = _frame_tables(conn, locations, {row[_KEY]: row[pk_column] for row in rows})
    return [_stored(row, metadata, tables) for row in rows]


def _stored(row: Any, metadata: bool,
            tables: dict[str, FrameTable | None] | None = None) -> StoredInstance:
    base = row[:len(_BASE)]
    rest = list(row[len(_BASE):])
    extra: dict[str, Any] = {}
    if metadata:
        extra["metadata_json"] = bytes(rest.pop(0))
    if tables is not None:
        _pk, bulk_json = rest
        extra["frames"] = tables[row[_KEY]]
        table = orjson.loads(bulk_json)
        fragments = table.pop(FRAGMENTS, None)
        extra["bulk_data"] = {k: tuple(v) for k, v in table.items()}
        extra["fragments"] = fragments or None
    return StoredInstance(*base, **extra)


_NO_FRAMES = FrameTable(())  # cached for instances without a frame table


def _frame_tables(conn: Connection, cache: FrameTableCache,
                  pks: dict[str, int]) -> dict[str, FrameTable | None]:
    """The frame table of each blob key (None: the instance has none), read from the
    index only where the cache does not have it."""
    tables: dict[str, FrameTable | None] = {key: cache.get(key) for key in pks}
    missing = {pk: key for key, pk in pks.items() if tables[key] is None}
    for start in range(0, len(missing), 500):
        chunk = list(missing)[start:start + 500]
        for pk, frames_json in conn.execute(select(instance.c.pk, instance.c.frames_json)
                                            .where(instance.c.pk.in_(chunk))):
            table = FrameTable(orjson.loads(frames_json)) if frames_json else _NO_FRAMES
            cache.put(missing[pk], table)
            tables[missing[pk]] = table
    return {key: None if table is _NO_FRAMES else table for key, table in tables.items()}


def _not_found(conn: Connection, target: Target) -> Exception:
    study_pk = conn.execute(select(study.c.pk).where(
        study.c.study_instance_uid == target.study)).scalar()
    if study_pk is None:
        return StudyNotFoundError(f"study {target.study} not found")
    if target.series is not None:
        series_pk = conn.execute(select(series.c.pk).where(
            series.c.series_instance_uid == target.series,
            series.c.study_fk == study_pk)).scalar()
        if series_pk is None:
            return SeriesNotFoundError(
                f"series {target.series} not found in study {target.study}")
    return InstanceNotFoundError(
        f"instance {target.sop_instance} not found in series {target.series} "
        f"of study {target.study}")


def read_runs(fp: Any, runs: tuple[Run, ...]) -> bytes:
    """The bytes of `runs` of an open file, read as one span from the first run's start
    to the last run's end (the runs of a frame are in file order)."""
    start = runs[0][0]
    end = runs[-1][0] + runs[-1][1]
    fp.seek(start)
    span = fp.read(end - start)
    if len(span) != end - start:
        raise StorageUnavailableError(f"stored file ends before byte {end}")
    if len(runs) == 1:
        return span
    return b"".join(span[o - start:o - start + n] for o, n in runs)



def run_chunks(fp: Any, runs: tuple[Run, ...], chunk: int) -> Iterator[bytes]:
    """The concatenated values of `runs`, by positioned reads of at most `chunk` bytes;
    each piece yielded gathers up to `chunk` bytes (several small runs together), so a
    caller in another thread hops once per piece."""
    pending: list[bytes] = []
    size = 0
    for start, length in runs:
        offset, left = start, length
        while left:
            take = min(left, chunk - size)
            fp.seek(offset)
            data = fp.read(take)
            if len(data) != take:
                raise StorageUnavailableError(f"stored file ends before byte {offset + take}")
            pending.append(data)
            size += take
            offset, left = offset + take, left - take
            if size == chunk:
                yield b"".join(pending)
                pending, size = [], 0
    if pending:
        yield b"".join(pending)


def clip_runs(runs: tuple[Run, ...], start: int, end: int) -> tuple[Run, ...]:
    """The file runs holding bytes [start, end) of the runs' concatenation."""
    clipped = []
    position = 0
    for offset, length in runs:
        low, high = max(start, position), min(end, position + length)
        if low < high:
            clipped.append((offset + low - position, high - low))
        position += length
    return tuple(clipped)
