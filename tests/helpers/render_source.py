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

    def handler(element: Any) -> str:
        uri = f"bulkdata/{len(bulk)}/{element.tag:08X}"
        if element.tag not in PIXEL_TAGS:
            value = element.value
            if not isinstance(value, bytes):
                value = np.asarray(value, "<u2").tobytes()
            elif element.VR in ("OW", "US or OW", "US or SS or OW") and ds.original_encoding[1] is False:
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
    model, bulk = json_model(ds, 1024 if ds.original_encoding[1] is not False else 0)
    return SourceImage(model, frame, "RGB" if photometric.startswith("YBR") else None,
                       bulk.__getitem__)


def file_source(path: Path | str) -> SourceImage:
    return dataset_source(pydicom.dcmread(path))


def inline(data: bytes) -> dict[str, str]:
    return {"vr": "OW", "InlineBinary": base64.b64encode(data).decode()}
