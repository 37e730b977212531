"""Search for Studies answers in the exact shape of dcm4chee-arc-light's samples
(shared/spec/002: QIDO-RS Samples 1 and 2, copied to tests/api/samples)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from helpers.dicom_files import ct_instance, part10_bytes, spool
from starlette.testclient import TestClient

from hounsfield.app import create_app
from hounsfield.archive.archive import Archive

SAMPLES = Path(__file__).parent / "samples"
STUDY = "2.16.840.1.113995.3.110.3.0.10118.6000009.497166.721604"
SERIES = "2.16.840.1.113995.3.110.3.0.10118.6000009.258169"
URL = "/dcm4chee-arc/aets/DCM4CHEE/rs/studies?00100010=Zeta%5E%2A&00080020=20220928"


def sample_client(archive: Archive) -> TestClient:
    """As in the samples: context /dcm4chee-arc, AE title DCM4CHEE, localhost:8080."""
    settings = dataclasses.replace(archive.settings, context_path="/dcm4chee-arc",
                                   ae_titles=("DCM4CHEE",))
    return TestClient(create_app(settings, Archive(settings, archive.engine, archive.blobs)),
                      base_url="http://localhost:8080")


def store_sample_study(archive: Archive) -> None:
    ds = ct_instance(STUDY, SERIES, SERIES + ".1", modality="SM", patient_id="ccbaf3d29596b6d2")
    ds.PatientName = "Zeta^Zachary"
    ds.PatientBirthDate, ds.PatientSex = "19830606", "M"
    ds.StudyDate, ds.StudyTime, ds.StudyID = "20220928", "214137.000", "Case-F"
    ds.AccessionNumber = ""
    ds.ReferringPhysicianName = ""
    assert archive.store_file(spool(part10_bytes(ds), archive.blobs.spool_dir)).stored


def test_json_answer_is_the_sample_byte_for_byte(app_archive: Archive) -> None:
    store_sample_study(app_archive)
    with sample_client(app_archive) as client:
        response = client.get(URL, headers={"Accept": "application/dicom+json"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/dicom+json"
    assert response.content == (SAMPLES / "dcm4chee_search_for_studies.json").read_bytes().strip()


def test_xml_answer_is_the_sample_part_byte_for_byte(app_archive: Archive) -> None:
    store_sample_study(app_archive)
    with sample_client(app_archive) as client:
        response = client.get(URL, headers={
            "Accept": 'multipart/related; type="application/dicom+xml"'})
    assert response.status_code == 200
    content_type = response.headers["content-type"]
    assert content_type.startswith('multipart/related; type="application/dicom+xml"; boundary=')
    boundary = content_type.rsplit("boundary=", 1)[1]
    body = response.content
    assert body.startswith(f"--{boundary}\r\nContent-Type: application/dicom+xml\r\n\r\n".encode())
    assert body.endswith(f"\r\n--{boundary}--\r\n".encode())
    [part] = body.split(f"--{boundary}".encode())[1:-1]
    document = part.split(b"\r\n\r\n", 1)[1].removesuffix(b"\r\n")
    assert document == (SAMPLES / "dcm4chee_search_for_studies.xml").read_bytes().strip()
