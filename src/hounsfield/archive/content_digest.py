"""The digest of a stored file's bytes: what tells two versions of an instance apart.

It makes the blob key of a version, tells a repeated store of the same object (answered
as stored) from a different object under a stored SOP Instance UID, and feeds the ETags
of retrieved representations. BLAKE3, 224 bits, written `blake3:<56 hex digits>`: a
cryptographic hash, about 3.5 times as fast as SHA-256 with the CPU's SHA extensions
(0.085 against 0.30 ms for a 526 KB CT image here, a tenth of the CPU a store costs).
Rows indexed before it hold a SHA-256 (64 hex digits, no prefix); a file is compared
with such a row by its SHA-256.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, BinaryIO

import blake3

PREFIX = "blake3:"
_BYTES = 28  # 224 bits: the prefixed digest fits the index's 64 characters
_CHUNK = 1 << 20


def digest_of(data: Any) -> str:
    """The digest of `data` (bytes, or any buffer such as a memory map)."""
    return PREFIX + blake3.blake3(data).hexdigest(_BYTES)


def digest_of_stream(fp: BinaryIO) -> str:
    """The digest of what `fp` holds, read from its start."""
    return _of_stream(fp, blake3.blake3, lambda h: PREFIX + h.hexdigest(_BYTES))


def hex_part(digest: str) -> str:
    """The hex digits of a digest, without the algorithm's prefix."""
    return digest.rpartition(":")[2]


def same_content(stored: str, digest: str, reopen: Callable[[], BinaryIO]) -> bool:
    """Whether a file whose digest is `digest` holds the bytes of a stored version
    whose digest is `stored`. For the SHA-256 of a row indexed before BLAKE3, the
    file's SHA-256 is computed (from `reopen()`)."""
    if stored.startswith(PREFIX) or stored == digest:
        return stored == digest
    with reopen() as fp:
        return _of_stream(fp, hashlib.sha256, lambda h: h.hexdigest()) == stored


def _of_stream(fp: BinaryIO, new: Callable[[], Any], hexdigest: Callable[[Any], str]) -> str:
    fp.seek(0)
    hasher = new()
    while chunk := fp.read(_CHUNK):
        hasher.update(chunk)
    return hexdigest(hasher)
