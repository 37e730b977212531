"""The transfer syntax table against PS3.5 §10/Annex A, PS3.6 Table A-1 and PS3.18 §8.7.3."""

from __future__ import annotations

import pytest
from pydicom.uid import UID

from hounsfield.dicom.transfer_syntax import (
    TRANSFER_SYNTAXES,
    default_transfer_syntax_for_media_type,
    is_supported,
    media_type_for,
    transfer_syntax,
)
from hounsfield.errors import BadRequestError

# PS3.18 Table 8.7.3-4 (uncompressed bulk data) and Table 8.7.3-5 (compressed bulk data).
MEDIA_TYPE_OF = [
    ("1.2.840.10008.1.2.1", "application/octet-stream"),
    ("1.2.840.10008.1.2.1.98", "application/octet-stream"),
    ("1.2.840.10008.1.2.1.99", "application/octet-stream"),
    ("1.2.840.10008.1.2", "application/octet-stream"),
    ("1.2.840.10008.1.2.2", "application/octet-stream"),
    ("1.2.840.10008.1.2.4.50", "image/jpeg"),
    ("1.2.840.10008.1.2.4.51", "image/jpeg"),
    ("1.2.840.10008.1.2.4.57", "image/jpeg"),
    ("1.2.840.10008.1.2.4.70", "image/jpeg"),
    ("1.2.840.10008.1.2.5", "image/dicom-rle"),
    ("1.2.840.10008.1.2.4.80", "image/jls"),
    ("1.2.840.10008.1.2.4.81", "image/jls"),
    ("1.2.840.10008.1.2.4.90", "image/jp2"),
    ("1.2.840.10008.1.2.4.91", "image/jp2"),
    ("1.2.840.10008.1.2.4.92", "image/jpx"),
    ("1.2.840.10008.1.2.4.93", "image/jpx"),
    ("1.2.840.10008.1.2.4.201", "image/jphc"),
    ("1.2.840.10008.1.2.4.202", "image/jphc"),
    ("1.2.840.10008.1.2.4.203", "image/jphc"),
    ("1.2.840.10008.1.2.4.110", "image/jxl"),
    ("1.2.840.10008.1.2.4.111", "image/jxl"),
    ("1.2.840.10008.1.2.4.112", "image/jxl"),
    ("1.2.840.10008.1.2.4.100", "video/mpeg"),
    ("1.2.840.10008.1.2.4.100.1", "video/mpeg"),
    ("1.2.840.10008.1.2.4.101", "video/mpeg"),
    ("1.2.840.10008.1.2.4.101.1", "video/mpeg"),
    ("1.2.840.10008.1.2.4.102", "video/mp4"),
    ("1.2.840.10008.1.2.4.102.1", "video/mp4"),
    ("1.2.840.10008.1.2.4.103", "video/mp4"),
    ("1.2.840.10008.1.2.4.103.1", "video/mp4"),
    ("1.2.840.10008.1.2.4.104", "video/mp4"),
    ("1.2.840.10008.1.2.4.104.1", "video/mp4"),
    ("1.2.840.10008.1.2.4.105", "video/mp4"),
    ("1.2.840.10008.1.2.4.105.1", "video/mp4"),
    ("1.2.840.10008.1.2.4.106", "video/mp4"),
    ("1.2.840.10008.1.2.4.106.1", "video/mp4"),
    ("1.2.840.10008.1.2.4.107", "video/mp4"),
    ("1.2.840.10008.1.2.4.108", "video/mp4"),
    ("1.2.840.10008.1.2.4.94", "application/octet-stream"),
    ("1.2.840.10008.1.2.4.95", "application/octet-stream"),
    ("1.2.840.10008.1.2.4.204", "application/octet-stream"),
    ("1.2.840.10008.1.2.4.205", "application/octet-stream"),
]

