"""Streaming multipart/related parsing (RFC 2046 §5.1, RFC 2387) for STOW-RS (PS3.18 §10.5)."""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import anyio
import pytest

from hounsfield.errors import BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError
from hounsfield.web.media_types import MediaType
from hounsfield.web.multipart import MultipartSpooler, Part, spool_multipart

B = "myboundary"

# The sample STOW-RS request of dcm4chee's documentation, CRLF on the wire.
DCM4CHEE_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\r\n'
    b'<NativeDicomModel xml:space="preserve">...</NativeDicomModel>'
)
DCM4CHEE_SAMPLE = (
    b"--myboundary\r\n"
    b"Content-Type: application/dicom+xml\r\n"
    b"\r\n" + DCM4CHEE_XML + b"\r\n"
    b"--myboundary\r\n"
    b"Content-Type: application/pdf\r\n"
    b"Content-Location: bulk2.25.236273414892009727187587613562294401904\r\n"
    b"\r\n"
    b"{BINARY PDF DATA}\r\n"
    b"--myboundary--\r\n"
)


def body(*parts: tuple[bytes, bytes], preamble=b"", epilogue=b"", boundary=B) -> bytes:
    """A multipart body from (header block, data) pairs; header lines CRLF-terminated."""
    out = preamble + b"--" + boundary.encode()
    for headers, data in parts:
        out += b"\r\n" + headers + b"\r\n" + data + b"\r\n--" + boundary.encode()
    return out + b"--" + epilogue


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def spool(tmp_path: Path, chunks: Iterable[bytes], boundary: str = B, **limits) -> list[Part]:
    spooler = MultipartSpooler(boundary, tmp_path, **limits)
    for chunk in chunks:
        spooler.feed(chunk)
    return spooler.finish()


def summary(parts: list[Part]) -> list[tuple]:
    return [
        (
            part.media_type.type if part.media_type else None,
            part.content_location,
            part.path.read_bytes(),
        )
        for part in parts
    ]


def assert_spool_dir_empty(tmp_path: Path) -> None:
    assert list(tmp_path.iterdir()) == []


# -- well-formed bodies: (body, expected [(media type, Content-Location, data)])

DELIMITER_LOOKALIKES = (
    b"a\r\n--myboundaryX\r\n"  # boundary followed by a bchar: a longer boundary, not ours
    b"\r\n--myboundary-x\r\n"  # one dash is not the close delimiter
    b"\r\n--myboundary \tx\r\n"  # padding must end with CRLF
    b"\r\n--myboundar\r\n"  # prefix only
    b"x--myboundary\r\n"  # no CRLF before it
    b"\n--myboundary\r\n"  # bare LF before it: RFC 2046 delimiters need CRLF
    b"\r\r\n--myboundarz\r\n\r"
)

DCM4CHEE_PARTS = [
    ("application/dicom+xml", None, DCM4CHEE_XML),
    ("application/pdf", "bulk2.25.236273414892009727187587613562294401904", b"{BINARY PDF DATA}"),
]
ODD_BOUNDARY = "a b'()+_,-./:=?"  # RFC 2046 bchars, space inside

WELL_FORMED = {
    "dcm4chee sample": (DCM4CHEE_SAMPLE, DCM4CHEE_PARTS),
    "one part": (
        body((b"Content-Type: application/dicom\r\n", b"DICM")),
        [("application/dicom", None, b"DICM")],
    ),
    "part without headers": (
        body((b"", b"raw")),
        [(None, None, b"raw")],
    ),
    "empty part body": (
        body((b"Content-Type: application/dicom\r\n", b""), (b"", b"x")),
        [("application/dicom", None, b""), (None, None, b"x")],
    ),
    "preamble and epilogue": (
        body(
            (b"Content-Type: text/plain\r\n", b"data"),
            preamble=b"This is a preamble.\r\n--myboundaryX\r\n",
            epilogue=b"\r\nepilogue --myboundary\r\n\r\n--myboundary\r\nX: y\r\n\r\n",
        ),
        [("text/plain", None, b"data")],
    ),
    "CRLF before the first delimiter": (
        b"\r\n" + body((b"", b"a")),
        [(None, None, b"a")],
    ),
    "delimiter look-alikes inside data": (
        body((b"", DELIMITER_LOOKALIKES), (b"", b"\r\n--myboundary\t-")),
        [(None, None, DELIMITER_LOOKALIKES), (None, None, b"\r\n--myboundary\t-")],
    ),
    "data is CRLFs and dashes": (
        body((b"", b"\r\n\r\n--\r\n-"), (b"", b"\r")),
        [(None, None, b"\r\n\r\n--\r\n-"), (None, None, b"\r")],
    ),
    "transport padding after boundaries": (
        b"--myboundary \t \r\n\r\none\r\n--myboundary\t\r\n\r\ntwo\r\n--myboundary--  \r\n",
        [(None, None, b"one"), (None, None, b"two")],
    ),
    "bare LF line ends in headers": (
        b"--myboundary\nContent-Type: text/plain\nContent-Location: x\n\nbody\r\n--myboundary--",
        [("text/plain", "x", b"body")],
    ),
    "close delimiter at the very end": (
        b"--myboundary\r\n\r\nend\r\n--myboundary--",
        [(None, None, b"end")],
    ),
}
WELL_FORMED_ODD_BOUNDARY = {
    "boundary with spaces and specials": (
        body((b"", b"x\r\n--a b'()+_,-./:=?!"), boundary=ODD_BOUNDARY),
        [(None, None, b"x\r\n--a b'()+_,-./:=?!")],
    ),
}


