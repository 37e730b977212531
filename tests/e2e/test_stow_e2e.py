"""STOW-RS against a real server process, with real clients."""

from __future__ import annotations

import io
import sqlite3
import uuid
from pathlib import Path

import httpx
import pydicom
import pytest
from dicomweb_client.api import DICOMwebClient
from helpers.data_files import pydicom_data_files
from helpers.dicom_files import ct_instance, part10_bytes

from .server import Server

pytestmark = pytest.mark.e2e


def multipart(parts: list[bytes], part_type: str = "application/dicom") -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = b"".join(b"--" + boundary.encode() + f"\r\nContent-Type: {part_type}\r\n\r\n".encode()
                    + p + b"\r\n" for p in parts) + b"--" + boundary.encode() + b"--\r\n"
    return body, f'multipart/related; type="{part_type}"; boundary={boundary}'


def stored_blob(server: Server, sop_uid: str) -> bytes:
    with sqlite3.connect(server.data_dir / "index.sqlite") as db:
        [(key,)] = db.execute("SELECT blob_key FROM instance WHERE sop_instance_uid = ?",
                              (sop_uid,)).fetchall()
    return (server.data_dir / "blobs" / key).read_bytes()


def test_dicomweb_client_store_instances(server: Server) -> None:
    client = DICOMwebClient(server.rs)
    study = "2.25.77"
    datasets = [ct_instance(study, seed=i) for i in range(3)]
    response = client.store_instances(datasets)
    refs = response.ReferencedSOPSequence
    assert sorted(r.ReferencedSOPInstanceUID for r in refs) == sorted(
        d.SOPInstanceUID for d in datasets)
    # dicomweb-client sends "Host: 127.0.0.1" without the port; the URL follows Host
    assert response.RetrieveURL.endswith(f"/aets/HOUNSFIELD/rs/studies/{study}")
    assert "FailedSOPSequence" not in response
    for ds in datasets:  # the client writes its own encoding (no preamble): compare content
        stored = pydicom.dcmread(io.BytesIO(stored_blob(server, ds.SOPInstanceUID)), force=True)
        assert stored.SOPInstanceUID == ds.SOPInstanceUID
        assert stored.PixelData == ds.PixelData


def test_dicomweb_client_store_into_study(server: Server) -> None:
    client = DICOMwebClient(server.rs)
    ds = ct_instance("2.25.78")
    response = client.store_instances([ds], study_instance_uid=ds.StudyInstanceUID)
    assert response.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == ds.SOPInstanceUID


def test_cors_and_xml_response(server: Server) -> None:
    body, content_type = multipart([part10_bytes(ct_instance())])
    r = httpx.post(f"{server.rs}/studies", content=body,
                   headers={"content-type": content_type, "accept": "application/dicom+xml"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/dicom+xml"
    assert r.headers["access-control-allow-origin"] == "*"
    assert "warning" in r.headers["access-control-expose-headers"]
    assert r.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?><NativeDicomModel')


# Files of pydicom-data that are not valid instances, and the documented reason each gets.
NOT_INSTANCES = {
    "OT-PAL-8-face.dcm": 0xC000,  # no File Meta Information: not a Part 10 file
    "bad_sequence.dcm": 0xA900,  # its UIDs are hex digests, not UIDs
    "emri_small_jpeg_2k_lossless_too_short.dcm": 0xC000,  # truncated pixel data
}


@pytest.mark.parametrize("path", pydicom_data_files(), ids=lambda p: p.name)
def test_every_pydicom_data_file(replacing_server: Server, path: Path) -> None:
    """Each file answers 200 and is stored byte for byte, or gets its documented reason."""
    data = path.read_bytes()
    body, content_type = multipart([data])
    r = httpx.post(f"{replacing_server.rs}/studies", content=body,
                   headers={"content-type": content_type}, timeout=60)
    payload = r.json()
    if path.name in NOT_INSTANCES:
        assert r.status_code == 409
        [failed] = payload["00081198"]["Value"]
        assert failed["00081197"]["Value"] == [NOT_INSTANCES[path.name]]
        return
    assert r.status_code == 200, payload
    [ref] = payload["00081199"]["Value"]
    sop = ref["00081155"]["Value"][0]
    assert stored_blob(replacing_server, sop) == data
