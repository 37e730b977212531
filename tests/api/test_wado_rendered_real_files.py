"""Every real image file (pydicom-data and pydicom's own test files) renders through the
WADO-RS rendered resource: a JPEG of Columns x Rows, a PNG of the last frame, and a
thumbnail; or, for the few that cannot be, a 406 that names why."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from helpers.app_client import replacing_archive_client, store_copy
from helpers.data_files import UNDECODABLE, real_image_files
from PIL import Image
from starlette.testclient import TestClient

RS = "/aets/HOUNSFIELD/rs"
FILES = real_image_files(max_pixel_bytes=4_000_000)


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict]]:
    """One archive, files replaced when they share a SOP Instance UID: each file is
    stored, then rendered before the next one replaces it."""
    with replacing_archive_client(tmp_path_factory.mktemp("rendered-real")) as stored:
        yield stored


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_real_file_renders(stored, path: Path) -> None:
    client, archive = stored
    outcome = store_copy(archive, path)
    if not outcome.stored:
        pytest.skip(f"not stored: {outcome.message}")
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    url = (f"{RS}/studies/{outcome.study_instance_uid}/series/{outcome.series_instance_uid}"
           f"/instances/{outcome.sop_instance_uid}")
    response = client.get(url + "/rendered")
    if path.name in UNDECODABLE:
        assert response.status_code == 406
        assert UNDECODABLE[path.name] in response.json()["errorMessage"]
        return
    assert response.status_code == 200, (path.name, response.text)
    assert response.headers["content-type"] == "image/jpeg"
    rendered = Image.open(io.BytesIO(response.content))
    assert rendered.size == (ds.Columns, ds.Rows)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    last = client.get(f"{url}/frames/{frames}/rendered", headers={"accept": "image/png"})
    assert last.status_code == 200, (path.name, last.text)
    assert Image.open(io.BytesIO(last.content)).size == (ds.Columns, ds.Rows)
    thumbnail = Image.open(io.BytesIO(client.get(url + "/thumbnail").content))
    assert max(thumbnail.size) == 128
