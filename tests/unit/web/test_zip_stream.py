"""The streaming ZIP writer: zipfile and unzip read what it writes, CRC-32s check,
ZIP64 records appear when needed, and memory stays bounded by one chunk."""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from hounsfield.web.zip_stream import ZipStream

MODIFIED = 1767225600.0  # 2026-01-01 00:00:00 UTC


def _archive(entries: dict[str, list[bytes]], **options: bool) -> bytes:
    stream = ZipStream(**options)
    out = []
    for name, chunks in entries.items():
        out.append(stream.begin(name, sum(map(len, chunks)), MODIFIED))
        out += [stream.write(c) for c in chunks]
        out.append(stream.end())
    out.append(stream.close())
    return b"".join(out)


def test_entries_read_back_with_their_crc_and_date() -> None:
    entries = {"DICOM/A/B/C": [b"x" * 1000, b"y" * 7], "DICOMDIR": [b"dir"], "EMPTY": []}
    archive = zipfile.ZipFile(io.BytesIO(_archive(entries)))
    assert archive.testzip() is None
    assert {n: archive.read(n) for n in archive.namelist()} == {
        n: b"".join(c) for n, c in entries.items()}
    info = archive.getinfo("DICOM/A/B/C")
    crc = info.CRC
    assert crc == zlib.crc32(b"x" * 1000 + b"y" * 7)
    assert info.compress_type == zipfile.ZIP_STORED and info.flag_bits & 0x08  # descriptor
    assert info.date_time == (2026, 1, 1, 0, 0, 0)


def test_whole_entry_is_the_same_as_chunked() -> None:
    chunked = ZipStream()
    whole = ZipStream()
    a = chunked.begin("A", 6, MODIFIED) + chunked.write(b"abc") + chunked.write(b"def")
    a += chunked.end() + chunked.close()
    assert whole.entry("A", b"abcdef", MODIFIED) + whole.close() == a


@pytest.mark.skipif(shutil.which("unzip") is None, reason="unzip not installed")
def test_unzip_tests_it(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    path.write_bytes(_archive({"A/B": [os.urandom(100_000)], "C": [b"c"]}))
    result = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0 and "No errors detected" in result.stdout


def test_forced_zip64_entries_read_back() -> None:
    data = _archive({"A": [b"a" * 10], "B": [b"b"]}, force_zip64=True)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.read("A") == b"a" * 10 and archive.testzip() is None
    # ZIP64 data descriptor: signature, CRC-32, then 8-byte sizes
    descriptor = data.index(b"PK\x07\x08")
    assert struct.unpack_from("<QQ", data, descriptor + 8) == (10, 10)


def test_zip64_end_records_past_the_entry_count_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 3)
    data = _archive({f"E{n}": [bytes([n])] for n in range(5)})
    assert b"PK\x06\x06" in data and b"PK\x06\x07" in data  # ZIP64 end record and locator
    monkeypatch.undo()
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert [archive.read(f"E{n}") for n in range(5)] == [bytes([n]) for n in range(5)]


def test_an_entry_declared_near_2_gib_gets_zip64_sizes() -> None:
    stream = ZipStream()
    header = stream.begin("BIG", 1 << 31, MODIFIED)
    assert struct.unpack_from("<H", header, 28)[0] == 20  # a ZIP64 extra field follows
    assert header[30 + 3:30 + 3 + 2] == b"\x01\x00"  # its header ID


def test_memory_is_bounded_by_one_chunk() -> None:
    chunk = os.urandom(1 << 20)
    stream = ZipStream()
    stream.begin("BIG", 64 << 20, MODIFIED)
    tracemalloc.start()
    for _ in range(64):
        stream.write(chunk)  # the caller sends each piece away
    stream.end()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2 << 20
