"""WADO-RS against a real server process, with dicomweb-client."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pydicom
import pytest
from dicomweb_client.api import DICOMwebClient
from helpers.data_files import pydicom_data_files, pydicom_test_file
from helpers.dicom_files import ct_instance, part10_bytes, video_instance
from helpers.multipart_body import split_parts
from pydicom.fileset import FileSet

from hounsfield.dicom import codecs
from hounsfield.dicom.pixel_format import PixelFormat

from .server import Server
from .test_stow_e2e import multipart

pytestmark = pytest.mark.e2e
STUDY, SERIES = "2.25.4712", "2.25.4712.1"
AS_STORED = (("application/dicom", "*"),)


@pytest.fixture(scope="module")
def public_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """dicomweb-client sends a Host header without the port: BulkDataURIs must follow the
    configured public base URL to resolve. One server for the module's tests."""
    server = Server(tmp_path_factory.mktemp("wado") / "data")
    server.env["HOUNSFIELD_PUBLIC_BASE_URL"] = server.url
    yield server.start()
    server.stop()


def test_dicomweb_client_retrieves(public_server: Server) -> None:
    client = DICOMwebClient(public_server.rs)
    generated = [ct_instance(STUDY, SERIES, f"{SERIES}.{n}", seed=n - 1, frames=n)
                 for n in (1, 2, 3)]
    jpeg = pydicom.dcmread(pydicom_test_file("SC_rgb_jpeg_dcmtk.dcm"))
    client.store_instances(generated + [jpeg])

    instance = client.retrieve_instance(STUDY, SERIES, f"{SERIES}.2")
    assert instance.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    assert instance.PixelData == generated[1].PixelData

    series = client.retrieve_series(STUDY, SERIES, media_types=AS_STORED)
    assert [part10_bytes(ds) for ds in series] == [part10_bytes(ds) for ds in generated]
    assert [ds.SOPInstanceUID for ds in client.retrieve_study(STUDY)] == \
        [f"{SERIES}.{n}" for n in (1, 2, 3)]

    frames = client.retrieve_instance_frames(STUDY, SERIES, f"{SERIES}.3", [3, 1])
    size = len(generated[2].PixelData) // 3
    assert frames == [generated[2].PixelData[2 * size:], generated[2].PixelData[:size]]

    metadata = client.retrieve_series_metadata(STUDY, SERIES)
    assert [m["00080018"]["Value"][0] for m in metadata] == [f"{SERIES}.{n}" for n in (1, 2, 3)]
    uri = metadata[0]["7FE00010"]["BulkDataURI"]
    assert client.retrieve_bulkdata(uri) == [generated[0].PixelData]
    assert client.retrieve_bulkdata(uri, byte_range=(0, 9)) == [generated[0].PixelData[:10]]


def test_dicomweb_client_gets_compressed_frames_and_files_as_stored(
        public_server: Server) -> None:
    client = DICOMwebClient(public_server.rs)
    path = pydicom_test_file("SC_rgb_jpeg_dcmtk.dcm")
    jpeg = pydicom.dcmread(path)
    client.store_instances([jpeg])
    uids = (jpeg.StudyInstanceUID, jpeg.SeriesInstanceUID, jpeg.SOPInstanceUID)

    stored = client.retrieve_instance(*uids, media_types=AS_STORED)
    buffer = io.BytesIO()
    stored.save_as(buffer, enforce_file_format=True)
    assert stored.PixelData == jpeg.PixelData
    assert stored.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.50"

    [frame] = client.retrieve_instance_frames(*uids, [1], media_types=(
        ("image/jpeg", "1.2.840.10008.1.2.4.50"),))
    assert frame == next(pydicom.encaps.generate_frames(jpeg.PixelData, number_of_frames=1))


