"""Monochrome frames: rescale and Modality LUT (C.11.1), signed pixels, Bits Stored,
MONOCHROME1 and Presentation LUT Shape (C.11.6), the table path against direct values."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.render_source import array_source
from pydicom.dataset import Dataset

from hounsfield.dicom.render.frame_attributes import FrameAttributes
from hounsfield.dicom.render.grayscale import grayscale_chain
from hounsfield.dicom.render.modality_lut import ModalityTable, Rescale, modality_transform
from hounsfield.dicom.render.pixel_description import pixel_description
from hounsfield.dicom.render.voi import Window


def display(frame, window=None, photometric="MONOCHROME2", maximum=255, **keywords):
    source = array_source(frame, photometric, **keywords)
    pixels = pixel_description(source.attributes)
    attributes = FrameAttributes(source.attributes, 1, source.bulk_data)
    chain = grayscale_chain(frame, pixels, attributes, photometric, window)
    return chain.render(frame, maximum)


@pytest.mark.parametrize(("slope", "intercept", "stored", "expected"), [
    (1, -1024, [0, 1024, 4095], [-1024, 0, 3071]),
    (0.5, 10, [0, 2, 7], [10, 11, 13.5]),
    (2, 0, [-5, 5], [-10, 10]),
])
def test_rescale_is_slope_times_stored_plus_intercept(slope, intercept, stored, expected):
    out = Rescale(slope, intercept).apply(np.array(stored))
    assert out.tolist() == pytest.approx(expected)


def _modality_lut_item(first=100, data=(5, 50, 500), bits=16):
    item = Dataset()
    item.add_new("LUTDescriptor", "US", [len(data), first, bits])
    item.add_new("LUTData", "US", list(data))
    item.ModalityLUTType = "HU"
    return item


def test_modality_lut_sequence_is_used_and_clamped():
    source = array_source(np.zeros((1, 1), np.uint16), ModalityLUTSequence=[_modality_lut_item()],
                          RescaleSlope=5, RescaleIntercept=5)
    transform = modality_transform(FrameAttributes(source.attributes), False)
    assert isinstance(transform, ModalityTable)
    assert transform.apply(np.array([0, 100, 101, 102, 103, 9999])).tolist() == [
        5, 5, 50, 500, 500, 500]


def test_signed_first_value_mapped_above_32767_is_negative():
    item = _modality_lut_item(first=0xFFFE)  # -2 as SS
    source = array_source(np.zeros((1, 1), np.int16), ModalityLUTSequence=[item])
    transform = modality_transform(FrameAttributes(source.attributes), True)
    assert transform.apply(np.array([-2, -1, 0])).tolist() == [5, 50, 500]


def test_modality_lut_data_as_bulk_data_is_read_through_the_reader():
    item = _modality_lut_item(data=tuple(range(0, 2000, 2)), first=0)
    source = array_source(np.array([[0, 500, 999]], np.uint16), ModalityLUTSequence=[item])
    lut = source.attributes["00283000"]["Value"][0]["00283006"]
    bulk = {"lut": np.arange(0, 2000, 2, dtype="<u2").tobytes()}
    source.attributes["00283000"]["Value"][0]["00283006"] = {"vr": "OW", "BulkDataURI": "lut"}
    assert "Value" in lut
    pixels = pixel_description(source.attributes)
    attributes = FrameAttributes(source.attributes, 1, bulk.__getitem__)
    frame = source.frame(1)
    chain = grayscale_chain(frame, pixels, attributes, "MONOCHROME2", Window(999, 1000))
    assert chain.modality.apply(np.array([500])).tolist() == [1000]


def test_ct_window_renders_to_hand_computed_values():
    # stored 0..4095 with intercept -1024: HU -1024, 0, 40, 240, 3071; window 40/400
    frame = np.array([[0, 1024, 1064, 1264, 4095]], np.uint16)
    out = display(frame, RescaleSlope=1, RescaleIntercept=-1024, WindowCenter=40,
                  WindowWidth=400)
    # LINEAR: ((x - 39.5) / 399 + 0.5) * 255 for -160 < x <= 239
    assert out.tolist() == [[0, round((0 - 39.5) / 399 * 255 + 127.5), 128, 255, 255]]


def test_monochrome1_is_inverted():
    frame = np.array([[0, 100, 255]], np.uint8)
    window = Window(128, 256)
    normal = display(frame, window)
    inverted = display(frame, window, photometric="MONOCHROME1")
    assert (inverted.astype(int) + normal).tolist() == [[255, 255, 255]]


@pytest.mark.parametrize(("photometric", "shape", "inverted"), [
    ("MONOCHROME2", "INVERSE", True), ("MONOCHROME2", "IDENTITY", False),
    ("MONOCHROME1", "INVERSE", True), ("MONOCHROME1", "IDENTITY", False),
])
def test_presentation_lut_shape_decides_inversion(photometric, shape, inverted):
    out = display(np.array([[0, 255]], np.uint8), Window(128, 256), photometric,
                  PresentationLUTShape=shape)
    assert out.tolist() == ([[255, 0]] if inverted else [[0, 255]])


def test_signed_pixels_are_windowed_by_value():
    frame = np.array([[-2000, -1000, 0, 1000]], np.int16)
    out = display(frame, Window(0.5, 2000))  # LINEAR edges at -999.5 .. 999.5
    assert out.tolist() == [[0, 0, 128, 255]]


def test_bits_stored_masks_high_bits_and_sign_extends():
    # 12 bits stored: 0xF000 garbage above; 0x0FFF is -1 signed, 4095 unsigned
    unsigned = display(np.array([[0xF000 | 4095, 0xF000]], np.uint16), Window(2048, 4096),
                       bits_stored=12)
    assert unsigned.tolist() == [[255, 0]]
    signed = display(np.array([[0x0FFF, 0x0800]], np.uint16).view(np.int16),
                     Window(0, 4096), bits_stored=12)
    # -1 and -2048 (0x800 sign-extended)
    assert signed.tolist() == [[round((-1 + 0.5) / 4095 * 255 + 127.5), 0]]


def test_min_max_window_spans_the_frame_after_rescale():
    frame = np.array([[100, 150, 200]], np.uint16)
    assert display(frame, RescaleSlope=2, RescaleIntercept=-10).tolist() == [[0, 128, 255]]


def test_table_path_equals_direct_computation():
    rng = np.random.default_rng(6)
    frame = rng.integers(-32768, 32767, (64, 64), dtype=np.int16)
    keywords = dict(RescaleSlope=0.7, RescaleIntercept=-3, WindowCenter=100, WindowWidth=5000,
                    VOILUTFunction="SIGMOID")
    table = display(frame, **keywords)
    direct = display(frame.astype(np.int32), **keywords)
    assert np.array_equal(table, direct)


def test_float_pixels_render():
    frame = np.array([[0.0, 0.5, 1.0]], np.float32)
    assert display(frame).tolist() == [[0, 128, 255]]


def test_sixteen_bit_output_keeps_precision():
    frame = np.array([[0, 1, 4095]], np.uint16)
    out = display(frame, Window(2048, 4096), maximum=65535)
    assert out.dtype == np.uint16
    assert out.tolist() == [[0, round((1 - 2047.5) / 4095 * 65535 + 32767.5), 65535]]
