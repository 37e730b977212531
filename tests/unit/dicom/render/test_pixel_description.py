"""Native frames from their bytes: planar configuration, 1-bit, Bits Stored, signed."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from helpers.data_files import pydicom_data_dir
from helpers.render_source import json_model
from pydicom.pixels import pixel_array

from hounsfield.dicom.render.pixel_description import (
    PixelDescription,
    native_frame,
    pixel_description,
)
from hounsfield.errors import NotRenderableError


def describe(rows=2, columns=3, samples=1, allocated=16, stored=16, signed=0, planar=0,
             photometric="MONOCHROME2"):
    return PixelDescription(rows, columns, samples, allocated, stored, signed, photometric,
                            planar, 1)


def test_planar_configuration_1_is_undone():
    planes = np.arange(18, dtype=np.uint8)  # RRRRRR GGGGGG BBBBBB
    frame = native_frame(planes.tobytes(), describe(samples=3, allocated=8, stored=8,
                                                    planar=1, photometric="RGB"))
    assert frame[0, 0].tolist() == [0, 6, 12]
    assert frame[1, 2].tolist() == [5, 11, 17]


def test_one_bit_frames_are_unpacked_least_significant_bit_first():
    frame = native_frame(bytes([0b00000101]), describe(allocated=1, stored=1))
    assert frame.tolist() == [[1, 0, 1], [0, 0, 0]]


@pytest.mark.parametrize(("signed", "words", "expected"), [
    (0, [0xF123, 0x0FFF], [0x0123, 0x0FFF]),
    (1, [0xF7FF, 0x0800], [2047, -2048]),
])
def test_bits_stored_is_masked_and_sign_extended(signed, words, expected):
    data = np.array(words + [0] * 4, "<u2").tobytes()
    frame = native_frame(data, describe(stored=12, signed=signed))
    assert frame.ravel()[:2].tolist() == expected


def test_short_frame_is_refused():
    with pytest.raises(NotRenderableError, match="6 pixels"):
        native_frame(b"\0" * 4, describe())


@pytest.mark.parametrize("name", ["CT_small.dcm", "SC_rgb.dcm", "color-pl.dcm",
                                  "MR_small.dcm"])
def test_native_frame_equals_pydicom_pixel_array(name):
    path = pydicom.data.get_testdata_file(name)
    ds = pydicom.dcmread(path)
    pixels = pixel_description(json_model(ds)[0] | {"7FE00010": {"vr": "OW"}})
    assert np.array_equal(native_frame(ds.PixelData, pixels), pixel_array(ds))


def test_object_without_pixel_data_is_not_renderable():
    ds = pydicom.dcmread(pydicom_data_dir() / "SC_rgb.dcm", stop_before_pixels=True)
    with pytest.raises(NotRenderableError, match="no pixel data"):
        pixel_description(json_model(ds)[0])