def test_every_pydicom_data_file_comes_back_as_stored(public_server: Server) -> None:
    """Stored through STOW-RS, retrieved as stored through WADO-RS: the same bytes (a file
    without preamble gets one, so that it is a Part 10 file)."""
    client = DICOMwebClient(public_server.rs)
    checked = 0
    for path in pydicom_data_files():
        if path.stat().st_size > 1_500_000:
            continue
        data = path.read_bytes()
        body, content_type = multipart([data])
        stored = httpx.post(f"{public_server.rs}/studies", content=body,
                            headers={"content-type": content_type}, timeout=60)
        if stored.status_code != 200:
            continue  # not an instance, or a SOP Instance UID stored before with other bytes
        [ref] = stored.json()["00081199"]["Value"]
        url = ref["00081190"]["Value"][0]
        answer = httpx.get(url, headers={"accept": "application/dicom; transfer-syntax=*"},
                           timeout=60)
        assert answer.status_code == 200, (path.name, answer.text)
        expected = data if data[128:132] == b"DICM" else b"\0" * 128 + b"DICM" + data
        assert answer.content == expected, path.name
        uids = url.split("/studies/")[1].split("/")[0::2]
        ds = client.retrieve_instance(*uids, media_types=AS_STORED)
        assert ds.SOPInstanceUID == uids[2]
        checked += 1
    assert checked > 20


