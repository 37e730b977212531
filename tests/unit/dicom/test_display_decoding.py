"""JPEG Baseline frames decoded for display by Pillow: the same pixels, within JPEG's
decoder tolerance, as pydicom's decoding turned into RGB; other frames are left to the
general decoder."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from helpers.data_files import pydicom_test_file
from pydicom.encaps import generate_frames

from hounsfield.dicom import codecs
from hounsfield.dicom.pixel_format import PixelFormat


def _first_frame(ds: pydicom.Dataset) -> bytes:
    return next(generate_frames(ds.PixelData, number_of_frames=int(ds.get("NumberOfFrames", 1))))


@pytest.mark.parametrize("name", ["SC_rgb_jpeg_dcmtk.dcm", "SC_rgb_jpeg_gdcm.dcm",
                                  "JPEG2000.dcm", "SC_rgb_small_odd_jpeg.dcm"])
def test_baseline_frames_match_pydicom_in_rgb(name: str) -> None:
    ds = pydicom.dcmread(pydicom_test_file(name))
    layout = PixelFormat.of_dataset(ds)
    decoded = codecs.decode_for_display(_first_frame(ds), ds.file_meta.TransferSyntaxUID,
                                        layout)
    if ds.file_meta.TransferSyntaxUID != codecs.JPEG_BASELINE:
        assert decoded is None
        return
    assert decoded is not None
    array, photometric = decoded
    expected = ds.pixel_array  # pydicom turns YCbCr into RGB itself (as_rgb)
    if expected.ndim == 4:
        expected = expected[0]
    assert photometric == "RGB" and array.shape == expected.shape
    difference = np.abs(array.astype(int) - expected.astype(int))
    assert difference.mean() <= 1.0 and difference.max() <= 8


def test_other_colour_models_are_left_to_the_general_decoder() -> None:
    ds = pydicom.dcmread(pydicom_test_file("SC_rgb_jpeg_dcmtk.dcm"))
    rgb = PixelFormat.of_dataset(ds).with_photometric("RGB")
    assert codecs.decode_for_display(_first_frame(ds), codecs.JPEG_BASELINE, rgb) is None


def test_a_frame_that_is_no_jpeg_is_left_to_the_general_decoder() -> None:
    ds = pydicom.dcmread(pydicom_test_file("SC_rgb_jpeg_dcmtk.dcm"))
    layout = PixelFormat.of_dataset(ds)
    assert codecs.decode_for_display(b"not a jpeg", codecs.JPEG_BASELINE, layout) is None
