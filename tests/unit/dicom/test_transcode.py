"""Whole-instance transcoding over real files (pydicom's test files and pydicom-data):
every lossless target gives back exactly the pixels pydicom decodes from the source,
JPEG Baseline stays close and says it is lossy, and the attributes follow."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from helpers.data_files import pydicom_test_file, real_image_files

from hounsfield.dicom import codecs
from hounsfield.dicom.pixel_format import PixelFormat
from hounsfield.dicom.transcode import SOURCES, TARGETS, transcode
from hounsfield.errors import NotAcceptableError

LOSSLESS = sorted(TARGETS - {codecs.JPEG_BASELINE})
# Files whose data sets pydicom reads but cannot write again (elements without a VR).
PYDICOM_CANNOT_WRITE = {"SC_rgb_jpeg.dcm"}


def _decodable_images() -> list[Path]:
    """The files of at most 300 kB of pixels, and the smallest of each other source
    transfer syntax (the suite stays fast), that pydicom decodes."""
    chosen: dict[Path, str] = {}
    for path in sorted(real_image_files(2_100_000), key=lambda p: p.stat().st_size):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path)
            syntax = str(ds.file_meta.TransferSyntaxUID)
            if syntax not in SOURCES or "PixelData" not in ds:
                continue
            try:
                size = ds.pixel_array.nbytes  # pydicom's own decoding is the reference
            except Exception:  # noqa: BLE001, S112 - pydicom cannot decode it either
                continue
            if size > 300_000 and syntax in chosen.values():
                continue
        chosen[path] = syntax
    return sorted(chosen, key=lambda p: p.name)


IMAGES = _decodable_images()


def read(data: bytes) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(io.BytesIO(data))


def pixels(ds: pydicom.Dataset) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ds.pixel_array


def assert_refused_for_a_reason(path: Path, source: pydicom.Dataset, target: str,
                                error: NotAcceptableError) -> None:
    if path.name in PYDICOM_CANNOT_WRITE:
        assert "cannot be transcoded" in error.message
        return
    assert error.message == codecs.refusal(PixelFormat.of_dataset(source), target)


def test_the_real_files_cover_every_source_kind() -> None:
    syntaxes = {str(read(p.read_bytes()).file_meta.TransferSyntaxUID) for p in IMAGES}
    assert len(IMAGES) > 60
    assert {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2",
            "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.50",
            "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80",
            "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90",
            "1.2.840.10008.1.2.4.91"} <= syntaxes
    # no real file is HTJ2K: HTJ2K sources are those this module makes (decoded back by
    # pydicom in every round trip above, and as sources below)


@pytest.mark.parametrize("path", IMAGES, ids=lambda p: p.name)
def test_lossless_targets_give_back_the_pixels_pydicom_decodes(path: Path) -> None:
    data = path.read_bytes()
    source = read(data)
    expected = pixels(source)
    for target in LOSSLESS:
        try:
            result = read(transcode(data, target))
        except NotAcceptableError as error:
            assert_refused_for_a_reason(path, source, target, error)
            continue
        assert result.file_meta.TransferSyntaxUID == target
        assert np.array_equal(pixels(result), expected), target
        assert result.SOPInstanceUID == source.SOPInstanceUID
        for keyword in ("BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation",
                        "Rows", "Columns", "SamplesPerPixel"):
            assert result.get(keyword) == source.get(keyword), (target, keyword)


EIGHT_BIT = [p for p in IMAGES if read(p.read_bytes()).BitsStored == 8]


@pytest.mark.parametrize("path", EIGHT_BIT, ids=lambda p: p.name)
def test_jpeg_baseline_is_close_and_says_it_is_lossy(path: Path) -> None:
    data = path.read_bytes()
    source = read(data)
    try:
        result = read(transcode(data, codecs.JPEG_BASELINE))
    except NotAcceptableError as error:
        assert_refused_for_a_reason(path, source, codecs.JPEG_BASELINE, error)
        return
    difference = np.abs(pixels(result).astype(int) - pixels(source).astype(int))
    assert difference.mean() < 4, path.name
    assert result.LossyImageCompression == "01"
    if str(source.file_meta.TransferSyntaxUID) != codecs.JPEG_BASELINE:
        methods = result.LossyImageCompressionMethod
        assert (methods if isinstance(methods, str) else methods[-1]) == "ISO_10918_1"
        if source.SamplesPerPixel == 3:
            assert result.PhotometricInterpretation == "YBR_FULL_422"
            assert result.PlanarConfiguration == 0


@pytest.mark.parametrize("name", ["CT_small.dcm", "SC_rgb.dcm", "emri_small.dcm"])
def test_htj2k_and_process_14_sources_go_to_every_lossless_target(name: str) -> None:
    expected = pixels(read(pydicom_test_file(name).read_bytes()))
    for source in (codecs.HTJ2K, codecs.JPEG_SV1):
        data = transcode(pydicom_test_file(name).read_bytes(), source)
        for target in LOSSLESS:
            assert np.array_equal(pixels(read(transcode(data, target))), expected), target


def test_jpeg_baseline_of_16_bits_is_refused_naming_why() -> None:
    with pytest.raises(NotAcceptableError) as error:
        transcode(pydicom_test_file("CT_small.dcm").read_bytes(), codecs.JPEG_BASELINE)
    assert "8-bit samples only" in error.value.message
    assert "Bits Allocated 16" in error.value.message


def test_a_lossy_source_keeps_lossy_image_compression_in_a_lossless_target() -> None:
    data = pydicom_test_file("SC_rgb_jpeg_dcmtk.dcm").read_bytes()
    result = read(transcode(data, codecs.JPEG_LS))
    assert result.LossyImageCompression == "01"
    assert result.PhotometricInterpretation == "YBR_FULL"  # the JPEG's samples, as decoded


def test_a_lossless_source_stays_lossless() -> None:
    data = pydicom_test_file("emri_small_jpeg_2k_lossless.dcm").read_bytes()
    result = read(transcode(data, codecs.RLE))
    assert result.get("LossyImageCompression", "00") == "00"


def test_multi_frame_gets_a_basic_offset_table() -> None:
    data = pydicom_test_file("emri_small.dcm").read_bytes()  # 10 frames
    result = read(transcode(data, codecs.JPEG_2000))
    frames = list(pydicom.encaps.generate_frames(result.PixelData, number_of_frames=10))
    offsets = pydicom.encaps.parse_basic_offsets(result.PixelData)
    assert len(frames) == 10
    assert offsets == [sum(len(f) + len(f) % 2 + 8 for f in frames[:i]) for i in range(10)]


def test_file_meta_names_the_target_and_hounsfield() -> None:
    data = pydicom_test_file("MR_small_bigendian.dcm").read_bytes()
    result = read(transcode(data, codecs.IMPLICIT_LE))
    assert result.file_meta.TransferSyntaxUID == codecs.IMPLICIT_LE
    assert result.file_meta.ImplementationVersionName == "HOUNSFIELD_010"
    assert result.file_meta.MediaStorageSOPInstanceUID == result.SOPInstanceUID


def test_the_same_syntax_is_the_same_bytes() -> None:
    data = pydicom_test_file("CT_small.dcm").read_bytes()
    assert transcode(data, codecs.EXPLICIT_LE) is data


def test_an_instance_without_pixel_data_changes_encoding_only() -> None:
    data = pydicom_test_file("rtplan.dcm").read_bytes()
    result = read(transcode(data, codecs.JPEG_2000))
    assert result.file_meta.TransferSyntaxUID == codecs.JPEG_2000
    assert result.PatientID == read(data).PatientID


def test_an_unknown_source_is_refused() -> None:
    data = pydicom_test_file("CT_small.dcm").read_bytes().replace(
        b"1.2.840.10008.1.2.1\0", b"1.2.840.10008.1.2.9\0")
    with pytest.raises(NotAcceptableError) as error:
        transcode(data, codecs.RLE)
    assert "1.2.840.10008.1.2.9" in error.value.message
