"""WADO-RS negotiation of frames and bulk data (PS3.18 §8.7.3.3-§8.7.3.5, Tables
8.7.3-4 and 8.7.3-5) as tables: as stored when the Accept takes it, transcoded
otherwise, 406 naming why when neither."""

from __future__ import annotations

import pytest

from hounsfield.errors import NotAcceptableError
from hounsfield.web.bulk_negotiation import (
    BulkRepresentation,
    bulk_plan,
    stored_representation,
)
from hounsfield.web.wado_negotiation import accepted

EXPLICIT = "1.2.840.10008.1.2.1"
IMPLICIT = "1.2.840.10008.1.2"
DEFLATED = "1.2.840.10008.1.2.1.99"
BIG = "1.2.840.10008.1.2.2"
JPEG = "1.2.840.10008.1.2.4.50"
SV1 = "1.2.840.10008.1.2.4.70"
JLS = "1.2.840.10008.1.2.4.80"
J2K = "1.2.840.10008.1.2.4.90"
J2K_MC = "1.2.840.10008.1.2.4.92"
HTJ2K = "1.2.840.10008.1.2.4.201"
RLE = "1.2.840.10008.1.2.5"
OCTET = BulkRepresentation("application/octet-stream", EXPLICIT)
JPEG_FRAME = BulkRepresentation("image/jpeg", JPEG)
MP = "multipart/related; type="


def transcoded(media_type: str, syntax: str) -> BulkRepresentation:
    return BulkRepresentation(media_type, syntax, as_stored=False)


def plan(accept: str | None, stored: str, parts: int = 1, pixel_data: bool = True,
         may_decode: bool = True) -> tuple[bool, BulkRepresentation]:
    return bulk_plan(accepted(accept), stored, pixel_data=pixel_data, parts=parts,
                     accept=accept, what="frames", may_decode=may_decode)


@pytest.mark.parametrize("stored, pixel_data, expected", [
    (EXPLICIT, True, OCTET), (IMPLICIT, True, OCTET), (EXPLICIT, False, OCTET),
    (JPEG, True, JPEG_FRAME), (JPEG, False, OCTET),
    (J2K, True, BulkRepresentation("image/jp2", J2K)),
    (RLE, True, BulkRepresentation("image/dicom-rle", RLE)),
    (JLS, True, BulkRepresentation("image/jls", JLS)),
    (BIG, True, None), (BIG, False, None), (DEFLATED, True, None), ("1.2.3", True, None),
])
def test_what_goes_out_as_stored(stored, pixel_data, expected) -> None:
    assert stored_representation(stored, pixel_data=pixel_data) == expected


