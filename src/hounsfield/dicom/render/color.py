"""Colour images to 8-bit RGB (PS3.3 C.7.6.3.1.2, C.7.6.3.1.5, C.7.9).

- RGB: samples above 8 bits are scaled down by their Bits Stored.
- YBR_FULL and YBR_FULL_422 (chroma already upsampled by the decoder) and YBR_ICT: the
  ITU-R BT.601 full-range matrix of C.7.6.3.1.2, chroma centred on 2^(bits-1).
- YBR_PARTIAL_420/422: the BT.601 studio-range matrix (Y 16..235, chroma 16..240).
- YBR_RCT: the reversible component transform of ISO/IEC 15444-1 G.2 undone
  (G = Y - floor((Cb + Cr) / 4), R = Cr + G, B = Cb + G), chroma centred like YBR_FULL.
- PALETTE COLOR: each stored value indexes the red, green and blue Palette Color LUTs
  (C.7.6.3.1.5, descriptors (0028,1101-1103)); the LUT Data are normal (0028,1201-1203)
  or segmented (0028,1221-1223, C.7.9.2). 16-bit entries are scaled to 8 bits.
"""

from __future__ import annotations

import numpy as np

from hounsfield.dicom.render.frame_attributes import FrameAttributes
from hounsfield.dicom.render.lookup_table import LookupTable, lookup_table
from hounsfield.dicom.render.pixel_description import PixelDescription
from hounsfield.dicom.render.segmented_lut import expand_segmented
from hounsfield.errors import NotRenderableError

_FULL_TO_RGB = np.array([[1.0, 0.0, 1.402],
                         [1.0, -0.344136, -0.714136],
                         [1.0, 1.772, 0.0]])
_PARTIAL_TO_RGB = np.array([[255 / 219, 0.0, 255 / 224 * 1.402],
                            [255 / 219, -255 / 224 * 0.344136, -255 / 224 * 0.714136],
                            [255 / 219, 255 / 224 * 1.772, 0.0]])
_COLOURS = ("Red", "Green", "Blue")


def to_rgb8(frame: np.ndarray, photometric: str, pixels: PixelDescription,
            attributes: FrameAttributes) -> np.ndarray:
    """The frame as 8-bit RGB, (rows, columns, 3)."""
    if photometric == "PALETTE COLOR":
        return palette_to_rgb(frame, attributes, pixels.signed)
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise NotRenderableError(f"a {photometric} frame needs three samples per pixel")
    bits = min(pixels.bits_stored, frame.dtype.itemsize * 8)
    if photometric == "RGB":
        return _to_8_bits(frame, bits)
    if photometric == "YBR_RCT":
        return _to_8_bits(rct_to_rgb(frame, bits), bits)
    matrix = _PARTIAL_TO_RGB if photometric.startswith("YBR_PARTIAL") else _FULL_TO_RGB
    return _to_8_bits(ybr_to_rgb(frame, bits, matrix), bits)


def ybr_to_rgb(frame: np.ndarray, bits: int, matrix: np.ndarray = _FULL_TO_RGB
               ) -> np.ndarray:
    """YCbCr to RGB with `matrix` (full range by default), rounded and clipped."""
    half = float(1 << (bits - 1))
    offsets = np.array([0.0, half, half])
    if matrix is _PARTIAL_TO_RGB:
        offsets = np.array([16.0, 128.0, 128.0]) * (1 << (bits - 8)) if bits >= 8 else offsets
    ybr = frame.astype(np.float32) - offsets.astype(np.float32)
    rgb = ybr @ matrix.T.astype(np.float32)
    return np.clip(np.rint(rgb), 0, (1 << bits) - 1).astype(np.uint16)


def rct_to_rgb(frame: np.ndarray, bits: int) -> np.ndarray:
    """The inverse reversible component transform (ISO/IEC 15444-1 G.2)."""
    half = 1 << (bits - 1)
    y = frame[..., 0].astype(np.int32)
    cb, cr = frame[..., 1].astype(np.int32) - half, frame[..., 2].astype(np.int32) - half
    g = y - ((cb + cr) >> 2)
    rgb = np.stack([cr + g, g, cb + g], axis=-1)
    return np.clip(rgb, 0, (1 << bits) - 1).astype(np.uint16)


def palette_to_rgb(frame: np.ndarray, attributes: FrameAttributes, signed: bool
                   ) -> np.ndarray:
    """Index the three Palette Color LUTs with the stored values (C.7.6.3.1.5)."""
    if frame.ndim != 2:
        raise NotRenderableError("a PALETTE COLOR frame needs one sample per pixel")
    channels = [palette_lut(attributes, colour, signed) for colour in _COLOURS]
    return np.stack([_lut_to_8_bits(lut).apply(frame) for lut in channels], axis=-1)


def palette_lut(attributes: FrameAttributes, colour: str, signed: bool) -> LookupTable:
    """The palette LUT of one colour, from normal or segmented LUT Data."""
    descriptor = f"{colour}PaletteColorLookupTableDescriptor"
    model = attributes.model
    segmented = attributes.element(f"Segmented{colour}PaletteColorLookupTableData")
    if segmented is None:
        return lookup_table(model, attributes, signed, descriptor,
                            f"{colour}PaletteColorLookupTableData")
    values = [int(v) for v in attributes.values(descriptor)]
    if len(values) != 3:
        raise NotRenderableError(f"{descriptor} does not have three values")
    raw = attributes.binary(segmented, f"Segmented{colour}PaletteColorLookupTableData")
    words = np.asarray(raw, np.uint16) if isinstance(raw, list) else np.frombuffer(
        raw[: len(raw) // 2 * 2], "<u2")
    entries = expand_segmented(words, values[0] or 65536)
    first = values[1] - 0x10000 if signed and values[1] > 0x7FFF else values[1]
    return LookupTable(first, values[2], entries.astype("<u2").tobytes())


def _lut_to_8_bits(lut: LookupTable) -> LookupTable:
    entries = lut.entries
    if lut.bits > 8 or (lut.wide and int(entries.max(initial=0)) > 255):
        entries = entries >> 8
    return LookupTable(lut.first, 8, entries.astype(np.uint8).tobytes(), wide=False)


def _to_8_bits(frame: np.ndarray, bits: int) -> np.ndarray:
    if frame.dtype == np.uint8:
        return frame
    if bits > 8:
        frame = frame >> (bits - 8)
    return np.clip(frame, 0, 255).astype(np.uint8)
