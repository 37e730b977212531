"""WADO-RS over real DICOM files (pydicom-data and pydicom's own test files): every stored
instance comes back byte-identical as stored, its metadata's BulkDataURIs all resolve
to the exact element bytes, and its frames are those pydicom finds."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pydicom
import pytest
from helpers.data_files import pydicom_data_files, pydicom_test_file
from helpers.multipart_body import split_parts
from starlette.testclient import TestClient

from hounsfield.app import create_app
from hounsfield.archive.archive import Archive
from hounsfield.config import load_settings
from hounsfield.dicom import transcode
from hounsfield.dicom.transfer_syntax import transfer_syntax

RS = "/aets/HOUNSFIELD/rs"
PYDICOM_TEST_FILES = ["MR_small_bigendian.dcm", "image_dfl.dcm", "MR_small_RLE.dcm",
                      "MR_small_jpeg_ls_lossless.dcm", "JPEG2000.dcm", "SC_rgb_jpeg_dcmtk.dcm",
                      "emri_small_jpeg_2k_lossless.dcm", "MR_small_implicit.dcm",
                      "emri_small_RLE.dcm", "JPEG-LL.dcm"]
SMALL = [p for p in pydicom_data_files() if p.stat().st_size < 1_500_000] + [
    pydicom_test_file(name) for name in PYDICOM_TEST_FILES]
NATIVE_LITTLE_ENDIAN = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1"}


@pytest.fixture(scope="module")
def module_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    """One archive for the module: the files are stored once, the tests only read."""
    settings = load_settings(overrides={
        "data_dir": tmp_path_factory.mktemp("wado-real") / "data",
        "recovery_grace_seconds": 0}, environ={})
    archive = Archive.open(settings)
    yield archive
    archive.close()


@pytest.fixture(scope="module")
def client(module_archive: Archive) -> Iterator[TestClient]:
    with TestClient(create_app(module_archive.settings, module_archive)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def stored_files(module_archive: Archive) -> dict[str, tuple[str, bytes]]:
    """SOP Instance UID -> (instance URL, stored bytes) of every file stored."""
    stored: dict[str, tuple[str, bytes]] = {}
    for number, path in enumerate(SMALL):
        data = path.read_bytes()
        copy = module_archive.blobs.spool_dir / f"{number}.dcm"
        copy.write_bytes(data)
        outcome = module_archive.store_file(copy)
        if outcome.stored and outcome.sop_instance_uid not in stored:
            url = (f"{RS}/studies/{outcome.study_instance_uid}/series/"
                   f"{outcome.series_instance_uid}/instances/{outcome.sop_instance_uid}")
            stored[outcome.sop_instance_uid] = (url, data)
    assert len(stored) > 20
    return stored


def test_every_real_instance_comes_back_byte_identical(
        client: TestClient, stored_files: dict[str, tuple[str, bytes]]) -> None:
    for url, data in stored_files.values():
        response = client.get(url, headers={"accept": "application/dicom; transfer-syntax=*"})
        assert response.status_code == 200, (url, response.text)
        syntax = response.headers["content-type"].partition("transfer-syntax=")[2]
        assert transfer_syntax(syntax) is not None
        assert response.content == data, url


def test_every_real_series_streams_its_files(
        client: TestClient, stored_files: dict[str, tuple[str, bytes]]) -> None:
    by_series: dict[str, set[bytes]] = {}
    for url, data in stored_files.values():
        by_series.setdefault(url.split("/instances/")[0], set()).add(data)
    accept = 'multipart/related; type="application/dicom"; transfer-syntax=*'
    for series_url, files in by_series.items():
        response = client.get(series_url, headers={"accept": accept})
        assert response.status_code == 200, series_url
        parts = split_parts(response.content, response.headers["content-type"])
        assert {d for _, d in parts} == files


def bulk_data_uris(data_set: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(tag path, BulkDataURI) of every bulk data element at every depth."""
    for tag, element in data_set.items():
        if "BulkDataURI" in element:
            yield tag, element["BulkDataURI"]
        for number, item in enumerate(element.get("Value", [])
                                      if element.get("vr") == "SQ" else []):
            for path, uri in bulk_data_uris(item):
                yield f"{tag}/{number}/{path}", uri


def element_value(ds: pydicom.Dataset, path: str) -> bytes:
    """The value pydicom reads at a tag path such as 00880200/0/7FE00010."""
    steps = path.split("/")
    for tag, number in zip(steps[:-1:2], steps[1::2], strict=True):
        ds = ds[int(tag, 16)].value[int(number)]
    return ds[int(steps[-1], 16)].value


