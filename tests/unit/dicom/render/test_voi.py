"""VOI LUT stage: window formulas of PS3.3 C.11.2.1.2/C.11.2.1.3 and the choice of VOI."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers.render_source import array_source
from pydicom.dataset import Dataset

from hounsfield.dicom.render.frame_attributes import FrameAttributes
from hounsfield.dicom.render.voi import VoiTable, Window, choose_voi, min_max_window
from hounsfield.errors import RenderParameterError


@pytest.mark.parametrize(("center", "width", "x", "expected"), [
    # LINEAR, C.11.2.1.2.1: edges at c - 0.5 -/+ (w-1)/2
    (40, 400, -160.5, 0.0),    # x <= c - 0.5 - (w-1)/2 = -160
    (40, 400, -160, 0.0),
    (40, 400, 239.5, 1.0),     # x > c - 0.5 + (w-1)/2 = 239
    (40, 400, 39.5, 0.5),      # the middle: x = c - 0.5
    (40, 400, 139.25, 0.75),   # ((139.25 - 39.5) / 399 + 0.5) = 0.75
    (0, 1, 0, 1.0),            # width 1: a threshold at c - 0.5
    (0, 1, -0.5, 0.0),
])
def test_linear_window_follows_c11_2_1_2_1(center, width, x, expected):
    assert Window(center, width).apply(np.array([x]))[0] == pytest.approx(expected)


@pytest.mark.parametrize(("center", "width", "x", "expected"), [
    (100, 50, 75, 0.0),     # x <= c - w/2
    (100, 50, 125.5, 1.0),  # x > c + w/2
    (100, 50, 100, 0.5),
    (100, 50, 112.5, 0.75),
    (100, 0.5, 100.1, 0.7),  # a width below 1 is allowed
])
def test_linear_exact_window_follows_c11_2_1_3_2(center, width, x, expected):
    out = Window(center, width, "LINEAR_EXACT").apply(np.array([x]))[0]
    assert out == pytest.approx(expected)


@pytest.mark.parametrize(("x", "expected"), [
    (100, 0.5), (150, 1 / (1 + math.exp(-1))), (300, 1 / (1 + math.exp(-4))),
    (50, 1 / (1 + math.exp(1)))])  # 1 / (1 + exp(-4 (x - c) / w)), c 100, w 200
def test_sigmoid_window_follows_c11_2_1_3_1(x, expected):
    out = Window(100, 200, "SIGMOID").apply(np.array([x]))[0]
    assert out == pytest.approx(expected)


@pytest.mark.parametrize(("width", "function"), [
    (0.5, "LINEAR"), (0, "LINEAR_EXACT"), (0, "SIGMOID"), (-3, "SIGMOID"),
    (float("nan"), "LINEAR")])
def test_too_small_widths_are_refused(width, function):
    with pytest.raises(RenderParameterError, match="width|finite"):
        Window(0, width, function)


def test_unknown_function_is_refused():
    with pytest.raises(RenderParameterError, match="LOG"):
        Window(0, 10, "LOG")


def test_min_max_window_maps_minimum_to_0_and_maximum_to_1():
    window = min_max_window(-1000, 3000)
    assert window.apply(np.array([-1000, 1000, 3000])).tolist() == pytest.approx([0, 0.5, 1])


def _attributes(**keywords):
    return FrameAttributes(array_source(np.zeros((2, 2), np.uint16), **keywords).attributes)


def _voi_items(**extra):
    item = Dataset()
    item.add_new("LUTDescriptor", "US", [4, 10, 8])
    item.add_new("LUTData", "US", [0, 85, 170, 255])
    return {"VOILUTSequence": [item], **extra}


@pytest.mark.parametrize(("keywords", "requested", "expected"), [
    ({"WindowCenter": [40, 300], "WindowWidth": [400, 1500]}, Window(1, 2),
     Window(1, 2)),                                              # the request wins
    ({"WindowCenter": [40, 300], "WindowWidth": [400, 1500]}, None,
     Window(40, 400)),                                           # else the first window
    ({"WindowCenter": 40, "WindowWidth": 400, "VOILUTFunction": "SIGMOID"}, None,
     Window(40, 400, "SIGMOID")),                                # with its function
    ({}, None, Window(5.5, 11)),                                 # else min/max (0..10)
])
def test_voi_is_chosen_request_window_lut_then_min_max(keywords, requested, expected):
    voi = choose_voi(_attributes(**keywords), requested, False, (0.0, 10.0))
    assert voi == expected


def test_voi_lut_sequence_comes_before_min_max_and_clamps():
    voi = choose_voi(_attributes(**_voi_items()), None, False, (0.0, 10.0))
    assert isinstance(voi, VoiTable)
    assert voi.apply(np.array([0, 10, 11, 12, 13, 99])).tolist() == pytest.approx(
        [0, 0, 1 / 3, 2 / 3, 1, 1])


def test_a_window_in_the_file_wins_over_its_voi_lut():
    voi = choose_voi(_attributes(**_voi_items(WindowCenter=7, WindowWidth=9)), None, False,
                     (0.0, 10.0))
    assert voi == Window(7, 9)
