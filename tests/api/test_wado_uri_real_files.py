"""Every real image file (pydicom-data and pydicom's own test files) renders through
WADO-URI: its first frame as a
JPEG of Columns x Rows (frameNumber=1: also for multi-frame objects, whose default is
application/dicom); or, for the few that cannot be decoded, a 406 that names why."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pydicom
import pytest
from helpers.app_client import replacing_archive_client, store_copy
from helpers.data_files import UNDECODABLE, pydicom_data_dir, real_image_files
from PIL import Image
from starlette.testclient import TestClient

from hounsfield.archive.archive import Archive

WADO = "/aets/HOUNSFIELD/wado"
FILES = real_image_files(max_pixel_bytes=4_000_000)


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Archive]]:
    """One archive; a file sharing a SOP Instance UID with an earlier one replaces it
    after that one was rendered."""
    with replacing_archive_client(tmp_path_factory.mktemp("wado-uri-real")) as stored:
        yield stored


def test_every_pydicom_data_image_is_among_them() -> None:
    data = [p for p in FILES if p.is_relative_to(pydicom_data_dir())]
    assert len(data) >= 40 and len(FILES) >= 100


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_real_image_renders_through_wado_uri(stored, path: Path) -> None:
    client, archive = stored
    outcome = store_copy(archive, path)
    if not outcome.stored:
        pytest.skip(f"not stored: {outcome.message}")
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    response = client.get(f"{WADO}?" + urlencode({
        "requestType": "WADO", "studyUID": outcome.study_instance_uid,
        "seriesUID": outcome.series_instance_uid, "objectUID": outcome.sop_instance_uid,
        "frameNumber": "1"}))
    if path.name in UNDECODABLE:
        assert response.status_code == 406
        assert UNDECODABLE[path.name] in response.json()["errorMessage"]
        return
    assert response.status_code == 200, (path.name, response.text)
    assert response.headers["content-type"] == "image/jpeg"
    rendered = Image.open(io.BytesIO(response.content))
    assert (rendered.format, rendered.size) == ("JPEG", (ds.Columns, ds.Rows))
