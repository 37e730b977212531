"""The frame table located at store time, checked against pydicom's own frame reading."""

from __future__ import annotations

import pydicom
import pytest
from helpers.data_files import pydicom_data_files
from pydicom.encaps import generate_frames

from hounsfield.dicom.frames import ImageLayout, frame_table, number_of_frames
from hounsfield.dicom.part10 import read_part10
from hounsfield.errors import InstanceRejectedError


def frames_from_table(path, table):
    data = path.read_bytes()
    return [b"".join(data[o:o + n] for o, n in frame) for frame in table]


def expected_frames(path):
    ds = pydicom.dcmread(path)
    count = number_of_frames(ds)
    if ds.file_meta.TransferSyntaxUID.is_encapsulated:
        return list(generate_frames(ds.PixelData, number_of_frames=count))
    pixels = bytes(ds.PixelData)
    bits = ds.Rows * ds.Columns * ds.get("SamplesPerPixel", 1) * ds.BitsAllocated
    assert bits % 8 == 0
    size = bits // 8
    return [pixels[i * size:(i + 1) * size] for i in range(count)]


FILES = [p for p in pydicom_data_files() if "too_short" not in p.name]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_frame_table_matches_pydicom(path) -> None:
    with open(path, "rb") as fp:
        try:
            part10 = read_part10(fp)
        except InstanceRejectedError:
            pytest.skip("not a Part 10 file")
        if part10.pixel_data is None:
            pytest.skip("no pixel data")
        layout = ImageLayout.of_dataset(part10.dataset)
        table = frame_table(fp, part10.pixel_data, layout)
        if part10.transfer_syntax_uid == "1.2.840.10008.1.2.2":
            assert table is not None and len(table) == number_of_frames(part10.dataset)
            return  # pydicom swaps big endian bytes; offsets are checked on the LE twins
    assert table is not None, "every frame of these files can be located"
    assert frames_from_table(path, table) == expected_frames(path)


def test_truncated_encapsulated_file_is_rejected() -> None:
    [path] = [p for p in pydicom_data_files() if "too_short" in p.name]
    with open(path, "rb") as fp, pytest.raises(InstanceRejectedError, match="truncated"):
        read_part10(fp)
