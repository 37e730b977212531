"""Colour to RGB: YBR conversions against pydicom's, RCT, palette (normal, segmented)."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from helpers.data_files import pydicom_data_dir
from helpers.render_source import array_source, dataset_source
from pydicom.pixels import apply_color_lut, convert_color_space, pixel_array

from hounsfield.dicom.render.color import palette_to_rgb, rct_to_rgb, to_rgb8
from hounsfield.dicom.render.frame_attributes import FrameAttributes
from hounsfield.dicom.render.pixel_description import pixel_description
from hounsfield.dicom.render.segmented_lut import expand_segmented

RNG = np.random.default_rng(3)
YBR = RNG.integers(0, 256, (32, 32, 3), dtype=np.uint8)


def rgb(frame, photometric, **keywords):
    source = array_source(frame, photometric, **keywords)
    return to_rgb8(frame, photometric, pixel_description(source.attributes),
                   FrameAttributes(source.attributes, 1, source.bulk_data))


@pytest.mark.parametrize("photometric", ["YBR_FULL", "YBR_FULL_422", "YBR_ICT"])
def test_ybr_full_matches_pydicom_within_one_level(photometric):
    expected = convert_color_space(YBR, "YBR_FULL", "RGB").astype(int)
    assert np.abs(rgb(YBR, photometric).astype(int) - expected).max() <= 1


def test_real_ybr_full_file_matches_pydicom_conversion():
    ds = pydicom.dcmread(pydicom_data_dir() / "SC_ybr_full_uncompressed.dcm")
    raw = pixel_array(ds, as_rgb=False)
    expected = pixel_array(ds).astype(int)  # pydicom converts to RGB itself
    assert np.abs(rgb(raw, "YBR_FULL").astype(int) - expected).max() <= 1


def test_rct_inverts_the_forward_reversible_transform():
    r, g, b = (RNG.integers(0, 256, (16, 16)) for _ in range(3))
    y = (r + 2 * g + b) >> 2
    ybr = np.stack([y, b - g + 128, r - g + 128], axis=-1)  # chroma centred on 128
    assert np.array_equal(rct_to_rgb(ybr, 8), np.stack([r, g, b], axis=-1))


def test_rgb_above_8_bits_is_scaled_by_bits_stored():
    frame = np.array([[[0, 2048, 4095]]], np.uint16)
    assert rgb(frame, "RGB", bits_stored=12).tolist() == [[[0, 128, 255]]]


def _palette(bits=16, first=0, entries=4):
    scale = 257 if bits == 16 else 1
    keywords = {}
    for i, colour in enumerate(("Red", "Green", "Blue")):
        values = [(v * (i + 1)) % 256 * scale for v in (0, 50, 100, 200)[:entries]]
        keywords[f"{colour}PaletteColorLookupTableDescriptor"] = [entries, first, bits]
        data = np.asarray(values, "<u2" if bits == 16 else "u1").tobytes()
        keywords[f"{colour}PaletteColorLookupTableData"] = data
    return keywords


@pytest.mark.parametrize("bits", [8, 16])
def test_palette_indexes_the_three_luts(bits):
    frame = np.array([[0, 1, 2, 3, 9]], np.uint8)
    out = rgb(frame, "PALETTE COLOR", **_palette(bits))
    assert out.tolist() == [[[0, 0, 0], [50, 100, 150], [100, 200, 44], [200, 144, 88],
                             [200, 144, 88]]]  # above the last entry: the last


def test_palette_first_value_mapped_offsets_the_index():
    frame = np.array([[10, 11]], np.uint8)
    assert rgb(frame, "PALETTE COLOR", **_palette(8, first=10))[0, :, 0].tolist() == [0, 50]


@pytest.mark.parametrize(("words", "expected"), [
    ([0, 3, 10, 20, 30], [10, 20, 30]),                     # discrete
    ([0, 1, 0, 1, 4, 100], [0, 25, 50, 75, 100]),           # linear from the last value
    ([0, 2, 5, 6, 2, 1, 0, 0], [5, 6, 5, 6]),               # indirect: replay segment 0
])
def test_segmented_lut_expands_per_c7_9_2(words, expected):
    out = expand_segmented(np.array(words, np.uint16), len(expected))
    assert out.tolist() == expected


def test_real_segmented_palette_matches_pydicom():
    ds = pydicom.dcmread(pydicom_data_dir() / "gdcm-US-ALOKA-16.dcm")
    frame = pixel_array(ds)
    real = dataset_source(ds)
    attributes = FrameAttributes(real.attributes, 1, real.bulk_data)
    out = palette_to_rgb(frame, attributes, False)
    expected = (apply_color_lut(frame, ds) >> 8).astype(int)
    assert np.abs(out.astype(int) - expected).max() <= 1
