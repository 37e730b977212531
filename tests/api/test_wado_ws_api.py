"""WADO-WS through the real ASGI app (PS3.18 2013 §6.4): the sample request of
dcm4chee-arc-light, RAD-69 documents equal to the stored files, the metadata as the
Native DICOM Model, every RegistryError code, SOAP Faults and malicious XML."""

from __future__ import annotations

import io
import time

import numpy as np
import pydicom
import pytest
from helpers.data_files import pydicom_test_file
from helpers.wado_ws import (
    ENDPOINT,
    INFORMATION,
    NS,
    RENDERED,
    RETRIEVE,
    Answer,
    document_request,
    envelope,
    read_answer,
    retrieve_body,
    sample_request,
    sample_response_envelope,
    shape,
    study_request,
    wado_body,
)
from lxml import etree
from PIL import Image
from starlette.testclient import TestClient

from hounsfield.archive.archive import Archive

SOAP = "application/soap+xml; charset=utf-8"
EXPLICIT, IMPLICIT = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2"
JPEG_BASELINE, RLE = "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.5"


def store(archive: Archive, name: str) -> pydicom.Dataset:
    path = pydicom_test_file(name)
    spooled = archive.blobs.spool_dir / name
    spooled.write_bytes(path.read_bytes())
    assert archive.store_file(spooled).stored
    return pydicom.dcmread(path)


@pytest.fixture
def ct(app_archive: Archive) -> pydicom.Dataset:
    return store(app_archive, "CT_small.dcm")


def post(client: TestClient, body: bytes, content_type: str = SOAP) -> Answer:
    response = client.post(ENDPOINT, content=body, headers={"content-type": content_type})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(
        'multipart/related; type="application/xop+xml"')
    return read_answer(response.headers["content-type"], response.content)


def repository(client: TestClient) -> str:
    return client.app.state.services.settings.repository_unique_id  # type: ignore[attr-defined]


def retrieve(client: TestClient, ds: pydicom.Dataset, syntaxes: list[str],
             **changes: str) -> Answer:
    uids = {"study": str(ds.StudyInstanceUID), "series": str(ds.SeriesInstanceUID),
            "document": str(ds.SOPInstanceUID), "repository": repository(client), **changes}
    documents = [document_request(uids["repository"], uids["document"])]
    body = retrieve_body([study_request("r", uids["study"], uids["series"], documents)],
                         syntaxes)
    return post(client, envelope(RETRIEVE, body))


def rendered(client: TestClient, ds: pydicom.Dataset, parameters: str,
             content_types: tuple[str, ...] = ("image/jpeg",)) -> Answer:
    listed = "".join(f"<wado:ContentType>{t}</wado:ContentType>" for t in content_types)
    document = document_request(repository(client), str(ds.SOPInstanceUID),
                                f"{parameters}<wado:ContentTypeList>{listed}"
                                "</wado:ContentTypeList>", "wado:RenderedDocumentRequest")
    body = wado_body("RetrieveRenderedImagingDocumentSetRequest", [study_request(
        "wado", str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), [document])])
    return post(client, envelope(RENDERED, body))


def information(client: TestClient, ds: pydicom.Dataset, extra: str = "") -> Answer:
    document = document_request(repository(client), str(ds.SOPInstanceUID), extra,
                                "wado:DocumentRequest")
    body = wado_body("RetrieveImagingDocumentSetInformationRequest", [study_request(
        "wado", str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), [document])])
    return post(client, envelope(INFORMATION, body))


# -- the sample of dcm4chee-arc-light -------------------------------------------------------

