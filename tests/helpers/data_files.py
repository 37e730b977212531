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


def real_image_files(max_pixel_bytes: int) -> list[Path]:
    """Every real file (pydicom's test files and pydicom-data) with Pixel Data whose
    decoded pixels take at most `max_pixel_bytes`, by name, one path per name."""
    chosen: dict[str, Path] = {}
    own = Path(pydicom.data.__file__).parent / "test_files"
    for path in pydicom_data_files() + sorted(own.rglob("*.dcm")):
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            size = (int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel", 1))
                    * int(ds.get("NumberOfFrames", 1) or 1) * int(ds.BitsAllocated)) // 8
        except Exception:  # noqa: BLE001 - not an image, or a header too broken to size
            continue
        if 0 < size <= max_pixel_bytes:
            chosen.setdefault(path.name, path)
    return [chosen[name] for name in sorted(chosen)]


# Real files whose pixel data no decoder here reads (pydicom's own fail too), and the
# words the 406 that refuses to render them has in its message.
UNDECODABLE = {
    "JPEG-lossy.dcm": "cannot be decoded",  # libjpeg: a misplaced marker segment
    "JPEG2000-embedded-sequence-delimiter.dcm": "cannot be decoded",  # no J2K header
}
