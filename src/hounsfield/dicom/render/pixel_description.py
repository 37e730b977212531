"""How the pixels of an object are laid out (Image Pixel Module, PS3.3 C.7.6.3).

`native_frame` turns one frame of native (uncompressed, little endian) Pixel Data into the
array pydicom's `pixel_array` would give for it, so that a caller holding only the frame's
bytes (one positioned read) need not build a data set: planar configuration (C.7.6.3.1.3)
is undone, 1-bit frames are unpacked, and Bits Stored below Bits Allocated is masked and,
for signed pixels, sign-extended.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hounsfield.dicom.render.frame_attributes import FrameAttributes, Model
from hounsfield.errors import NotRenderableError

MONOCHROME = frozenset({"MONOCHROME1", "MONOCHROME2"})
COLOR = frozenset({"RGB", "PALETTE COLOR", "YBR_FULL", "YBR_FULL_422", "YBR_ICT", "YBR_RCT",
                   "YBR_PARTIAL_420", "YBR_PARTIAL_422"})
_PIXEL_DATA_KEYS = ("7FE00010", "7FE00008", "7FE00009")


@dataclass(frozen=True)
class PixelDescription:
    """The Image Pixel Module attributes of an object."""

    rows: int
    columns: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    photometric_interpretation: str
    planar_configuration: int
    number_of_frames: int

    @property
    def signed(self) -> bool:
        return self.pixel_representation == 1

    @property
    def monochrome(self) -> bool:
        return self.photometric_interpretation in MONOCHROME


def pixel_description(model: Model) -> PixelDescription:
    """Read the Image Pixel Module from a JSON model; NotRenderableError if it has none."""
    if not any(key in model for key in _PIXEL_DATA_KEYS):
        raise NotRenderableError("the object has no pixel data")
    top = FrameAttributes(model)
    rows, columns = top.integer("Rows", 0), top.integer("Columns", 0)
    if not rows or not columns:
        raise NotRenderableError("the object has pixel data but no Rows or Columns")
    allocated = top.integer("BitsAllocated", 0) or 0
    photometric = top.text("PhotometricInterpretation", "MONOCHROME2").upper()
    if photometric not in MONOCHROME | COLOR:
        raise NotRenderableError(f"photometric interpretation {photometric} cannot be rendered")
    return PixelDescription(
        rows, columns, top.integer("SamplesPerPixel", 1) or 1, allocated,
        top.integer("BitsStored", allocated) or allocated,
        top.integer("PixelRepresentation", 0) or 0, photometric,
        top.integer("PlanarConfiguration", 0) or 0,
        max(1, int(float(top.value("NumberOfFrames", 1) or 1))),
    )


def native_frame(data: bytes, pixels: PixelDescription) -> np.ndarray:
    """The array of one native little-endian frame: (rows, columns[, samples])."""
    rows, columns, samples = pixels.rows, pixels.columns, pixels.samples_per_pixel
    count = rows * columns * samples
    if pixels.bits_allocated == 1:
        flat = np.unpackbits(np.frombuffer(data, np.uint8), bitorder="little")[:count]
    else:
        dtype = _dtype(pixels)
        if len(data) < count * dtype.itemsize:
            raise NotRenderableError(f"frame holds {len(data)} bytes; {count} pixels expected")
        flat = np.frombuffer(data, dtype, count)
        flat = masked(flat, pixels.bits_stored, pixels.signed)
    if samples == 1:
        return flat.reshape(rows, columns)
    if pixels.planar_configuration == 1:
        return flat.reshape(samples, rows, columns).transpose(1, 2, 0)
    return flat.reshape(rows, columns, samples)


def masked(values: np.ndarray, bits_stored: int, signed: bool) -> np.ndarray:
    """Keep the low `bits_stored` bits (PS3.5 §8.1.1), sign-extended for signed pixels."""
    width = values.dtype.itemsize * 8
    if values.dtype.kind not in "iu" or bits_stored >= width:
        return values
    unsigned = values.view(np.dtype(f"u{values.dtype.itemsize}")) & ((1 << bits_stored) - 1)
    if not signed:
        return unsigned.astype(values.dtype.newbyteorder("="), copy=False)
    sign = 1 << (bits_stored - 1)
    extended = (unsigned.astype(np.int64) ^ sign) - sign
    return extended.astype(np.dtype(f"i{values.dtype.itemsize}"))


def _dtype(pixels: PixelDescription) -> np.dtype:
    if pixels.bits_allocated not in (8, 16, 32, 64):
        raise NotRenderableError(f"Bits Allocated {pixels.bits_allocated} cannot be rendered")
    kind = "i" if pixels.signed else "u"
    return np.dtype(f"<{kind}{pixels.bits_allocated // 8}")
