import os
import time

import pytest

from hounsfield.archive.blobs.base import blob_key
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
