"""Real DICOM files: the pydicom-data package and pydicom's own test files."""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Iterator
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


def corrupted_copies(files: list[Path], seed: int, count: int) -> Iterator[bytes]:
    """`count` damaged copies of real files: bytes overwritten in the header, or cut short."""
    rng = random.Random(seed)
    for _ in range(count):
        data = bytearray(rng.choice(files).read_bytes())
        if rng.random() < 0.5:
            for _ in range(rng.randint(1, 20)):
                data[rng.randrange(128, min(len(data), 4000))] = rng.randrange(256)
        else:
            data = data[: rng.randrange(132, len(data))]
        yield bytes(data)
