"""Frame encoders, one per compressed target of `codecs.TARGETS`: a decoded frame (rows x
columns (x samples), as pydicom's decoders give it) and its `PixelFormat` in, one frame
of the target and the format it then has out.

- RLE Lossless: pydicom (pylibjpeg-rle, or pydicom's own).
- JPEG-LS Lossless: CharLS (imagecodecs, or pydicom with pyjpegls where Bits Stored is
  not the array's whole width); the precision is Bits Stored.
- JPEG 2000 Lossless: imagecodecs with OpenJPEG, a raw codestream with the reversible
  5-3 wavelet at the precision of Bits Stored; RGB with the reversible colour transform,
  YBR_RCT (PS3.5 §8.2.4); YBR_FULL and monochrome as they are.
- HTJ2K Lossless: imagecodecs with OpenJPH; the same choices.
- JPEG Lossless SV1: imagecodecs with libjpeg-turbo, process 14 with predictor 1 at the
  precision of Bits Stored, colour components coded as they are (PS3.5 §8.2.1).
- JPEG Baseline: imagecodecs with libjpeg-turbo, 8-bit unsigned samples only (PS3.5 Table
  8.2.1-1); colour becomes YCbCr with horizontally subsampled chroma, YBR_FULL_422.

Signed samples go to the JPEG and JPEG-LS coders as their two's complement in Bits Stored
bits (those coders know no sign), which is how pydicom's decoders read them back.
"""

from __future__ import annotations

from collections.abc import Callable

import imagecodecs
import numpy as np
from pydicom import uid as pydicom_uid
from pydicom.pixels import get_encoder

from hounsfield.dicom.pixel_format import PixelFormat

Encoded = tuple[bytes, PixelFormat]
JPEG_LS = str(pydicom_uid.JPEGLSLossless)
JPEG_QUALITY = 90  # of JPEG Baseline, on libjpeg's 1-100 scale


def pydicom_encoder(uid: str) -> Callable[[np.ndarray, PixelFormat], Encoded]:
    """pydicom's encoder of `uid`, which checks the format against PS3.5's tables."""
    def encode(array: np.ndarray, layout: PixelFormat) -> Encoded:
        options = {k: v for k, v in layout.decoding_options().items() if k != "pixel_keyword"}
        return bytes(get_encoder(uid).encode(array, **options)), layout
    return encode


def _unsigned(array: np.ndarray, layout: PixelFormat) -> np.ndarray:
    """Signed samples as their two's complement in Bits Stored bits."""
    if not layout.pixel_representation:
        return array
    mask = (1 << layout.bits_stored) - 1
    kind = np.uint8 if layout.bits_allocated == 8 else np.uint16
    return (array.astype(np.int32) & mask).astype(kind)


def _colour_space(layout: PixelFormat) -> str | None:
    if layout.samples_per_pixel == 1:
        return None
    return "YCbCr" if layout.photometric_interpretation.startswith("YBR") else "RGB"


def jpeg_lossless(array: np.ndarray, layout: PixelFormat) -> Encoded:
    rgb = None if layout.samples_per_pixel == 1 else "RGB"  # no colour transform
    data = bytes(imagecodecs.jpeg8_encode(
        _unsigned(array, layout), lossless=True, predictor=1,
        bitspersample=layout.bits_stored, colorspace=rgb, outcolorspace=rgb))
    if _colour_space(layout) == "YCbCr":
        data = _unlabelled(data)
    return data, layout


def _unlabelled(jpeg: bytes) -> bytes:
    """A JPEG whose components libjpeg labelled R, G, B (an Adobe APP14 segment and those
    component identifiers) without them: YCbCr components coded as they are, which is
    what a decoder reads from identifiers 1, 2, 3 (PS3.5 §8.2.1)."""
    out = bytearray(jpeg[:2])
    pos = 2
    while pos + 4 <= len(jpeg):
        marker, length = jpeg[pos + 1], int.from_bytes(jpeg[pos + 2:pos + 4], "big")
        segment = bytearray(jpeg[pos:pos + 2 + length])
        if marker == 0xEE:  # APP14
            pos += 2 + length
            continue
        if marker == 0xC3:  # SOF3: Nf at 9, then 3 bytes per component
            for k in range(segment[9]):
                segment[10 + 3 * k] = k + 1
        if marker == 0xDA:  # SOS: Ns at 4, then 2 bytes per component; entropy data follows
            for k in range(segment[4]):
                segment[5 + 2 * k] = k + 1
            return bytes(out + segment) + jpeg[pos + 2 + length:]
        out += segment
        pos += 2 + length
    raise ValueError("libjpeg wrote no scan")


def jpeg_baseline(array: np.ndarray, layout: PixelFormat) -> Encoded:
    space = _colour_space(layout)
    if space is None:
        return bytes(imagecodecs.jpeg8_encode(array, level=JPEG_QUALITY)), layout
    data = imagecodecs.jpeg8_encode(array, level=JPEG_QUALITY, colorspace=space,
                                    outcolorspace="YCbCr", subsampling="422")
    return bytes(data), layout.with_photometric("YBR_FULL_422")


def jpeg_ls(array: np.ndarray, layout: PixelFormat) -> Encoded:
    """CharLS codes the precision of the array's type: right when Bits Stored fills it;
    otherwise pydicom's encoder (pyjpegls) codes the precision of Bits Stored."""
    if layout.pixel_representation or layout.bits_stored != array.dtype.itemsize * 8:
        return pydicom_encoder(JPEG_LS)(array, layout)
    return bytes(imagecodecs.jpegls_encode(array, level=0)), layout


def _resolutions(layout: PixelFormat) -> int:
    """Wavelet decomposition levels + 1: OpenJPEG's default of 6, fewer for an image
    smaller than 32 pixels across, which 5 decompositions cannot halve."""
    return max(1, min(6, min(layout.rows, layout.columns).bit_length()))


def _rct(layout: PixelFormat) -> PixelFormat | None:
    """RGB is coded with the reversible colour transform, and then is YBR_RCT (PS3.5
    §8.2.4; the US Image IOD allows nothing else with JPEG 2000 Lossless)."""
    if layout.photometric_interpretation != "RGB":
        return None
    return layout.with_photometric("YBR_RCT")


def jpeg_2000(array: np.ndarray, layout: PixelFormat) -> Encoded:
    rct = _rct(layout)
    data = imagecodecs.jpeg2k_encode(array, level=0, codecformat="J2K", reversible=True,
                                     mct=rct is not None, bitspersample=layout.bits_stored,
                                     resolutions=_resolutions(layout))
    return bytes(data), rct or layout


def htj2k(array: np.ndarray, layout: PixelFormat) -> Encoded:
    rct = _rct(layout)
    data = imagecodecs.htj2k_encode(array, reversible=True, rgb=rct is not None,
                                    resolutions=_resolutions(layout))
    return bytes(data), rct or layout
