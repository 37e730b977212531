"""WADO-RS negotiation rules (PS3.18 §8.7.3-§8.7.5) as tables."""

from __future__ import annotations

import pytest

from hounsfield.errors import NotAcceptableError
from hounsfield.web.wado_negotiation import (
    BulkRepresentation,
    accepted,
    bulk_plan,
    instance_plan,
    stored_representation,
)

EXPLICIT = "1.2.840.10008.1.2.1"
IMPLICIT = "1.2.840.10008.1.2"
DEFLATED = "1.2.840.10008.1.2.1.99"
BIG = "1.2.840.10008.1.2.2"
JPEG = "1.2.840.10008.1.2.4.50"
JLS = "1.2.840.10008.1.2.4.80"
RLE = "1.2.840.10008.1.2.5"
SV1 = "1.2.840.10008.1.2.4.70"
J2K = "1.2.840.10008.1.2.4.90"
MP_DICOM = 'multipart/related; type="application/dicom"'


def plan(accept: str | None, stored: list[str], single_allowed: bool = True):
    return instance_plan(accepted(accept), stored, single_allowed=single_allowed,
                         accept=accept, names=[f"i{n}" for n in range(len(stored))])


@pytest.mark.parametrize("accept, stored, expected", [
    # no Accept, */*: multipart, Explicit VR Little Endian (PS3.18 Table 8.7.3-2)
    (None, EXPLICIT, (True, [EXPLICIT])),
    ("", EXPLICIT, (True, [EXPLICIT])),
    ("*/*", EXPLICIT, (True, [EXPLICIT])),
    ("multipart/*", EXPLICIT, (True, [EXPLICIT])),
    ("multipart/related", EXPLICIT, (True, [EXPLICIT])),
    (MP_DICOM, EXPLICIT, (True, [EXPLICIT])),
    (MP_DICOM.upper().replace("MULTIPART/RELATED; TYPE", "multipart/related; type"),
     EXPLICIT, (True, [EXPLICIT])),
    # transcoded from native sources
    (MP_DICOM, IMPLICIT, (True, [EXPLICIT])),
    (MP_DICOM, DEFLATED, (True, [EXPLICIT])),
    (MP_DICOM, BIG, (True, [EXPLICIT])),
    # decoded by pydicom (RLE: its own decoder; JPEG, JPEG 2000: Pillow)
    (MP_DICOM, RLE, (True, [EXPLICIT])),
    (MP_DICOM, JPEG, (True, [EXPLICIT])),
    (MP_DICOM, J2K, (True, [EXPLICIT])),
    # as stored
    (f"{MP_DICOM}; transfer-syntax=*", JPEG, (True, [JPEG])),
    (f"{MP_DICOM}; transfer-syntax={JPEG}", JPEG, (True, [JPEG])),
    (f"{MP_DICOM}; transfer-syntax={IMPLICIT}", IMPLICIT, (True, [IMPLICIT])),
    # single part
    ("application/dicom", EXPLICIT, (False, [EXPLICIT])),
    ("application/*", EXPLICIT, (False, [EXPLICIT])),
    ("application/dicom; transfer-syntax=*", BIG, (False, [BIG])),
    # preference: q, then order
    (f"application/dicom;q=0.5, {MP_DICOM}", EXPLICIT, (True, [EXPLICIT])),
    (f"{MP_DICOM};q=0.4, application/dicom;q=0.5", EXPLICIT, (False, [EXPLICIT])),
    (f"{MP_DICOM}; transfer-syntax={J2K}, {MP_DICOM}; transfer-syntax=*; q=0.1", JPEG,
     (True, [JPEG])),
    (f"application/dicom; transfer-syntax={J2K}, {MP_DICOM}; transfer-syntax=*; q=0.1", JPEG,
     (True, [JPEG])),
    # a q=0 range is refused; what else is acceptable still counts
    (f"{MP_DICOM}; transfer-syntax=*; q=0, application/dicom", EXPLICIT, (False, [EXPLICIT])),
])
def test_instance_representation(accept, stored, expected) -> None:
    assert plan(accept, [stored]) == expected


@pytest.mark.parametrize("accept, stored", [
    (None, JLS),  # default Explicit VR LE: no JPEG-LS decoder installed
    (MP_DICOM, SV1),
    (f"{MP_DICOM}; transfer-syntax={J2K}", JPEG),
    (f"{MP_DICOM}; transfer-syntax=*; q=0", JPEG),
    ("application/dicom+json", EXPLICIT),
    ("image/jpeg", EXPLICIT),
    ('multipart/related; type="application/octet-stream"', EXPLICIT),
    ("multipart/mixed", EXPLICIT),
    (f"{MP_DICOM}; transfer-syntax=not-a-uid", EXPLICIT),
])
def test_instance_not_acceptable(accept, stored) -> None:
    with pytest.raises(NotAcceptableError) as error:
        plan(accept, [stored])
    assert "i0" in error.value.message


