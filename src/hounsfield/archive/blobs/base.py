"""The blob store interface: keys in, Part 10 bytes out.

Narrow on purpose, so that a filesystem and an S3-compatible object store can both
implement it. Keys are made by `blob_key` from validated UIDs and a digest only.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Protocol

from hounsfield.archive.content_digest import hex_part
from hounsfield.dicom.uid import is_valid_uid, validate_uid


def blob_key(study: str, series: str, sop_instance: str, digest: str) -> str:
    """The storage key of one stored version of an instance (`digest`: hex digits, after
    an algorithm's prefix such as `blake3:`)."""
    for uid in (study, series, sop_instance):
        validate_uid(uid)
    digest = hex_part(digest)
    if len(digest) < 16 or not all(c in "0123456789abcdef" for c in digest):
        raise ValueError("digest must be lower-case hex")
    return f"{study}/{series}/{sop_instance}.{digest[:16]}.dcm"


def sop_instance_of(key: str) -> str | None:
    """The SOP Instance UID in a key made by `blob_key`; None for any other text."""
    name = key.rpartition("/")[2]
    if not name.endswith(".dcm"):
        return None
    uid, _, digest = name[:-len(".dcm")].rpartition(".")
    if len(digest) != 16 or not is_valid_uid(uid):
        return None
    return uid


class BlobStore(Protocol):
    """Where the received Part 10 bytes are kept, unchanged."""

    spool_dir: Path  # where request bodies are spooled before `put_file`

    def start_writing(self, path: Path) -> None:
        """A hint, given before the spooled file at `path` is parsed: it will be
        `put_file`'d soon (a store may start writing it out)."""

    def put_file(self, key: str, path: Path) -> None:
        """Store the file at `path` (which the store takes over) under `key`, durably;
        the key is journalled first and stays so until `settle`."""

    def journal(self, key: str) -> None:
        """Durably note that blob `key` may become garbage (before its row goes away)."""

    def settle(self, key: str) -> None:
        """Forget the journal entry of `key`: the index references it, or it is gone."""

    def unsettled(self, older_than: float) -> list[str]:
        """Journalled keys older than `older_than` (epoch seconds), for recovery."""

    def open(self, key: str) -> BinaryIO:
        """Open the blob for reading; raises BlobNotFoundError."""

    def delete(self, key: str) -> None:
        """Remove the blob; a missing blob is not an error."""

    def exists(self, key: str) -> bool: ...

    def check(self) -> None:
        """Raise StorageUnavailableError unless the store can be written now."""
