"""Frame codecs: one frame of any decodable transfer syntax to a numpy array, and a numpy
array to one frame of each transfer syntax Hounsfield produces (PS3.5 §8.2, §A.4).

Decoding is pydicom's (its plugins: pylibjpeg with libjpeg, openjpeg and RLE; Pillow), in
raw form: YCbCr stays YBR_FULL (a JPEG's chroma is upsampled, not converted), so a lossless
target keeps the samples exactly as decoded. The encoders are in `encoders`; `refusal`
says, before any work, what a target cannot hold.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image
from pydicom import uid as pydicom_uid
from pydicom.encaps import encapsulate
from pydicom.pixels import get_decoder, pack_bits

from hounsfield.dicom import encoders
from hounsfield.dicom.encoders import Encoded
from hounsfield.dicom.pixel_format import PixelFormat
from hounsfield.dicom.pixel_header import JPEG_LOSSY_METHOD
from hounsfield.dicom.transfer_syntax import TRANSFER_SYNTAXES
from hounsfield.errors import NotAcceptableError

EXPLICIT_LE = str(pydicom_uid.ExplicitVRLittleEndian)
IMPLICIT_LE = str(pydicom_uid.ImplicitVRLittleEndian)
DEFLATED = str(pydicom_uid.DeflatedExplicitVRLittleEndian)
BIG_ENDIAN = str(pydicom_uid.ExplicitVRBigEndian)
RLE = str(pydicom_uid.RLELossless)
JPEG_BASELINE = str(pydicom_uid.JPEGBaseline8Bit)
JPEG_SV1 = str(pydicom_uid.JPEGLosslessSV1)
JPEG_LS = str(pydicom_uid.JPEGLSLossless)
JPEG_2000 = str(pydicom_uid.JPEG2000Lossless)
HTJ2K = str(pydicom_uid.HTJ2KLossless)


def _decodable(uid: str) -> bool:
    try:
        return get_decoder(uid).is_available
    except NotImplementedError:
        return False


NATIVE = frozenset({EXPLICIT_LE, IMPLICIT_LE, DEFLATED, BIG_ENDIAN})
DECODABLE = frozenset(uid for uid, row in TRANSFER_SYNTAXES.items()
                      if row.encapsulated and _decodable(uid))


@dataclass(frozen=True)
class Target:
    """A transfer syntax Hounsfield encodes pixel data in."""

    uid: str
    encode: Callable[[np.ndarray, PixelFormat], Encoded] | None  # None: native
    lossy_method: str | None = None  # PS3.3 C.7.6.1.1.5.1, for an irreversible target

    @property
    def encapsulated(self) -> bool:
        return self.encode is not None


# -- decoding -----------------------------------------------------------------------------

def decode_frame(data: bytes, syntax: str, layout: PixelFormat) -> tuple[np.ndarray, PixelFormat]:
    """One stored frame (native little-endian bytes, or one compressed frame) as an array
    of rows x columns (x samples), and the format it is in (YCbCr stays YBR_FULL)."""
    native = syntax in (EXPLICIT_LE, IMPLICIT_LE)
    if not native and syntax not in DECODABLE:
        raise NotAcceptableError(f"no decoder for transfer syntax {_name(syntax)}")
    source = data if native else encapsulate([data])
    try:
        array, meta = get_decoder(EXPLICIT_LE if native else syntax).as_array(
            source, raw=True, **layout.decoding_options())
    except Exception as exc:  # noqa: BLE001 - a codec's own error, named in the answer
        raise undecodable(syntax, exc) from exc
    return array, layout.with_photometric(decoded_photometric(meta))


_DISPLAY_PHOTOMETRICS = frozenset({"YBR_FULL_422", "YBR_FULL", "MONOCHROME1", "MONOCHROME2"})


def decode_for_display(data: bytes, syntax: str, layout: PixelFormat
                       ) -> tuple[np.ndarray, str] | None:
    """A JPEG Baseline frame of 8-bit YCbCr or grey samples decoded by Pillow
    (libjpeg-turbo), colour turned into RGB as it decodes (JFIF's YCbCr is YBR_FULL,
    PS3.3 C.7.6.3.1.2), and its Photometric Interpretation; None where that does not
    apply (another syntax or colour model, or an image of another size). For rendering:
    some times faster than a decoder that keeps YCbCr for a numpy conversion after."""
    if (syntax != JPEG_BASELINE or layout.bits_allocated != 8
            or layout.photometric_interpretation not in _DISPLAY_PHOTOMETRICS):
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "JPEG" or image.mode not in ("RGB", "L"):
                return None
            array = np.asarray(image)
    except (OSError, ValueError, SyntaxError):
        return None  # let the general decoder word the failure
    if array.shape[:2] != (layout.rows, layout.columns):
        return None
    colour = array.ndim == 3
    if colour != (layout.samples_per_pixel == 3):
        return None
    return array, "RGB" if colour else layout.photometric_interpretation


def decoded_photometric(meta: dict[str, str | int]) -> str:
    """The Photometric Interpretation of a decoded array: decoders upsample the chroma of
    YBR_FULL_422, which then is YBR_FULL (PS3.3 C.7.6.3.1.2)."""
    photometric = str(meta["photometric_interpretation"])
    return "YBR_FULL" if photometric == "YBR_FULL_422" else photometric


def undecodable(syntax: str, exc: Exception) -> NotAcceptableError:
    return NotAcceptableError(f"the stored pixel data ({_name(syntax)}) cannot be decoded: "
                              f"{exc.__class__.__name__}: {str(exc)[:200]}")


# -- encoding -----------------------------------------------------------------------------

def native_bytes(array: np.ndarray, layout: PixelFormat) -> bytes:
    """A decoded frame as native little-endian Pixel Data bytes (PS3.5 §8.1.1)."""
    if layout.bits_allocated == 1:
        return pack_bits(array)
    kind = "i" if layout.pixel_representation else "u"
    return array.astype(f"<{kind}{layout.bits_allocated // 8}", copy=False).tobytes()


def encode_frame(array: np.ndarray, layout: PixelFormat, target: Target) -> Encoded:
    """One decoded frame as one frame of `target`, and the format it then has."""
    if target.encode is None:
        return native_bytes(array, layout), layout
    if (reason := refusal(layout, target.uid)) is not None:
        raise NotAcceptableError(reason)
    try:
        return target.encode(np.ascontiguousarray(array), layout)
    except Exception as exc:  # noqa: BLE001 - an encoder's own refusal, named in the answer
        raise NotAcceptableError(
            f"pixel data cannot be encoded in {_name(target.uid)}: "
            f"{exc.__class__.__name__}: {str(exc)[:200]}") from exc


def transcode_frame(data: bytes, source: str, layout: PixelFormat, target: str) -> bytes:
    """One stored frame of `source` as one frame of `target` (native: little-endian
    octets, samples interleaved)."""
    array, decoded = decode_frame(data, source, layout)
    return encode_frame(array, decoded, TARGETS[target])[0]


def refusal(layout: PixelFormat, target: str) -> str | None:
    """Why pixel data of `layout` cannot be encoded in `target` (None: it can)."""
    if target in NATIVE:
        return None
    name = _name(target)
    if layout.bits_allocated == 1:
        return f"{name} does not hold 1-bit pixel data; it is sent uncompressed only"
    if target == JPEG_BASELINE:
        return _baseline_refusal(layout, name)
    if layout.bits_stored > 16 and target in (RLE, JPEG_SV1, JPEG_LS, HTJ2K):
        return (f"{name} is produced here for at most 16 bits per sample; the instance has "
                f"{layout.bits_stored}")
    if layout.bits_stored > 24:
        return (f"{name} is produced here for at most 24 bits per sample; the instance has "
                f"{layout.bits_stored}")
    return None


def _baseline_refusal(layout: PixelFormat, name: str) -> str | None:
    """PS3.5 Table 8.2.1-1: 8-bit unsigned samples, monochrome or colour."""
    if layout.bits_allocated != 8 or layout.bits_stored != 8:
        return (f"{name} holds 8-bit samples only; the instance has Bits Allocated "
                f"{layout.bits_allocated} and Bits Stored {layout.bits_stored}")
    if layout.pixel_representation:
        return f"{name} holds unsigned samples only; the instance's are signed"
    if layout.photometric_interpretation == "PALETTE COLOR":
        return f"{name} would change the indexes of a PALETTE COLOR image"
    return None


TARGETS: dict[str, Target] = {t.uid: t for t in (
    Target(EXPLICIT_LE, None),
    Target(IMPLICIT_LE, None),
    Target(DEFLATED, None),
    Target(RLE, encoders.pydicom_encoder(RLE)),
    Target(JPEG_BASELINE, encoders.jpeg_baseline, JPEG_LOSSY_METHOD),
    Target(JPEG_SV1, encoders.jpeg_lossless),
    Target(JPEG_LS, encoders.jpeg_ls),
    Target(JPEG_2000, encoders.jpeg_2000),
    Target(HTJ2K, encoders.htj2k),
)}


def _name(uid: str) -> str:
    row = TRANSFER_SYNTAXES.get(uid)
    return f"{row.name} ({uid})" if row else uid
