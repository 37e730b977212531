"""The two ways of describing a received file agree.

The fast path (element_reader + header_json) reads common encodings straight from the
bytes; the full path reads with pydicom. For every real file, and for corrupted copies,
the fast path must either hand the file to the full path or give exactly its answer:
the same record (metadata bytes, bulk data positions, frame table, index values,
digest) or the same refusal."""

from __future__ import annotations

import mmap
from pathlib import Path

import pydicom
import pytest
from helpers.data_files import corrupted_copies, pydicom_data_files
from helpers.dicom_files import ct_instance, part10_bytes
from pydicom.uid import ExplicitVRBigEndian, ImplicitVRLittleEndian

from hounsfield.archive import instance_file
from hounsfield.dicom.element_reader import NeedsFullParserError
from hounsfield.errors import InstanceRejectedError

THRESHOLD = 1024
PYDICOM_TEST_FILES = [Path(p) for p in pydicom.data.get_testdata_files("*")
                      if Path(p).is_file()]
FILES = [p for p in pydicom_data_files() + PYDICOM_TEST_FILES if p.stat().st_size >= 132]


def fast(path: Path):
    with open(path, "rb") as fp, mmap.mmap(fp.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        return instance_file._describe_fast(buf, path.stat().st_size, THRESHOLD, None)


def full(path: Path):
    with open(path, "rb") as fp:
        return instance_file._describe_full(fp, THRESHOLD, None)


def outcome(describe, path: Path):
    try:
        return describe(path)
    except InstanceRejectedError as exc:
        return ("refused", exc.failure_reason, exc.message)
    except NeedsFullParserError:
        raise
    except Exception as exc:  # noqa: BLE001 - describe_file makes these C000H
        return ("unreadable", type(exc).__name__)


def assert_agree(path: Path) -> bool:
    """True when the fast path answered (and agreed), False when it deferred."""
    try:
        answer = outcome(fast, path)
    except NeedsFullParserError:
        return False
    assert answer == outcome(full, path)
    return True


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fast_path_agrees_with_pydicom_on_real_files(path: Path) -> None:
    assert_agree(path)


def test_fast_path_reads_most_real_files() -> None:
    answered = sum(assert_agree(path) for path in FILES)
    assert answered >= 0.75 * len(FILES)


@pytest.mark.parametrize("syntax", [None, ImplicitVRLittleEndian, ExplicitVRBigEndian])
def test_fast_path_reads_generated_instances(tmp_path, syntax) -> None:
    ds = ct_instance(rows=8, columns=8, frames=2)
    ds.ReferencedStudySequence = [pydicom.Dataset(), pydicom.Dataset()]
    ds.ReferencedStudySequence[0].ReferencedSOPInstanceUID = "1.2.3"
    ds.ReferencedStudySequence[1].ReferencedSOPClassUID = "1.2.4"
    if syntax is not None:
        ds.file_meta.TransferSyntaxUID = syntax
    path = tmp_path / "x.dcm"
    path.write_bytes(part10_bytes(ds))
    assert assert_agree(path), "the fast path reads plain instances itself"


@pytest.mark.parametrize("seed", range(4))
def test_fast_path_agrees_on_corrupted_files(tmp_path, seed: int) -> None:
    small = [p for p in FILES if p.stat().st_size < 300_000]
    target = tmp_path / "x.dcm"
    for data in corrupted_copies(small, seed, 100):
        target.write_bytes(data)
        assert_agree(target)