CASES = [(B, *case) for case in WELL_FORMED.values()] + [
    (ODD_BOUNDARY, *case) for case in WELL_FORMED_ODD_BOUNDARY.values()
]
CASE_IDS = [*WELL_FORMED, *WELL_FORMED_ODD_BOUNDARY]


@pytest.mark.parametrize(("boundary", "data", "expected"), CASES, ids=CASE_IDS)
def test_whole_body_in_one_chunk(tmp_path, boundary, data, expected):
    assert summary(spool(tmp_path, [data], boundary)) == expected


@pytest.mark.parametrize(("boundary", "data", "expected"), CASES, ids=CASE_IDS)
def test_body_split_in_two_at_every_position(tmp_path, boundary, data, expected):
    for cut in range(len(data) + 1):
        parts = spool(tmp_path, [data[:cut], data[cut:]], boundary)
        assert summary(parts) == expected, cut
        for part in parts:
            part.path.unlink()


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 11, 13, 16, 17, 31, 64])
@pytest.mark.parametrize(("boundary", "data", "expected"), CASES, ids=CASE_IDS)
def test_body_in_small_chunks_so_delimiters_straddle_them(tmp_path, boundary, data, expected, size):
    assert summary(spool(tmp_path, chunked(data, size), boundary)) == expected


def test_part_headers_are_lower_case_last_wins_and_folded(tmp_path):
    data = body(
        (
            b"Content-Type: text/plain\r\n"
            b"X-Note: first\r\n"
            b"x-note: second\r\n"
            b"X-Folded: one\r\n"
            b"\t two\r\n"
            b"Content-ID: <part1@example.org>\r\n"
            b"Content-Location:   http://example.org/bulk/1  \r\n",
            b"x",
        )
    )
    [part] = spool(tmp_path, [data])
    assert part.headers == {
        "content-type": "text/plain",
        "x-note": "second",
        "x-folded": "one two",
        "content-id": "<part1@example.org>",
        "content-location": "http://example.org/bulk/1",
    }
    assert part.content_id == "<part1@example.org>"
    assert part.content_location == "http://example.org/bulk/1"
    assert part.size == 1


@pytest.mark.parametrize(
    ("raw", "text"),
    [(b"caf\xc3\xa9", "caf\u00e9"), (b"caf\xe9", "caf\u00e9")],
    ids=["utf-8", "latin-1 fallback"],
)
def test_part_header_bytes_are_decoded_as_utf8_else_latin1(tmp_path, raw, text):
    [part] = spool(tmp_path, [body((b"Content-Location: " + raw + b"\r\n", b"x"))])
    assert part.content_location == text


def test_part_media_type_is_parsed_with_parameters(tmp_path):
    data = body(
        (b'Content-Type: Application/DICOM; transfer-syntax="1.2.840.10008.1.2.1"\r\n', b"x")
    )
    [part] = spool(tmp_path, [data])
    assert part.media_type == MediaType(
        "application/dicom", {"transfer-syntax": "1.2.840.10008.1.2.1"}
    )


def test_each_part_gets_its_own_random_spool_file(tmp_path):
    parts = spool(tmp_path, [body(*[(b"", b"%d" % n) for n in range(5)])])
    paths = {part.path for part in parts}
    assert len(paths) == 5
    assert all(path.parent == tmp_path and path.suffix == ".part" for path in paths)
    assert [part.path.read_bytes() for part in parts] == [b"0", b"1", b"2", b"3", b"4"]


