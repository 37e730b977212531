"""The digest of stored bytes: BLAKE3 (224 bits, prefixed), and rows indexed before it
with a SHA-256 compared by the file's SHA-256."""

from __future__ import annotations

import hashlib
import io

from hounsfield.archive.blobs.base import blob_key
from hounsfield.archive.content_digest import (
    digest_of,
    digest_of_stream,
    hex_part,
    same_content,
)

# BLAKE3 of the empty input (the BLAKE3 paper's test vectors), first 28 bytes
EMPTY = "blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93ca"


def test_the_digest_is_blake3_of_224_bits_with_its_prefix() -> None:
    assert digest_of(b"") == EMPTY
    assert len(digest_of(b"x" * 100_000)) == 63  # fits the index's 64 characters
    assert hex_part(EMPTY) == EMPTY.removeprefix("blake3:")


def test_a_stream_and_a_buffer_of_the_same_bytes_have_one_digest() -> None:
    data = bytes(range(256)) * 9000  # over one read chunk
    stream = io.BytesIO(data)
    stream.read(10)  # read from the start, wherever the stream is
    assert digest_of_stream(stream) == digest_of(memoryview(data)) == digest_of(data)
    assert digest_of(data) != digest_of(data[:-1])


def test_a_row_indexed_with_sha256_is_compared_by_the_files_sha256() -> None:
    data = b"DICM" * 1000
    sha256 = hashlib.sha256(data).hexdigest()
    assert same_content(sha256, digest_of(data), lambda: io.BytesIO(data))
    assert not same_content(sha256, digest_of(data + b"!"), lambda: io.BytesIO(data + b"!"))


def test_two_blake3_digests_are_compared_without_reading_the_file() -> None:
    def unread():
        raise AssertionError("the file was read")

    assert same_content(digest_of(b"a"), digest_of(b"a"), unread)
    assert not same_content(digest_of(b"a"), digest_of(b"b"), unread)


def test_a_blob_key_holds_hex_digits_of_the_digest_only() -> None:
    key = blob_key("1.2.3", "1.2.3.4", "1.2.3.4.5", EMPTY)
    assert key == "1.2.3/1.2.3.4/1.2.3.4.5.af1349b9f5f9a1a6.dcm"
