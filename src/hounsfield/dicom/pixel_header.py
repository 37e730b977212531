"""The image attributes a compressed bitstream implies, read from its header alone.

A STOW-RS request may send Pixel Data as a bulk-data part (PS3.18 §10.5.1.2): a JPEG,
JPEG-LS or JPEG 2000 bitstream. To build or check the instance, the archive needs the
Image Pixel Module attributes (PS3.3 C.7.6.3) that bitstream implies. They are read from
the marker segments before the entropy-coded data; no pixel is decoded, so the bytes of
the first part of the bitstream are enough.

- JPEG (ISO/IEC 10918-1, PS3.5 §8.2.1): the SOFn frame header. Lossless processes (SOF3,
  SOF7, SOF11, SOF15) give RGB colour; lossy ones give YBR_FULL_422 when the chroma is
  subsampled and YBR_FULL when it is not, unless an Adobe APP14 segment with transform 0
  or component identifiers "R", "G", "B" say the components are RGB (PS3.5 §8.2.1).
- JPEG-LS (ISO/IEC 14495-1, PS3.5 §8.2.3): the SOF55 frame header; NEAR in the first
  scan header tells near-lossless (lossy) from lossless. Colour is RGB.
- JPEG 2000 and HTJ2K (ISO/IEC 15444-1/-15, PS3.5 §8.2.4): the SIZ and COD marker
  segments of a raw codestream, or of the contiguous codestream box of a JP2 file. The
  5-3 wavelet is reversible, any other is not (a reversible codestream truncated to a
  rate is lossy too, which no header shows); with the multiple component transform,
  colour is YBR_RCT (reversible) or YBR_ICT (irreversible), else RGB.
- RLE (PS3.5 Annex G): its header holds only segment offsets, no rows or columns, so
  `image_attributes` checks the header and answers None.

Headers cannot tell MONOCHROME1 from MONOCHROME2 (the answer is MONOCHROME2), nor, for
JPEG and JPEG-LS, signed from unsigned (the answer is 0, unsigned). Bits Stored is the
bitstream's precision, which a data set may state lower (e.g. 12 bits coded with 16).
Planar Configuration is 0 for colour, as PS3.5 §8.2 requires of every compressed syntax.
Truncated or corrupt headers raise BadRequestError naming what is wrong.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from hounsfield.dicom import transfer_syntax as ts
from hounsfield.errors import BadRequestError, UnsupportedMediaTypeError

# Defined terms of Lossy Image Compression Method (0028,2114), PS3.3 C.7.6.1.1.5.1.
JPEG_LOSSY_METHOD = "ISO_10918_1"
JPEG_LS_LOSSY_METHOD = "ISO_14495_1"
JPEG_2000_LOSSY_METHOD = "ISO_15444_1"
HTJ2K_LOSSY_METHOD = "ISO_15444_15"

_MAX_US = 0xFFFF  # Rows and Columns are US (PS3.3 C.7.6.3)


@dataclass(frozen=True)
class ImageAttributes:
    """Image Pixel Module attributes (PS3.3 C.7.6.3) implied by one compressed frame."""

    rows: int
    columns: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    high_bit: int
    pixel_representation: int
    photometric_interpretation: str
    planar_configuration: int | None
    number_of_frames: int = 1
    lossy: bool = False
    lossy_method: str | None = None


def _attributes(
    rows: int, columns: int, samples: int, precision: int, signed: bool,
    photometric: str, lossy_method: str | None,
) -> ImageAttributes:
    if not (0 < rows <= _MAX_US and 0 < columns <= _MAX_US):
        raise BadRequestError(f"image header gives a size of {columns}x{rows} pixels")
    if samples not in (1, 3):
        raise BadRequestError(f"image header gives {samples} components; DICOM has 1 or 3")
    if not 1 <= precision <= 32:
        raise BadRequestError(f"image header gives a precision of {precision} bits")
    allocated = next(bits for bits in (8, 16, 32) if precision <= bits)
    return ImageAttributes(
        rows, columns, samples, allocated, precision, precision - 1, int(signed), photometric,
        None if samples == 1 else 0, 1, lossy_method is not None, lossy_method,
    )


def _unpack(fmt: str, data: bytes, offset: int, what: str) -> tuple[int, ...]:
    if offset < 0 or offset + struct.calcsize(fmt) > len(data):
        raise BadRequestError(f"{what} is truncated")
    return struct.unpack_from(fmt, data, offset)


# --- JPEG and JPEG-LS marker segments (ISO/IEC 10918-1 Annex B, 14495-1 Annex C) ---------

_EOI, _SOS, _SOF55, _APP14 = 0xD9, 0xDA, 0xF7, 0xEE
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RSTm: no length
_SOF_LOSSY = frozenset({0xC0, 0xC1, 0xC2, 0xC5, 0xC6, 0xC9, 0xCA, 0xCD, 0xCE})
_SOF_LOSSLESS = frozenset({0xC3, 0xC7, 0xCB, 0xCF})
_Frame = tuple[int, int, int, int, bytes]  # precision, lines, columns, count, components


def _next_marker(data: bytes, pos: int, what: str) -> int:
    """The position of the marker code at `pos` (after its 0xFF and any fill bytes)."""
    if pos >= len(data):
        raise BadRequestError(f"{what} is truncated: it ends before its frame header")
    if data[pos] != 0xFF:
        raise BadRequestError(f"{what} is corrupt: no marker at byte {pos}")
    while pos < len(data) and data[pos] == 0xFF:
        pos += 1
    if pos >= len(data):
        raise BadRequestError(f"{what} is truncated at byte {pos}")
    return pos


def _segments(data: bytes, what: str) -> Iterator[tuple[int, bytes]]:
    """(marker, payload) of each marker segment after SOI, up to the first scan header."""
    if data[:2] != b"\xff\xd8":
        raise BadRequestError(f"{what} does not start with an SOI marker")
    pos = 2
    while True:
        pos = _next_marker(data, pos, what)
        marker = data[pos]
        if marker == _EOI:
            raise BadRequestError(f"{what} ends (EOI) before its frame header")
        if marker in _STANDALONE:
            pos += 1
            continue
        (length,) = _unpack(">H", data, pos + 1, f"{what} marker segment")
        if length < 2 or pos + 1 + length > len(data):
            raise BadRequestError(f"{what} marker segment at byte {pos - 1} is truncated")
        yield marker, data[pos + 3 : pos + 1 + length]
        pos += 1 + length


def _frame_header(payload: bytes, what: str) -> _Frame:
    """Precision, lines, samples per line, and the component specifications of a SOFn."""
    precision, lines, columns, count = _unpack(">BHHB", payload, 0, f"{what} frame header")
    components = payload[6 : 6 + 3 * count]
    if len(components) != 3 * count:
        raise BadRequestError(f"{what} frame header is truncated")
    if lines == 0:
        raise BadRequestError(f"{what} defines its number of lines later (DNL): not supported")
    return precision, lines, columns, count, components


def _is_rgb_jpeg(components: bytes, adobe: bytes | None) -> bool:
    """Adobe APP14 transform 0 (or none), or component ids R, G, B: not in YCbCr."""
    if adobe is not None and adobe[:5] == b"Adobe":
        return len(adobe) < 12 or adobe[11] == 0
    return components[0::3] == b"RGB"


def _is_subsampled(components: bytes) -> bool:
    """True when a chroma component has fewer samples than the luma one."""
    factors = components[1::3]
    return any(factor != factors[0] for factor in factors[1:])


def _jpeg_photometric(count: int, components: bytes, adobe: bytes | None, lossless: bool) -> str:
    if count == 1:
        return "MONOCHROME2"
    if lossless or _is_rgb_jpeg(components, adobe):
        return "RGB"
    return "YBR_FULL_422" if _is_subsampled(components) else "YBR_FULL"


def _jpeg(data: bytes) -> ImageAttributes:
    what, adobe = "JPEG bitstream", None
    for marker, payload in _segments(data, what):
        if marker == _APP14:
            adobe = payload
        elif marker == _SOF55:
            raise BadRequestError("a JPEG-LS bitstream (SOF55) was sent as JPEG")
        elif marker in _SOF_LOSSY or marker in _SOF_LOSSLESS:
            lossless = marker in _SOF_LOSSLESS
            precision, rows, columns, count, components = _frame_header(payload, what)
            photometric = _jpeg_photometric(count, components, adobe, lossless)
            method = None if lossless else JPEG_LOSSY_METHOD
            return _attributes(rows, columns, count, precision, False, photometric, method)
        elif marker == _SOS:
            break
    raise BadRequestError(f"{what} has no frame header (SOFn) before its first scan")


def _jpeg_ls(data: bytes) -> ImageAttributes:
    what, frame = "JPEG-LS bitstream", None
    for marker, payload in _segments(data, what):
        if marker == _SOF55:
            frame = _frame_header(payload, what)
        elif marker in _SOF_LOSSY or marker in _SOF_LOSSLESS:
            raise BadRequestError("a JPEG bitstream (ISO/IEC 10918-1) was sent as JPEG-LS")
        elif marker == _SOS and frame is not None:
            return _jpeg_ls_attributes(frame, payload, what)
        elif marker == _SOS:
            break
    raise BadRequestError(f"{what} has no frame header (SOF55) before its first scan")


def _jpeg_ls_attributes(frame: _Frame, scan: bytes, what: str) -> ImageAttributes:
    precision, rows, columns, count, _ = frame
    (scan_components,) = _unpack(">B", scan, 0, f"{what} scan header")
    (near,) = _unpack(">B", scan, 1 + 2 * scan_components, f"{what} scan header")
    photometric = "MONOCHROME2" if count == 1 else "RGB"
    method = JPEG_LS_LOSSY_METHOD if near else None
    return _attributes(rows, columns, count, precision, False, photometric, method)


# --- JPEG 2000 codestream (ISO/IEC 15444-1 Annex A) and JP2 file (Annex I) --------------

_JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
_SOC_SIZ = b"\xff\x4f\xff\x51"
_COD, _SOT, _SOD = 0xFF52, 0xFF90, 0xFF93
_HT_CAPABILITY = 0x4000  # Rsiz bit 14: HTJ2K codestream (ISO/IEC 15444-15)


def _box_header(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """Length, type and header size of the JP2 box at `pos` (ISO/IEC 15444-1 I.4)."""
    length, box_type = _unpack(">I4s", data, pos, "JP2 box header")
    if length == 1:
        (length,) = _unpack(">Q", data, pos + 8, "JP2 box header")
        return length, box_type, 16
    return (len(data) - pos if length == 0 else length), box_type, 8


def _contiguous_codestream(data: bytes) -> bytes:
    """The payload of the first jp2c box of a JP2 file."""
    pos = 0
    while pos < len(data):
        length, box_type, header = _box_header(data, pos)
        if length < header:
            raise BadRequestError(f"JP2 box {box_type!r} at byte {pos} is corrupt")
        if box_type == b"jp2c":
            return data[pos + header : pos + length]
        pos += length
    raise BadRequestError("JP2 file is truncated or has no codestream (jp2c) box")


def _siz(codestream: bytes) -> tuple[int, int, int, int, bool, bool]:
    """Rows, columns, components, precision, signedness and HT capability from SIZ."""
    what = "JPEG 2000 SIZ marker segment"
    fields = _unpack(">HHIIIIIIIIH", codestream, 4, what)
    length, rsiz, xsiz, ysiz, x_origin, y_origin, count = fields[:6] + fields[10:]
    if length != 38 + 3 * count or count == 0:
        raise BadRequestError(f"{what} is corrupt: length {length} for {count} components")
    depths = {_unpack(">B", codestream, 42 + 3 * i, what)[0] for i in range(count)}
    if len(depths) != 1:
        raise BadRequestError("JPEG 2000 components differ in bit depth or signedness")
    depth = depths.pop()
    rows, columns = ysiz - y_origin, xsiz - x_origin
    return rows, columns, count, (depth & 0x7F) + 1, bool(depth & 0x80), bool(rsiz & _HT_CAPABILITY)


def _cod(codestream: bytes, pos: int) -> tuple[bool, bool]:
    """(multiple component transform, reversible) from the main header's COD segment."""
    what = "JPEG 2000 main header"
    while True:
        marker, length = _unpack(">HH", codestream, pos, what)
        if marker < 0xFF00:
            raise BadRequestError(f"{what} is corrupt: no marker at byte {pos}")
        if marker in (_SOT, _SOD):
            raise BadRequestError(f"{what} has no COD marker segment")
        if marker == _COD:
            (mct,) = _unpack(">B", codestream, pos + 8, what)
            (transform,) = _unpack(">B", codestream, pos + 13, what)
            return mct != 0, transform == 1
        pos += 2 + length


