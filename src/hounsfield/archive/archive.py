"""The Archive: the one service every protocol adapter calls.

Storing an instance is crash-safe in three durable steps:
  1. the blob store journals the blob key (a durable marker);
  2. it writes the blob atomically (spool file fsync'ed, renamed, folder fsync'ed);
  3. the index rows are committed; then the journal entry is settled.
Only then is the store acknowledged. A replaced version's key is journalled before the
commit that drops its row. After a crash, `recover` looks at every journalled key: a key
the index references is kept, any other blob is deleted. So there is never an index row
without its blob, and no blob stays without its row.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from hounsfield.archive import extra_index
from hounsfield.archive.blobs.base import BlobStore, blob_key
from hounsfield.archive.blobs.filesystem import FilesystemBlobStore
from hounsfield.archive.content_digest import same_content
from hounsfield.archive.count_cache import CountCache
from hounsfield.archive.frame_tables import FrameTableCache
from hounsfield.archive.index import migrate, plain_sql, writer
from hounsfield.archive.index.engine import WRITE, create_index_engine, read_options
from hounsfield.archive.index.group_commit import Arrival, GroupCommitter
from hounsfield.archive.instance_file import describe_file
from hounsfield.archive.record import Disposition, InstanceRecord, StoreOutcome
from hounsfield.archive.retrieve import Run, StoredInstance, Target, read_runs, stored_instances
from hounsfield.archive.search import SearchContext, SearchResult, search
from hounsfield.config import Settings
from hounsfield.dicom import status
from hounsfield.dicom.indexable import extra_paths
from hounsfield.dicom.query import SearchQuery
from hounsfield.errors import InstanceRejectedError, StorageUnavailableError

log = logging.getLogger(__name__)
T = TypeVar("T")


class Archive:
    def __init__(self, settings: Settings, engine: Engine, blobs: BlobStore):
        self.settings = settings
        self.engine = engine
        self.blobs = blobs
        self._writer: Connection | None = None  # the write transactions' connection
        self._committer = GroupCommitter(self._transaction,
                                         linger=settings.commit_linger_ms / 1000)
        self._process_lock = _sqlite_writer_lock(engine)
        self._read_options = read_options(engine)
        self._extra = extra_paths(settings.extra_query_attributes)
        self._counts = CountCache()
        self._frame_tables = FrameTableCache()

    @classmethod
    def open(cls, settings: Settings, *, migrate_schema: bool = True) -> Archive:
        """Open the index and blob store that `settings` name (creating them if new)."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_index_engine(settings.index_url)
        if migrate_schema:
            migrate.upgrade(engine)
        return cls(settings, engine, FilesystemBlobStore(
            settings.data_dir, keep_cached=settings.cache_stored_blobs))

    def close(self) -> None:
        self._drop_writer()
        self._process_lock.close()
        self.engine.dispose()

    # -- storing -----------------------------------------------------------------------

    def store_file(self, path: Path, *, expected_study: str | None = None,
                   look_first: bool = False) -> StoreOutcome:
        """Store the Part 10 file at `path`, which the archive takes over (and removes).

        An instance stored already is found in the transaction that would insert it,
        after its blob was written; `look_first` looks it up before (one query more per
        instance, no blob written for an instance stored already: for imports that
        may well be run twice)."""
        self.blobs.start_writing(path)  # the disk writes it while it is parsed
        # announced: a transaction about to begin while this store is under way waits
        # for it (up to commit_linger_ms)
        with self._committer.coming() as arrival:
            return self._store_announced(path, expected_study, look_first, arrival)

    def _store_announced(self, path: Path, expected_study: str | None, look_first: bool,
                         arrival: Arrival) -> StoreOutcome:
        try:
            record = describe_file(path, bulk_data_threshold=self.settings.bulk_data_threshold,
                                   expected_study=expected_study)
            return self._store_record(record, path, look_first, arrival)
        except InstanceRejectedError as exc:
            return _failed(exc.failure_reason, exc.message, exc.sop_class_uid,
                           exc.sop_instance_uid)
        except StorageUnavailableError as exc:
            log.error("store failed: %s", exc.message)
            return _failed(status.OUT_OF_RESOURCES, exc.message)
        finally:
            path.unlink(missing_ok=True)

    def _store_record(self, record: InstanceRecord, path: Path, look_first: bool,
                      arrival: Arrival) -> StoreOutcome:
        uids = record.uids
        existing = None
        if look_first or self.settings.duplicate_policy == "replace":
            existing = self._look_up(lambda c: writer.find_instance(c, uids.sop_instance))
        if existing is not None:
            same = same_content(existing["digest"], record.digest, partial(path.open, "rb"))
            if same or self.settings.duplicate_policy == "reject":
                return _as_stored(record, same)
        key = blob_key(uids.study, uids.series, uids.sop_instance, record.digest)
        old_key = existing["blob_key"] if existing is not None else None
        if old_key is not None:
            self.blobs.journal(old_key)  # its row may go: it must not become an orphan
        try:
            self.blobs.put_file(key, path)
        except BaseException:
            self._forget(key)
            raise
        stored_before = None  # found by the transaction: inserted meanwhile
        try:
            if old_key is None:
                stored_before = self._write_item(self._index_new, (record, key), arrival)
            else:
                self._write(lambda c: self._replace(c, record, key, old_key), arrival)
        except (IntegrityError, _RaceLostError):
            self._forget(key)
            return self._after_race(record)
        except writer.SeriesInOtherStudyError as exc:
            self._forget(key)
            return _failed(status.PROCESSING_FAILURE, str(exc), uids.sop_class,
                           uids.sop_instance)
        except BaseException:
            self._forget(key)
            raise
        finally:
            if old_key is not None:
                self._forget(old_key)
        if stored_before is not None:  # nothing was inserted
            same = same_content(stored_before["digest"], record.digest,
                                lambda: self.blobs.open(key))
            self._forget(key)  # the same key (same bytes) stays: it is referenced
            return _as_stored(record, same)
        self.blobs.settle(key)
        return _outcome(record, Disposition.REPLACED if old_key else Disposition.STORED)

    def _index_new(self, conn: Connection,
                   entries: list[tuple[InstanceRecord, str]]) -> list[dict[str, Any] | None]:
        """Insert the rows of instances not stored yet, set-based; for an instance
        whose SOP Instance UID is stored (looked up in the same transaction), return
        the stored version and insert nothing. Two stores of one SOP Instance UID in
        one batch, or in two processes at once: the unique key fails the later one
        (IntegrityError)."""
        stored = writer.insert_new_instances(conn, entries)
        if self._extra:
            for record in (r for r, _ in entries if r.uids.sop_instance not in stored):
                extra_index.index_instance(conn, record, self._extra)
        return [stored.get(record.uids.sop_instance) for record, _ in entries]

    def _replace(self, conn: Connection, record: InstanceRecord, key: str,
                 old_key: str) -> None:
        """Insert the rows of `record` in place of the version stored under `old_key`
        (policy "replace"), which must still be the one stored: the one looked up and
        journalled before, or a concurrent store won."""
        existing = writer.find_instance(conn, record.uids.sop_instance)
        if existing is None or existing["blob_key"] != old_key:
            raise _RaceLostError
        writer.delete_instance(conn, existing["pk"])
        writer.insert_instance(conn, record, key)
        if self._extra:
            extra_index.index_instance(conn, record, self._extra)

    def _after_race(self, record: InstanceRecord) -> StoreOutcome:
        """Another store of the same SOP Instance UID committed first."""
        existing = self._look_up(
            lambda c: writer.find_instance(c, record.uids.sop_instance))
        if existing is not None and existing["digest"] == record.digest:
            return _outcome(record, Disposition.ALREADY_STORED)
        return _failed(status.DUPLICATE_SOP_INSTANCE,
                       "the instance conflicts with one stored at the same time "
                       "(same SOP Instance UID, or its series in another study)",
                       record.uids.sop_class, record.uids.sop_instance)

    def _forget(self, key: str) -> None:
        """Delete a blob the index does not reference, then settle its journal entry."""
        try:
            if not self._look_up(lambda c: writer.is_referenced(c, key)):
                self.blobs.delete(key)
            self.blobs.settle(key)
        except (StorageUnavailableError, OSError):
            log.exception("could not clean up blob %s; recovery will", key)

    # -- searching (QIDO-RS) --------------------------------------------------------------

    def search(self, query: SearchQuery, base_url: str, ae_title: str) -> SearchResult:
        """Run a QIDO-RS search; `base_url` is the DICOMweb root URLs in results start with."""
        context = SearchContext(base_url, ae_title, self.settings.qido_max_limit,
                                frozenset(p.tag for p in self._extra), self._counts)
        return self._read(lambda conn: search(conn, query, context))

    # -- retrieving (WADO-RS) ------------------------------------------------------------

    def stored_instances(self, target: Target, *, metadata: bool = False,
                         locations: bool = False) -> list[StoredInstance]:
        """The instances of a study, series or instance; raises a NotFoundError."""
        cache = self._frame_tables if locations else None
        return self._read(lambda c: stored_instances(c, target, metadata=metadata,
                                                     locations=cache))

    def open_blob(self, key: str) -> BinaryIO:
        """The stored Part 10 bytes of `key`, for reading; raises BlobNotFoundError."""
        return self.blobs.open(key)

    def read_runs(self, key: str, spans: list[tuple[Run, ...]]) -> list[bytes]:
        """The bytes of each span (a frame or a bulk data element) of one stored file."""
        with self.blobs.open(key) as fp:
            return [read_runs(fp, runs) for runs in spans]

    def reindex(self) -> int:
        """Recompute indexed columns and extra query attributes from stored metadata."""
        with _index_errors():
            return extra_index.reindex(self.engine, self._extra)

    # -- recovery and health -----------------------------------------------------------

    def recover(self, grace_seconds: float | None = None) -> int:
        """Settle journalled blob keys older than the grace period; return how many."""
        grace = self.settings.recovery_grace_seconds if grace_seconds is None else grace_seconds
        cutoff = time.time() - grace
        keys = self.blobs.unsettled(cutoff)
        for key in keys:
            self._forget(key)
        self._clean_spool(cutoff)
        return len(keys)

    def _clean_spool(self, cutoff: float) -> None:
        for path in self.blobs.spool_dir.iterdir():
            try:
                if path.stat().st_mtime <= cutoff:
                    path.unlink()
            except FileNotFoundError:
                continue

    def check(self) -> None:
        """Raise StorageUnavailableError unless index and blob store answer now."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1 FROM study LIMIT 1"))
        except SQLAlchemyError as exc:
            raise StorageUnavailableError(f"index unavailable: {exc.__class__.__name__}"
                                          ) from exc
        self.blobs.check()

    # -- transactions --------------------------------------------------------------------

    def _read(self, work: Callable[[Connection], T]) -> T:
        with _index_errors(), self.engine.connect() as conn:
            return work(conn)

    def _look_up(self, work: Callable[[Connection], T]) -> T:
        """Run `work`, one statement, outside a transaction (`read_options`)."""
        with _index_errors(), self.engine.connect().execution_options(
                **self._read_options) as conn:
            return work(conn)

    def _write(self, work: Callable[[Connection], T], arrival: Arrival | None = None) -> T:
        """Run `work` in a write transaction (shared with concurrent writers)."""
        with _index_errors():
            return self._committer.submit(work, arrival)

    def _write_item(self, run_many: Callable[[Connection, list[Any]], list[T]],
                    item: Any, arrival: Arrival) -> T:
        """Run `run_many` on `item` and the like items of concurrent writers, in one call
        of a shared write transaction (the announced submission of `arrival`)."""
        with _index_errors():
            return self._committer.submit_item(run_many, item, arrival)

    def _transaction(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in one write transaction (one at a time: the group committer's
        lead runs it). Its connection is kept from one transaction to the next (a
        checkout and a return per transaction cost more than a small commit); after any
        failure it is replaced. A kept connection found broken (a database restart) is
        replaced and the work run once more: store work is safe to run again even if
        the lost connection had committed it (the unique SOP Instance UID makes it a
        race)."""
        kept = self._writer is not None
        try:
            return self._run_writer(work)
        except DBAPIError as exc:
            if not (kept and exc.connection_invalidated):
                raise
            log.warning("index connection lost (%s); reconnecting", exc.__class__.__name__)
        return self._run_writer(work)

    def _run_writer(self, work: Callable[[Connection], T]) -> T:
        conn = self._writer or self._connect_writer()
        try:
            with self._process_lock(), conn.begin(), plain_sql.transaction(conn):
                return work(conn)
        except BaseException:
            self._drop_writer()
            raise

    def _connect_writer(self) -> Connection:
        self._writer = self.engine.connect().execution_options(**WRITE, **self._read_options)
        return self._writer

    def _drop_writer(self) -> None:
        writer_conn, self._writer = self._writer, None
        if writer_conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                writer_conn.close()


