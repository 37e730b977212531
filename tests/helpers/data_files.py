"""Real DICOM files: the pydicom-data package and pydicom's own test files."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pydicom


def pydicom_data_dir() -> Path:
    spec = importlib.util.find_spec("data_store")
    assert spec is not None and spec.origin, "the pydicom-data package is not installed"
    return Path(spec.origin).parent / "data"


def pydicom_data_files() -> list[Path]:
    return sorted(pydicom_data_dir().glob("*.dcm"))


def pydicom_test_file(name: str) -> Path:
    return Path(pydicom.data.get_testdata_file(name))