def _j2k_photometric(count: int, mct: bool, reversible: bool) -> str:
    if count == 1:
        return "MONOCHROME2"
    if not mct:
        return "RGB"
    return "YBR_RCT" if reversible else "YBR_ICT"


def _jpeg_2000(data: bytes) -> ImageAttributes:
    codestream = _contiguous_codestream(data) if data.startswith(_JP2_SIGNATURE) else data
    if codestream[:4] != _SOC_SIZ:
        raise BadRequestError("JPEG 2000 codestream does not start with SOC and SIZ markers")
    rows, columns, count, precision, signed, ht = _siz(codestream)
    mct, reversible = _cod(codestream, 4 + _unpack(">H", codestream, 4, "SIZ")[0])
    photometric = _j2k_photometric(count, mct, reversible)
    method = None if reversible else (HTJ2K_LOSSY_METHOD if ht else JPEG_2000_LOSSY_METHOD)
    return _attributes(rows, columns, count, precision, signed, photometric, method)


# --- RLE (PS3.5 Annex G) ------------------------------------------------------------------

def _rle(data: bytes) -> None:
    """Check the RLE header (PS3.5 G.5); it holds no image size, so there is nothing to say."""
    fields = _unpack("<16I", data, 0, "RLE header")
    if not 1 <= fields[0] <= 15 or fields[1] != 64:
        raise BadRequestError("RLE header is corrupt: bad segment count or first offset")