def test_study_downloads_as_a_zip_with_dicomdir(public_server: Server, tmp_path: Path) -> None:
    """A real server streams the ZIP (chunked); unzip and pydicom's FileSet read it."""
    study, series = "2.25.4713", "2.25.4713.1"
    generated = [ct_instance(study, series, f"{series}.{n}", seed=n, frames=n) for n in (1, 2)]
    for ds in generated:
        ds.StudyTime, ds.StudyID = "090000", "1"
    body, content_type = multipart([part10_bytes(ds) for ds in generated])
    assert httpx.post(f"{public_server.rs}/studies", content=body,
                      headers={"content-type": content_type}).status_code == 200
    path = tmp_path / "study.zip"
    url = f"{public_server.rs}/studies/{study}"
    with httpx.stream("GET", url, params={"accept": "application/zip; transfer-syntax=*",
                                          "dicomdir": "true"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/zip"
        assert response.headers["transfer-encoding"] == "chunked"
        with path.open("wb") as out:
            for chunk in response.iter_bytes():
                out.write(chunk)
    if shutil.which("unzip"):
        tested = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True,
                                check=False)
        assert tested.returncode == 0, tested.stdout
    zipfile.ZipFile(path).extractall(tmp_path / "files")
    file_set = FileSet(tmp_path / "files" / "DICOMDIR")
    assert sorted(i.SOPInstanceUID for i in file_set) == [f"{series}.1", f"{series}.2"]
    for instance in file_set:
        number = int(instance.SOPInstanceUID.rsplit(".", 1)[1])
        assert Path(instance.path).read_bytes() == part10_bytes(generated[number - 1])


def test_dicomweb_client_gets_the_bulk_data_of_a_study_and_seeks_in_a_video(
        public_server: Server) -> None:
    client = DICOMwebClient(public_server.rs)
    study, series = "2.25.4714", "2.25.4714.1"
    generated = [ct_instance(study, series, f"{series}.{n}", seed=n, frames=n) for n in (1, 2)]
    video, stream = video_instance(study)
    client.store_instances(generated + [pydicom.dcmread(io.BytesIO(video))])

    pixel_data = client.retrieve_bulkdata(f"{public_server.rs}/studies/{study}/pixeldata")
    # one STOW-RS request stores its instances concurrently: the series' order may vary
    assert sorted(pixel_data) == sorted([generated[0].PixelData, generated[1].PixelData,
                                         stream])
    metadata = client.retrieve_study_metadata(study)
    uris = [m["7FE00010"]["BulkDataURI"] for m in metadata]
    assert all(uri.startswith(public_server.rs + "/studies/") for uri in uris)
    assert [client.retrieve_bulkdata(u)[0] for u in uris] == pixel_data

    [video_uri] = [u for u in uris if client.retrieve_bulkdata(u) == [stream]]
    assert client.retrieve_bulkdata(video_uri, byte_range=(2990, 3009)) == [stream[2990:3010]]
    seek = httpx.get(video_uri, headers={"accept": "video/mp4", "range": "bytes=100-"})
    assert seek.status_code == 206 and seek.content == stream[100:]
    assert seek.headers["content-type"] == "video/mp4; transfer-syntax=1.2.840.10008.1.2.4.102"

    native = httpx.get(f"{public_server.rs}/studies/{study}", headers={
        "accept": 'multipart/related; type="application/octet-stream"'})
    assert native.status_code == 200
    assert "1 bulk data part(s) of 1 instance(s)" in native.headers["warning"]  # the video


def test_dicomweb_client_retrieves_frames_and_instances_transcoded(
        public_server: Server) -> None:
    client = DICOMwebClient(public_server.rs)
    study, series = "2.25.4715", "2.25.4715.1"
    generated = ct_instance(study, series, f"{series}.1", seed=5, frames=3)
    client.store_instances([generated])
    expected = generated.pixel_array
    layout = PixelFormat.of_dataset(generated)

    frames = client.retrieve_instance_frames(
        study, series, f"{series}.1", [3, 1],
        media_types=(("image/jls", codecs.JPEG_LS),))
    decoded = [codecs.decode_frame(f, codecs.JPEG_LS, layout)[0] for f in frames]
    assert all((d == e).all() for d, e in zip(decoded, (expected[2], expected[0]), strict=True))

    instance = client.retrieve_instance(study, series, f"{series}.1",
                                        media_types=(("application/dicom", codecs.JPEG_2000),))
    assert instance.file_meta.TransferSyntaxUID == codecs.JPEG_2000
    assert (instance.pixel_array == expected).all()


def test_a_series_goes_out_byte_for_byte_with_its_length_known(public_server: Server) -> None:
    """The real server sends stored files with sendfile: each part is the stored file
    (a preamble put in front where the sender left it out), in order, and the body is as
    long as its Content-Length says; HEAD says the same length and sends nothing."""
    study, series = "2.25.47129", "2.25.47129.1"
    with_preamble = part10_bytes(ct_instance(study, series, "2.25.47129.1.1", seed=1))
    big = part10_bytes(ct_instance(study, series, "2.25.47129.1.2", rows=512, columns=512,
                                   frames=6, seed=2))  # 3 MB: more than a socket takes
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, ct_instance(study, series, "2.25.47129.1.3", seed=3))
    without_preamble = buffer.getvalue()
    assert without_preamble[128:132] != b"DICM"
    body, content_type = multipart([with_preamble, big, without_preamble])
    stored = httpx.post(f"{public_server.rs}/studies", content=body,
                        headers={"content-type": content_type}, timeout=60)
    assert stored.status_code == 200, stored.text
    expected = {"2.25.47129.1.1": with_preamble, "2.25.47129.1.2": big,
                "2.25.47129.1.3": b"\0" * 128 + b"DICM" + without_preamble}
    url = f"{public_server.rs}/studies/{study}/series/{series}"
    accept = {"accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'}
    with httpx.Client(timeout=60) as client:
        for _ in range(2):  # the second time on a kept-alive connection
            answer = client.get(url, headers=accept)
            assert answer.status_code == 200
            assert int(answer.headers["content-length"]) == len(answer.content)
            parts = split_parts(answer.content, answer.headers["content-type"])
            got = {headers["content-location"].rsplit("/", 1)[1]: data
                   for headers, data in parts}
            assert got == expected
            assert all(int(h["content-length"]) == len(d) for h, d in parts)
        head = client.head(url, headers=accept)
        assert head.headers["content-length"] == answer.headers["content-length"]
        assert head.content == b""
        single = client.get(f"{url}/instances/2.25.47129.1.3",
                            headers={"accept": "application/dicom; transfer-syntax=*"})
        assert single.content == expected["2.25.47129.1.3"]
        assert single.headers["content-length"] == str(len(single.content))
