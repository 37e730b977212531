"""WADO-RS negotiation rules (PS3.18 §8.7.3-§8.7.5) as tables."""

from __future__ import annotations

import pytest

from hounsfield.errors import NotAcceptableError
from hounsfield.web.wado_negotiation import accepted, instance_plan

EXPLICIT = "1.2.840.10008.1.2.1"
IMPLICIT = "1.2.840.10008.1.2"
DEFLATED = "1.2.840.10008.1.2.1.99"
BIG = "1.2.840.10008.1.2.2"
JPEG = "1.2.840.10008.1.2.4.50"
JLS = "1.2.840.10008.1.2.4.80"
RLE = "1.2.840.10008.1.2.5"
SV1 = "1.2.840.10008.1.2.4.70"
J2K = "1.2.840.10008.1.2.4.90"
J2K_MC = "1.2.840.10008.1.2.4.92"
HTJ2K = "1.2.840.10008.1.2.4.201"
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
    # decoded by pydicom's plugins
    (MP_DICOM, RLE, (True, [EXPLICIT])),
    (MP_DICOM, JPEG, (True, [EXPLICIT])),
    (MP_DICOM, J2K, (True, [EXPLICIT])),
    (MP_DICOM, JLS, (True, [EXPLICIT])),
    (MP_DICOM, SV1, (True, [EXPLICIT])),
    # transcoded to every target, from every source
    (f"{MP_DICOM}; transfer-syntax={IMPLICIT}", EXPLICIT, (True, [IMPLICIT])),
    (f"{MP_DICOM}; transfer-syntax={DEFLATED}", BIG, (True, [DEFLATED])),
    (f"{MP_DICOM}; transfer-syntax={RLE}", JPEG, (True, [RLE])),
    (f"{MP_DICOM}; transfer-syntax={JPEG}", EXPLICIT, (True, [JPEG])),
    (f"{MP_DICOM}; transfer-syntax={SV1}", J2K, (True, [SV1])),
    (f"{MP_DICOM}; transfer-syntax={JLS}", RLE, (True, [JLS])),
    (f"application/dicom; transfer-syntax={J2K}", IMPLICIT, (False, [J2K])),
    (f"application/dicom; transfer-syntax={HTJ2K}", SV1, (False, [HTJ2K])),
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
    (f"{MP_DICOM}; transfer-syntax={J2K_MC}, {MP_DICOM}; transfer-syntax=*; q=0.1", JPEG,
     (True, [JPEG])),
    (f"application/dicom; transfer-syntax={J2K_MC}, {MP_DICOM}; transfer-syntax=*; q=0.1",
     JPEG, (True, [JPEG])),
    # a q=0 range is refused; what else is acceptable still counts
    (f"{MP_DICOM}; transfer-syntax=*; q=0, application/dicom", EXPLICIT, (False, [EXPLICIT])),
])
def test_instance_representation(accept, stored, expected) -> None:
    assert plan(accept, [stored]) == expected


@pytest.mark.parametrize("accept, stored", [
    (None, J2K_MC),  # default Explicit VR LE: no JPEG 2000 Part 2 decoder
    (MP_DICOM, "1.2.840.10008.1.2.4.100"),  # MPEG-2: no decoder
    (f"{MP_DICOM}; transfer-syntax={J2K_MC}", JPEG),  # not a target
    (f"{MP_DICOM}; transfer-syntax=1.2.840.10008.1.2.4.91", EXPLICIT),  # lossy J2K: no
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
        (True, [JPEG, JPEG, JPEG])
    accept = f"{MP_DICOM}; transfer-syntax={J2K_MC}, {MP_DICOM}; q=0.9"
    assert plan(accept, [J2K_MC, EXPLICIT, IMPLICIT], single_allowed=False) == \
        (True, [J2K_MC, EXPLICIT, EXPLICIT])


def test_several_instances_are_never_a_single_part() -> None:
    with pytest.raises(NotAcceptableError):
        plan("application/dicom", [EXPLICIT, EXPLICIT], single_allowed=False)
    assert plan(f"application/dicom, {MP_DICOM};q=0.1", [EXPLICIT, EXPLICIT],
                single_allowed=False) == (True, [EXPLICIT, EXPLICIT])


def test_one_unproducible_instance_names_it_and_counts_the_rest() -> None:
    with pytest.raises(NotAcceptableError) as error:
        plan(MP_DICOM, [EXPLICIT, J2K_MC, J2K_MC], single_allowed=False)
    assert "i1 (and 1 more)" in error.value.message
    assert "cannot decode JPEG 2000 Part 2" in error.value.message


def test_an_unknown_target_is_named() -> None:
    with pytest.raises(NotAcceptableError) as error:
        plan(f"{MP_DICOM}; transfer-syntax=1.2.840.10008.1.2.4.91", [EXPLICIT])
    assert "does not encode JPEG 2000 Image Compression (1.2.840.10008.1.2.4.91)" in \
        error.value.message


def test_jpeg_baseline_is_for_8_bits_only() -> None:
    accept = f"{MP_DICOM}; transfer-syntax={JPEG}"
    assert instance_plan(accepted(accept), [EXPLICIT], single_allowed=True, accept=accept,
                         names=["i0"], bits_allocated=[8]) == (True, [JPEG])
    with pytest.raises(NotAcceptableError) as error:
        instance_plan(accepted(accept), [EXPLICIT], single_allowed=True, accept=accept,
                      names=["i0"], bits_allocated=[16])
    assert "8-bit samples only (Bits Allocated 16)" in error.value.message


def test_an_instance_too_large_to_decode_is_not_decoded() -> None:
    with pytest.raises(NotAcceptableError) as error:
        instance_plan(accepted(None), [JPEG], single_allowed=True, accept=None, names=["i0"],
                      may_decode=[False])
    assert "MiB" in error.value.message
    # native sources to native targets need no decoding: any size
    assert instance_plan(accepted(None), [IMPLICIT], single_allowed=True, accept=None,
                         names=["i0"], may_decode=[False]) == (True, [EXPLICIT])
    with pytest.raises(NotAcceptableError):  # but encoding them does
        accept = f"{MP_DICOM}; transfer-syntax={RLE}"
        instance_plan(accepted(accept), [IMPLICIT], single_allowed=True, accept=accept,
                      names=["i0"], may_decode=[False])