def test_sample_request_gives_a_response_shaped_as_the_sample(client: TestClient,
                                                              ct: pydicom.Dataset) -> None:
    content_type, body = sample_request()
    sample_ids = ("1.3.12.2.1107.5.8.1.12345678.199508041416590859569.0.1",
                  "1.3.12.2.1107.5.8.1.12345678.199508041416590859569.0",
                  "1.3.12.2.1107.5.8.1.12345678.199508041416590859569",
                  "1.3.6.1.4.1.21367.13.80.110")
    ours = (ct.SOPInstanceUID, ct.SeriesInstanceUID, ct.StudyInstanceUID, repository(client))
    for sample_id, own in zip(sample_ids, ours, strict=True):
        body = body.replace(sample_id, str(own))
    answer = post(client, body.encode(), content_type)
    assert shape(answer.root) == shape(sample_response_envelope())
    header = {etree.QName(e).localname: e.text for e in answer.root.find("soap:Header", NS)}
    assert header["Action"] == ("urn:dicom:ws:wado:2011:"
                                "RetrieveRenderedImagingDocumentSetResponse")
    assert header["RelatesTo"] == "urn:uuid:3FC3AA9541DB19A2CA1509719154150"
    assert header["MessageID"].startswith("urn:uuid:")
    assert answer.status == "Success"
    [(media_type, jpeg)] = answer.documents()
    assert media_type == "image/jpeg"
    assert Image.open(io.BytesIO(jpeg)).size == (64, 64)


# -- RetrieveImagingDocumentSet (RAD-69) -----------------------------------------------------

def test_a_document_as_stored_equals_the_stored_file(client: TestClient,
                                                     ct: pydicom.Dataset) -> None:
    answer = retrieve(client, ct, [EXPLICIT])
    assert answer.status == "Success" and answer.errors == []
    assert answer.documents() == [("application/dicom",
                                   pydicom_test_file("CT_small.dcm").read_bytes())]
    response = answer.root.find(".//xdsb:DocumentResponse", NS)
    assert [etree.QName(e).localname for e in response] == [
        "RepositoryUniqueId", "DocumentUniqueId", "mimeType", "Document"]
    assert response.findtext("xdsb:DocumentUniqueId", namespaces=NS) == ct.SOPInstanceUID


def test_the_first_producible_transfer_syntax_is_used(client: TestClient,
                                                      app_archive: Archive) -> None:
    rle = store(app_archive, "MR_small_RLE.dcm")
    answer = retrieve(client, rle, ["1.2.3.4", IMPLICIT, EXPLICIT])
    [(_, data)] = answer.documents()
    sent = pydicom.dcmread(io.BytesIO(data))
    assert sent.file_meta.TransferSyntaxUID == IMPLICIT
    assert np.array_equal(sent.pixel_array, rle.pixel_array)  # lossless: pixel-equal


def test_a_document_goes_as_stored_when_its_syntax_is_listed(client: TestClient,
                                                             app_archive: Archive) -> None:
    rle = store(app_archive, "MR_small_RLE.dcm")
    answer = retrieve(client, rle, [RLE, EXPLICIT])
    assert answer.documents()[0][1] == pydicom_test_file("MR_small_RLE.dcm").read_bytes()


@pytest.mark.parametrize(("syntaxes", "code"), [
    (["1.2.3.4.5"], "urn:dicom:wado:0006"),  # no such transfer syntax here at all
    ([JPEG_BASELINE], "urn:dicom:wado:0007"),  # 16-bit pixels do not go in JPEG Baseline
])
def test_a_transfer_syntax_that_cannot_be_produced_is_an_error(
        client: TestClient, ct: pydicom.Dataset, syntaxes: list[str], code: str) -> None:
    answer = retrieve(client, ct, syntaxes)
    assert answer.status == "Failure" and answer.documents() == []
    [error] = answer.errors
    assert error["errorCode"] == code
    assert error["location"] == ct.SOPInstanceUID
    assert error["severity"].endswith(":Error")


@pytest.mark.parametrize(("change", "code"), [
    ({"repository": "1.2.3"}, "XDSUnknownRepositoryId"),
    ({"study": "1.2.3"}, "urn:dicom:wado:0015"),
    ({"series": "1.2.3"}, "urn:dicom:wado:0016"),
    ({"document": "1.2.3"}, "urn:dicom:wado:0017"),
    ({"document": "1.02.x"}, "urn:dicom:wado:0012"),
])
def test_unknown_or_invalid_identifiers_are_registry_errors(
        client: TestClient, ct: pydicom.Dataset, change: dict[str, str], code: str) -> None:
    answer = retrieve(client, ct, [EXPLICIT], **change)
    assert answer.status == "Failure"
    assert answer.error_codes == [code]
    assert answer.errors[0]["codeContext"]