def little_endian_pixels(ds: pydicom.Dataset) -> bytes:
    """The native Pixel Data value in little endian (words swapped from big endian)."""
    if ds.file_meta.TransferSyntaxUID != "1.2.840.10008.1.2.2" or ds.BitsAllocated <= 8:
        return ds.PixelData
    size = ds.BitsAllocated // 8
    return np.frombuffer(ds.PixelData, f">u{size}").astype(f"<u{size}").tobytes()


def expected_pixel_parts(ds: pydicom.Dataset) -> list[bytes]:
    """What /pixeldata answers: native pixel data whole; compressed, each frame's
    fragments (one part per frame, PS3.18 Table 8.7.3-5 bitstreams as stored)."""
    if not transfer_syntax(ds.file_meta.TransferSyntaxUID).encapsulated:
        return [ds.PixelData]
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    return list(pydicom.encaps.generate_frames(ds.PixelData, number_of_frames=frames))


def check_every_bulk_data_uri(client: TestClient, stored_files: dict[str, tuple[str, bytes]],
                              root: str, headers: dict[str, str]) -> int:
    """Fetch every BulkDataURI of every stored file's metadata: each starts with `root`
    and answers with exactly the element's bytes; returns how many were checked."""
    checked = 0
    for url, data in stored_files.values():
        [metadata] = client.get(url + "/metadata", headers=headers).json()
        ds = pydicom.dcmread(io.BytesIO(data))
        syntax = transfer_syntax(ds.file_meta.TransferSyntaxUID)
        for path, uri in bulk_data_uris(metadata):
            assert uri.startswith(root + url), (uri, root + url)
            response = client.get(uri[len(root):], headers={**headers, "accept": "*/*"})
            if syntax is None or not syntax.little_endian or syntax.deflated:
                if path == "7FE00010" and response.status_code == 200:  # decoded
                    parts = split_parts(response.content, response.headers["content-type"])
                    assert b"".join(v for _, v in parts) == little_endian_pixels(ds), url
                    checked += 1
                    continue
                assert response.status_code == 406, (url, path)  # would need swapping
                continue
            if response.status_code == 406 and path == "7FE00010":
                continue  # compressed frames that cannot be located without decoding
            assert response.status_code == 200, (url, path, response.text)
            values = [v for _, v in split_parts(response.content,
                                                response.headers["content-type"])]
            if uri.endswith("/pixeldata"):
                assert values == expected_pixel_parts(ds), url
            else:
                assert values == [element_value(ds, path)], (url, path)
            checked += 1
    return checked


def test_every_bulk_data_uri_gives_the_element_bytes(
        client: TestClient, stored_files: dict[str, tuple[str, bytes]]) -> None:
    assert check_every_bulk_data_uri(client, stored_files, "http://testserver", {}) > 30


def test_bulk_data_uris_are_absolute_behind_a_reverse_proxy(
        module_archive: Archive, stored_files: dict[str, tuple[str, bytes]]) -> None:
    forwarded = {"x-forwarded-proto": "https", "x-forwarded-host": "proxy.example:8443",
                 "x-forwarded-prefix": "/pacs/"}
    with TestClient(create_app(module_archive.settings, module_archive)) as client:
        assert check_every_bulk_data_uri(client, stored_files,
                                         "https://proxy.example:8443/pacs", forwarded) > 30
    public = dataclasses.replace(module_archive.settings,
                                 public_base_url="https://pacs.example.org/dicomweb")
    archive = Archive(public, module_archive.engine, module_archive.blobs)
    with TestClient(create_app(public, archive)) as client:
        assert check_every_bulk_data_uri(client, stored_files,
                                         "https://pacs.example.org/dicomweb", forwarded) > 30


def test_study_bulkdata_parts_are_what_their_content_locations_answer(
        client: TestClient, stored_files: dict[str, tuple[str, bytes]]) -> None:
    studies = {url.split("/series/")[0] for url, _ in stored_files.values()}
    parts_seen = 0
    for study in sorted(studies):
        response = client.get(study + "/bulkdata", headers={"accept": "*/*"})
        if response.status_code in (404, 406):
            continue  # no bulk data; or only big endian or deflated (would need swapping)
        assert response.status_code == 200, (study, response.text)
        assert int(response.headers["content-length"]) == len(response.content)
        for headers, value in split_parts(response.content, response.headers["content-type"]):
            location = headers["content-location"].removeprefix("http://testserver")
            alone = client.get(location, headers={"accept": "*/*"})
            [(single_headers, single)] = split_parts(alone.content,
                                                     alone.headers["content-type"])
            assert single == value, location
            assert single_headers["content-type"] == headers["content-type"], location
            parts_seen += 1
    assert parts_seen > 30


