"""WADO-RS transcoding through the real ASGI app: instances in every target transfer
syntax, frames and pixel data in the media type asked for; status, Content-Type and
pixels decoded back by pydicom's own decoders."""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pydicom
import pytest
from helpers.data_files import pydicom_test_file
from helpers.multipart_body import split_parts
from starlette.testclient import TestClient

from hounsfield.app import create_app
from hounsfield.archive.archive import Archive
from hounsfield.config import load_settings
from hounsfield.dicom import codecs
from hounsfield.dicom.pixel_format import PixelFormat
from hounsfield.dicom.transcode import TARGETS

RS = "/aets/HOUNSFIELD/rs"
FILES = ["CT_small.dcm", "SC_rgb.dcm", "SC_rgb_jpeg_dcmtk.dcm", "emri_small.dcm",
         "JPEG-LL.dcm", "MR_small_bigendian.dcm"]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = load_settings(overrides={
        "data_dir": tmp_path_factory.mktemp("transcoding") / "data",
        "recovery_grace_seconds": 0}, environ={})
    archive = Archive.open(settings)
    for name in FILES:
        copy = archive.blobs.spool_dir / name
        copy.write_bytes(pydicom_test_file(name).read_bytes())
        assert archive.store_file(copy).stored
    with TestClient(create_app(settings, archive)) as test_client:
        yield test_client
    archive.close()


def url(name: str, suffix: str = "") -> str:
    ds = pydicom.dcmread(pydicom_test_file(name), stop_before_pixels=True)
    return (f"{RS}/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}"
            f"/instances/{ds.SOPInstanceUID}{suffix}")


def original(name: str) -> pydicom.Dataset:
    return pydicom.dcmread(pydicom_test_file(name))


def decode(data: bytes, syntax: str, name: str) -> np.ndarray:
    """A frame decoded by pydicom, as the metadata of the stored instance describes it."""
    array, _ = codecs.decode_frame(data, syntax, PixelFormat.of_dataset(original(name)))
    return array


def only_part(response) -> tuple[dict[str, str], bytes]:
    [(headers, data)] = split_parts(response.content, response.headers["content-type"])
    return headers, data


@pytest.mark.parametrize("name", ["CT_small.dcm", "SC_rgb_jpeg_dcmtk.dcm", "JPEG-LL.dcm",
                                  "MR_small_bigendian.dcm"])
@pytest.mark.parametrize("target", sorted(TARGETS))
def test_instance_in_every_target_transfer_syntax(client: TestClient, name: str,
                                                  target: str) -> None:
    response = client.get(url(name), headers={
        "accept": f"application/dicom; transfer-syntax={target}"})
    source = original(name)
    if target == codecs.JPEG_BASELINE and source.BitsAllocated > 8:
        assert response.status_code == 406
        assert "8-bit samples only" in response.json()["errorMessage"]
        return
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == f"application/dicom; transfer-syntax={target}"
    result = pydicom.dcmread(io.BytesIO(response.content))
    assert result.file_meta.TransferSyntaxUID == target
    assert result.SOPInstanceUID == source.SOPInstanceUID
    if target != codecs.JPEG_BASELINE:
        assert np.array_equal(result.pixel_array, source.pixel_array)


def test_multipart_series_in_one_target(client: TestClient) -> None:
    series = url("emri_small.dcm").split("/instances/")[0]
    accept = f'multipart/related; type="application/dicom"; transfer-syntax={codecs.HTJ2K}'
    response = client.get(series, headers={"accept": accept})
    assert response.status_code == 200
    [(headers, data)] = split_parts(response.content, response.headers["content-type"])
    assert headers["content-type"] == f"application/dicom; transfer-syntax={codecs.HTJ2K}"
    result = pydicom.dcmread(io.BytesIO(data))
    assert np.array_equal(result.pixel_array, original("emri_small.dcm").pixel_array)


def test_native_frame_as_jpeg_baseline_and_as_default_jpeg(client: TestClient) -> None:
    expected = original("SC_rgb.dcm").pixel_array  # 8-bit RGB, Explicit VR Little Endian
    lossy = client.get(url("SC_rgb.dcm", "/frames/1"), headers={
        "accept": f"image/jpeg; transfer-syntax={codecs.JPEG_BASELINE}"})
    assert lossy.status_code == 200
    assert lossy.headers["content-type"] == f"image/jpeg; transfer-syntax={codecs.JPEG_BASELINE}"
    assert lossy.content.startswith(b"\xff\xd8")
    layout = PixelFormat.of_dataset(original("SC_rgb.dcm")).with_photometric("YBR_FULL_422")
    rgb = pydicom.pixels.get_decoder(codecs.JPEG_BASELINE).as_array(
        pydicom.encaps.encapsulate([lossy.content]), **layout.decoding_options())[0]
    assert np.abs(rgb.astype(int) - expected.astype(int)).mean() < 4
    default = client.get(url("SC_rgb.dcm", "/frames/1"), headers={"accept": "image/jpeg"})
    assert default.headers["content-type"] == f"image/jpeg; transfer-syntax={codecs.JPEG_SV1}"
    assert np.array_equal(decode(default.content, codecs.JPEG_SV1, "SC_rgb.dcm"), expected)