def test_fifty_megabyte_part_in_64_kib_chunks_is_spooled_intact(tmp_path):
    payload = bytearray(os.urandom(50 * 1024 * 1024))
    # Sprinkle delimiter look-alikes across the payload, some straddling chunk ends.
    lookalike = b"\r\n--myboundary-x"
    for offset in range(1000, len(payload) - 100, 65536 * 7 + 13):
        payload[offset : offset + len(lookalike)] = lookalike
    payload = bytes(payload)
    data = body((b"Content-Type: application/dicom\r\n", payload), (b"", b"tail"))
    parts = spool(tmp_path, chunked(data, 65536))
    assert parts[0].size == len(payload)
    assert parts[0].path.stat().st_size == len(payload)
    assert _sha256(parts[0].path) == hashlib.sha256(payload).hexdigest()
    assert parts[1].path.read_bytes() == b"tail"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def test_discard_after_finish_removes_the_parts_files(tmp_path):
    spooler = MultipartSpooler(B, tmp_path)
    spooler.feed(DCM4CHEE_SAMPLE)
    assert len(spooler.finish()) == 2
    spooler.discard()
    assert_spool_dir_empty(tmp_path)


def test_discard_mid_body_removes_the_open_part_and_stops_input(tmp_path):
    spooler = MultipartSpooler(B, tmp_path)
    spooler.feed(DCM4CHEE_SAMPLE[:150])
    assert list(tmp_path.iterdir())
    spooler.discard()
    assert_spool_dir_empty(tmp_path)
    with pytest.raises(BadRequestError, match="discarded"):
        spooler.feed(b"more")


def test_spool_error_other_than_bad_input_also_discards(tmp_path):
    spooler = MultipartSpooler(B, tmp_path / "missing")
    with pytest.raises(FileNotFoundError):
        spooler.feed(DCM4CHEE_SAMPLE)
    with pytest.raises(BadRequestError, match="discarded"):
        spooler.finish()


# -- malformed bodies: every error names the problem and leaves no file behind

TOO_LONG_HEADER = b"X-Long: " + b"a" * 200 + b"\r\n"

MALFORMED = {
    "empty body": ([], "empty", {}),
    "empty chunks only": ([b"", b""], "empty", {}),
    "no boundary at all": ([b"just some text\r\n"], "no boundary delimiter", {}),
    "wrong boundary": ([body((b"", b"x"), boundary="other")], "no boundary delimiter", {}),
    "no close delimiter": ([b"--myboundary\r\n\r\ndata"], "close delimiter missing", {}),
    "cut after a delimiter": (
        [b"--myboundary\r\n\r\ndata\r\n--myboundary"],
        "close delimiter missing",
        {},
    ),
    "cut after the first boundary": ([b"--myboundary"], "close delimiter missing", {}),
    "cut in part headers": ([b"--myboundary\r\nContent-Type: te"], "close delimiter missing", {}),
    "cut in the close delimiter": (
        [b"--myboundary\r\n\r\nx\r\n--myboundary-"],
        "close delimiter missing",
        {},
    ),
    "close delimiter only": ([b"--myboundary--\r\n"], "no parts", {}),
    "headers too long": (
        [body((TOO_LONG_HEADER, b"x"))],
        "headers are over 100 bytes",
        {"max_header_bytes": 100},
    ),
    "headers too long, never ending": (
        [b"--myboundary\r\n" + TOO_LONG_HEADER * 3],
        "headers are over 100 bytes",
        {"max_header_bytes": 100},
    ),
    "header line without a colon": (
        [body((b"Content-Type text/plain\r\n", b"x"))],
        "malformed multipart part header",
        {},
    ),
    "header name with a space": (
        [body((b"Content Type: text/plain\r\n", b"x"))],
        "malformed multipart part header",
        {},
    ),
    "header name with a tab": (
        [body((b"Content\tType: text/plain\r\n", b"x"))],
        "malformed multipart part header",
        {},
    ),
    "header with an empty name": (
        [body((b": text/plain\r\n", b"x"))],
        "malformed multipart part header",
        {},
    ),
    "header line starting with a space": (
        [body((b" Content-Type: text/plain\r\n", b"x"))],
        "malformed multipart part header",
        {},
    ),
    "malformed part Content-Type": (
        [body((b"", b"ok"), (b"Content-Type: text\r\n", b"x"))],
        "part 2: malformed media type",
        {},
    ),
    "too many parts": ([body(*[(b"", b"x")] * 4)], "more than 3 parts", {"max_parts": 3}),
    "endless transport padding": (
        [b"--myboundary" + b" " * 200],
        "boundary line is too long",
        {"max_header_bytes": 100},
    ),
}