# --- Dispatch -----------------------------------------------------------------------------

_READERS: dict[str, Callable[[bytes], ImageAttributes | None]] = {
    ts.IMAGE_JPEG: _jpeg,
    ts.IMAGE_JLS: _jpeg_ls,
    ts.IMAGE_JP2: _jpeg_2000,
    ts.IMAGE_JPX: _jpeg_2000,
    ts.IMAGE_JPHC: _jpeg_2000,
    ts.IMAGE_DICOM_RLE: _rle,
}


def _transfer_syntax_parameter(media_type: str) -> str | None:
    for parameter in media_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "transfer-syntax":
            return value.strip().strip('"')
    return None


def _media_type(media_type_or_ts: str) -> str:
    """The bulk-data media type named by a media type (with parameters) or a TS UID."""
    text = media_type_or_ts.strip()
    uid = _transfer_syntax_parameter(text)
    if uid is None and "/" not in text:
        uid = text
    if uid is not None:
        return ts.media_type_for(uid).lower()
    return text.split(";", 1)[0].strip().lower()


def image_attributes(media_type_or_ts: str, data: bytes) -> ImageAttributes | None:
    """The image attributes the header of bitstream `data` implies; None for RLE.

    `media_type_or_ts` is a bulk-data media type such as "image/jp2" (a transfer-syntax
    parameter, when present, wins) or a transfer syntax UID.
    """
    media_type = _media_type(media_type_or_ts)
    reader = _READERS.get(media_type)
    if reader is None:
        raise UnsupportedMediaTypeError(f"cannot read image attributes from {media_type}")
    return reader(data if isinstance(data, bytes) else bytes(data))
