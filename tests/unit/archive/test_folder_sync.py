"""Group fsync of folders: shared by concurrent callers, never a false success."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from hounsfield.archive.blobs import filesystem, folder_sync
from hounsfield.archive.blobs.filesystem import FilesystemBlobStore
from hounsfield.archive.blobs.folder_sync import FolderSync


class SlowFsync:
    """Stands in for fsync: records when each call started and how many callers had
    taken a ticket by then; optionally fails chosen calls."""

    def __init__(self, fail_calls: frozenset[int] = frozenset()):
        self.started: list[float] = []
        self.fail_calls = fail_calls
        self.lock = threading.Lock()

    def __call__(self, path) -> None:
        with self.lock:
            self.started.append(time.monotonic())
            call = len(self.started)
        time.sleep(0.02)
        if call in self.fail_calls:
            raise OSError(5, "Input/output error")


def _run_threads(sync: FolderSync, path: Path, count: int) -> list[tuple[float, float, str]]:
    """(asked at, returned at, outcome) of each of `count` threads calling sync(path)."""
    results: list[tuple[float, float, str]] = []
    barrier = threading.Barrier(count)

    def call() -> None:
        barrier.wait()
        asked = time.monotonic()
        try:
            sync.sync(path)
            outcome = "ok"
        except OSError as exc:
            outcome = exc.strerror or "error"
        results.append((asked, time.monotonic(), outcome))

    threads = [threading.Thread(target=call) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return results


def test_concurrent_callers_share_fsyncs_and_each_waits_for_one_started_after_it(
        tmp_path, monkeypatch) -> None:
    fake = SlowFsync()
    monkeypatch.setattr(folder_sync, "fsync_folder", fake)
    results = _run_threads(FolderSync(), tmp_path, 20)
    assert [r[2] for r in results] == ["ok"] * 20
    assert 1 <= len(fake.started) <= 3, "20 callers at once should share a few fsyncs"
    for asked, returned, _ in results:
        assert any(asked <= start <= returned for start in fake.started), \
            "a caller returned without an fsync started after it asked"


def test_a_failed_fsync_fails_every_caller_it_covered_and_no_later_one(
        tmp_path, monkeypatch) -> None:
    fake = SlowFsync(fail_calls=frozenset({1}))
    monkeypatch.setattr(folder_sync, "fsync_folder", fake)
    sync = FolderSync()
    results = _run_threads(sync, tmp_path, 8)
    assert any(r[2] != "ok" for r in results), "the failing fsync failed its leader"
    succeeded_starts = fake.started[1:]
    for asked, returned, outcome in results:
        if outcome == "ok":  # only after a successful fsync that started after it asked
            assert any(asked <= start <= returned for start in succeeded_starts)
    sync.sync(tmp_path)  # a later caller gets a fresh fsync, which succeeds
    assert len(fake.started) >= 2


def test_folders_are_independent_and_forgotten_when_idle(tmp_path, monkeypatch) -> None:
    fake = SlowFsync()
    monkeypatch.setattr(folder_sync, "fsync_folder", fake)
    sync = FolderSync()
    sync.sync(tmp_path / "a")
    sync.sync(tmp_path / "b")
    assert len(fake.started) == 2
    assert sync._folders == {}


def test_a_real_folder_is_synced(tmp_path) -> None:
    FolderSync().sync(tmp_path)  # os.fsync on a real folder: no error


def test_put_file_syncs_a_folder_found_on_disk_once(tmp_path, monkeypatch) -> None:
    """A series folder that exists may be another store's, not yet synced: its parent is
    synced before the store counts it durable, and only once."""
    synced: list[Path] = []
    monkeypatch.setattr(folder_sync, "fsync_folder", lambda p: synced.append(Path(p)))
    store = FilesystemBlobStore(tmp_path)
    key1, key2 = "1.2/1.2.3/1.2.3.4.0123456789abcdef.dcm", "1.2/1.2.3/1.2.3.5.0123456789abcdef.dcm"
    (store.blob_dir / "1.2" / "1.2.3").mkdir(parents=True)  # made by someone else
    for key in (key1, key2):
        spooled = store.spool_dir / "in.dcm"
        spooled.write_bytes(b"data")
        store.put_file(key, spooled)
    series_folder = store.blob_dir / "1.2" / "1.2.3"
    assert synced.count(series_folder.parent) == 1  # the series folder's entry, once
    assert synced.count(store.blob_dir) == 1  # the study folder's entry, once
    assert synced.count(series_folder) == 2  # each blob's entry
    assert synced.count(store.journal_dir) == 2  # each journal marker
    assert (series_folder / "1.2.3.5.0123456789abcdef.dcm").read_bytes() == b"data"


def test_put_file_fails_cleanly_when_the_folder_cannot_be_synced(tmp_path, monkeypatch) -> None:
    def broken(path):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(folder_sync, "fsync_folder", broken)
    store = FilesystemBlobStore(tmp_path)
    spooled = store.spool_dir / "in.dcm"
    spooled.write_bytes(b"data")
    with pytest.raises(filesystem.StorageUnavailableError, match="Input/output error"):
        store.put_file("1.2/1.2.3/1.2.3.4.0123456789abcdef.dcm", spooled)