def test_jpeg_frame_as_octet_stream_is_its_decoded_samples(client: TestClient) -> None:
    stored = original("SC_rgb_jpeg_dcmtk.dcm")
    response = client.get(url("SC_rgb_jpeg_dcmtk.dcm", "/frames/1"), headers={
        "accept": 'multipart/related; type="application/octet-stream"'})
    assert response.status_code == 200
    headers, data = only_part(response)
    assert headers["content-type"] == \
        f"application/octet-stream; transfer-syntax={codecs.EXPLICIT_LE}"
    assert headers["content-location"].endswith("/frames/1")
    raw = pydicom.pixels.get_decoder(codecs.JPEG_BASELINE).as_array(stored, raw=True)[0]
    assert data == raw.tobytes()  # the YCbCr samples, interleaved


@pytest.mark.parametrize("accept, syntax", [
    ("image/jls", codecs.JPEG_LS),
    ("image/x-jls", codecs.JPEG_LS),
    ("image/jp2", codecs.JPEG_2000),
    ("image/jphc", codecs.HTJ2K),
    ("image/dicom-rle", codecs.RLE),
    ("image/x-dicom-rle", codecs.RLE),
])
def test_frames_in_each_compressed_media_type_are_pixel_exact(
        client: TestClient, accept: str, syntax: str) -> None:
    name = "emri_small.dcm"  # 10 frames, 16 bits allocated, 12 stored
    response = client.get(url(name, "/frames/2,9"), headers={
        "accept": f'multipart/related; type="{accept}"'})
    assert response.status_code == 200, response.text
    parts = split_parts(response.content, response.headers["content-type"])
    expected = original(name).pixel_array
    for (headers, data), index in zip(parts, (1, 8), strict=True):
        assert headers["content-type"] == f"{accept}; transfer-syntax={syntax}"
        assert np.array_equal(decode(data, syntax, name), expected[index])


def test_lossless_jpeg_frame_as_jpeg_2000(client: TestClient) -> None:
    response = client.get(url("JPEG-LL.dcm", "/frames/1"), headers={"accept": "image/jp2"})
    assert response.status_code == 200
    assert response.headers["content-type"] == f"image/jp2; transfer-syntax={codecs.JPEG_2000}"
    expected = original("JPEG-LL.dcm").pixel_array
    assert np.array_equal(decode(response.content, codecs.JPEG_2000, "JPEG-LL.dcm"), expected)


def test_compressed_frame_asked_in_its_own_media_type_is_untouched(client: TestClient) -> None:
    stored = original("JPEG-LL.dcm")
    fragment = next(pydicom.encaps.generate_frames(stored.PixelData, number_of_frames=1))
    response = client.get(url("JPEG-LL.dcm", "/frames/1"), headers={"accept": "image/jpeg"})
    assert response.headers["content-type"] == f"image/jpeg; transfer-syntax={codecs.JPEG_SV1}"
    assert response.content == fragment


def test_native_pixeldata_in_a_compressed_media_type_is_its_frames(client: TestClient) -> None:
    response = client.get(url("emri_small.dcm", "/pixeldata"), headers={
        "accept": 'multipart/related; type="image/jls"'})
    assert response.status_code == 200
    parts = split_parts(response.content, response.headers["content-type"])
    assert len(parts) == 10
    assert parts[3][0]["content-location"].endswith("/frames/4")


@pytest.mark.parametrize("accept, reason", [
    ("image/jpx", "does not encode JPEG 2000 Part 2"),
    (f"image/jpeg; transfer-syntax={codecs.JPEG_BASELINE}", "8-bit samples only"),
    (f"image/jpeg; transfer-syntax={codecs.JPEG_LS}", "not a transfer syntax of image/jpeg"),
])
def test_frames_that_cannot_be_made_are_406_naming_why(client: TestClient, accept: str,
                                                       reason: str) -> None:
    response = client.get(url("CT_small.dcm", "/frames/1"), headers={"accept": accept})
    assert response.status_code == 406
    assert reason in response.json()["errorMessage"]
