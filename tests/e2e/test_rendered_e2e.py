"""WADO-RS rendered resources against a real server process, with dicomweb-client."""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pydicom
import pytest
from dicomweb_client.api import DICOMwebClient
from helpers.data_files import pydicom_test_file
from helpers.dicom_files import ct_instance
from PIL import Image

from .server import Server

pytestmark = pytest.mark.e2e
STUDY, SERIES = "2.25.4713", "2.25.4713.1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("rendered") / "data")
    running.env["HOUNSFIELD_PUBLIC_BASE_URL"] = running.url
    yield running.start()
    running.stop()


def test_dicomweb_client_retrieves_rendered_images(server: Server) -> None:
    client = DICOMwebClient(server.rs)
    generated = [ct_instance(STUDY, SERIES, f"{SERIES}.{n}", seed=n - 1, frames=n,
                             rows=32, columns=24) for n in (1, 3)]
    rgb = pydicom.dcmread(pydicom_test_file("SC_rgb_jpeg_dcmtk.dcm"))
    client.store_instances([*generated, rgb])

    jpeg = client.retrieve_instance_rendered(STUDY, SERIES, f"{SERIES}.1")
    assert Image.open(io.BytesIO(jpeg)).size == (24, 32)

    png = client.retrieve_instance_rendered(
        STUDY, SERIES, f"{SERIES}.1", media_types=("image/png",),
        params={"window": "2048,4096", "viewport": "48,64"})
    image = Image.open(io.BytesIO(png))
    assert (image.format, image.size) == ("PNG", (48, 64))

    frames = client.retrieve_instance_frames_rendered(
        STUDY, SERIES, f"{SERIES}.3", [2], media_types=("image/png",))
    expected = generated[1].pixel_array[1].astype(float)
    got = np.asarray(Image.open(io.BytesIO(frames)), float)
    low, high = expected.min(), expected.max()  # no stored window: min..max of the frame
    assert np.abs(got - (expected - low) / (high - low) * 255).max() <= 1.5

    colour = client.retrieve_instance_rendered(
        rgb.StudyInstanceUID, rgb.SeriesInstanceUID, rgb.SOPInstanceUID)
    assert Image.open(io.BytesIO(colour)).mode == "RGB"

    series = client.retrieve_series_rendered(STUDY, SERIES)
    assert series.count(b"Content-Type: image/jpeg") == 2
