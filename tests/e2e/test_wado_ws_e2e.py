"""WADO-WS against a real server process, with zeep (a SOAP client) reading the WSDL."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pydicom
import pytest
from helpers.data_files import pydicom_test_file
from PIL import Image

from hounsfield.config import Settings

from .server import Server
from .test_stow_e2e import multipart

zeep = pytest.importorskip("zeep")
pytestmark = pytest.mark.e2e
ENDPOINT = "/xdsi/ImagingDocumentSource"
EXPLICIT = "1.2.840.10008.1.2.1"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("wadows") / "data").start()
    for name in ("CT_small.dcm", "MR_small.dcm"):
        body, content_type = multipart([pydicom_test_file(name).read_bytes()])
        response = httpx.post(f"{server.rs}/studies", content=body,
                              headers={"content-type": content_type}, timeout=30)
        assert response.status_code == 200
    yield server
    server.stop()


@pytest.fixture(scope="module")
def service(running: Server):  # type: ignore[no-untyped-def]
    return zeep.Client(f"{running.url}{ENDPOINT}?wsdl").service


def repository(running: Server) -> str:
    return Settings().repository_unique_id  # the server runs with the default


def study_request(ds: pydicom.Dataset, repository_id: str, **extra: object) -> dict:
    document = {"RepositoryUniqueId": repository_id, "DocumentUniqueId": ds.SOPInstanceUID,
                **extra}
    key = "RenderedDocumentRequest" if "ContentTypeList" in extra else "DocumentRequest"
    return {"studyInstanceUID": ds.StudyInstanceUID, "SeriesRequest": [
        {"seriesInstanceUID": ds.SeriesInstanceUID, key: [document]}]}


def test_zeep_retrieves_imaging_document_set(running: Server, service) -> None:  # type: ignore[no-untyped-def]
    operations = service
    ct = pydicom.dcmread(pydicom_test_file("CT_small.dcm"))
    answer = operations.ImagingDocumentSource_RetrieveImagingDocumentSet(
        StudyRequest=[study_request(ct, repository(running))],
        TransferSyntaxUIDList={"TransferSyntaxUID": [EXPLICIT]})
    response = answer  # zeep put the XOP attachments into Document elements
    assert response.RegistryResponse.status.endswith(":Success")
    [document] = response.DocumentResponse
    assert document.mimeType == "application/dicom"
    assert document.DocumentUniqueId == ct.SOPInstanceUID
    assert document.Document == pydicom_test_file("CT_small.dcm").read_bytes()


def test_zeep_retrieves_rendered_imaging_document_set(running: Server, service) -> None:  # type: ignore[no-untyped-def]
    operations = service
    mr = pydicom.dcmread(pydicom_test_file("MR_small.dcm"))
    answer = operations.ImagingDocumentSource_RetrieveRenderedImagingDocumentSet(
        StudyRequest=[study_request(mr, repository(running), Rows="32", Columns="32",
                                    ContentTypeList={"ContentType": ["image/png"]})])
    response = answer  # zeep put the XOP attachments into Document elements
    assert response.RegistryResponse.status.endswith(":Success")
    [document] = response.RenderedDocumentResponse
    assert document.SourceDocumentUniqueId == mr.SOPInstanceUID
    assert document.mimeType == "image/png"
    assert Image.open(io.BytesIO(document.Document)).size == (32, 32)


def test_zeep_retrieves_the_metadata(running: Server, service) -> None:  # type: ignore[no-untyped-def]
    operations = service
    ct = pydicom.dcmread(pydicom_test_file("CT_small.dcm"))
    response = operations.ImagingDocumentSource_RetrieveImagingDocumentSetInformation(
        StudyRequest=[study_request(ct, repository(running))])
    assert response.RegistryResponse.status.endswith(":Success")
    [document] = response.DocumentInformationResponse
    [xpath_response] = document.XPathResponseList.XPathResponse
    model = xpath_response._value_1[0]
    assert model.tag == "NativeDicomModel"
    assert model.find("DicomAttribute[@keyword='SOPInstanceUID']/Value").text == \
        ct.SOPInstanceUID


def test_zeep_sees_registry_errors(running: Server, service) -> None:  # type: ignore[no-untyped-def]
    operations = service
    ct = pydicom.dcmread(pydicom_test_file("CT_small.dcm"))
    answer = operations.ImagingDocumentSource_RetrieveImagingDocumentSet(
        StudyRequest=[study_request(ct, "1.2.3")],
        TransferSyntaxUIDList={"TransferSyntaxUID": [EXPLICIT]})
    response = answer  # zeep put the XOP attachments into Document elements
    assert response.RegistryResponse.status.endswith(":Failure")
    [error] = response.RegistryResponse.RegistryErrorList.RegistryError
    assert error.errorCode == "XDSUnknownRepositoryId"
