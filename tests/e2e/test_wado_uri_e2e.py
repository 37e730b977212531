"""WADO-URI against a real server process under dcm4chee-arc-light's context path, so
that its documented requests work unchanged: objects stored with dicomweb-client
(which has no WADO-URI call), retrieved with httpx."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import numpy as np
import pydicom
import pytest
from dicomweb_client.api import DICOMwebClient
from helpers.data_files import pydicom_test_file
from helpers.dicom_files import ct_instance, without_pixels
from PIL import Image
from pydicom.dataset import Dataset

from hounsfield.dicom.render.presentation_state import GSPS_SOP_CLASS

from .server import Server

pytestmark = pytest.mark.e2e
STUDY, SERIES, PR = "2.25.4714", "2.25.4714.1", "2.25.4714.2"
CONTEXT = "/dcm4chee-arc"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("wado-uri") / "data",
                     env={"HOUNSFIELD_CONTEXT_PATH": CONTEXT})
    running.env["HOUNSFIELD_PUBLIC_BASE_URL"] = running.url
    yield running.start()
    running.stop()


def rotating_state() -> Dataset:
    """A GSPS that rotates the CT 90 degrees clockwise and inverts it."""
    ds = without_pixels(ct_instance(STUDY, PR, f"{PR}.1"), GSPS_SOP_CLASS)
    ds.Modality, ds.PresentationLUTShape, ds.ImageRotation = "PR", "INVERSE", 90
    image = Dataset()
    image.ReferencedSOPClassUID, image.ReferencedSOPInstanceUID = \
        "1.2.840.10008.5.1.4.1.1.2", f"{SERIES}.1"
    series = Dataset()
    series.SeriesInstanceUID, series.ReferencedImageSequence = SERIES, [image]
    ds.ReferencedSeriesSequence = [series]
    return ds


def test_wado_uri_on_a_real_server(server: Server) -> None:
    ct = ct_instance(STUDY, SERIES, f"{SERIES}.1", rows=32, columns=24)
    jpeg = pydicom.dcmread(pydicom_test_file("SC_rgb_jpeg_dcmtk.dcm"))
    DICOMwebClient(f"{server.url}{CONTEXT}/aets/HOUNSFIELD/rs").store_instances(
        [ct, rotating_state(), jpeg])
    wado = f"{server.url}{CONTEXT}/aets/HOUNSFIELD/wado"
    base = {"requestType": "WADO", "studyUID": STUDY, "seriesUID": SERIES,
            "objectUID": f"{SERIES}.1"}
    with httpx.Client(timeout=30) as http:
        # the two samples of dcm4chee-arc-light's documentation
        sample = {"requestType": "WADO", "studyUID": jpeg.StudyInstanceUID,
                  "seriesUID": jpeg.SeriesInstanceUID, "objectUID": jpeg.SOPInstanceUID}
        rendered = http.get(wado, params=sample, headers={"accept": "*/*"})
        assert rendered.status_code == 200
        assert rendered.headers["content-type"] == "image/jpeg"
        assert Image.open(io.BytesIO(rendered.content)).size == (100, 100)
        compressed = http.get(wado, params={**sample, "contentType": "application/dicom",
                                            "transferSyntax": "*"})
        assert compressed.headers["content-type"] == \
            "application/dicom;transfer-syntax=1.2.840.10008.1.2.4.50"
        assert pydicom.dcmread(io.BytesIO(compressed.content)).SOPInstanceUID == \
            jpeg.SOPInstanceUID
        for response in (rendered, compressed):
            assert {"etag", "last-modified"} <= set(response.headers)
        again = http.get(wado, params=sample,
                         headers={"if-none-match": rendered.headers["etag"]})
        assert again.status_code == 304

        png = http.get(wado, params={**base, "contentType": "image/png"})
        presented = http.get(wado, params={**base, "contentType": "image/png",
                                           "presentationUID": f"{PR}.1",
                                           "presentationSeriesUID": PR})
        plain = np.asarray(Image.open(io.BytesIO(png.content)), int)
        rotated = np.asarray(Image.open(io.BytesIO(presented.content)), int)
        assert plain.shape == (32, 24) and rotated.shape == (24, 32)
        assert np.abs(rotated - np.rot90(255 - plain, -1)).max() <= 1

        dicom = http.get(wado, params={**base, "contentType": "application/dicom",
                                       "anonymize": "yes"})
        anonymized = pydicom.dcmread(io.BytesIO(dicom.content))
        assert anonymized.SOPInstanceUID.startswith("2.25.")
        assert anonymized.SOPInstanceUID != ct.SOPInstanceUID
        assert np.array_equal(anonymized.pixel_array, ct.pixel_array)

        missing = http.get(wado, params={**base, "objectUID": "2.25.1"})
        assert missing.status_code == 404
        assert "instance 2.25.1 not found" in missing.json()["errorMessage"]
        bad = http.get(wado, params={**base, "requestType": "WADO-RS"})
        assert bad.status_code == 400
        assert bad.json()["errorMessage"].startswith("requestType")
