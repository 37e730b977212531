"""Frame codecs over generated frames: every lossless target gives back the exact samples
for each bit depth, sign and colour it takes (PS3.5 §8.2), and refuses the rest naming why."""

from __future__ import annotations

import numpy as np
import pytest

from hounsfield.dicom import codecs
from hounsfield.dicom.pixel_format import PixelFormat
from hounsfield.errors import NotAcceptableError

LOSSLESS = [codecs.RLE, codecs.JPEG_SV1, codecs.JPEG_LS, codecs.JPEG_2000, codecs.HTJ2K]
FORMATS = [  # bits allocated, bits stored, signed, photometric
    (8, 8, False, "MONOCHROME2"), (8, 8, True, "MONOCHROME2"),
    (16, 12, False, "MONOCHROME2"), (16, 12, True, "MONOCHROME1"),
    (16, 16, False, "MONOCHROME2"), (16, 16, True, "MONOCHROME2"),
    (8, 8, False, "RGB"), (8, 8, False, "YBR_FULL"), (8, 8, False, "PALETTE COLOR"),
]


def frame(allocated: int, stored: int, signed: bool, photometric: str, shape=(37, 41)
          ) -> tuple[np.ndarray, PixelFormat]:
    samples = 3 if photometric in ("RGB", "YBR_FULL") else 1
    rng = np.random.default_rng(stored)
    low, high = (-(1 << (stored - 1)), 1 << (stored - 1)) if signed else (0, 1 << stored)
    dtype = f"{'i' if signed else 'u'}{allocated // 8}"
    array = rng.integers(low, high, (*shape, 3) if samples == 3 else shape).astype(dtype)
    return array, PixelFormat(shape[0], shape[1], samples, allocated, stored, int(signed),
                              photometric)


@pytest.mark.parametrize("target", LOSSLESS)
@pytest.mark.parametrize("allocated, stored, signed, photometric", FORMATS)
def test_lossless_round_trip(target, allocated, stored, signed, photometric) -> None:
    array, layout = frame(allocated, stored, signed, photometric)
    data, encoded = codecs.encode_frame(array, layout, codecs.TARGETS[target])
    decoded, after = codecs.decode_frame(data, target, encoded)
    assert np.array_equal(decoded, array)
    if photometric == "RGB" and target in (codecs.JPEG_2000, codecs.HTJ2K):
        assert encoded.photometric_interpretation == "YBR_RCT"
        assert after.photometric_interpretation == "RGB"  # the decoder undoes the transform
    else:
        assert encoded.photometric_interpretation == photometric


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 700)])
@pytest.mark.parametrize("target", LOSSLESS)
def test_tiny_frames(target, shape) -> None:
    array, layout = frame(8, 8, False, "RGB", shape)
    data, encoded = codecs.encode_frame(array, layout, codecs.TARGETS[target])
    assert np.array_equal(codecs.decode_frame(data, target, encoded)[0], array)


def test_jpeg_baseline_of_rgb_is_ybr_full_422_and_close() -> None:
    array, layout = frame(8, 8, False, "RGB")
    smooth = np.repeat(np.repeat(array[::8, ::8], 8, 0), 8, 1)[:37, :41].copy()
    data, encoded = codecs.encode_frame(smooth, layout, codecs.TARGETS[codecs.JPEG_BASELINE])
    assert data.startswith(b"\xff\xd8") and encoded.photometric_interpretation == "YBR_FULL_422"
    decoded, after = codecs.decode_frame(data, codecs.JPEG_BASELINE, encoded)
    assert after.photometric_interpretation == "YBR_FULL"


def test_native_bytes_are_little_endian_and_interleaved() -> None:
    array, layout = frame(16, 12, True, "MONOCHROME2")
    assert codecs.native_bytes(array, layout) == array.astype("<i2").tobytes()
    decoded, _ = codecs.decode_frame(codecs.native_bytes(array, layout), codecs.EXPLICIT_LE,
                                     layout)
    assert np.array_equal(decoded, array)


@pytest.mark.parametrize("target, allocated, stored, signed, photometric, reason", [
    (codecs.JPEG_BASELINE, 16, 12, False, "MONOCHROME2", "8-bit samples only"),
    (codecs.JPEG_BASELINE, 8, 8, True, "MONOCHROME2", "unsigned samples only"),
    (codecs.JPEG_BASELINE, 8, 8, False, "PALETTE COLOR", "PALETTE COLOR"),
    (codecs.JPEG_LS, 32, 32, False, "MONOCHROME2", "at most 16 bits"),
    (codecs.JPEG_2000, 32, 32, False, "MONOCHROME2", "at most 24 bits"),
    (codecs.RLE, 1, 1, False, "MONOCHROME2", "1-bit"),
])
def test_refusals_name_why(target, allocated, stored, signed, photometric, reason) -> None:
    layout = PixelFormat(4, 4, 1, allocated, stored, int(signed), photometric)
    with pytest.raises(NotAcceptableError) as error:
        codecs.encode_frame(np.zeros((4, 4), np.uint8), layout, codecs.TARGETS[target])
    assert reason in error.value.message


def test_an_undecodable_frame_is_406_naming_the_codec() -> None:
    _, layout = frame(8, 8, False, "MONOCHROME2")
    with pytest.raises(NotAcceptableError) as error:
        codecs.decode_frame(b"\xff\xd8 not a jpeg", codecs.JPEG_SV1, layout)
    assert "JPEG Lossless" in error.value.message and "cannot be decoded" in error.value.message