# The "D" (default) rows of PS3.18 Tables 8.7.3-4 and 8.7.3-5.
DEFAULT_OF = [
    ("application/octet-stream", "1.2.840.10008.1.2.1"),
    ("image/jpeg", "1.2.840.10008.1.2.4.70"),
    ("image/dicom-rle", "1.2.840.10008.1.2.5"),
    ("image/jls", "1.2.840.10008.1.2.4.80"),
    ("image/jp2", "1.2.840.10008.1.2.4.90"),
    ("image/jpx", "1.2.840.10008.1.2.4.92"),
    ("image/jphc", "1.2.840.10008.1.2.4.201"),
    ("image/jxl", "1.2.840.10008.1.2.4.110"),
    ("video/mpeg", "1.2.840.10008.1.2.4.100"),
    ("video/mp4", "1.2.840.10008.1.2.4.102"),
    ("video/H265", "1.2.840.10008.1.2.4.107"),
]

# Lossless-only and lossy-capable transfer syntaxes, by their PS3.6 Table A-1 names.
LOSSY = [
    ("1.2.840.10008.1.2.1", False),
    ("1.2.840.10008.1.2.1.98", False),
    ("1.2.840.10008.1.2.4.50", True),
    ("1.2.840.10008.1.2.4.51", True),
    ("1.2.840.10008.1.2.4.57", False),
    ("1.2.840.10008.1.2.4.70", False),
    ("1.2.840.10008.1.2.4.80", False),
    ("1.2.840.10008.1.2.4.81", True),
    ("1.2.840.10008.1.2.4.90", False),
    ("1.2.840.10008.1.2.4.91", True),
    ("1.2.840.10008.1.2.4.92", False),
    ("1.2.840.10008.1.2.4.93", True),
    ("1.2.840.10008.1.2.4.201", False),
    ("1.2.840.10008.1.2.4.202", False),
    ("1.2.840.10008.1.2.4.203", True),
    ("1.2.840.10008.1.2.4.110", False),
    ("1.2.840.10008.1.2.4.111", True),
    ("1.2.840.10008.1.2.4.112", True),
    ("1.2.840.10008.1.2.5", False),
    ("1.2.840.10008.1.2.4.100", True),
    ("1.2.840.10008.1.2.4.102", True),
    ("1.2.840.10008.1.2.4.107", True),
]

# PS3.5 §A.6, §A.7: JPIP Referenced carries no Pixel Data (so is not encapsulated) and its
# Deflate variant is deflated; pydicom's generic flags do not model that.
JPIP = {"1.2.840.10008.1.2.4.94", "1.2.840.10008.1.2.4.95",
        "1.2.840.10008.1.2.4.204", "1.2.840.10008.1.2.4.205"}


@pytest.mark.parametrize(("uid", "media_type"), MEDIA_TYPE_OF)
def test_media_type_for_follows_ps3_18_table_8_7_3_5(uid, media_type):
    assert media_type_for(uid) == media_type


def test_every_transfer_syntax_of_the_table_is_in_the_test_table():
    assert set(TRANSFER_SYNTAXES) == {uid for uid, _ in MEDIA_TYPE_OF}


@pytest.mark.parametrize(("media_type", "uid"), DEFAULT_OF)
def test_default_transfer_syntax_is_the_d_row_of_ps3_18(media_type, uid):
    assert default_transfer_syntax_for_media_type(media_type) == uid


@pytest.mark.parametrize(
    "media_type",
    ["IMAGE/JPEG", "image/Jpeg", " image/jpeg ",
     "image/jpeg; transfer-syntax=1.2.840.10008.1.2.4.50",
     'image/jpeg;q=0.5;transfer-syntax="1.2.840.10008.1.2.4.50"'],
)
def test_default_ignores_case_and_parameters(media_type):
    assert default_transfer_syntax_for_media_type(media_type) == "1.2.840.10008.1.2.4.70"


@pytest.mark.parametrize("media_type", ["image/png", "application/dicom", "", "text/html"])
def test_no_default_for_a_media_type_that_is_not_bulk_data(media_type):
    assert default_transfer_syntax_for_media_type(media_type) is None