@pytest.mark.parametrize(("chunks", "message", "limits"), MALFORMED.values(), ids=MALFORMED.keys())
@pytest.mark.parametrize("size", [None, 1, 7])
def test_malformed_body_is_rejected_and_spool_dir_left_empty(
    tmp_path, chunks, message, limits, size
):
    if size is not None:
        chunks = chunked(b"".join(chunks), size)
    with pytest.raises(BadRequestError, match=message):
        spool(tmp_path, chunks, **limits)
    assert_spool_dir_empty(tmp_path)


def test_spooler_stays_failed_after_an_error(tmp_path):
    spooler = MultipartSpooler(B, tmp_path, max_parts=1)
    with pytest.raises(BadRequestError, match="more than 1 parts"):
        spooler.feed(body((b"", b"a"), (b"", b"b")))
    with pytest.raises(BadRequestError, match="more than 1 parts"):
        spooler.feed(b"more")
    with pytest.raises(BadRequestError, match="more than 1 parts"):
        spooler.finish()
    assert_spool_dir_empty(tmp_path)


@pytest.mark.parametrize(
    "boundary", ["", "x" * 71, "trailing ", "with\r\nnewline", "tab\there", "caf\u00e9"]
)
def test_invalid_boundary_is_rejected(tmp_path, boundary):
    with pytest.raises(BadRequestError, match="invalid multipart boundary"):
        MultipartSpooler(boundary, tmp_path)


def test_seventy_character_boundary_is_accepted(tmp_path):
    boundary = "b" * 70
    parts = spool(tmp_path, [body((b"", b"x"), boundary=boundary)], boundary)
    assert summary(parts) == [(None, None, b"x")]


# -- spool_multipart: the async driver, size limits and Content-Encoding


