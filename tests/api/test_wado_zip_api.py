"""WADO-RS as application/zip (Supplement 211) through the real ASGI app: entry names,
bytes as stored or transcoded, the DICOMDIR (read by pydicom's FileSet and dciodvfy),
validators, HEAD and errors."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pydicom
import pytest
from helpers.data_files import pydicom_test_file
from helpers.dicom_files import ct_instance, part10_bytes
from pydicom.fileset import FileSet
from starlette.testclient import TestClient

from hounsfield.archive.archive import Archive
from hounsfield.dicom.file_set import file_ids, is_file_id

RS = "/aets/HOUNSFIELD/rs"
STUDY, SERIES, OTHER_SERIES = "2.25.300", "2.25.300.1", "2.25.300.2"
EXPLICIT = "1.2.840.10008.1.2.1"
ZIP_AS_STORED = "application/zip; transfer-syntax=*"


def store(archive: Archive, data: bytes, name: str) -> None:
    path = archive.blobs.spool_dir / name
    path.write_bytes(data)
    assert archive.store_file(path).stored


def _instance(series: str, number: int) -> pydicom.Dataset:
    ds = ct_instance(STUDY, series, f"{series}.{number}", seed=number,
                     frames=2 if number == 2 else 1)
    ds.StudyTime, ds.StudyID, ds.AccessionNumber = "101500", "7", "A1"
    return ds


@pytest.fixture
def study(app_archive: Archive) -> dict[str, bytes]:
    """Four stored instances in two series: SOP Instance UID -> the stored bytes."""
    stored = {}
    for series, number in ((SERIES, 1), (SERIES, 2), (SERIES, 3), (OTHER_SERIES, 1)):
        data = part10_bytes(_instance(series, number))
        stored[f"{series}.{number}"] = data
        store(app_archive, data, f"{series}.{number}.dcm")
    return stored


def _name(series: str, sop: str) -> str:
    return "/".join(file_ids([(STUDY, series, sop)])[0])


def _zip(response) -> zipfile.ZipFile:  # noqa: ANN001
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None  # every CRC-32 checks
    return archive


def test_study_zip_holds_the_files_as_stored(client: TestClient,
                                             study: dict[str, bytes]) -> None:
    response = client.get(f"{RS}/studies/{STUDY}", headers={"accept": ZIP_AS_STORED})
    archive = _zip(response)
    assert response.headers["content-disposition"] == f'attachment; filename="{STUDY}.zip"'
    expected = {_name(sop.rsplit(".", 1)[0], sop): data for sop, data in study.items()}
    assert archive.namelist() == list(expected)  # series then instance order
    assert {name: archive.read(name) for name in archive.namelist()} == expected
    assert all(is_file_id(tuple(name.split("/"))) for name in archive.namelist())
    assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}


def test_zip_without_transfer_syntax_is_explicit_vr_little_endian(
        client: TestClient, app_archive: Archive) -> None:
    implicit = pydicom_test_file("MR_small_implicit.dcm").read_bytes()
    store(app_archive, implicit, "implicit.dcm")
    original = pydicom.dcmread(io.BytesIO(implicit))
    response = client.get(f"{RS}/studies/{original.StudyInstanceUID}",
                          params={"accept": "application/zip"})
    [name] = _zip(response).namelist()
    transcoded = pydicom.dcmread(io.BytesIO(_zip(response).read(name)))
    assert transcoded.file_meta.TransferSyntaxUID == EXPLICIT
    assert (transcoded.pixel_array == original.pixel_array).all()
    as_stored = client.get(f"{RS}/studies/{original.StudyInstanceUID}",
                           headers={"accept": ZIP_AS_STORED})
    assert _zip(as_stored).read(name) == implicit


def test_series_and_instance_zip(client: TestClient, study: dict[str, bytes]) -> None:
    series = client.get(f"{RS}/studies/{STUDY}/series/{OTHER_SERIES}",
                        params={"accept": ZIP_AS_STORED})
    assert _zip(series).namelist() == [_name(OTHER_SERIES, f"{OTHER_SERIES}.1")]
    assert series.headers["content-disposition"] == f'attachment; filename="{OTHER_SERIES}.zip"'
    url = f"{RS}/studies/{STUDY}/series/{SERIES}/instances/{SERIES}.2"
    instance = _zip(client.get(url, headers={"accept": "application/zip"}))
    assert [instance.read(n) for n in instance.namelist()] == [study[f"{SERIES}.2"]]


def test_zip_when_nothing_preferred_can_be_produced(client: TestClient,
                                                    study: dict[str, bytes]) -> None:
    # a single application/dicom body cannot hold a study: the zip range is next
    response = client.get(f"{RS}/studies/{STUDY}",
                          headers={"accept": "application/dicom, application/zip; q=0.5"})
    assert len(_zip(response).namelist()) == 4
    multipart = client.get(f"{RS}/studies/{STUDY}",
                           headers={"accept": "multipart/related; type=application/dicom, "
                                              "application/zip; q=0.5"})
    assert multipart.headers["content-type"].startswith("multipart/related")


def test_dicomdir_is_read_by_pydicom_fileset(client: TestClient, study: dict[str, bytes],
                                            tmp_path: Path) -> None:
    response = client.get(f"{RS}/studies/{STUDY}",
                          params={"accept": ZIP_AS_STORED, "dicomdir": "true"})
    archive = _zip(response)
    assert archive.namelist()[0] == "DICOMDIR"
    archive.extractall(tmp_path)
    file_set = FileSet(tmp_path / "DICOMDIR")
    assert sorted(i.SOPInstanceUID for i in file_set) == sorted(study)
    for instance in file_set:
        assert Path(instance.path).read_bytes() == study[instance.SOPInstanceUID]
        assert instance.TransferSyntaxUID == EXPLICIT
    [patient] = file_set._tree.children
    [study_record] = patient.children
    assert study_record._record.StudyID == "7"
    assert [len(s.children) for s in study_record.children] == [3, 1]


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dicom3tools not installed")
def test_dicomdir_is_valid_for_dciodvfy(client: TestClient, study: dict[str, bytes],
                                        tmp_path: Path) -> None:
    response = client.get(f"{RS}/studies/{STUDY}", params={"accept": "application/zip",
                                                           "dicomdir": "true"})
    path = tmp_path / "DICOMDIR"
    path.write_bytes(_zip(response).read("DICOMDIR"))
    result = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True,
                            check=False)
    output = (result.stdout + result.stderr).strip()
    assert "Error -" not in output and "Warning -" not in output, output


def test_dicomdir_of_real_files_in_another_transfer_syntax(
        client: TestClient, app_archive: Archive, tmp_path: Path) -> None:
    data = pydicom_test_file("MR_small_implicit.dcm").read_bytes()
    store(app_archive, data, "implicit.dcm")
    ds = pydicom.dcmread(io.BytesIO(data))
    response = client.get(f"{RS}/studies/{ds.StudyInstanceUID}",
                          params={"accept": "application/zip", "dicomdir": "true"})
    _zip(response).extractall(tmp_path)
    [instance] = FileSet(tmp_path / "DICOMDIR")
    assert instance.TransferSyntaxUID == EXPLICIT  # that of the file in the zip
    assert instance.load().file_meta.TransferSyntaxUID == EXPLICIT
    assert instance.PatientID == ds.PatientID


def test_zip_validators_and_head(client: TestClient, study: dict[str, bytes]) -> None:
    url = f"{RS}/studies/{STUDY}"
    first = client.get(url, headers={"accept": "application/zip"})
    etag = first.headers["etag"]
    assert client.get(url, headers={"accept": "application/zip",
                                    "if-none-match": etag}).status_code == 304
    again = client.get(url, headers={"accept": "application/zip"})
    assert again.content == first.content  # the same bytes each time
    with_dicomdir = client.get(url, params={"dicomdir": "true", "accept": "application/zip"})
    multipart = client.get(url)
    assert len({etag, with_dicomdir.headers["etag"], multipart.headers["etag"]}) == 3
    head = client.head(url, headers={"accept": "application/zip"})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == etag and head.headers["content-type"] == "application/zip"


def test_zip_errors_say_what_is_wrong(client: TestClient, study: dict[str, bytes]) -> None:
    url = f"{RS}/studies/{STUDY}"
    bad = client.get(url, params={"dicomdir": "yes", "accept": "application/zip"})
    assert bad.status_code == 400 and "dicomdir" in bad.json()["errorMessage"]
    jpeg = client.get(url, headers={
        "accept": "application/zip; transfer-syntax=1.2.840.10008.1.2.4.50"})
    assert jpeg.status_code == 406 and "transfer-syntax=*" in jpeg.json()["errorMessage"]
    missing = client.get(f"{RS}/studies/2.25.999", headers={"accept": "application/zip"})
    assert missing.status_code == 404 and "2.25.999" in missing.json()["errorMessage"]
    ignored = client.get(url, params={"dicomdir": "true"})
    assert ignored.status_code == 200
    assert "dicomdir applies to application/zip only" in ignored.headers["warning"]
