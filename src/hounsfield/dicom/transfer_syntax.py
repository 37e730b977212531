"""The transfer syntaxes Hounsfield knows, as one table of data (PS3.5 §10, PS3.6 Table A-1).

Each row says how a transfer syntax encodes a data set (VR, byte order, deflate), whether
its Pixel Data is encapsulated and may be lossy, and the media type(s) of its bulk data in
the DICOMweb services: PS3.18 Table 8.7.3-4 (uncompressed bulk data) and Table 8.7.3-5
(compressed bulk data). The default transfer syntax of each bulk-data media type (the "D"
rows of those tables) is a second table, `_DEFAULTS`.

Notes on the standard:
- PS3.18 Table 8.7.3-5 makes JPEG Lossless SV1 (1.2.840.10008.1.2.4.70), not JPEG
  Baseline, the default transfer syntax of image/jpeg.
- Implicit VR Little Endian and Explicit VR Big Endian "shall not be used with Web
  Services" (PS3.18 §8.7.3); they are in the table because instances arrive in them over
  DIMSE and from files. Their bulk data, like every native one, is application/octet-stream.
- JPIP Referenced transfer syntaxes carry no Pixel Data (a Pixel Data Provider URL
  instead), so they are not encapsulated; their other bulk data is application/octet-stream.
- HEVC/H.265 bulk data is video/mp4 (its MP4 container) and may also be asked for as
  video/H265, the media type whose default is HEVC Main Profile.
- `lossy` is True where the transfer syntax allows irreversible compression (e.g. JPEG 2000
  .91 may hold a reversible codestream too); a bitstream tells which (see `pixel_header`).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom import uid as pydicom_uid
from pydicom.uid import UID_dictionary

from hounsfield.errors import BadRequestError

OCTET_STREAM = "application/octet-stream"
IMAGE_JPEG = "image/jpeg"
IMAGE_JLS = "image/jls"
IMAGE_JP2 = "image/jp2"
IMAGE_JPX = "image/jpx"
IMAGE_JPHC = "image/jphc"
IMAGE_JXL = "image/jxl"
IMAGE_DICOM_RLE = "image/dicom-rle"
VIDEO_MPEG = "video/mpeg"
VIDEO_MP4 = "video/mp4"
VIDEO_H265 = "video/H265"

# pydicom 3.0 has no constant for these; for JPEG XL (PS3.5 2024e) not even a name.
ENCAPSULATED_UNCOMPRESSED = "1.2.840.10008.1.2.1.98"
JPIP_REFERENCED = "1.2.840.10008.1.2.4.94"
JPIP_REFERENCED_DEFLATE = "1.2.840.10008.1.2.4.95"
JPEG_XL_LOSSLESS = "1.2.840.10008.1.2.4.110"
JPEG_XL_JPEG_RECOMPRESSION = "1.2.840.10008.1.2.4.111"
JPEG_XL = "1.2.840.10008.1.2.4.112"
_NAMES_NOT_IN_PYDICOM = {
    JPEG_XL_LOSSLESS: "JPEG XL Lossless",
    JPEG_XL_JPEG_RECOMPRESSION: "JPEG XL JPEG Recompression",
    JPEG_XL: "JPEG XL",
}


@dataclass(frozen=True)
class TransferSyntax:
    """One transfer syntax: how it encodes a data set and its bulk data."""

    uid: str
    name: str
    explicit_vr: bool
    little_endian: bool
    encapsulated: bool
    deflated: bool
    lossy: bool
    media_types: tuple[str, ...]  # the first one is what `media_type_for` answers

    @property
    def media_type(self) -> str:
        return self.media_types[0]


_u = pydicom_uid  # short, so that each row of the table fits on one line
_OCTET = (OCTET_STREAM,)
_HEVC = (VIDEO_MP4, VIDEO_H265)

# uid, explicit VR, little endian, encapsulated, deflated, lossy, bulk-data media types
_ROWS: tuple[tuple[str, bool, bool, bool, bool, bool, tuple[str, ...]], ...] = (
    # Native and deflated encodings (PS3.5 §A.1-A.5; PS3.18 Table 8.7.3-4)
    (_u.ImplicitVRLittleEndian, False, True, False, False, False, _OCTET),
    (_u.ExplicitVRLittleEndian, True, True, False, False, False, _OCTET),
    (ENCAPSULATED_UNCOMPRESSED, True, True, True, False, False, _OCTET),
    (_u.DeflatedExplicitVRLittleEndian, True, True, False, True, False, _OCTET),
    (_u.ExplicitVRBigEndian, True, False, False, False, False, _OCTET),
    # JPEG, ISO/IEC 10918-1 (PS3.5 §A.4.1; PS3.18 Table 8.7.3-5 image/jpeg)
    (_u.JPEGBaseline8Bit, True, True, True, False, True, (IMAGE_JPEG,)),
    (_u.JPEGExtended12Bit, True, True, True, False, True, (IMAGE_JPEG,)),
    (_u.JPEGLossless, True, True, True, False, False, (IMAGE_JPEG,)),
    (_u.JPEGLosslessSV1, True, True, True, False, False, (IMAGE_JPEG,)),
    # JPEG-LS, ISO/IEC 14495-1 (PS3.5 §A.4.3; image/jls)
    (_u.JPEGLSLossless, True, True, True, False, False, (IMAGE_JLS,)),
    (_u.JPEGLSNearLossless, True, True, True, False, True, (IMAGE_JLS,)),
    # JPEG 2000, ISO/IEC 15444-1 and -2 (PS3.5 §A.4.4, §A.4.5; image/jp2, image/jpx)
    (_u.JPEG2000Lossless, True, True, True, False, False, (IMAGE_JP2,)),
    (_u.JPEG2000, True, True, True, False, True, (IMAGE_JP2,)),
    (_u.JPEG2000MCLossless, True, True, True, False, False, (IMAGE_JPX,)),
    (_u.JPEG2000MC, True, True, True, False, True, (IMAGE_JPX,)),
    # High-Throughput JPEG 2000, ISO/IEC 15444-15 (PS3.5 §A.4.11; image/jphc)
    (_u.HTJ2KLossless, True, True, True, False, False, (IMAGE_JPHC,)),
    (_u.HTJ2KLosslessRPCL, True, True, True, False, False, (IMAGE_JPHC,)),
    (_u.HTJ2K, True, True, True, False, True, (IMAGE_JPHC,)),
    # JPIP referenced: Pixel Data Provider URL, no Pixel Data (PS3.5 §A.6, §A.7)
    (JPIP_REFERENCED, True, True, False, False, False, _OCTET),
    (JPIP_REFERENCED_DEFLATE, True, True, False, True, False, _OCTET),
    (_u.JPIPHTJ2KReferenced, True, True, False, False, False, _OCTET),
    (_u.JPIPHTJ2KReferencedDeflate, True, True, False, True, False, _OCTET),
    # RLE (PS3.5 §A.4.2, Annex G; image/dicom-rle)
    (_u.RLELossless, True, True, True, False, False, (IMAGE_DICOM_RLE,)),
    # JPEG XL, ISO/IEC 18181-1 (PS3.5 §A.4.12; image/jxl)
    (JPEG_XL_LOSSLESS, True, True, True, False, False, (IMAGE_JXL,)),
    (JPEG_XL_JPEG_RECOMPRESSION, True, True, True, False, True, (IMAGE_JXL,)),
    (JPEG_XL, True, True, True, False, True, (IMAGE_JXL,)),
    # MPEG-2, ISO/IEC 13818-2 (PS3.5 §A.4.6, §A.4.7; video/mpeg)
    (_u.MPEG2MPML, True, True, True, False, True, (VIDEO_MPEG,)),
    (_u.MPEG2MPMLF, True, True, True, False, True, (VIDEO_MPEG,)),
    (_u.MPEG2MPHL, True, True, True, False, True, (VIDEO_MPEG,)),
    (_u.MPEG2MPHLF, True, True, True, False, True, (VIDEO_MPEG,)),
    # MPEG-4 AVC/H.264, ISO/IEC 14496-10 (PS3.5 §A.4.8, §A.4.9; video/mp4)
    (_u.MPEG4HP41, True, True, True, False, True, (VIDEO_MP4,)),
    (_u.MPEG4HP41F, True, True, True, False, True, (VIDEO_MP4,)),
    (_u.MPEG4HP41BD, True, True, True, False, True, (VIDEO_MP4,)),
    (_u.MPEG4HP41BDF, True, True, True, False, True, (VIDEO_MP4,)),
    (_u.MPEG4HP422D, True, True, True, False, True, (VIDEO_MP4,)),
    (_u.MPEG4HP422DF, True, True, True, False, True, (VIDEO_MP4,)),
    (_u.MPEG4HP423D, True, True, True, False, True, (VIDEO_MP4,)),
    (_u.MPEG4HP423DF, True, True, True, False, True, (VIDEO_MP4,)),
    (_u.MPEG4HP42STEREO, True, True, True, False, True, (VIDEO_MP4,)),
    (_u.MPEG4HP42STEREOF, True, True, True, False, True, (VIDEO_MP4,)),
    # HEVC/H.265, ISO/IEC 23008-2 (PS3.5 §A.4.10; video/mp4, video/H265)
    (_u.HEVCMP51, True, True, True, False, True, _HEVC),
    (_u.HEVCM10P51, True, True, True, False, True, _HEVC),
)

# The default ("D") transfer syntax of each bulk-data media type, PS3.18 Tables 8.7.3-4/-5.
# Keys are lower case: media types compare case-insensitively (RFC 6838 §4.2).
_DEFAULTS = {
    OCTET_STREAM: _u.ExplicitVRLittleEndian,
    IMAGE_JPEG: _u.JPEGLosslessSV1,
    IMAGE_DICOM_RLE: _u.RLELossless,
    IMAGE_JLS: _u.JPEGLSLossless,
    IMAGE_JP2: _u.JPEG2000Lossless,
    IMAGE_JPX: _u.JPEG2000MCLossless,
    IMAGE_JPHC: _u.HTJ2KLossless,
    IMAGE_JXL: JPEG_XL_LOSSLESS,
    VIDEO_MPEG: _u.MPEG2MPML,
    VIDEO_MP4: _u.MPEG4HP41,
    VIDEO_H265.lower(): _u.HEVCMP51,
}


def _name(uid: str) -> str:
    if uid in UID_dictionary:
        return UID_dictionary[uid][0]
    return _NAMES_NOT_IN_PYDICOM[uid]


def _build(row: tuple[str, bool, bool, bool, bool, bool, tuple[str, ...]]) -> TransferSyntax:
    uid, explicit_vr, little_endian, encapsulated, deflated, lossy, media_types = row
    return TransferSyntax(
        str(uid), _name(uid), explicit_vr, little_endian, encapsulated, deflated, lossy,
        media_types,
    )


TRANSFER_SYNTAXES: dict[str, TransferSyntax] = {str(r[0]): _build(r) for r in _ROWS}


def _clean_uid(uid: str) -> str:
    """A UID as read from a data set may carry its padding (PS3.5 §9.1)."""
    return str(uid).strip("\0 ")


def _bare_media_type(media_type: str) -> str:
    """The type/subtype, lower case, without parameters."""
    return media_type.split(";", 1)[0].strip().lower()


def transfer_syntax(uid: str) -> TransferSyntax | None:
    """The row of `uid`, or None when Hounsfield does not know that transfer syntax."""
    return TRANSFER_SYNTAXES.get(_clean_uid(uid))


def is_supported(uid: str) -> bool:
    """True when `uid` is a transfer syntax of the table."""
    return transfer_syntax(uid) is not None


def media_type_for(uid: str) -> str:
    """The media type of the bulk data of an instance encoded in `uid`."""
    row = transfer_syntax(uid)
    if row is None:
        raise BadRequestError(f"unknown transfer syntax UID {str(uid)[:80]!r}")
    return row.media_type


def default_transfer_syntax_for_media_type(media_type: str) -> str | None:
    """The default transfer syntax of a bulk-data media type (PS3.18 Tables 8.7.3-4/-5)."""
    default = _DEFAULTS.get(_bare_media_type(media_type))
    return None if default is None else str(default)


def label(uid: str) -> str:
    """A transfer syntax as people read it: "Name (UID)" when known."""
    row = transfer_syntax(uid)
    return f"{row.name} ({uid})" if row else repr(uid[:64])