async def _stream(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def run_spool(chunks: Iterable[bytes], tmp_path: Path, **options) -> list[Part]:
    options.setdefault("max_bytes", 1 << 30)

    async def main() -> list[Part]:
        return await spool_multipart(_stream(chunks), B, tmp_path, **options)

    return anyio.run(main)


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


ENCODINGS = {
    "none": (None, lambda data: data),
    "identity": ("identity", lambda data: data),
    "gzip": ("gzip", gzip.compress),
    "GZIP upper case": ("GZIP", gzip.compress),
    "x-gzip": ("x-gzip", gzip.compress),
    "deflate, zlib-wrapped": ("deflate", zlib.compress),
    "deflate, raw": ("deflate", raw_deflate),
}


@pytest.mark.parametrize(("encoding", "encode"), ENCODINGS.values(), ids=ENCODINGS.keys())
@pytest.mark.parametrize("size", [1, 100, 65536])
def test_spool_multipart_undoes_content_encoding(tmp_path, encoding, encode, size):
    data = encode(DCM4CHEE_SAMPLE)
    parts = run_spool(chunked(data, size), tmp_path, encoding=encoding)
    assert summary(parts) == DCM4CHEE_PARTS


@pytest.mark.parametrize(("encoding", "encode"), ENCODINGS.values(), ids=ENCODINGS.keys())
def test_spool_multipart_inflates_a_large_part_intact(tmp_path, encoding, encode):
    payload = os.urandom(3 * 1024 * 1024) + bytes(5 * 1024 * 1024)
    data = encode(body((b"", payload)))
    [part] = run_spool(chunked(data, 65536), tmp_path, encoding=encoding)
    assert part.size == len(payload)
    assert _sha256(part.path) == hashlib.sha256(payload).hexdigest()


def test_spool_multipart_accepts_one_chunk_of_many_megabytes(tmp_path):
    payload = os.urandom(5 * 1024 * 1024 + 7)
    [part] = run_spool([body((b"", payload))], tmp_path)
    assert part.path.read_bytes() == payload


def test_spool_multipart_accepts_body_of_exactly_max_bytes(tmp_path):
    data = body((b"", b"x" * 1000))
    assert len(run_spool(chunked(data, 100), tmp_path, max_bytes=len(data))) == 1


def test_spool_multipart_rejects_body_over_max_bytes(tmp_path):
    data = body((b"", b"x" * 1000))
    with pytest.raises(PayloadTooLargeError, match=f"over {len(data) - 1} bytes"):
        run_spool(chunked(data, 100), tmp_path, max_bytes=len(data) - 1)
    assert_spool_dir_empty(tmp_path)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_spool_multipart_rejects_inflated_body_over_the_limit(tmp_path, encoding):
    bomb = body((b"", bytes(50 * 1024 * 1024)))
    data = gzip.compress(bomb) if encoding == "gzip" else zlib.compress(bomb)
    assert len(data) < 100_000
    with pytest.raises(PayloadTooLargeError, match="inflated body over 1000000 bytes"):
        run_spool(chunked(data, 65536), tmp_path, encoding=encoding, max_inflated_bytes=1_000_000)
    assert_spool_dir_empty(tmp_path)


def test_spool_multipart_accepts_inflated_body_of_exactly_the_limit(tmp_path):
    data = body((b"", bytes(3 * 1024 * 1024)))
    parts = run_spool(
        [gzip.compress(data)], tmp_path, encoding="gzip", max_inflated_bytes=len(data)
    )
    assert parts[0].size == 3 * 1024 * 1024


@pytest.mark.parametrize("encoding", ["br", "compress", "gzip, deflate", "zstd"])
def test_spool_multipart_rejects_unsupported_content_encoding(tmp_path, encoding):
    with pytest.raises(UnsupportedMediaTypeError, match="Content-Encoding"):
        run_spool([DCM4CHEE_SAMPLE], tmp_path, encoding=encoding)
    assert_spool_dir_empty(tmp_path)


BAD_COMPRESSION = {
    "corrupt gzip": ("gzip", gzip.compress(DCM4CHEE_SAMPLE)[:20] + b"garbage" * 20, "corrupt gzip"),
    "not gzip at all": ("gzip", DCM4CHEE_SAMPLE, "corrupt gzip"),
    "truncated gzip": ("gzip", gzip.compress(DCM4CHEE_SAMPLE)[:-10], "gzip body is truncated"),
    "one byte of gzip": ("gzip", b"\x1f", "gzip body is truncated"),
    "data after gzip": ("gzip", gzip.compress(DCM4CHEE_SAMPLE) + b"junk", "after the end"),
    "invalid deflate block type": ("deflate", b"\x78\x9c\x07" + bytes(20), "corrupt deflate"),
    "wrong zlib checksum": (
        "deflate",
        zlib.compress(DCM4CHEE_SAMPLE)[:-4] + bytes(4),
        "corrupt deflate body: .*incorrect data check",
    ),
    "truncated deflate": ("deflate", zlib.compress(DCM4CHEE_SAMPLE)[:-8], "truncated"),
}


@pytest.mark.parametrize(
    ("encoding", "data", "message"), BAD_COMPRESSION.values(), ids=BAD_COMPRESSION.keys()
)
@pytest.mark.parametrize("size", [3, 65536])
def test_spool_multipart_rejects_bad_compressed_data(tmp_path, encoding, data, message, size):
    with pytest.raises(BadRequestError, match=message):
        run_spool(chunked(data, size), tmp_path, encoding=encoding)
    assert_spool_dir_empty(tmp_path)


def test_spool_multipart_rejects_data_after_gzip_end_in_a_later_chunk(tmp_path):
    with pytest.raises(BadRequestError, match="data after the end of the gzip body"):
        run_spool([gzip.compress(DCM4CHEE_SAMPLE), b"junk"], tmp_path, encoding="gzip")
    assert_spool_dir_empty(tmp_path)


def test_spool_multipart_rejects_malformed_body_and_leaves_nothing(tmp_path):
    with pytest.raises(BadRequestError, match="close delimiter missing"):
        run_spool(chunked(DCM4CHEE_SAMPLE[:-20], 16), tmp_path)
    assert_spool_dir_empty(tmp_path)


def test_spool_multipart_discards_files_when_the_stream_fails(tmp_path):
    class ClientGone(Exception):
        pass

    async def failing() -> AsyncIterator[bytes]:
        yield DCM4CHEE_SAMPLE[:200]
        raise ClientGone

    async def main() -> None:
        await spool_multipart(failing(), B, tmp_path, max_bytes=1 << 20)

    with pytest.raises(ClientGone):
        anyio.run(main)
    assert_spool_dir_empty(tmp_path)


def test_spool_multipart_rejects_invalid_boundary(tmp_path):
    async def main() -> None:
        await spool_multipart(_stream([DCM4CHEE_SAMPLE]), "", tmp_path, max_bytes=1 << 20)

    with pytest.raises(BadRequestError, match="invalid multipart boundary"):
        anyio.run(main)