def test_some_documents_found_is_a_partial_success(client: TestClient,
                                                   ct: pydicom.Dataset) -> None:
    documents = [document_request(repository(client), str(ct.SOPInstanceUID)),
                 document_request(repository(client), "1.2.3.4")]
    body = retrieve_body([study_request("r", str(ct.StudyInstanceUID),
                                        str(ct.SeriesInstanceUID), documents)], [EXPLICIT])
    answer = post(client, envelope(RETRIEVE, body))
    assert answer.status == "PartialSuccess"
    assert len(answer.documents()) == 1
    assert [(e["errorCode"], e["location"]) for e in answer.errors] == [
        ("urn:dicom:wado:0017", "1.2.3.4")]


def test_a_missing_stored_file_is_a_processing_failure(client: TestClient,
                                                       app_archive: Archive,
                                                       ct: pydicom.Dataset) -> None:
    [found] = app_archive.stored_instances(_target(ct))
    app_archive.blobs.delete(found.blob_key)
    answer = rendered(client, ct, "")
    assert answer.error_codes == ["urn:dicom:wado:0014"]


def _target(ds: pydicom.Dataset):  # type: ignore[no-untyped-def]
    from hounsfield.archive.retrieve import Target

    return Target(str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID))


# -- RetrieveRenderedImagingDocumentSet -------------------------------------------------------

@pytest.mark.parametrize(("content_type", "format_"), [
    ("image/png", "PNG"), ("image/gif", "GIF"), ("image/jpeg", "JPEG")])
def test_rendered_in_each_content_type(client: TestClient, ct: pydicom.Dataset,
                                       content_type: str, format_: str) -> None:
    answer = rendered(client, ct, "<wado:Rows>32</wado:Rows>", ("text/html", content_type))
    [(media_type, image)] = answer.documents()
    assert media_type == content_type
    assert Image.open(io.BytesIO(image)).format == format_
    assert Image.open(io.BytesIO(image)).size == (32, 32)


def test_region_window_and_annotation_are_applied(client: TestClient,
                                                  ct: pydicom.Dataset) -> None:
    plain = rendered(client, ct, "", ("image/png",)).documents()[0][1]
    region = rendered(client, ct, "<wado:Region>0,0,0.5,0.25</wado:Region>",
                      ("image/png",)).documents()[0][1]
    assert Image.open(io.BytesIO(region)).size == (64, 32)
    windowed = rendered(client, ct, "<wado:WindowWidth>10</wado:WindowWidth>"
                        "<wado:WindowCenter>0</wado:WindowCenter>", ("image/png",))
    annotated = rendered(client, ct, "<wado:Annotation>patient</wado:Annotation>",
                         ("image/png",))
    for other in (windowed.documents()[0][1], annotated.documents()[0][1]):
        assert not np.array_equal(np.asarray(Image.open(io.BytesIO(other))),
                                  np.asarray(Image.open(io.BytesIO(plain))))
    echoed = annotated.root.find(".//wado:RenderedDocumentResponse", NS)
    assert echoed.findtext("wado:Annotation", namespaces=NS) == "patient"


