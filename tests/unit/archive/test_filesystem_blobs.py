import os
import time

import pytest

from hounsfield.archive.blobs.base import blob_key, sop_instance_of
from hounsfield.archive.blobs.filesystem import BlobNotFoundError, FilesystemBlobStore
from hounsfield.errors import InvalidUIDError

KEY = blob_key("1.2", "1.2.3", "1.2.3.4", "0123456789abcdef" * 4)


def test_put_is_journalled_until_settled(tmp_path) -> None:
    store = FilesystemBlobStore(tmp_path)
    source = store.spool_dir / "x"
    source.write_bytes(b"DICM")
    store.put_file(KEY, source)
    assert not source.exists() and store.open(KEY).read() == b"DICM"
    assert store.unsettled(time.time() + 1) == [KEY]
    assert store.unsettled(time.time() - 60) == []  # young entries are left alone
    store.settle(KEY)
    assert store.unsettled(time.time() + 1) == []


def test_journal_ignores_foreign_files(tmp_path) -> None:
    store = FilesystemBlobStore(tmp_path)
    (store.journal_dir / "not-a-key").write_text("")
    old = time.time() - 3600
    os.utime(store.journal_dir / "not-a-key", (old, old))
    assert store.unsettled(time.time()) == []


def test_missing_blob_and_bad_uid(tmp_path) -> None:
    store = FilesystemBlobStore(tmp_path)
    with pytest.raises(BlobNotFoundError):
        store.open(KEY)
    store.delete(KEY)  # missing is fine
    with pytest.raises(InvalidUIDError):
        blob_key("1.2", "../etc", "1.2.3", "0" * 64)


def test_put_makes_each_step_durable_before_the_next(tmp_path, monkeypatch) -> None:
    """The order crash safety rests on: the journal marker is durable before the blob
    gets its name, and the file's data before its name; the name is durable when
    put_file returns."""
    from hounsfield.archive.blobs import filesystem, folder_sync

    store = FilesystemBlobStore(tmp_path)
    source = store.spool_dir / "x"
    source.write_bytes(b"DICM")
    marker = store.journal_dir / KEY.replace("/", "+")
    target = store.path(KEY)
    events: list[str] = []

    def fdatasync(fd: int) -> None:
        events.append("data synced" + (" (marker made)" if marker.exists() else ""))

    def fsync_folder(folder) -> None:
        events.append(f"folder synced: {os.path.relpath(folder, tmp_path)}")

    real_replace = os.replace

    def replace(src, dst) -> None:
        events.append("renamed")
        real_replace(src, dst)

    monkeypatch.setattr(filesystem.os, "fdatasync", fdatasync)
    monkeypatch.setattr(folder_sync, "fsync_folder", fsync_folder)
    monkeypatch.setattr(filesystem.os, "replace", replace)
    store.put_file(KEY, source)
    series = os.path.relpath(target.parent, tmp_path)
    assert events == ["data synced (marker made)", "folder synced: journal",
                      "folder synced: blobs", f"folder synced: {os.path.dirname(series)}",
                      "renamed", f"folder synced: {series}"]


def test_start_writing_asks_the_kernel_to_write_the_file_out(tmp_path, monkeypatch) -> None:
    """The hint given before a spooled file is parsed: sync_file_range on that file,
    with SYNC_FILE_RANGE_WRITE (start writing, do not wait)."""
    from hounsfield.archive.blobs import filesystem

    if filesystem._sync_file_range() is None:
        pytest.skip("sync_file_range is Linux's")
    store = FilesystemBlobStore(tmp_path)
    source = store.spool_dir / "x"
    source.write_bytes(os.urandom(1 << 20))
    calls: list[tuple[int, int, int, int]] = []
    real = filesystem._sync_file_range()

    def recording(fd: int, offset: int, count: int, flags: int) -> int:
        calls.append((os.fstat(fd).st_ino, offset, count, flags))
        return real(fd, offset, count, flags)

    monkeypatch.setattr(filesystem, "_sync_file_range", lambda: recording)
    store.start_writing(source)
    assert calls == [(source.stat().st_ino, 0, 0, 2)]
    fd = os.open(source, os.O_RDONLY)
    try:
        assert filesystem.start_writeback(fd) is True
    finally:
        os.close(fd)


