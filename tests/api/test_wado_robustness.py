"""No request makes WADO-RS answer 500: random Accept values, frame lists, bulk data
paths, ranges and validators against stored instances (seeded, so reproducible)."""

from __future__ import annotations

import random

import pytest
from helpers.data_files import pydicom_test_file
from helpers.dicom_files import ct_instance, part10_bytes, pdf_instance, video_instance
from starlette.testclient import TestClient

from hounsfield.archive.archive import Archive

RS = "/aets/HOUNSFIELD/rs"
MEDIA = ["*/*", "multipart/related", "multipart/*", "application/dicom", "application/*",
         "application/octet-stream", "image/jpeg", "image/*", "application/dicom+json",
         "text/html", "multipart/mixed", "video/mp4", "*/x", "a", "", "application/pdf"]
INNER = ["application/dicom", "application/octet-stream", "image/jpeg", "image/jls",
         "application/dicom+xml", "*/*", "bogus", '"quoted"', "", "video/mp4", "video/*",
         "application/pdf"]
SYNTAX = ["*", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.4.50",
          "1.2.840.10008.1.2.4.70", "x", "", '"1.2"', "1." * 40]
PARAMS = ["q=0", "q=0.5", "q=1", "q=2", "q=x", "foo=bar", ";", "charset=utf-8"]


def random_accept(rng: random.Random) -> str:
    ranges = []
    for _ in range(rng.randint(1, 3)):
        parts = [rng.choice(MEDIA)]
        if parts[0].startswith("multipart") and rng.random() < 0.8:
            parts.append(f"type={rng.choice(INNER)}")
        if rng.random() < 0.6:
            parts.append(f"transfer-syntax={rng.choice(SYNTAX)}")
        if rng.random() < 0.4:
            parts.append(rng.choice(PARAMS))
        ranges.append("; ".join(parts))
    return ", ".join(ranges)


@pytest.fixture
def urls(app_archive: Archive) -> list[str]:
    instances = []
    for number, data in enumerate([
            part10_bytes(ct_instance("2.25.5", "2.25.5.1", "2.25.5.1.1", frames=3)),
            pydicom_test_file("SC_rgb_jpeg_dcmtk.dcm").read_bytes(),
            pydicom_test_file("MR_small_bigendian.dcm").read_bytes(),
            pydicom_test_file("image_dfl.dcm").read_bytes(),
            video_instance("2.25.5")[0], pdf_instance("2.25.5")[0]]):
        path = app_archive.blobs.spool_dir / f"{number}.dcm"
        path.write_bytes(data)
        outcome = app_archive.store_file(path)
        assert outcome.stored
        instances.append(f"{RS}/studies/{outcome.study_instance_uid}/series/"
                         f"{outcome.series_instance_uid}/instances/{outcome.sop_instance_uid}")
    return instances


SUFFIXES = ["", "/metadata", "/frames/1", "/frames/1,2,3", "/frames/0", "/frames/x",
            "/frames/4", "/pixeldata", "/bulkdata/7FE00010", "/bulkdata/zz",
            "/bulkdata/00280010", "/bulkdata/00480105/0/00282000", "/bulkdata",
            "/bulkdata/00420011", "/metadata?includefield=PatientID,x",
            "/metadata?includefield=all&includefields=00100010"]
RANGES = ["bytes=0-9", "bytes=-5", "bytes=5-", "bytes=99999999-", "bytes=x", "bytes=0-1,3-4"]


def test_no_request_makes_a_500(client: TestClient, urls: list[str]) -> None:
    rng = random.Random(20261123)
    statuses = set()
    for _ in range(400):
        url = rng.choice(urls)
        level = rng.choice([url, url.split("/instances/")[0], url.split("/series/")[0]])
        suffix = rng.choice(SUFFIXES) if level == url else rng.choice(
            ["", "/metadata", "/bulkdata", "/pixeldata", "/metadata?includefield=Rows"])
        headers = {"accept": random_accept(rng)}
        if rng.random() < 0.3:
            headers["range"] = rng.choice(RANGES)
        if rng.random() < 0.2:
            headers["if-modified-since"] = rng.choice(["yesterday", "Mon, 01 Jan 2001 00:00:00 GMT",
                                                       "Mon, 01 Jan 2101 00:00:00 GMT"])
        method = client.head if rng.random() < 0.2 else client.get
        response = method(level + suffix, headers=headers)
        assert response.status_code < 500, (level + suffix, headers, response.text)
        if response.status_code >= 400 and method == client.get:
            assert response.json()["errorMessage"]
        statuses.add(response.status_code)
    assert {200, 400, 404, 406} <= statuses