def test_several_instances_choose_per_part() -> None:
    accept = f"{MP_DICOM}; transfer-syntax={JPEG}, {MP_DICOM}; q=0.9"
    assert plan(accept, [JPEG, EXPLICIT, IMPLICIT], single_allowed=False) == \
        (True, [JPEG, EXPLICIT, EXPLICIT])


def test_several_instances_are_never_a_single_part() -> None:
    with pytest.raises(NotAcceptableError):
        plan("application/dicom", [EXPLICIT, EXPLICIT], single_allowed=False)
    assert plan(f"application/dicom, {MP_DICOM};q=0.1", [EXPLICIT, EXPLICIT],
                single_allowed=False) == (True, [EXPLICIT, EXPLICIT])


def test_one_unproducible_instance_names_it_and_counts_the_rest() -> None:
    with pytest.raises(NotAcceptableError) as error:
        plan(MP_DICOM, [EXPLICIT, SV1, JLS], single_allowed=False)
    assert "i1 (and 1 more)" in error.value.message
    assert "JPEG Lossless" in error.value.message


OCTET = BulkRepresentation("application/octet-stream", EXPLICIT)
JPEG_FRAME = BulkRepresentation("image/jpeg", JPEG)


@pytest.mark.parametrize("stored, pixel_data, expected", [
    (EXPLICIT, True, OCTET), (IMPLICIT, True, OCTET), (EXPLICIT, False, OCTET),
    (JPEG, True, JPEG_FRAME), (JPEG, False, OCTET),
    (J2K, True, BulkRepresentation("image/jp2", J2K)),
    ("1.2.840.10008.1.2.5", True, BulkRepresentation("image/dicom-rle", "1.2.840.10008.1.2.5")),
    ("1.2.840.10008.1.2.4.80", True, BulkRepresentation("image/jls", "1.2.840.10008.1.2.4.80")),
    (BIG, True, None), (BIG, False, None), (DEFLATED, True, None), ("1.2.3", True, None),
])
def test_bulk_data_goes_out_as_stored(stored, pixel_data, expected) -> None:
    assert stored_representation(stored, pixel_data=pixel_data) == expected


@pytest.mark.parametrize("accept, produced, parts, multipart", [
    (None, OCTET, 2, True),
    ("*/*", JPEG_FRAME, 1, True),
    ('multipart/related; type="application/octet-stream"', OCTET, 3, True),
    (f'multipart/related; type="application/octet-stream"; transfer-syntax={EXPLICIT}',
     OCTET, 1, True),
    (f'multipart/related; type="application/octet-stream"; transfer-syntax={IMPLICIT}',
     OCTET, 1, True),
    ("application/octet-stream", OCTET, 1, False),
    ('multipart/related; type="image/jpeg"', JPEG_FRAME, 2, True),
    ('multipart/related; type="image/*"', JPEG_FRAME, 2, True),
    (f'multipart/related; type="image/jpeg"; transfer-syntax={JPEG}', JPEG_FRAME, 1, True),
    ('multipart/related; type="image/jpeg"; transfer-syntax=*', JPEG_FRAME, 1, True),
    ("image/jpeg", JPEG_FRAME, 1, False),
    ("image/*", JPEG_FRAME, 1, False),
    # a single part is only for one part
    ('image/jpeg, multipart/related; type="image/jpeg"; q=0.2', JPEG_FRAME, 2, True),
])
def test_bulk_representation(accept, produced, parts, multipart) -> None:
    assert bulk_plan(accepted(accept), produced, parts=parts, accept=accept,
                     what="frames", stored=JPEG) is multipart


@pytest.mark.parametrize("accept, produced, parts", [
    ('multipart/related; type="application/octet-stream"', JPEG_FRAME, 1),
    ('multipart/related; type="image/jpeg"', OCTET, 1),
    (f'multipart/related; type="image/jpeg"; transfer-syntax={SV1}', JPEG_FRAME, 1),
    ('multipart/related; type="image/jls"', JPEG_FRAME, 1),
    ("image/jpeg", JPEG_FRAME, 2),
    ('multipart/related; type="application/dicom"', OCTET, 1),
    ("*/*", None, 1),
    ('multipart/related; type="image/jpeg"; q=0', JPEG_FRAME, 1),
])
def test_bulk_not_acceptable(accept, produced, parts) -> None:
    with pytest.raises(NotAcceptableError) as error:
        bulk_plan(accepted(accept), produced, parts=parts, accept=accept, what="frames",
                  stored=BIG)
    assert "frames" in error.value.message
    if produced is None:
        assert "Explicit VR Big Endian (1.2.840.10008.1.2.2)" in error.value.message


def test_an_instance_too_large_to_decode_is_not_decoded() -> None:
    with pytest.raises(NotAcceptableError) as error:
        instance_plan(accepted(None), [JPEG], single_allowed=True, accept=None, names=["i0"],
                      may_decode=[False])
    assert "MiB" in error.value.message
    # native sources need no decoding: any size
    assert instance_plan(accepted(None), [IMPLICIT], single_allowed=True, accept=None,
                         names=["i0"], may_decode=[False]) == (True, [EXPLICIT])