@pytest.mark.parametrize("accept, stored, parts, expected", [
    # as stored: a positioned read
    (None, EXPLICIT, 2, (True, OCTET)),
    ("*/*", JPEG, 1, (True, JPEG_FRAME)),
    (f'{MP}"application/octet-stream"', EXPLICIT, 3, (True, OCTET)),
    (f'{MP}"application/octet-stream"; transfer-syntax={IMPLICIT}', IMPLICIT, 1, (True, OCTET)),
    ("application/octet-stream", EXPLICIT, 1, (False, OCTET)),
    (f'{MP}"image/jpeg"', JPEG, 2, (True, JPEG_FRAME)),
    (f'{MP}"image/*"', JPEG, 2, (True, JPEG_FRAME)),
    (f'{MP}"image/jpeg"; transfer-syntax={JPEG}', JPEG, 1, (True, JPEG_FRAME)),
    (f'{MP}"image/jpeg"; transfer-syntax=*', JPEG, 1, (True, JPEG_FRAME)),
    ("image/jpeg", JPEG, 1, (False, JPEG_FRAME)),
    ("image/*", JPEG, 1, (False, JPEG_FRAME)),
    ('image/jpeg, multipart/related; type="image/jpeg"; q=0.2', JPEG, 2, (True, JPEG_FRAME)),
    ("image/x-dicom-rle", RLE, 1, (False, BulkRepresentation("image/dicom-rle", RLE))),
    # transcoded: the media type's default (PS3.18 Table 8.7.3-5), or the syntax named
    ("image/jpeg", EXPLICIT, 1, (False, transcoded("image/jpeg", SV1))),
    (f"image/jpeg; transfer-syntax={JPEG}", EXPLICIT, 1, (False, transcoded("image/jpeg", JPEG))),
    (f'{MP}"image/jpeg"; transfer-syntax={SV1}', JPEG, 1, (True, transcoded("image/jpeg", SV1))),
    (f'{MP}"image/jls"', JPEG, 1, (True, transcoded("image/jls", JLS))),
    ("image/x-jls", EXPLICIT, 1, (False, transcoded("image/x-jls", JLS))),
    ("image/jp2", RLE, 1, (False, transcoded("image/jp2", J2K))),
    ("image/jphc", JLS, 1, (False, transcoded("image/jphc", HTJ2K))),
    ("image/dicom-rle", J2K, 1, (False, transcoded("image/dicom-rle", RLE))),
    ("image/x-dicom-rle", EXPLICIT, 1, (False, transcoded("image/x-dicom-rle", RLE))),
    (f'{MP}"application/octet-stream"', JPEG, 2, (True, transcoded("application/octet-stream",
                                                                   EXPLICIT))),
    ("*/*", BIG, 1, (True, transcoded("application/octet-stream", EXPLICIT))),
    ("application/*", DEFLATED, 1, (False, transcoded("application/octet-stream", EXPLICIT))),
    # the first range that can be produced wins
    ("image/jpx, image/jls;q=0.5", EXPLICIT, 1, (False, transcoded("image/jls", JLS))),
])
def test_bulk_representation(accept, stored, parts, expected) -> None:
    assert plan(accept, stored, parts) == expected


@pytest.mark.parametrize("accept, stored, parts, reason", [
    ("image/jpx", EXPLICIT, 1, "does not encode JPEG 2000 Part 2"),
    (f"image/jpeg; transfer-syntax={JLS}", EXPLICIT, 1, "is not a transfer syntax of image/jpeg"),
    (f"image/jpeg; transfer-syntax={J2K}", EXPLICIT, 1, "is not a transfer syntax of image/jpeg"),
    ("image/jpeg", J2K_MC, 1, "cannot decode JPEG 2000 Part 2"),
    ("image/jpeg", EXPLICIT, 2, "available as application/octet-stream"),  # one part only
    (f'{MP}"application/dicom"', EXPLICIT, 1, "available as application/octet-stream"),
    ('image/*', EXPLICIT, 1, "available as application/octet-stream"),
    (f'{MP}"image/jpeg"; q=0', EXPLICIT, 1, "available"),
    (f'{MP}"image/jpeg"; transfer-syntax=*', EXPLICIT, 1, "available"),
    ("image/jls", "1.2.840.10008.1.2.4.100", 1, "cannot decode MPEG2 Main Profile"),
])
def test_bulk_not_acceptable(accept, stored, parts, reason) -> None:
    with pytest.raises(NotAcceptableError) as error:
        plan(accept, stored, parts)
    assert "frames" in error.value.message
    assert reason in error.value.message


def test_bulk_data_other_than_pixel_data_is_never_transcoded() -> None:
    with pytest.raises(NotAcceptableError) as error:
        plan("*/*", BIG, pixel_data=False)
    assert "Explicit VR Big Endian" in error.value.message


def test_decoding_is_bounded() -> None:
    assert plan("application/octet-stream", EXPLICIT, may_decode=False) == (False, OCTET)
    with pytest.raises(NotAcceptableError) as error:
        plan("image/jls", EXPLICIT, may_decode=False)
    assert "MiB" in error.value.message
