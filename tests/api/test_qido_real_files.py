"""QIDO-RS over real DICOM files (pydicom-data): every stored instance is found by its
UIDs and its patient's name, in every format."""

from __future__ import annotations

import urllib.parse

import pydicom
import pytest
from helpers.data_files import pydicom_data_files
from starlette.testclient import TestClient

from hounsfield.archive.archive import Archive

RS = "/aets/HOUNSFIELD/rs"
SMALL = [p for p in pydicom_data_files() if p.stat().st_size < 1_500_000]


@pytest.fixture
def stored_files(app_archive: Archive, tmp_path) -> dict[str, tuple[str, str]]:
    """SOP Instance UID -> (Study Instance UID, Patient's Name) of every file stored."""
    stored: dict[str, tuple[str, str]] = {}
    for number, path in enumerate(SMALL):
        copy = app_archive.blobs.spool_dir / f"{number}.dcm"
        copy.write_bytes(path.read_bytes())
        outcome = app_archive.store_file(copy)
        if outcome.stored:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            stored[outcome.sop_instance_uid] = (outcome.study_instance_uid,
                                                str(ds.get("PatientName", "") or ""))
    assert len(stored) > 20
    return stored


def test_every_real_instance_is_found(client: TestClient,
                                      stored_files: dict[str, tuple[str, str]]) -> None:
    for sop, (study, _) in stored_files.items():
        response = client.get(RS + f"/instances?SOPInstanceUID={sop}&includefield=all")
        assert response.status_code == 200, (sop, response.text)
        [found] = response.json()
        assert found["0020000D"]["Value"] == [study]
        for accept in ("text/csv", 'multipart/related; type="application/dicom+xml"'):
            answer = client.get(RS + f"/studies/{study}/instances?SOPInstanceUID={sop}",
                                headers={"accept": accept})
            assert answer.status_code == 200 and sop in answer.text


def test_real_studies_are_found_by_patient_name_in_any_case(
        client: TestClient, stored_files: dict[str, tuple[str, str]]) -> None:
    checked = 0
    for study, name in set(stored_files.values()):
        if not name or not name.isascii() or "=" in name:
            continue
        query = urllib.parse.urlencode({"PatientName": name.lower(), "StudyInstanceUID": study})
        response = client.get(RS + "/studies?" + query)
        if response.status_code == 200:  # the study's name is its first instance's
            checked += 1
            assert [s["0020000D"]["Value"][0] for s in response.json()] == [study]
    assert checked > 5
