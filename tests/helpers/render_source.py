"""A `SourceImage` made from a pydicom data set, as a caller of the renderer would."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.pixels import pixel_array

from hounsfield.dicom.render import SourceImage

PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)


def json_model(ds: Dataset, threshold: int = 1024) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The JSON model of `ds` as the archive keeps it: binary values over `threshold`
    bytes as BulkDataURIs, whose bytes are returned beside it (Pixel Data left out)."""
    bulk: dict[str, bytes] = {}
    big_endian = ds.original_encoding[1] is False

    def handler(element: Any) -> str:
        uri = f"bulkdata/{len(bulk)}/{element.tag:08X}"
        if element.tag not in PIXEL_TAGS:
            value = element.value
            if not isinstance(value, bytes):
                value = np.asarray(value, "<u2").tobytes()
            elif big_endian and "OW" in element.VR:
                value = np.frombuffer(value, ">u2").astype("<u2").tobytes()
            bulk[uri] = value
        return uri

    return ds.to_json_dict(threshold, handler), bulk


def dataset_source(ds: Dataset) -> SourceImage:
    """Frames decoded by pydicom (YBR converted to RGB, as its decoders do)."""
    photometric = str(ds.get("PhotometricInterpretation", ""))

    def frame(number: int) -> np.ndarray:
        return pixel_array(ds, index=number - 1)

    # big-endian binary values go through the handler, which gives them little endian
    model, bulk = json_model(ds, 0 if ds.original_encoding[1] is False else 1024)
    return SourceImage(model, frame, "RGB" if photometric.startswith("YBR") else None,
                       bulk.__getitem__)


def file_source(path: Path | str) -> SourceImage:
    return dataset_source(pydicom.dcmread(path))


def inline(data: bytes) -> dict[str, str]:
    return {"vr": "OW", "InlineBinary": base64.b64encode(data).decode()}


def array_source(frames: np.ndarray | list[np.ndarray], photometric: str = "MONOCHROME2",
                 bits_stored: int | None = None, **attributes: Any) -> SourceImage:
    """A source of generated frames; `attributes` are keyword=value set on the data set."""
    stack = [frames] if isinstance(frames, np.ndarray) else frames
    first = stack[0]
    ds = Dataset()
    ds.Rows, ds.Columns = first.shape[:2]
    ds.SamplesPerPixel = 3 if first.ndim == 3 else 1
    ds.BitsAllocated = first.dtype.itemsize * 8
    ds.BitsStored = bits_stored or ds.BitsAllocated
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = int(first.dtype.kind == "i")
    ds.PhotometricInterpretation = photometric
    ds.NumberOfFrames = len(stack)
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    model, bulk = json_model(ds, 1 << 30)
    model["7FE00010"] = {"vr": "OW", "BulkDataURI": "pixeldata"}
    return SourceImage(model, lambda number: stack[number - 1], None, bulk.__getitem__)