def test_start_writing_is_only_a_hint(tmp_path, monkeypatch) -> None:
    from hounsfield.archive.blobs import filesystem

    store = FilesystemBlobStore(tmp_path)
    store.start_writing(store.spool_dir / "gone")  # no such file: nothing happens
    monkeypatch.setattr(filesystem, "_sync_file_range", lambda: None)  # not Linux
    source = store.spool_dir / "x"
    source.write_bytes(b"DICM")
    store.start_writing(source)
    store.put_file(KEY, source)
    assert store.open(KEY).read() == b"DICM"


def test_the_journal_marker_of_a_put_is_a_second_name_of_the_blob(tmp_path) -> None:
    """Settling removes a name and frees no inode (see the module's docstring)."""
    store = FilesystemBlobStore(tmp_path)
    source = store.spool_dir / "x"
    source.write_bytes(b"DICM")
    store.put_file(KEY, source)
    marker = store.journal_dir / KEY.replace("/", "+")
    blob = store.path(KEY)
    assert marker.stat().st_ino == blob.stat().st_ino and blob.stat().st_nlink == 2
    store.settle(KEY)
    assert not marker.exists() and blob.stat().st_nlink == 1
    assert blob.read_bytes() == b"DICM"


def test_a_put_keeps_a_marker_already_there_and_renews_its_time(tmp_path) -> None:
    """Another store of the same key at the same time made the marker first."""
    store = FilesystemBlobStore(tmp_path)
    marker = store.journal_dir / KEY.replace("/", "+")
    marker.write_bytes(b"")
    os.utime(marker, (time.time() - 3600,) * 2)
    source = store.spool_dir / "x"
    source.write_bytes(b"DICM")
    store.put_file(KEY, source)
    assert store.open(KEY).read() == b"DICM"
    assert store.unsettled(time.time() - 60) == []  # renewed: young again
    assert store.unsettled(time.time() + 1) == [KEY]


def test_a_marker_settled_while_put_links_it_is_linked_again(tmp_path, monkeypatch) -> None:
    from hounsfield.archive.blobs import filesystem

    store = FilesystemBlobStore(tmp_path)
    marker = store.journal_dir / KEY.replace("/", "+")
    marker.write_bytes(b"")
    real_utime, calls = os.utime, []

    def utime(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 1:
            store.settle(KEY)  # the other store settles between link and utime
        return real_utime(path, *args, **kwargs)

    monkeypatch.setattr(filesystem.os, "utime", utime)
    source = store.spool_dir / "x"
    source.write_bytes(b"DICM")
    store.put_file(KEY, source)
    assert len(calls) == 2 and marker.stat().st_ino == store.path(KEY).stat().st_ino


def _cached(path) -> bool:
    """Whether the first byte of the file can be read without the disk (RWF_NOWAIT)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.preadv(fd, [bytearray(1)], 0, os.RWF_NOWAIT) == 1
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


@pytest.mark.parametrize("keep_cached", [False, True])
def test_a_stored_file_leaves_the_page_cache_once_durable_unless_kept(
        tmp_path, keep_cached) -> None:
    store = FilesystemBlobStore(tmp_path, keep_cached=keep_cached)
    source = store.spool_dir / "x"
    data = os.urandom(1 << 20)
    source.write_bytes(data)
    assert _cached(source)
    store.put_file(KEY, source)
    assert _cached(store.path(KEY)) is keep_cached
    assert store.open(KEY).read() == data


def test_a_key_tells_its_sop_instance_uid() -> None:
    assert sop_instance_of(KEY) == "1.2.3.4"
    assert sop_instance_of(blob_key("1.2", "1.2.3", "1.2.3.4.5", "blake3:" + "ab" * 28)) \
        == "1.2.3.4.5"


@pytest.mark.parametrize("text", ["", "not-a-key", "1.2/1.2.3/1.2.3.4.dcm",
                                  "1.2/1.2.3/1.2.3.4.0123456789abcdef.txt",
                                  "1.2/1.2.3/1..2.0123456789abcdef.dcm",
                                  "1.2/1.2.3/.0123456789abcdef.dcm"])
def test_other_text_tells_no_sop_instance_uid(text) -> None:
    assert sop_instance_of(text) is None