def test_anonymize_leaves_identifying_text_out_of_annotations(
        client: TestClient, ct: pydicom.Dataset) -> None:
    """Anonymize=yes with Annotation=patient,technique: the same image as with no
    patient annotation (patient lines left out), unlike the image that names them."""
    both = "<wado:Annotation>patient,technique</wado:Annotation>"
    named = rendered(client, ct, both, ("image/png",))
    anonymous = rendered(client, ct, both + "<wado:Anonymize>yes</wado:Anonymize>",
                         ("image/png",))
    assert anonymous.status == "Success"
    pixels = {name: np.asarray(Image.open(io.BytesIO(answer.documents()[0][1])))
              for name, answer in (("named", named), ("anonymous", anonymous))}
    height = pixels["named"].shape[0]
    top = slice(0, height // 2)  # patient lines are drawn top left
    assert not np.array_equal(pixels["named"][top], pixels["anonymous"][top])
    plain = np.asarray(Image.open(io.BytesIO(
        rendered(client, ct, "", ("image/png",)).documents()[0][1])))
    assert np.array_equal(pixels["anonymous"][top], plain[top])


@pytest.mark.parametrize(("parameters", "content_type", "code"), [
    ("<wado:Rows>0</wado:Rows>", "image/jpeg", "urn:dicom:wado:0012"),
    ("<wado:Columns>ten</wado:Columns>", "image/jpeg", "urn:dicom:wado:0012"),
    ("<wado:Region>0,0,2,1</wado:Region>", "image/jpeg", "urn:dicom:wado:0012"),
    ("<wado:Region>0,0,1</wado:Region>", "image/jpeg", "urn:dicom:wado:0012"),
    ("<wado:WindowCenter>40</wado:WindowCenter>", "image/jpeg", "urn:dicom:wado:0012"),
    ("<wado:WindowWidth>0</wado:WindowWidth><wado:WindowCenter>4</wado:WindowCenter>",
     "image/jpeg", "urn:dicom:wado:0012"),
    ("<wado:ImageQuality>101</wado:ImageQuality>", "image/jpeg", "urn:dicom:wado:0012"),
    ("<wado:Annotation>everything</wado:Annotation>", "image/jpeg", "urn:dicom:wado:0012"),
    ("<wado:Anonymize>maybe</wado:Anonymize>", "image/jpeg", "urn:dicom:wado:0012"),
    ("<wado:PresentationUID>1.2.3</wado:PresentationUID>", "image/jpeg",
     "urn:dicom:wado:0012"),  # without its PresentationSeriesUID
    ("<wado:PresentationUID>1.2.3</wado:PresentationUID><wado:PresentationSeriesUID>1.2.4"
     "</wado:PresentationSeriesUID>", "image/jpeg", "urn:dicom:wado:0020"),
    ("<wado:PresentationUID>1..2</wado:PresentationUID>", "image/jpeg",
     "urn:dicom:wado:0012"),
    ("<wado:FrameNumber>2</wado:FrameNumber>", "image/jpeg", "urn:dicom:wado:0018"),
    ("<wado:FrameNumber>0</wado:FrameNumber>", "image/jpeg", "urn:dicom:wado:0018"),
    ("", "application/pdf", "urn:dicom:wado:0006"),
])
def test_bad_rendering_parameters_are_registry_errors(
        client: TestClient, ct: pydicom.Dataset, parameters: str, content_type: str,
        code: str) -> None:
    answer = rendered(client, ct, parameters, (content_type,))
    assert answer.status == "Failure" and answer.documents() == []
    assert answer.error_codes == [code]
    assert answer.errors[0]["location"] == ct.SOPInstanceUID


def test_a_frame_of_a_multiframe_object(client: TestClient, app_archive: Archive) -> None:
    multi = store(app_archive, "emri_small.dcm")
    first = rendered(client, multi, "<wado:FrameNumber>1</wado:FrameNumber>",
                     ("image/png",)).documents()[0][1]
    last = rendered(client, multi, "<wado:FrameNumber>10</wado:FrameNumber>",
                    ("image/png",)).documents()[0][1]
    assert not np.array_equal(np.asarray(Image.open(io.BytesIO(first))),
                              np.asarray(Image.open(io.BytesIO(last))))
    beyond = rendered(client, multi, "<wado:FrameNumber>11</wado:FrameNumber>")
    assert beyond.error_codes == ["urn:dicom:wado:0018"]


# -- RetrieveImagingDocumentSetInformation (the metadata) -------------------------------------

def test_the_metadata_as_native_dicom_model(client: TestClient, ct: pydicom.Dataset) -> None:
    answer = information(client, ct)
    assert answer.status == "Success" and answer.attachments == {}
    response = answer.root.find(".//wado:DocumentInformationResponse", NS)
    assert response.findtext("xdsb:DocumentUniqueId", namespaces=NS) == ct.SOPInstanceUID
    [model] = response.find("wado:XPathResponseList/wado:XPathResponse", NS)
    assert model.tag == "NativeDicomModel"
    name = model.find("DicomAttribute[@keyword='PatientName']/PersonName/Alphabetic")
    assert name.findtext("FamilyName") == ct.PatientName.family_name
    pixel = model.find("DicomAttribute[@tag='7FE00010']/BulkData")
    assert pixel.get("uri").startswith("http://testserver/aets/HOUNSFIELD/rs/studies/")


def test_xpath_selects_parts_of_the_metadata(client: TestClient, ct: pydicom.Dataset) -> None:
    answer = information(client, ct, "<wado:FrameNumber>1</wado:FrameNumber><wado:XPathList>"
                         "<wado:XPath>/NativeDicomModel/DicomAttribute[@keyword='Rows']"
                         "</wado:XPath><wado:XPath>string(//DicomAttribute[@keyword="
                         "'Modality']/Value)</wado:XPath></wado:XPathList>")
    rows, modality = answer.root.iterfind(".//wado:XPathResponse", NS)
    assert rows[0].get("keyword") == "Rows" and rows[0].findtext("Value") == "128"
    assert modality.text == "CT"
    assert answer.root.findtext(".//wado:FrameNumber", namespaces=NS) == "1"


@pytest.mark.parametrize(("extra", "code"), [
    ("<wado:XPathList><wado:XPath>//[</wado:XPath></wado:XPathList>", "urn:dicom:wado:0012"),
    ("<wado:FrameNumber>3</wado:FrameNumber>", "urn:dicom:wado:0018"),
])
def test_bad_metadata_parameters_are_registry_errors(client: TestClient, ct: pydicom.Dataset,
                                                     extra: str, code: str) -> None:
    assert information(client, ct, extra).error_codes == [code]


# -- SOAP: envelopes, faults, MTOM requests, the WSDL ----------------------------------------

def fault(client: TestClient, body: bytes, content_type: str = SOAP,
          status: int = 400) -> tuple[str, str]:
    response = client.post(ENDPOINT, content=body, headers={"content-type": content_type})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/soap+xml")
    root = etree.fromstring(response.content)
    return (root.findtext(".//soap:Fault/soap:Code/soap:Value", namespaces=NS),
            root.findtext(".//soap:Fault/soap:Reason/soap:Text", namespaces=NS))


@pytest.mark.parametrize(("body", "content_type", "status", "code", "words"), [
    (b"not xml", SOAP, 400, "soap:Sender", "well-formed"),
    (b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body/></e:Envelope>',
     SOAP, 400, "soap:VersionMismatch", "SOAP 1.1"),
    (b"<x/>", "text/xml", 400, "soap:VersionMismatch", "SOAP 1.1"),
    (envelope(RETRIEVE, "<other xmlns='urn:x'/>"), SOAP, 400, "soap:Sender",
     "no operation"),
    (envelope(RENDERED, retrieve_body([], [EXPLICIT])), SOAP, 400, "soap:Sender",
     "does not match"),
    (envelope(RETRIEVE, retrieve_body([], [EXPLICIT])), SOAP, 400, "soap:Sender",
     "names no document"),
    (envelope(RETRIEVE, "").replace(b"</s:Header>", b'<x:Secret xmlns:x="urn:x" '
                                    b's:mustUnderstand="true"/></s:Header>'),
     SOAP, 400, "soap:MustUnderstand", "Secret"),
    (envelope(RETRIEVE, "<a/><b/>"), SOAP, 400, "soap:Sender", "2 elements"),
    (b"{}", "application/json", 400, "soap:Sender", "application/json"),
    (b"--x\r\n\r\n<a/>", "multipart/related; boundary=x", 400, "soap:Sender",
     "close delimiter"),
])
def test_invalid_messages_are_soap_faults(client: TestClient, body: bytes, content_type: str,
                                          status: int, code: str, words: str) -> None:
    value, reason = fault(client, body, content_type, status)
    assert value == code
    assert words in reason


def test_a_message_too_large_is_refused(client: TestClient) -> None:
    value, reason = fault(client, b"x" * (16 << 20 | 1), SOAP, 413)
    assert value == "soap:Sender" and "larger than" in reason


def test_billion_laughs_is_refused_fast(client: TestClient) -> None:
    entities = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    body = (f'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY l0 "ha">{entities}]>'
            f'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&l9;'
            "</s:Body></s:Envelope>").encode()
    started = time.monotonic()
    value, reason = fault(client, body)
    assert time.monotonic() - started < 1
    assert value == "soap:Sender" and "DOCTYPE" in reason


def test_an_external_entity_is_not_read(client: TestClient, tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    for body in (f'<!DOCTYPE s [<!ENTITY x SYSTEM "file://{secret}">]><s:Envelope xmlns:s='
                 f'"http://www.w3.org/2003/05/soap-envelope"><s:Body>&x;</s:Body>'
                 "</s:Envelope>",
                 # without a DOCTYPE the entity is undefined: not well-formed
                 f'<s:Envelope xmlns:s="{NS["soap"]}"><s:Body>&x;</s:Body></s:Envelope>'):
        response = client.post(ENDPOINT, content=body.encode(), headers={"content-type": SOAP})
        assert response.status_code == 400
        assert b"TOP-SECRET" not in response.content
    utf16 = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE s SYSTEM '
             f'"file://{secret}"><s/>').encode("utf-16-le")
    assert fault(client, utf16)[0] == "soap:Sender"


def test_the_wsdl(client: TestClient) -> None:
    response = client.get(ENDPOINT + "?wsdl")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    root = etree.fromstring(response.content)
    address = root.find(".//{http://schemas.xmlsoap.org/wsdl/soap12/}address")
    assert address.get("location") == "http://testserver" + ENDPOINT
    operations = root.findall(".//{http://schemas.xmlsoap.org/wsdl/}portType/"
                              "{http://schemas.xmlsoap.org/wsdl/}operation")
    assert len(operations) == 3
    assert client.get(ENDPOINT).status_code == 400


def test_the_endpoint_follows_the_context_path(make_client, ct: pydicom.Dataset) -> None:  # type: ignore[no-untyped-def]
    client = make_client(context_path="/dcm4chee-arc")
    answer = post_at(client, "/dcm4chee-arc" + ENDPOINT, ct)
    assert answer.status == "Success"


def post_at(client: TestClient, path: str, ds: pydicom.Dataset) -> Answer:
    documents = [document_request(repository(client), str(ds.SOPInstanceUID))]
    body = retrieve_body([study_request("r", str(ds.StudyInstanceUID),
                                        str(ds.SeriesInstanceUID), documents)], [EXPLICIT])
    response = client.post(path, content=envelope(RETRIEVE, body),
                           headers={"content-type": SOAP})
    return read_answer(response.headers["content-type"], response.content)


def test_a_presentation_state_is_applied(client: TestClient, app_archive: Archive,
                                         ct: pydicom.Dataset) -> None:
    from helpers.dicom_files import part10_bytes
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence

    state = Dataset()
    state.file_meta = FileMetaDataset()
    state.file_meta.TransferSyntaxUID = EXPLICIT
    state.SOPClassUID = "1.2.840.10008.5.1.4.1.1.11.1"
    state.file_meta.MediaStorageSOPClassUID = state.SOPClassUID
    state.SOPInstanceUID = state.file_meta.MediaStorageSOPInstanceUID = "2.25.9001"
    state.StudyInstanceUID, state.SeriesInstanceUID = ct.StudyInstanceUID, "2.25.9002"
    state.Modality, state.PresentationLUTShape = "PR", "IDENTITY"
    state.RescaleSlope, state.RescaleIntercept = ct.RescaleSlope, ct.RescaleIntercept
    state.RescaleType = "HU"
    image = Dataset()
    image.ReferencedSOPClassUID, image.ReferencedSOPInstanceUID = ct.SOPClassUID, \
        ct.SOPInstanceUID
    series = Dataset()
    series.SeriesInstanceUID, series.ReferencedImageSequence = ct.SeriesInstanceUID, \
        Sequence([image])
    state.ReferencedSeriesSequence = Sequence([series])
    window = Dataset()
    window.WindowCenter, window.WindowWidth = 0, 10
    state.SoftcopyVOILUTSequence = Sequence([window])
    path = app_archive.blobs.spool_dir / "gsps.dcm"
    path.write_bytes(part10_bytes(state))
    assert app_archive.store_file(path).stored
    reference = "<wado:PresentationUID>2.25.9001</wado:PresentationUID>"
    applied = rendered(client, ct, reference + "<wado:PresentationSeriesUID>2.25.9002"
                       "</wado:PresentationSeriesUID>", ("image/png",))
    assert applied.status == "Success"
    windowed = rendered(client, ct, "<wado:WindowWidth>10</wado:WindowWidth>"
                        "<wado:WindowCenter>0</wado:WindowCenter>", ("image/png",))
    assert applied.documents()[0][1] == windowed.documents()[0][1]
    unknown = rendered(client, ct, "<wado:PresentationUID>2.25.9</wado:PresentationUID>"
                       "<wado:PresentationSeriesUID>2.25.9002</wado:PresentationSeriesUID>")
    assert unknown.error_codes == ["urn:dicom:wado:0019"]
