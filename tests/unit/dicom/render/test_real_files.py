"""Every pydicom-data and pydicom test file with pixel data pydicom can decode renders:
JPEG of the first frame at full size (decoded with Pillow: size and mode), GIF of every
frame for small multi-frame objects."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from helpers.render_source import dataset_source
from PIL import Image
from pydicom.pixels import pixel_array

from hounsfield.dicom.render import GIF, RenderRequest, render
from hounsfield.errors import NotRenderableError

FILES = sorted({Path(p) for p in pydicom.data.get_testdata_files("*.dcm")},
               key=lambda p: p.name)


PIXEL_DATA = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


def read(path: Path, **options) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(path, force=True, **options)
    if "TransferSyntaxUID" not in ds.file_meta:
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    return ds


def decodable(path: Path) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = read(path)
            pixel_array(ds, index=0)
        except Exception as exc:  # noqa: BLE001 - anything pydicom cannot decode is skipped
            pytest.skip(f"pydicom cannot decode {path.name}: {str(exc)[:80]}")
    return ds


WITHOUT_PIXELS = [p for p in FILES if not any(k in read(p) for k in PIXEL_DATA)]


def frame_count(path: Path) -> int:
    try:
        return int(read(path, stop_before_pixels=True).get("NumberOfFrames", 1) or 1)
    except ValueError:  # a file whose Number of Frames is not a number
        return 1


MULTI_FRAME = [p for p in FILES if p not in WITHOUT_PIXELS and 1 < frame_count(p) <= 50]


@pytest.mark.parametrize("path", WITHOUT_PIXELS, ids=lambda p: p.name)
def test_real_file_without_pixel_data_is_not_renderable(path: Path):
    with pytest.raises(NotRenderableError, match="no pixel data"):
        render(dataset_source(read(path)), RenderRequest())


@pytest.mark.parametrize("path", [p for p in FILES if p not in WITHOUT_PIXELS],
                         ids=lambda p: p.name)
def test_real_file_renders(path: Path):
    ds = decodable(path)
    image = Image.open(io.BytesIO(render(dataset_source(ds), RenderRequest())))
    assert image.format == "JPEG"
    assert image.size == (ds.Columns, ds.Rows)
    monochrome = str(ds.PhotometricInterpretation).startswith("MONOCHROME")
    assert image.mode == ("L" if monochrome else "RGB")
    assert np.asarray(image).std() > 0 or path.name.startswith(("SC_rgb_32bit", "rtdose"))


@pytest.mark.parametrize("path", MULTI_FRAME, ids=lambda p: p.name)
def test_real_multi_frame_file_renders_as_animated_gif(path: Path):
    ds = decodable(path)
    frames = int(ds.NumberOfFrames)
    image = Image.open(io.BytesIO(render(dataset_source(ds), RenderRequest(
        GIF, viewport_width=64, viewport_height=64))))
    assert image.format == "GIF" and 1 <= image.n_frames <= frames
    assert max(image.size) == 64