@pytest.mark.parametrize(("media_type", "uid"), DEFAULT_OF)
def test_default_transfer_syntax_carries_its_media_type(media_type, uid):
    assert media_type in transfer_syntax(uid).media_types


def test_hevc_may_also_be_sent_as_video_h265():
    assert transfer_syntax("1.2.840.10008.1.2.4.108").media_types == ("video/mp4", "video/H265")


@pytest.mark.parametrize(("uid", "lossy"), LOSSY)
def test_lossy_tells_which_transfer_syntaxes_allow_irreversible_compression(uid, lossy):
    assert transfer_syntax(uid).lossy is lossy


KNOWN_TO_PYDICOM = [u for u in sorted(TRANSFER_SYNTAXES) if UID(u).is_transfer_syntax]


@pytest.mark.parametrize("uid", [u for u in KNOWN_TO_PYDICOM if u not in JPIP])
def test_encoding_flags_agree_with_pydicom(uid):
    known, row = UID(uid), transfer_syntax(uid)
    assert row.explicit_vr is not known.is_implicit_VR
    assert row.little_endian is known.is_little_endian
    assert row.encapsulated is known.is_encapsulated
    assert row.deflated is known.is_deflated


@pytest.mark.parametrize(
    ("uid", "encapsulated", "deflated"),
    [("1.2.840.10008.1.2.4.94", False, False), ("1.2.840.10008.1.2.4.95", False, True),
     ("1.2.840.10008.1.2.4.204", False, False), ("1.2.840.10008.1.2.4.205", False, True)],
)
def test_jpip_referenced_has_no_pixel_data_to_encapsulate(uid, encapsulated, deflated):
    row = transfer_syntax(uid)
    assert (row.encapsulated, row.deflated, row.explicit_vr) == (encapsulated, deflated, True)


@pytest.mark.parametrize(
    ("uid", "explicit_vr", "little_endian"),
    [("1.2.840.10008.1.2", False, True), ("1.2.840.10008.1.2.1", True, True),
     ("1.2.840.10008.1.2.2", True, False)],
)
def test_native_encodings(uid, explicit_vr, little_endian):
    row = transfer_syntax(uid)
    assert (row.explicit_vr, row.little_endian, row.encapsulated) == (
        explicit_vr, little_endian, False)


@pytest.mark.parametrize(
    ("uid", "name"),
    [("1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)"),
     ("1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000 Image Compression (Lossless Only)"),
     ("1.2.840.10008.1.2.4.110", "JPEG XL Lossless"),
     ("1.2.840.10008.1.2.4.112", "JPEG XL")],
)
def test_names_are_those_of_ps3_6_table_a_1(uid, name):
    assert transfer_syntax(uid).name == name


def test_rows_are_keyed_by_plain_strings():
    assert all(type(uid) is str and type(row.uid) is str for uid, row in TRANSFER_SYNTAXES.items())


@pytest.mark.parametrize("uid", ["1.2.840.10008.1.2.4.50\0", " 1.2.840.10008.1.2.4.50 "])
def test_padding_of_a_uid_read_from_a_data_set_is_ignored(uid):
    assert transfer_syntax(uid).uid == "1.2.840.10008.1.2.4.50"


@pytest.mark.parametrize(
    "uid",
    ["1.2.840.10008.5.1.4.1.1.2",  # CT Image Storage: a SOP class, not a transfer syntax
     "1.2.840.10008.1.2.4.52",  # JPEG Extended (Process 3 & 5): retired, not supported
     "1.2.3.4", "", "image/jpeg"],
)
def test_unknown_uids_are_not_supported(uid):
    assert transfer_syntax(uid) is None
    assert is_supported(uid) is False


def test_media_type_for_an_unknown_uid_names_it():
    with pytest.raises(BadRequestError, match="1.2.3.4"):
        media_type_for("1.2.3.4")


@pytest.mark.parametrize("uid", sorted(TRANSFER_SYNTAXES))
def test_every_row_is_supported(uid):
    assert is_supported(uid)