def test_compressed_frames_are_the_stored_fragments(
        client: TestClient, stored_files: dict[str, tuple[str, bytes]]) -> None:
    checked = 0
    for url, data in stored_files.values():
        ds = pydicom.dcmread(io.BytesIO(data))
        syntax = transfer_syntax(ds.file_meta.TransferSyntaxUID)
        if syntax is None or not syntax.encapsulated or "PixelData" not in ds:
            continue
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        response = client.get(url + "/frames/1", headers={"accept": "*/*"})
        if response.status_code == 406:
            continue  # frame table unknown for this file
        assert response.status_code == 200, (url, response.text)
        [(headers, value)] = split_parts(response.content, response.headers["content-type"])
        assert headers["content-type"] == f"{syntax.media_type}; transfer-syntax={syntax.uid}"
        expected = next(pydicom.encaps.generate_frames(ds.PixelData, number_of_frames=frames))
        assert value == expected, url
        checked += 1
    assert checked > 5


def test_native_frames_are_the_pixel_data_slices(client: TestClient,
                                                 module_archive: Archive) -> None:
    data = pydicom_test_file("emri_small.dcm").read_bytes()  # 10 frames, Explicit VR LE
    path = module_archive.blobs.spool_dir / "emri.dcm"
    path.write_bytes(data)
    outcome = module_archive.store_file(path)
    ds = pydicom.dcmread(io.BytesIO(data))
    size = len(ds.PixelData) // ds.NumberOfFrames
    url = (f"{RS}/studies/{outcome.study_instance_uid}/series/{outcome.series_instance_uid}"
           f"/instances/{outcome.sop_instance_uid}/frames/10,2")
    response = client.get(url)
    assert response.status_code == 200
    values = [d for _, d in split_parts(response.content, response.headers["content-type"])]
    assert values == [ds.PixelData[9 * size:], ds.PixelData[size:2 * size]]


def test_files_as_explicit_vr_are_pixel_identical_to_pydicom_decoding(
        client: TestClient, stored_files: dict[str, tuple[str, bytes]]) -> None:
    syntaxes = set()
    for url, data in stored_files.values():
        original = pydicom.dcmread(io.BytesIO(data))
        syntax = str(original.file_meta.TransferSyntaxUID)
        if syntax not in transcode.SOURCES | {"1.2.840.10008.1.2.1"}:
            continue
        response = client.get(url, headers={"accept": "application/dicom"})
        if response.status_code == 406 and syntax in transcode.DECODABLE:
            with pytest.raises(Exception):  # noqa: B017 - pydicom cannot decode it either
                original.pixel_array  # noqa: B018
            continue
        assert response.status_code == 200, url
        assert response.headers["content-type"] == \
            "application/dicom; transfer-syntax=1.2.840.10008.1.2.1"
        transcoded = pydicom.dcmread(io.BytesIO(response.content))
        assert transcoded.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
        assert transcoded.SOPInstanceUID == original.SOPInstanceUID
        if "PixelData" in original:
            assert (transcoded.pixel_array == original.pixel_array).all(), url
        syntaxes.add(syntax)
    assert len(syntaxes) >= 4 + len(transcode.DECODABLE & {"1.2.840.10008.1.2.5",
                                                           "1.2.840.10008.1.2.4.50"})


def test_big_endian_becomes_the_little_endian_file_pydicom_ships(
        client: TestClient, stored_files: dict[str, tuple[str, bytes]]) -> None:
    data = pydicom_test_file("MR_small_bigendian.dcm").read_bytes()
    [url] = [u for u, d in stored_files.values() if d == data]
    response = client.get(url, headers={"accept": "application/dicom"})
    assert response.status_code == 200
    transcoded = pydicom.dcmread(io.BytesIO(response.content))
    little = pydicom.dcmread(pydicom_test_file("MR_small.dcm"))
    assert transcoded.PixelData == little.PixelData
    compared = [e for e in little if e.keyword and e.keyword != "DataSetTrailingPadding"]
    assert [e for e in compared if transcoded[e.tag].value != e.value] == []
    frames = client.get(url + "/frames/1")  # decoded: its little-endian octets
    assert frames.status_code == 200
    [(headers, value)] = split_parts(frames.content, frames.headers["content-type"])
    assert headers["content-type"] == \
        "application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1"
    assert value == little.PixelData