class _FileLock:
    """Writers of one SQLite file in several processes queue on a file lock, and the
    next wakes as soon as it is free, instead of SQLite's busy handler sleeping 1-100 ms
    between tries. No-op for a server database."""

    def __init__(self, path: Path | None):
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600) if path else None

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        if self._fd is None:
            yield
            return
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _sqlite_writer_lock(engine: Engine) -> _FileLock:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        return _FileLock(None)
    return _FileLock(Path(database + ".write-lock"))


@contextlib.contextmanager
def _index_errors() -> Iterator[None]:
    """The index's driver errors become StorageUnavailableError (unique-key violations
    stay IntegrityError: the store path handles those as races)."""
    try:
        yield
    except IntegrityError:
        raise
    except SQLAlchemyError as exc:
        raise StorageUnavailableError(f"index unavailable: {exc.__class__.__name__}") from exc


class _RaceLostError(Exception):
    """A concurrent store of the same SOP Instance UID committed first."""


def _as_stored(record: InstanceRecord, same: bool) -> StoreOutcome:
    """The outcome for an instance whose SOP Instance UID is stored already: the same
    object (`same` bytes) is stored; another one is refused (policy "reject")."""
    if same:
        return _outcome(record, Disposition.ALREADY_STORED)
    uids = record.uids
    return _failed(status.DUPLICATE_SOP_INSTANCE,
                   f"another object with SOP Instance UID {uids.sop_instance} "
                   "is stored already", uids.sop_class, uids.sop_instance)


def _outcome(record: InstanceRecord, disposition: Disposition) -> StoreOutcome:
    uids = record.uids
    return StoreOutcome(disposition, uids.sop_class, uids.sop_instance, uids.study, uids.series)


def _failed(reason: int, message: str, sop_class: str | None = None,
            sop_instance: str | None = None) -> StoreOutcome:
    return StoreOutcome(Disposition.FAILED, sop_class, sop_instance, failure_reason=reason,
                        message=message)
