"""Transcoded objects checked by dciodvfy (dicom3tools), an independent validator: no
"Error" line that the source file did not already have.

This dicom3tools (2022) cannot read a deflated data set, nor knows the HTJ2K transfer
syntaxes: a deflated result is checked inflated (as Explicit VR Little Endian, after
pydicom read it back deflated), an HTJ2K one with the UID of JPEG 2000 Lossless, whose
encapsulation is the same.
"""

from __future__ import annotations

import shutil
import subprocess
import zlib
from pathlib import Path

import pydicom
import pytest
from helpers.data_files import pydicom_test_file

from hounsfield.dicom import codecs
from hounsfield.dicom.transcode import TARGETS, transcode

pytestmark = pytest.mark.skipif(shutil.which("dciodvfy") is None,
                                reason="dciodvfy (Debian package dicom3tools) is not installed")

SAMPLES = ["CT_small.dcm", "MR_small_bigendian.dcm", "US1_J2KR.dcm", "SC_rgb.dcm",
           "SC_rgb_jpeg_dcmtk.dcm", "emri_small_jpeg_2k_lossless.dcm", "OBXXXX1A.dcm"]


def errors(data: bytes, folder: Path) -> set[str]:
    path = folder / "object.dcm"
    path.write_bytes(data)
    run = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
    return {line for line in (run.stdout + run.stderr).splitlines()
            if line.startswith("Error")}


def as_dciodvfy_reads(data: bytes, target: str) -> bytes:
    if target == codecs.DEFLATED:
        pydicom.dcmread(pydicom.filebase.DicomBytesIO(data))  # pydicom inflates it
        meta_end = 132 + 12 + int.from_bytes(data[140:144], "little")
        inflated = zlib.decompress(data[meta_end:], -zlib.MAX_WBITS)
        return _with_syntax(data[:meta_end], target, codecs.EXPLICIT_LE) + inflated
    if target == codecs.HTJ2K:
        return _with_syntax(data, codecs.HTJ2K, codecs.JPEG_2000)
    return data


def _with_syntax(data: bytes, uid: str, other: str) -> bytes:
    """`other` for `uid` in the File Meta Information, padded to the same length."""
    padded = other.encode() + b"\0" * (len(uid) - len(other) + len(uid) % 2)
    return data.replace(uid.encode() + b"\0" * (len(uid) % 2), padded, 1)


@pytest.mark.parametrize("name", SAMPLES)
def test_transcoded_objects_have_no_new_dciodvfy_errors(name: str, tmp_path: Path) -> None:
    data = pydicom_test_file(name).read_bytes()
    before = errors(data, tmp_path)
    checked = 0
    for target in sorted(TARGETS):
        try:
            result = transcode(data, target)
        except Exception:  # noqa: BLE001, S112 - refusals are tested in test_transcode
            continue
        new = errors(as_dciodvfy_reads(result, target), tmp_path) - before
        assert new == set(), (name, target)
        checked += 1
    assert checked >= 7
