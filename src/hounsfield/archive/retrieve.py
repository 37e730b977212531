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
    metadata_json: bytes | None = None
    frames: list[tuple[Run, ...]] | None = None
    bulk_data: dict[str, Run] | None = None  # tag path (or "pixeldata") -> its value
    fragments: tuple[Run, ...] | None = None  # encapsulated pixel data: every fragment

    @property
    def decoded_size_bound(self) -> int:
        """At most how many bytes its pixel data takes decoded (3 samples per pixel
        assumed, as Samples per Pixel is not indexed)."""
        pixels = (self.rows or 0) * (self.columns or 0) * max(self.number_of_frames, 1)
        return pixels * 3 * ((self.bits_allocated or 16) + 7) // 8


_BASE = (study.c.study_instance_uid, series.c.series_instance_uid,
         instance.c.sop_instance_uid, instance.c.sop_class_uid,
         instance.c.transfer_syntax_uid, instance.c.number_of_frames, instance.c.blob_key,
         instance.c.size_bytes, instance.c.digest, instance.c.created_at, instance.c.rows,
         instance.c.columns, instance.c.bits_allocated)


def stored_instances(conn: Connection, target: Target, *, metadata: bool = False,
                     locations: bool = False) -> list[StoredInstance]:
    """The instances of `target`, in series then instance order; raises a NotFoundError.

    `metadata` adds the DICOM JSON; `locations` the frame and bulk data tables."""
    columns: list[Any] = list(_BASE)
    if metadata:
        columns.append(instance.c.metadata_json)
    if locations:
        columns += [instance.c.frames_json, instance.c.bulk_data_json]
    statement = (select(*columns)
                 .select_from(instance.join(series).join(study))
                 .where(*_conditions(target))
                 .order_by(series.c.pk, instance.c.instance_number, instance.c.pk))
    rows = conn.execute(statement).all()
    if not rows:
        raise _not_found(conn, target)
    return [_stored(row, metadata, locations) for row in rows]


def _conditions(target: Target) -> list[Any]:
    conditions = [study.c.study_instance_uid == target.study]
    if target.series is not None:
        conditions.append(series.c.series_instance_uid == target.series)
    if target.sop_instance is not None:
        conditions.append(instance.c.sop_instance_uid == target.sop_instance)
    return conditions


def _stored(row: Any, metadata: bool, locations: bool) -> StoredInstance:
    values = list(row)
    base = values[:len(_BASE)]
    rest = values[len(_BASE):]
    extra: dict[str, Any] = {}
    if metadata:
        extra["metadata_json"] = bytes(rest.pop(0))
    if locations:
        frames_json, bulk_json = rest
        extra["frames"] = _frames(frames_json)
        table = orjson.loads(bulk_json)
        fragments = table.pop(FRAGMENTS, None)
        extra["bulk_data"] = {k: tuple(v) for k, v in table.items()}
        extra["fragments"] = tuple(map(tuple, fragments)) if fragments else None
    return StoredInstance(*base, **extra)


def _frames(frames_json: bytes | None) -> list[tuple[Run, ...]] | None:
    if frames_json is None:
        return None
    return [tuple((int(o), int(n)) for o, n in frame) for frame in orjson.loads(frames_json)]


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
