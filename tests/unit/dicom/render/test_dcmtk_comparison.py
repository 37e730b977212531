"""The renderer against an independent one: DCMTK's dcmj2pnm, same window and size.

Both outputs are 8-bit pixel arrays (PNG, PGM/PPM): the mean absolute difference must
stay within 1.5 levels and the largest within two (rounding of the LUT formulas and of
colour conversions); a resized image within 8 levels at its 98th percentile (the
resampling filters differ at sharp edges). dcmj2pnm has no segmented palettes: those
are compared with pydicom in test_color."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from helpers.data_files import pydicom_test_file
from helpers.render_source import dataset_source
from PIL import Image

from hounsfield.dicom.render import PNG, RenderRequest, Window, render

pytestmark = pytest.mark.skipif(shutil.which("dcmj2pnm") is None,
                                reason="DCMTK's dcmj2pnm is not installed")

# file, request fields, dcmj2pnm options, largest difference allowed
CASES = [
    ("CT_small.dcm", {}, ["+Wm"], 2),                             # CT, no window: min/max
    ("693_UNCI.dcm", {}, ["+Wi", "1"], 2),                       # CT, its first window
    ("liver.dcm", {"window": Window(100, 400)}, ["+Ww", "100", "400"], 2),
    ("CT_small.dcm", {"window": Window(1100, 300, "SIGMOID")},
     ["+Ww", "1100", "300", "+Wfs"], 2),
    ("MR_small.dcm", {}, ["+Wi", "1"], 2),                       # MR, signed
    ("MR2_UNCI.dcm", {}, ["+Wi", "1"], 2),
    ("emri_small.dcm", {"frame": 3}, ["+F", "3", "+Wm"], 2),    # multi-frame by number
    ("RG1_UNCI.dcm", {}, ["+Wi", "1"], 2),                       # MONOCHROME1 CR
    ("RG3_UNCR.dcm", {"window": Window(2000, 3000)}, ["+Ww", "2000", "3000"], 2),
    ("mlut_18.dcm", {}, ["+Wm"], 2),                             # Modality LUT Sequence
    ("vlut_04.dcm", {}, ["+Wl", "1"], 2),                        # VOI LUT Sequence
    ("SC_rgb.dcm", {}, [], 0),                                   # RGB
    ("US1_UNCR.dcm", {}, [], 0),
    ("color-pl.dcm", {}, [], 0),                                 # planar configuration 1
    ("SC_rgb_16bit.dcm", {}, [], 1),
    ("SC_ybr_full_uncompressed.dcm", {}, [], 2),                 # YBR_FULL
    ("SC_ybr_full_422_uncompressed.dcm", {}, [], 2),             # YBR_FULL_422
    ("OBXXXX1A.dcm", {}, [], 0),                                 # PALETTE COLOR
    ("examples_palette.dcm", {}, [], 0),
    ("693_UNCI.dcm", {"viewport_width": 256, "viewport_height": 256},
     ["+Wi", "1", "+Sxv", "256"], None),                         # resized
]


def dcmj2pnm(path: Path, options: list[str], out: Path) -> np.ndarray:
    subprocess.run(["dcmj2pnm", *options, "+op", str(path), str(out)], check=True,
                   capture_output=True)
    return np.asarray(Image.open(out))


@pytest.mark.parametrize(("name", "fields", "options", "largest"), CASES,
                         ids=[f"{c[0]}{' '.join(c[2])}" for c in CASES])
def test_rendering_matches_dcmj2pnm(name, fields, options, largest, tmp_path):
    path = pydicom_test_file(name)
    ours = np.asarray(Image.open(io.BytesIO(render(
        dataset_source(pydicom.dcmread(path)), RenderRequest(PNG, **fields)))), int)
    theirs = dcmj2pnm(path, options, tmp_path / "out.pnm").astype(int)
    assert ours.shape == theirs.shape
    difference = np.abs(ours - theirs)
    assert difference.mean() <= 1.5
    if largest is None:  # resampled: filters differ at sharp edges
        assert np.percentile(difference, 98) <= 8
    else:
        assert difference.max() <= largest
