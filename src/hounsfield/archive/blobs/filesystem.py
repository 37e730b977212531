"""Blob store on a local filesystem: atomic, durable writes.

A blob is written to the spool folder, fsync'ed, renamed into place and its folder
fsync'ed, so a blob either is there whole or not at all, and stays after a crash.
Spool and blobs share one filesystem so that the rename is atomic.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import BinaryIO

from hounsfield.errors import NotFoundError, StorageUnavailableError


class BlobNotFoundError(NotFoundError):
    """The index names a blob the store does not have."""


class FilesystemBlobStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.blob_dir = self.root / "blobs"
        self.spool_dir = self.root / "spool"
        for folder in (self.blob_dir, self.spool_dir):
            folder.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.blob_dir / key

    def put_file(self, key: str, path: Path) -> None:
        target = self.path(key)
        try:
            _fsync_file(path)
            _make_dirs(target.parent, self.blob_dir)
            os.replace(path, target)
            _fsync_dir(target.parent)
        except OSError as exc:
            raise StorageUnavailableError(f"cannot write blob {key}: {exc.strerror}") from exc

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


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_dirs(folder: Path, root: Path) -> None:
    """Create `folder` below `root`, fsyncing each parent whose entries changed."""
    if folder.is_dir():
        return
    _make_dirs(folder.parent, root)
    try:
        folder.mkdir()
    except FileExistsError:
        return
    _fsync_dir(folder.parent)

