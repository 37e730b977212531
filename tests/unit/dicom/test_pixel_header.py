"""Image attributes read from compressed bitstream headers, checked against real files.

Frames come from the encapsulated Pixel Data of files in pydicom-data and pydicom's own
test files, whose Image Pixel Module (PS3.3 C.7.6.3) says what each bitstream holds;
others are made with Pillow. Where a file's data set disagrees with its own bitstream the
test says so, with the reason, rather than leaving the file out.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import pathlib
import random
import struct

import pydicom
import pytest
from PIL import Image, features
from pydicom.data import get_testdata_file
from pydicom.encaps import generate_frames

from hounsfield.dicom.pixel_header import ImageAttributes, image_attributes
from hounsfield.dicom.transfer_syntax import media_type_for
from hounsfield.errors import BadRequestError, UnsupportedMediaTypeError

# pydicom's SC_rgb_jpeg.dcm declares explicit VR and is implicit; pydicom says so.
pytestmark = pytest.mark.filterwarnings("ignore:Expected explicit VR:UserWarning")


def _data_file(name: str) -> pathlib.Path:
    spec = importlib.util.find_spec("data_store")
    if spec is not None:
        path = pathlib.Path(spec.origin).parent / "data" / name
        if path.exists():
            return path
    found = get_testdata_file(name)
    if found is None:
        pytest.skip(f"{name} is in neither pydicom-data nor pydicom's test files")
    return pathlib.Path(found)


@functools.cache
def _dataset_and_frame(name: str) -> tuple[pydicom.Dataset, bytes]:
    dataset = pydicom.dcmread(_data_file(name))
    frames = int(dataset.get("NumberOfFrames") or 1)
    return dataset, next(generate_frames(dataset.PixelData, number_of_frames=frames))


def _read(name: str) -> tuple[pydicom.Dataset, ImageAttributes]:
    dataset, frame = _dataset_and_frame(name)
    return dataset, image_attributes(dataset.file_meta.TransferSyntaxUID, frame)


JPEG = [
    "JPEG-LL.dcm",  # SOF3, 16 bit
    "JPGLosslessP14SV1_1s_1f_8b.dcm",
    "bad_sequence.dcm",
    "color3d_jpeg_baseline.dcm",  # SOF0 colour, 120 frames
    "JPEG-lossy.dcm",  # SOF1, 12 bit
    "JPGExtended.dcm",
    "SC_jpeg_no_color_transform.dcm",
    "SC_jpeg_no_color_transform_2.dcm",
    "SC_rgb_dcmtk_+eb+cr.dcm",
    "SC_rgb_dcmtk_+eb+cy+n1.dcm",
    "SC_rgb_dcmtk_+eb+cy+n2.dcm",
    "SC_rgb_dcmtk_+eb+cy+np.dcm",
    "SC_rgb_dcmtk_+eb+cy+s2.dcm",
    "SC_rgb_dcmtk_+eb+cy+s4.dcm",
    "SC_rgb_jpeg.dcm",
    "SC_rgb_jpeg_app14_dcmd.dcm",
    "SC_rgb_jpeg_dcmtk.dcm",
    "SC_rgb_jpeg_gdcm.dcm",
    "SC_rgb_jpeg_lossy_gdcm.dcm",
    "SC_rgb_small_odd_jpeg.dcm",
    "examples_ybr_color.dcm",
]
JPEG_LS = [
    "emri_small_jpeg_ls_lossless.dcm",
    "MR_small_jpeg_ls_lossless.dcm",
    "JPEGLSNearLossless_08.dcm",
    "JPEGLSNearLossless_16.dcm",
    "SC_rgb_jls_lossy_line.dcm",
    "SC_rgb_jls_lossy_sample.dcm",
]
JPEG_2000 = [
    "693_J2KR.dcm", "693_J2KI.dcm",
    "MR2_J2KI.dcm", "MR2_J2KR.dcm",
    "RG1_J2KI.dcm", "RG1_J2KR.dcm", "RG3_J2KI.dcm", "RG3_J2KR.dcm",
    "US1_J2KI.dcm", "US1_J2KR.dcm",
    "emri_small_jpeg_2k_lossless.dcm",
    "explicit_VR-UN.dcm",
    "GDCMJ2K_TextGBR.dcm",
    "J2K_pixelrep_mismatch.dcm",
    "JPEG2000.dcm",
    "MR_small_jp2klossless.dcm",
    "SC_rgb_gdcm_KY.dcm",
    "examples_jpeg2k.dcm",
]
RLE = ["emri_small_RLE.dcm", "OBXXXX1A_rle.dcm", "MR_small_RLE.dcm", "SC_rgb_rle_16bit.dcm"]

# Files whose Bits Stored is below the precision their bitstream was coded with (PS3.5
# §8.2 lets the precision exceed Bits Stored), or, for 693_J2KR, above it.
PRECISION_OF = {
    "bad_sequence.dcm": 16,
    "emri_small_jpeg_ls_lossless.dcm": 16,
    "emri_small_jpeg_2k_lossless.dcm": 16,
    "693_J2KI.dcm": 16,
    "693_J2KR.dcm": 14,
}

# Colour files whose Photometric Interpretation the header implies (PS3.5 §8.2.1).
PHOTOMETRIC_OF = {
    "color3d_jpeg_baseline.dcm": "YBR_FULL_422",  # JFIF, 2x2 chroma subsampling
    "examples_ybr_color.dcm": "YBR_FULL_422",
    "SC_rgb_dcmtk_+eb+cy+np.dcm": "YBR_FULL_422",
    "SC_rgb_dcmtk_+eb+cy+s2.dcm": "YBR_FULL_422",  # 2x1
    "SC_rgb_dcmtk_+eb+cy+s4.dcm": "YBR_FULL",  # no subsampling
    "SC_rgb_jpeg_dcmtk.dcm": "YBR_FULL",
    "SC_rgb_small_odd_jpeg.dcm": "YBR_FULL",
    "SC_rgb_dcmtk_+eb+cr.dcm": "RGB",  # component ids R, G, B and Adobe transform 0
    "SC_jpeg_no_color_transform_2.dcm": "RGB",  # Adobe APP14, transform 0
    "SC_rgb_jpeg_app14_dcmd.dcm": "RGB",
    "SC_rgb_jpeg.dcm": "RGB",  # Adobe APP14 cut short before its transform flag
    "SC_rgb_jpeg_gdcm.dcm": "RGB",  # lossless
    "SC_rgb_jls_lossy_line.dcm": "RGB",
    "SC_rgb_jls_lossy_sample.dcm": "RGB",
    "US1_J2KI.dcm": "YBR_ICT",  # 9-7 with the multiple component transform
    "US1_J2KR.dcm": "YBR_RCT",  # 5-3 with the multiple component transform
    "GDCMJ2K_TextGBR.dcm": "YBR_RCT",
    "examples_jpeg2k.dcm": "YBR_RCT",
    "SC_rgb_gdcm_KY.dcm": "RGB",  # no multiple component transform
}

# Files labelled otherwise than their bitstream says: (what the header implies, why).
PHOTOMETRIC_MISLABELLED = {
    # Subsampled chroma labelled YBR_FULL by dcmtk's "non-standard" modes and by GDCM;
    # PS3.3 C.7.6.3.1.2 calls subsampled YCbCr YBR_FULL_422.
    "SC_rgb_dcmtk_+eb+cy+n1.dcm": "YBR_FULL_422",  # 2x2
    "SC_rgb_dcmtk_+eb+cy+n2.dcm": "YBR_FULL_422",  # 2x1
    "SC_rgb_jpeg_lossy_gdcm.dcm": "YBR_FULL_422",  # 2x2
    # RGB coded with no JFIF, no Adobe segment and ids 0, 1, 2: nothing in the header says
    # RGB, so it reads, as libjpeg would, as YCbCr.
    "SC_jpeg_no_color_transform.dcm": "YBR_FULL",
}

LOSSY_METHOD_OF = {
    "JPEG-lossy.dcm": "ISO_10918_1",
    "color3d_jpeg_baseline.dcm": "ISO_10918_1",
    "JPEG-LL.dcm": None,
    "JPEGLSNearLossless_08.dcm": "ISO_14495_1",
    "SC_rgb_jls_lossy_line.dcm": "ISO_14495_1",
    "emri_small_jpeg_ls_lossless.dcm": None,
    "MR2_J2KI.dcm": "ISO_15444_1",
    "US1_J2KI.dcm": "ISO_15444_1",
    "JPEG2000.dcm": "ISO_15444_1",
    "MR2_J2KR.dcm": None,
    "US1_J2KR.dcm": None,
    "693_J2KI.dcm": None,  # see LOSSY_IN_HISTORY
}


@pytest.mark.parametrize("name", JPEG + JPEG_LS + JPEG_2000)
def test_size_and_samples_are_those_of_the_data_set(name):
    dataset, attributes = _read(name)
    assert (attributes.rows, attributes.columns) == (dataset.Rows, dataset.Columns)
    assert attributes.samples_per_pixel == dataset.SamplesPerPixel
    assert attributes.bits_allocated == dataset.BitsAllocated
    assert attributes.number_of_frames == 1


@pytest.mark.parametrize("name", JPEG + JPEG_LS + JPEG_2000)
def test_bits_stored_is_the_precision_of_the_bitstream(name):
    dataset, attributes = _read(name)
    assert attributes.bits_stored == PRECISION_OF.get(name, dataset.BitsStored)
    assert attributes.high_bit == attributes.bits_stored - 1


@pytest.mark.parametrize("name", JPEG + JPEG_LS + JPEG_2000)
def test_planar_configuration_is_zero_for_colour_and_absent_for_grey(name):
    dataset, attributes = _read(name)
    expected = 0 if dataset.SamplesPerPixel == 3 else None
    assert attributes.planar_configuration == expected


@pytest.mark.parametrize("name", [n for n in JPEG + JPEG_LS + JPEG_2000 if n not in PHOTOMETRIC_OF
                                  and n not in PHOTOMETRIC_MISLABELLED])
def test_grey_images_read_as_monochrome2(name):
    dataset, attributes = _read(name)
    assert dataset.PhotometricInterpretation.startswith("MONOCHROME")
    assert attributes.photometric_interpretation == "MONOCHROME2"


@pytest.mark.parametrize(("name", "photometric"), PHOTOMETRIC_OF.items())
def test_colour_photometric_interpretation_agrees_with_the_data_set(name, photometric):
    dataset, attributes = _read(name)
    assert dataset.PhotometricInterpretation == photometric
    assert attributes.photometric_interpretation == photometric


@pytest.mark.parametrize(("name", "photometric"), PHOTOMETRIC_MISLABELLED.items())
def test_photometric_interpretation_follows_the_bitstream_not_a_wrong_label(name, photometric):
    dataset, attributes = _read(name)
    assert dataset.PhotometricInterpretation != photometric
    assert attributes.photometric_interpretation == photometric


@pytest.mark.parametrize("name", [n for n in JPEG_2000 if n != "J2K_pixelrep_mismatch.dcm"])
def test_jpeg_2000_signedness_is_the_pixel_representation(name):
    dataset, attributes = _read(name)
    assert attributes.pixel_representation == dataset.PixelRepresentation


def test_a_data_set_claiming_signed_pixels_over_an_unsigned_codestream_is_caught():
    dataset, attributes = _read("J2K_pixelrep_mismatch.dcm")
    assert (dataset.PixelRepresentation, attributes.pixel_representation) == (1, 0)


@pytest.mark.parametrize(("name", "method"), LOSSY_METHOD_OF.items())
def test_lossy_method_names_the_iso_standard_of_irreversible_coding(name, method):
    _, attributes = _read(name)
    assert attributes.lossy_method == method
    assert attributes.lossy is (method is not None)


# Lossy Image Compression (0028,2110) tells an image's history (PS3.3 C.7.6.1.1.5), which a
# header cannot: these say 01 over a reversible codestream.
LOSSY_IN_HISTORY = {
    "693_J2KI.dcm": "reversible 5-3 codestream truncated to a rate",
    "SC_rgb_gdcm_KY.dcm": "reversible codestream of a previously lossy image",
}


WITHOUT_LOSSY_IMAGE_COMPRESSION = {
    "693_J2KR.dcm", "bad_sequence.dcm", "explicit_VR-UN.dcm", "GDCMJ2K_TextGBR.dcm",
    "J2K_pixelrep_mismatch.dcm", "JPEGLSNearLossless_08.dcm", "JPEGLSNearLossless_16.dcm",
    "MR_small_jpeg_ls_lossless.dcm", "MR_small_jp2klossless.dcm", "SC_rgb_jls_lossy_line.dcm",
    "SC_rgb_jls_lossy_sample.dcm", "SC_rgb_jpeg_gdcm.dcm",
}


NOT_COMPARABLE = {*LOSSY_IN_HISTORY, *WITHOUT_LOSSY_IMAGE_COMPRESSION}


@pytest.mark.parametrize("name", [n for n in JPEG + JPEG_LS + JPEG_2000 if n not in NOT_COMPARABLE])
def test_lossy_agrees_with_lossy_image_compression_of_the_data_set(name):
    dataset, attributes = _read(name)
    assert attributes.lossy is (dataset.LossyImageCompression == "01")


@pytest.mark.parametrize("name", ["JPEG-LL.dcm", "JPEGLSNearLossless_16.dcm", "US1_J2KR.dcm"])
def test_a_media_type_reads_as_its_transfer_syntax_does(name):
    dataset, frame = _dataset_and_frame(name)
    uid = dataset.file_meta.TransferSyntaxUID
    by_uid = image_attributes(uid, frame)
    assert image_attributes(media_type_for(uid), frame) == by_uid
    assert image_attributes(f"Image/Other; transfer-syntax={uid}", frame) == by_uid


@pytest.mark.parametrize("name", RLE)
def test_rle_has_no_image_size_in_its_header(name):
    dataset, frame = _dataset_and_frame(name)
    assert image_attributes("image/dicom-rle", frame) is None
    assert image_attributes(dataset.file_meta.TransferSyntaxUID, frame) is None


# --- Bitstreams made by Pillow ------------------------------------------------------------

def _pillow(mode: str, codec: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (33, 17), 100 if mode in ("L", "I;16") else (10, 200, 30)).save(
        buffer, codec, **options)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("options", "photometric"),
    [({}, "YBR_FULL_422"),  # Pillow's default 4:2:0
     ({"subsampling": 1}, "YBR_FULL_422"),
     ({"subsampling": 0}, "YBR_FULL"),
     ({"progressive": True}, "YBR_FULL_422")],  # SOF2
)
def test_pillow_rgb_jpeg(options, photometric):
    attributes = image_attributes("image/jpeg", _pillow("RGB", "JPEG", **options))
    assert attributes == ImageAttributes(
        17, 33, 3, 8, 8, 7, 0, photometric, 0, lossy=True, lossy_method="ISO_10918_1")


def test_pillow_grey_jpeg():
    attributes = image_attributes("image/jpeg", _pillow("L", "JPEG"))
    assert attributes == ImageAttributes(
        17, 33, 1, 8, 8, 7, 0, "MONOCHROME2", None, lossy=True, lossy_method="ISO_10918_1")


def test_a_cmyk_jpeg_is_not_a_dicom_image():
    with pytest.raises(BadRequestError, match="4 components"):
        image_attributes("image/jpeg", _pillow("CMYK", "JPEG"))


needs_openjpeg = pytest.mark.skipif(not features.check("jpg_2000"), reason="no OpenJPEG")


@needs_openjpeg
@pytest.mark.parametrize(
    ("mode", "options", "expected"),
    [("RGB", {"no_jp2": True, "mct": 1}, (3, 8, "YBR_RCT", None)),
     ("RGB", {"no_jp2": True, "mct": 1, "irreversible": True}, (3, 8, "YBR_ICT", "ISO_15444_1")),
     ("RGB", {"no_jp2": True, "mct": 0}, (3, 8, "RGB", None)),
     ("RGB", {}, (3, 8, "RGB", None)),  # a JP2 file: the codestream is in its jp2c box
     ("RGB", {"irreversible": True}, (3, 8, "RGB", "ISO_15444_1")),
     ("L", {}, (1, 8, "MONOCHROME2", None)),
     ("I;16", {"no_jp2": True}, (1, 16, "MONOCHROME2", None))],
)
def test_pillow_jpeg_2000(mode, options, expected):
    attributes = image_attributes("image/jp2", _pillow(mode, "JPEG2000", **options))
    samples, bits, photometric, method = expected
    assert (attributes.rows, attributes.columns) == (17, 33)
    assert (attributes.samples_per_pixel, attributes.bits_stored) == (samples, bits)
    assert attributes.photometric_interpretation == photometric
    assert attributes.lossy_method == method


@needs_openjpeg
def test_an_irreversible_htj2k_codestream_is_iso_15444_15():
    codestream = bytearray(_pillow("L", "JPEG2000", no_jp2=True, irreversible=True))
    struct.pack_into(">H", codestream, 6, 0x4000)  # Rsiz: HT capability (15444-15 A.2)
    attributes = image_attributes("image/jphc", bytes(codestream))
    assert attributes.lossy_method == "ISO_15444_15"


# --- Wrong media type, unsupported media type ------------------------------------------------

def test_a_jpeg_ls_bitstream_sent_as_jpeg_is_refused():
    _, frame = _dataset_and_frame("MR_small_jpeg_ls_lossless.dcm")
    with pytest.raises(BadRequestError, match="JPEG-LS"):
        image_attributes("image/jpeg", frame)


def test_a_jpeg_bitstream_sent_as_jpeg_ls_is_refused():
    with pytest.raises(BadRequestError, match="sent as JPEG-LS"):
        image_attributes("image/jls", _pillow("L", "JPEG"))


def test_a_jpeg_bitstream_sent_as_jpeg_2000_is_refused():
    with pytest.raises(BadRequestError, match="SOC"):
        image_attributes("image/jp2", _pillow("L", "JPEG"))


@pytest.mark.parametrize(
    "media_type_or_ts", ["video/mp4", "image/png", "application/octet-stream",
                         "1.2.840.10008.1.2.4.102", "1.2.840.10008.1.2.1"],
)
def test_media_types_without_an_image_header_are_unsupported(media_type_or_ts):
    with pytest.raises(UnsupportedMediaTypeError):
        image_attributes(media_type_or_ts, _pillow("L", "JPEG"))


def test_an_unknown_transfer_syntax_is_a_bad_request():
    with pytest.raises(BadRequestError, match="1.2.3.4"):
        image_attributes("1.2.3.4", _pillow("L", "JPEG"))


# --- Truncated and corrupt headers ----------------------------------------------------------

@pytest.mark.parametrize("media_type", ["image/jpeg", "image/jls", "image/jp2", "image/jphc",
                                        "image/dicom-rle"])
@pytest.mark.parametrize("data", [b"", b"\xff", b"\xff\xd8", b"\xff\xd8\xff", b"\xff\xd8\xff\xd9",
                                  b"\xff\x4f\xff\x51", b"\x00\x00\x00\x0cjP  \r\n\x87\n"])
def test_empty_and_truncated_headers_are_bad_requests(media_type, data):
    with pytest.raises(BadRequestError):
        image_attributes(media_type, data)


def _header_end(media_type: str, data: bytes) -> int:
    """The length of the shortest prefix of `data` that reads as the whole does."""
    whole = image_attributes(media_type, data)
    return next(n for n in range(len(data) + 1) if _reads_as(media_type, data[:n], whole))


def _reads_as(media_type: str, data: bytes, whole: ImageAttributes) -> bool:
    try:
        return image_attributes(media_type, data) == whole
    except BadRequestError:
        return False


@pytest.mark.parametrize(
    ("name", "media_type"),
    [("JPEG-lossy.dcm", "image/jpeg"), ("SC_rgb_jpeg_app14_dcmd.dcm", "image/jpeg"),
     ("JPEGLSNearLossless_08.dcm", "image/jls"), ("US1_J2KR.dcm", "image/jp2")],
)
def test_every_prefix_of_a_real_header_is_a_bad_request_never_a_crash(name, media_type):
    _, frame = _dataset_and_frame(name)
    end = _header_end(media_type, frame)
    assert 0 < end < len(frame)  # the header, not the pixels, is what is read
    for length in range(end):
        with pytest.raises(BadRequestError):
            image_attributes(media_type, frame[:length])


@needs_openjpeg
def test_every_prefix_of_a_jp2_file_header_is_a_bad_request():
    jp2 = _pillow("RGB", "JPEG2000")
    for length in range(_header_end("image/jp2", jp2)):
        with pytest.raises(BadRequestError):
            image_attributes("image/jp2", jp2[:length])


def test_a_corrupt_real_codestream_is_a_bad_request():
    # pydicom's test file has a sequence delimiter written over the SIZ marker segment.
    _, frame = _dataset_and_frame("JPEG2000-embedded-sequence-delimiter.dcm")
    with pytest.raises(BadRequestError, match="size"):
        image_attributes("image/jp2", frame)


def test_a_jpeg_whose_lines_come_later_in_a_dnl_segment_is_refused():
    jpeg = bytearray(_pillow("L", "JPEG"))
    sof = jpeg.index(b"\xff\xc0")
    struct.pack_into(">H", jpeg, sof + 5, 0)  # number of lines: 0, "defined by DNL"
    with pytest.raises(BadRequestError, match="DNL"):
        image_attributes("image/jpeg", bytes(jpeg))


def test_a_corrupt_rle_header_is_a_bad_request():
    with pytest.raises(BadRequestError, match="RLE"):
        image_attributes("image/dicom-rle", struct.pack("<16I", 16, 64, *[0] * 14))


@pytest.mark.parametrize("media_type", ["image/jpeg", "image/jls", "image/jp2", "image/dicom-rle"])
@pytest.mark.parametrize(
    "start", [b"", b"\xff\xd8", b"\xff\xd8\xff\xc0", b"\xff\xd8\xff\xf7", b"\xff\x4f\xff\x51",
              b"\x00\x00\x00\x0cjP  \r\n\x87\n"],
)
def test_random_bytes_are_read_or_refused_never_crash(media_type, start):
    rng = random.Random(f"{media_type}{start!r}")
    for _ in range(200):
        data = start + rng.randbytes(rng.randrange(0, 80))
        try:
            result = image_attributes(media_type, data)
        except BadRequestError:
            continue
        assert result is None or isinstance(result, ImageAttributes)
