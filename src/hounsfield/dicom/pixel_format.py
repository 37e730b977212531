"""The Image Pixel Module attributes that say how to read one frame (PS3.3 C.7.6.3).

Decoding a frame needs its size, samples, bits and Photometric Interpretation; encoding
it again needs the same, and its answer may change some of them (Photometric
Interpretation, Planar Configuration). `PixelFormat` carries them, read from a data set
or from the DICOM JSON model stored for every instance (so that a frame is decoded
without opening its file a second time).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pydicom.dataset import Dataset

from hounsfield.errors import NotAcceptableError

_KEYWORDS = {  # attribute -> (keyword, tag of the DICOM JSON model)
    "rows": ("Rows", "00280010"),
    "columns": ("Columns", "00280011"),
    "samples_per_pixel": ("SamplesPerPixel", "00280002"),
    "bits_allocated": ("BitsAllocated", "00280100"),
    "bits_stored": ("BitsStored", "00280101"),
    "pixel_representation": ("PixelRepresentation", "00280103"),
    "photometric_interpretation": ("PhotometricInterpretation", "00280004"),
    "planar_configuration": ("PlanarConfiguration", "00280006"),
}
_DEFAULTS = {"samples_per_pixel": 1, "pixel_representation": 0,
             "photometric_interpretation": "MONOCHROME2", "planar_configuration": 0}


@dataclass(frozen=True)
class PixelFormat:
    """How the samples of one frame are laid out (PS3.3 C.7.6.3.1)."""

    rows: int
    columns: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    photometric_interpretation: str
    planar_configuration: int = 0

    @classmethod
    def of_dataset(cls, dataset: Dataset) -> PixelFormat:
        return cls._of(lambda keyword, _tag: dataset.get(keyword))

    @classmethod
    def of_model(cls, model: dict[str, Any]) -> PixelFormat:
        """From the DICOM JSON model (PS3.18 F.2)."""
        return cls._of(lambda _keyword, tag: _model_value(model, tag))

    @classmethod
    def _of(cls, read: Any) -> PixelFormat:
        values: dict[str, Any] = {}
        for name, (keyword, tag) in _KEYWORDS.items():
            value = read(keyword, tag)
            if value is None or value == "":
                if name not in _DEFAULTS:
                    raise NotAcceptableError(f"the instance has no {keyword}: its pixel data "
                                             "cannot be decoded")
                value = _DEFAULTS[name]
            values[name] = str(value).strip() if name == "photometric_interpretation" \
                else _integer(keyword, value)
        return cls(**values)

    @property
    def high_bit(self) -> int:
        return self.bits_stored - 1

    @property
    def frame_bytes(self) -> int:
        """The size of one frame decoded (bit-packed when Bits Allocated is 1)."""
        bits = self.rows * self.columns * self.samples_per_pixel * self.bits_allocated
        return (bits + 7) // 8

    def with_photometric(self, photometric: str) -> PixelFormat:
        return replace(self, photometric_interpretation=photometric, planar_configuration=0)

    def decoding_options(self) -> dict[str, Any]:
        """The keyword arguments pydicom's decoders take for a buffer of one frame."""
        return {"rows": self.rows, "columns": self.columns,
                "samples_per_pixel": self.samples_per_pixel,
                "bits_allocated": self.bits_allocated, "bits_stored": self.bits_stored,
                "pixel_representation": self.pixel_representation,
                "photometric_interpretation": self.photometric_interpretation,
                "planar_configuration": self.planar_configuration,
                "number_of_frames": 1, "pixel_keyword": "PixelData"}


def _model_value(model: dict[str, Any], tag: str) -> Any:
    values = (model.get(tag) or {}).get("Value")
    return values[0] if values else None


def _integer(keyword: str, value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotAcceptableError(f"{keyword} {str(value)[:20]!r} is not a number: the pixel "
                                 "data cannot be decoded") from None
