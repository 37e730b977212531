"""An archive in a temporary folder with the ASGI app in front of it, for API tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from starlette.testclient import TestClient

from hounsfield.app import create_app
from hounsfield.archive.archive import Archive
from hounsfield.archive.record import StoreOutcome
from hounsfield.config import load_settings


@contextlib.contextmanager
def replacing_archive_client(folder: Path) -> Iterator[tuple[TestClient, Archive]]:
    """A client and its archive, where a file sharing a SOP Instance UID with one stored
    before replaces it (real test files reuse some UIDs)."""
    settings = load_settings(overrides={
        "data_dir": folder / "data", "recovery_grace_seconds": 0,
        "duplicate_policy": "replace"}, environ={})
    archive = Archive.open(settings)
    try:
        with TestClient(create_app(settings, archive)) as client:
            yield client, archive
    finally:
        archive.close()


def store_copy(archive: Archive, path: Path) -> StoreOutcome:
    """Store a copy of the file at `path` (the archive moves its spool files)."""
    copy = archive.blobs.spool_dir / path.name
    copy.write_bytes(path.read_bytes())
    return archive.store_file(copy)
