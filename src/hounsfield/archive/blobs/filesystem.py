"""Blob store on a local filesystem: atomic, durable writes.

A blob is written to the spool folder, fsync'ed, renamed into place and its folder
fsync'ed, so a blob either is there whole or not at all, and stays after a crash.
Folder fsyncs are shared by the stores that need them at the same time (`folder_sync`).
Spool and blobs share one filesystem so that the rename is atomic.

Before a blob is renamed into place its key is journalled: a name in `journal/`, made
durable first. The archive settles the key once the index references it; after a crash,
an unsettled key whose blob the index does not reference is garbage. The journal name of
a stored file is a second hard link to the file itself, so settling removes a name and
frees no inode: a filesystem that skips recently freed inodes when it makes a new file
(ext4 without a journal) would otherwise scan more of them for every store.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import functools
import os
import re
import sys
import uuid
from pathlib import Path
from typing import Any, BinaryIO

from hounsfield.archive.blobs.folder_sync import FolderSync
from hounsfield.errors import NotFoundError, StorageUnavailableError


class BlobNotFoundError(NotFoundError):
    """The index names a blob the store does not have."""


class FilesystemBlobStore:
    def __init__(self, root: Path, *, keep_cached: bool = False):
        """`keep_cached`: leave a stored file's pages in the page cache once it is
        durable; by default they are given back (posix_fadvise DONTNEED): a stream of
        stores then reuses the same memory, instead of taking fresh pages for every
        file (on a virtual machine whose host reclaims free memory, a fresh page costs
        microseconds: writing a new 526 KB file took 1.0-1.8 ms of CPU, against 0.3 ms
        with its pages given back after the previous file's sync) and filling the cache
        with files written once, evicting what readers use."""
        self.root = Path(root)
        self._keep_cached = keep_cached
        self._folders = FolderSync()
        self.blob_dir = self.root / "blobs"
        self.spool_dir = self.root / "spool"
        self.journal_dir = self.root / "journal"
        for folder in (self.blob_dir, self.spool_dir, self.journal_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self._durable = {self.blob_dir}  # folders whose entries are known to be durable

    def path(self, key: str) -> Path:
        return self.blob_dir / key

    def put_file(self, key: str, path: Path) -> None:
        """The journal marker is made before the file's data is synced, and only then
        is its folder synced: on a journalling filesystem the one commit that makes the
        data durable takes the marker along, and the folder sync finds nothing to do.
        Each step still waits for the one before, as any filesystem needs."""
        target = self.path(key)
        try:
            _link_marker(path, self._marker(key))  # a second name of the file
            _fsync_file(path, drop_cached=not self._keep_cached)
            self._folders.sync(self.journal_dir)
            self._make_dirs(target.parent)
            os.replace(path, target)
            self._folders.sync(target.parent)
        except OSError as exc:
            raise StorageUnavailableError(f"cannot write blob {key}: {exc.strerror}") from exc

    def start_writing(self, path: Path) -> None:
        """Start writing the spooled file's data out to the disk now (Linux's
        sync_file_range), so that it goes on while the file is parsed and `put_file`'s
        sync finds it mostly done; a hint, which does nothing where it cannot."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return  # put_file will say what is wrong
        try:
            start_writeback(fd)
        finally:
            os.close(fd)

    def journal(self, key: str) -> None:
        """Durably note that the blob `key` may become garbage until settled."""
        try:
            self._mark(key)
            self._folders.sync(self.journal_dir)
        except OSError as exc:
            raise StorageUnavailableError(f"cannot journal blob {key}: {exc.strerror}") from exc

    def _mark(self, key: str) -> None:
        """The journal marker of `key`, an empty file, not yet durable; its time is now."""
        fd = os.open(self._marker(key), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.utime(fd)
        finally:
            os.close(fd)

    def settle(self, key: str) -> None:
        """The index references `key` (or its blob is gone): forget the journal entry."""
        self._marker(key).unlink(missing_ok=True)

    def unsettled(self, older_than: float) -> list[str]:
        """Journalled keys whose entry is at least as old as `older_than` (epoch)."""
        keys = []
        for marker in self.journal_dir.iterdir():
            key = marker.name.replace("+", "/")
            try:
                old = marker.stat().st_mtime <= older_than
            except FileNotFoundError:
                continue
            if old and _is_key(key):
                keys.append(key)
        return keys

    def _make_dirs(self, folder: Path) -> None:
        """Create `folder` below the blob folder, its entry in each parent durable.

        A folder found on disk may be another store's, made a moment ago and not yet
        synced: its parent is synced once all the same before this process counts it as
        durable (a bounded set of folders)."""
        if folder in self._durable:
            return
        self._make_dirs(folder.parent)
        folder.mkdir(exist_ok=True)
        self._folders.sync(folder.parent)
        if len(self._durable) > _DURABLE_FOLDERS:
            self._durable.clear()
            self._durable.add(self.blob_dir)
        self._durable.add(folder)

    def _marker(self, key: str) -> Path:
        return self.journal_dir / key.replace("/", "+")

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self.path(key), "rb")
        except FileNotFoundError as exc:
            raise BlobNotFoundError(f"blob {key} is missing") from exc

    def delete(self, key: str) -> None:
        try:
            os.unlink(self.path(key))
        except FileNotFoundError:
            return
        # Empty folders stay: removing them would race with a concurrent put_file.

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def check(self) -> None:
        probe = self.spool_dir / f".ready-{uuid.uuid4().hex}"
        try:
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as exc:
            raise StorageUnavailableError(f"blob store not writable: {exc.strerror}") from exc

    def keys(self) -> list[str]:
        """Every stored key (for checks and tests; walks the whole tree)."""
        return sorted(str(p.relative_to(self.blob_dir)) for p in self.blob_dir.rglob("*.dcm"))


_DURABLE_FOLDERS = 10_000
_KEY = re.compile(r"[0-9.]{1,64}/[0-9.]{1,64}/[0-9.]{1,64}\.[0-9a-f]{16}\.dcm")


def _is_key(key: str) -> bool:
    return _KEY.fullmatch(key) is not None


def start_writeback(fd: int) -> bool:
    """Ask the kernel to start writing the file's dirty pages (sync_file_range with
    SYNC_FILE_RANGE_WRITE: it does not wait for them, and makes nothing durable by
    itself); False where that is not available."""
    call = _sync_file_range()
    return call is not None and call(fd, 0, 0, _SYNC_FILE_RANGE_WRITE) == 0


@functools.cache
def _sync_file_range() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        call = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").sync_file_range
    except (OSError, AttributeError):
        return None
    call.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    call.restype = ctypes.c_int
    return call


_SYNC_FILE_RANGE_WRITE = 2  # <fcntl.h>


def _link_marker(path: Path, marker: Path) -> None:
    """The journal marker as a hard link to the file at `path`, its time now; a marker
    already there is kept (another store of the same key at the same time, or the
    replaced version's)."""
    for _ in range(_MARKER_ATTEMPTS):
        with contextlib.suppress(FileExistsError):
            os.link(path, marker)
        try:
            os.utime(marker)
            return
        except FileNotFoundError:
            continue  # settled by the other store of this key in between: link again
    raise OSError(errno.EAGAIN, "the journal marker keeps being removed", str(marker))


_MARKER_ATTEMPTS = 3


def _fsync_file(path: Path, *, drop_cached: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)  # the data and what reading it needs (its size), not its times
        if drop_cached:  # clean once synced: the pages can go back at once
            with contextlib.suppress(OSError, AttributeError):  # a hint; not everywhere
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


