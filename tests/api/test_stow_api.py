"""STOW-RS through the real ASGI app: every documented status and body."""

from __future__ import annotations

import gzip
import io
import time
import uuid

import orjson
import pydicom
import pytest
from helpers.dicom_files import ct_instance, part10_bytes
from sqlalchemy import func, select

from hounsfield.archive.archive import Archive
from hounsfield.archive.blobs.filesystem import FilesystemBlobStore
from hounsfield.archive.index.schema import instance

RS = "/aets/HOUNSFIELD/rs"


def multipart(parts, part_type="application/dicom", boundary=None):
    """parts: bytes, or (headers dict, bytes)."""
    boundary = boundary or uuid.uuid4().hex
    chunks = []
    for part in parts:
        headers, data = part if isinstance(part, tuple) else ({"Content-Type": part_type}, part)
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        chunks.append(f"--{boundary}\r\n{head}\r\n".encode() + data + b"\r\n")
    body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
    return body, f'multipart/related; type="{part_type}"; boundary={boundary}'


def post(client, body, content_type, path="/studies", **headers):
    if content_type is not None:
        headers["content-type"] = content_type
    return client.post(RS + path, content=body, headers=headers)


def count(archive: Archive, table=instance) -> int:
    with archive.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def unsettled(archive: Archive) -> list[str]:
    return archive.blobs.unsettled(time.time() + 60)


def only_stored_instance(archive: Archive) -> pydicom.Dataset:
    [(key,)] = archive._read(lambda c: c.execute(select(instance.c.blob_key)).all())
    with archive.blobs.open(key) as f:
        return pydicom.dcmread(f)


def nothing_half_written(archive: Archive) -> bool:
    blobs = archive.blobs.keys()
    return (unsettled(archive) == [] and len(blobs) == count(archive)
            and list(archive.blobs.spool_dir.iterdir()) == [])


def test_store_one_instance(client, app_archive) -> None:
    ds = ct_instance()
    r = post(client, *multipart([part10_bytes(ds)]))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/dicom+json"
    body = r.json()
    [ref] = body["00081199"]["Value"]
    assert ref["00081155"]["Value"] == [ds.SOPInstanceUID]
    assert ref["00081190"]["Value"][0] == (
        f"http://testserver{RS}/studies/{ds.StudyInstanceUID}/series/"
        f"{ds.SeriesInstanceUID}/instances/{ds.SOPInstanceUID}")
    assert nothing_half_written(app_archive) and count(app_archive) == 1


def test_many_instances_in_one_request(client, app_archive) -> None:
    datasets = [ct_instance("1.2.3.50", seed=i) for i in range(10)]
    r = post(client, *multipart([part10_bytes(d) for d in datasets]))
    assert r.status_code == 200
    assert len(r.json()["00081199"]["Value"]) == 10 and count(app_archive) == 10


def test_xml_response_on_request(client) -> None:
    r = post(client, *multipart([part10_bytes(ct_instance())]), accept="application/dicom+xml")
    assert r.status_code == 200 and r.headers["content-type"] == "application/dicom+xml"
    assert b'keyword="ReferencedSOPSequence"' in r.content


def test_gzip_body(client, app_archive) -> None:
    body, content_type = multipart([part10_bytes(ct_instance())])
    r = post(client, gzip.compress(body), content_type, **{"content-encoding": "gzip"})
    assert r.status_code == 200 and count(app_archive) == 1


def test_partial_success_is_202_with_failure_reason(client, app_archive) -> None:
    good = part10_bytes(ct_instance())
    r = post(client, *multipart([good, b"not dicom at all" * 20]))
    assert r.status_code == 202
    body = r.json()
    assert len(body["00081199"]["Value"]) == 1
    [failed] = body["00081198"]["Value"]
    assert failed["00081197"]["Value"] == [0xC000]
    assert "Part 10" in r.headers["warning"]
    assert nothing_half_written(app_archive)


def test_same_instance_twice_is_idempotent(client, app_archive) -> None:
    body, content_type = multipart([part10_bytes(ct_instance())])
    assert post(client, body, content_type).status_code == 200
    assert post(client, body, content_type).status_code == 200
    assert count(app_archive) == 1


def test_duplicate_uid_with_other_content_is_409(client, app_archive) -> None:
    sop = "1.2.3.4.66"
    post(client, *multipart([part10_bytes(ct_instance(sop=sop, seed=1))]))
    r = post(client, *multipart([part10_bytes(ct_instance(sop=sop, seed=2))]))
    assert r.status_code == 409
    assert r.json()["00081198"]["Value"][0]["00081197"]["Value"] == [0x0111]


def test_study_uid_mismatch(client, app_archive) -> None:
    r = post(client, *multipart([part10_bytes(ct_instance("1.2.3.7"))]), path="/studies/1.2.3.8")
    assert r.status_code == 409
    assert r.json()["00081198"]["Value"][0]["00081197"]["Value"] == [0xC409]
    assert count(app_archive) == 0


@pytest.mark.parametrize(("content_type", "status", "words"), [
    (None, 415, "Content-Type is missing"),
    ("application/dicom", 415, "application/dicom is not supported"),
    ('multipart/related; type="image/png"; boundary=x', 415, "image/png"),
    ('multipart/related; type="application/dicom"', 400, "boundary"),
    ('multipart/related; type="application/dicom"; boundary=', 400, "boundary"),
    ("multipart/related; type=\"application/dicom; boundary=x", 400, ""),
])
def test_bad_content_type(client, app_archive, content_type, status, words) -> None:
    r = post(client, b"--x\r\n\r\nabc\r\n--x--\r\n", content_type)
    assert r.status_code == status
    assert words in r.json()["errorMessage"]
    assert r.headers["warning"].startswith("299 hounsfield")
    assert nothing_half_written(app_archive)


@pytest.mark.parametrize("body", [
    b"",  # empty
    b"no boundary in here at all",
    b"--abc\r\nContent-Type: application/dicom\r\n\r\nDICM",  # no close delimiter
])
def test_unparseable_body_is_400(client, app_archive, body) -> None:
    r = post(client, body, 'multipart/related; type="application/dicom"; boundary=abc')
    assert r.status_code == 400
    assert r.json()["errorMessage"]
    assert nothing_half_written(app_archive)


def test_truncated_instance_among_parts_leaves_nothing(client, app_archive) -> None:
    data = part10_bytes(ct_instance(rows=64, columns=64))
    r = post(client, *multipart([data[:-500]]))
    assert r.status_code == 409
    assert "truncated" in r.json()["00081198"]["Value"][0]["00000902"]["Value"][0]
    assert nothing_half_written(app_archive) and count(app_archive) == 0


def test_over_the_size_limit_is_413(make_client, app_archive) -> None:
    client = make_client(max_request_bytes=1000)
    r = post(client, *multipart([part10_bytes(ct_instance(rows=64, columns=64))]))
    assert r.status_code == 413
    assert "limit" in r.json()["errorMessage"]
    assert nothing_half_written(app_archive)


def test_inflated_size_is_capped(make_client, app_archive) -> None:
    client = make_client(max_inflated_bytes=5000)
    body, content_type = multipart([b"\0" * 100000])
    r = post(client, gzip.compress(body), content_type, **{"content-encoding": "gzip"})
    assert r.status_code == 413
    assert nothing_half_written(app_archive)


def test_invalid_study_uid_in_url_is_400(client) -> None:
    r = post(client, *multipart([part10_bytes(ct_instance())]), path="/studies/1.2.x")
    assert r.status_code == 400 and "not a valid UID" in r.json()["errorMessage"]


def test_unknown_ae_title_is_404(client) -> None:
    body, content_type = multipart([part10_bytes(ct_instance())])
    r = client.post("/aets/NOPE/rs/studies", content=body, headers={"content-type": content_type})
    assert r.status_code == 404 and "NOPE" in r.json()["errorMessage"]


def test_unacceptable_response_type_is_406(client, app_archive) -> None:
    r = post(client, *multipart([part10_bytes(ct_instance())]), accept="text/html")
    assert r.status_code == 406
    assert count(app_archive) == 0


def test_more_ae_titles_and_context_path(make_client) -> None:
    client = make_client(ae_titles=("A1", "DCM4CHEE"), context_path="/dcm4chee-arc")
    body, content_type = multipart([part10_bytes(ct_instance())])
    r = client.post("/dcm4chee-arc/aets/DCM4CHEE/rs/studies", content=body,
                    headers={"content-type": content_type})
    assert r.status_code == 200
    assert "/dcm4chee-arc/aets/DCM4CHEE/rs/studies/" in r.json()["00081190"]["Value"][0]


class FullDisk(FilesystemBlobStore):
    def put_file(self, key, path):
        from hounsfield.errors import StorageUnavailableError
        raise StorageUnavailableError(f"cannot write blob {key}: No space left on device")


def test_storage_unavailable_is_503(client, app_archive) -> None:
    app_archive.blobs = FullDisk(app_archive.settings.data_dir)
    r = post(client, *multipart([part10_bytes(ct_instance())]))
    assert r.status_code == 503
    assert r.json()["00081198"]["Value"][0]["00081197"]["Value"] == [0xA700]
    assert unsettled(app_archive) == [] and count(app_archive) == 0


# -- metadata and bulk data ---------------------------------------------------------


def json_model(ds: pydicom.Dataset, bulk: dict[str, str]) -> dict:
    model = ds.to_json_dict(bulk_data_threshold=1 << 30, bulk_data_element_handler=None)
    for tag, uri in bulk.items():
        model[tag] = {"vr": "OW" if tag == "7FE00010" else "OB", "BulkDataURI": uri}
    return model


def test_json_metadata_with_native_pixel_data(client, app_archive) -> None:
    ds = ct_instance(rows=8, columns=8)
    model = json_model(ds, {"7FE00010": "pixels-1"})
    body, content_type = multipart([
        ({"Content-Type": "application/dicom+json"}, orjson.dumps([model])),
        ({"Content-Type": "application/octet-stream", "Content-Location": "pixels-1"},
         bytes(ds.PixelData)),
    ], part_type="application/dicom+json")
    r = post(client, body, content_type)
    assert r.status_code == 200, r.json()
    stored = only_stored_instance(app_archive)
    assert stored.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    assert stored.PixelData == ds.PixelData and stored.SOPInstanceUID == ds.SOPInstanceUID


def test_json_metadata_with_jpeg_pixel_data_sets_image_attributes(client, app_archive) -> None:
    from PIL import Image
    jpeg = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(jpeg, "JPEG")
    model = {"00080016": {"vr": "UI", "Value": ["1.2.840.10008.5.1.4.1.1.7"]},
             "00080018": {"vr": "UI", "Value": ["1.2.3.4.5.99"]},
             "0020000D": {"vr": "UI", "Value": ["1.2.3.4.5"]},
             "0020000E": {"vr": "UI", "Value": ["1.2.3.4.5.1"]},
             "7FE00010": {"vr": "OB", "BulkDataURI": "http://x/jpeg"}}
    body, content_type = multipart([
        ({"Content-Type": "application/dicom+json"}, orjson.dumps([model])),
        ({"Content-Type": "image/jpeg", "Content-Location": "http://x/jpeg"}, jpeg.getvalue()),
    ], part_type="application/dicom+json")
    r = post(client, body, content_type)
    assert r.status_code == 200, r.json()
    stored = only_stored_instance(app_archive)
    assert stored.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.50"
    assert (stored.Rows, stored.Columns, stored.SamplesPerPixel) == (30, 40, 3)
    assert stored.BitsAllocated == 8 and stored.PhotometricInterpretation.startswith("YBR")
    frame = pydicom.encaps.get_frame(stored.PixelData, 0, number_of_frames=1)
    sent = jpeg.getvalue()
    assert frame == sent + b"\0" * (len(sent) % 2)  # fragments are padded to even length


SAMPLE_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<NativeDicomModel xml:space="preserve">
    <DicomAttribute keyword="SOPClassUID" tag="00080016" vr="UI">
        <Value number="1">1.2.840.10008.5.1.4.1.1.104.1</Value>
    </DicomAttribute>
    <DicomAttribute keyword="SOPInstanceUID" tag="00080018" vr="UI">
        <Value number="1">2.25.51802425333713119956607409902530115960</Value>
    </DicomAttribute>
    <DicomAttribute keyword="StudyDate" tag="00080020" vr="DA"/>
    <DicomAttribute keyword="Modality" tag="00080060" vr="CS">
        <Value number="1">DOC</Value>
    </DicomAttribute>
    <DicomAttribute keyword="PatientName" tag="00100010" vr="PN"/>
    <DicomAttribute keyword="StudyInstanceUID" tag="0020000D" vr="UI">
        <Value number="1">2.25.299595085805972591470156706746122302336</Value>
    </DicomAttribute>
    <DicomAttribute keyword="SeriesInstanceUID" tag="0020000E" vr="UI">
        <Value number="1">2.25.323432514532647374371410389541835704109</Value>
    </DicomAttribute>
    <DicomAttribute keyword="EncapsulatedDocument" tag="00420011" vr="OB">
        <BulkData uri="bulk2.25.236273414892009727187587613562294401904"/>
    </DicomAttribute>
    <DicomAttribute keyword="MIMETypeOfEncapsulatedDocument" tag="00420012" vr="LO">
        <Value number="1">application/pdf</Value>
    </DicomAttribute>
</NativeDicomModel>"""


def test_dcm4chee_sample_pdf_with_xml_metadata(client, app_archive) -> None:
    pdf = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
    body, content_type = multipart([
        ({"Content-Type": "application/dicom+xml"}, SAMPLE_XML),
        ({"Content-Type": "application/pdf",
          "Content-Location": "bulk2.25.236273414892009727187587613562294401904"}, pdf),
    ], part_type="application/dicom+xml")
    r = post(client, body, content_type, accept="application/dicom+xml")
    assert r.status_code == 200, r.text
    assert b"2.25.51802425333713119956607409902530115960" in r.content
    stored = only_stored_instance(app_archive)
    assert stored.EncapsulatedDocument.rstrip(b"\0") == pdf.rstrip(b"\0")
    assert stored.file_meta.MediaStorageSOPClassUID == "1.2.840.10008.5.1.4.1.1.104.1"


def test_metadata_referencing_missing_bulk_data(client, app_archive) -> None:
    ds = ct_instance()
    body, content_type = multipart([
        ({"Content-Type": "application/dicom+json"},
         orjson.dumps([json_model(ds, {"7FE00010": "nowhere"})])),
    ], part_type="application/dicom+json")
    r = post(client, body, content_type)
    assert r.status_code == 409
    [failed] = r.json()["00081198"]["Value"]
    assert failed["00081197"]["Value"] == [0xC902]
    assert nothing_half_written(app_archive) and count(app_archive) == 0


def test_metadata_that_is_not_json_is_400(client, app_archive) -> None:
    body, content_type = multipart([({"Content-Type": "application/dicom+json"}, b"{nope")],
                                   part_type="application/dicom+json")
    r = post(client, body, content_type)
    assert r.status_code == 400 and "JSON" in r.json()["errorMessage"]
    assert nothing_half_written(app_archive)


def test_health_and_readiness(client) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    r = client.get("/health/ready")
    assert r.status_code == 200 and r.json()["status"] == "ready"


def test_preflight_has_cors_headers(client) -> None:
    r = client.options(RS + "/studies")
    assert r.status_code == 204
    assert "POST" in r.headers["access-control-allow-methods"]


UIDS = ('"00080016":{"vr":"UI","Value":["1.2"]},"00080018":{"vr":"UI","Value":["1.3"]},'
        '"0020000D":{"vr":"UI","Value":["1.4"]},"0020000E":{"vr":"UI","Value":["1.5"]}')


@pytest.mark.parametrize(("metadata", "reason"), [
    (b"[1]", 0xC901),
    (b'[{"00080016": "x"}]', 0xA900),
    (b'[{"00080016": {"vr": "UI", "Value": "not a list"}}]', 0xA900),
    (('[{' + UIDS + ',"00280010":{"vr":"US","Value":["abc"]}}]').encode(), 0xC901),
    (('[{' + UIDS + ',"ZZZZ":{"vr":"LO","Value":["x"]}}]').encode(), 0xC901),
    (('[{' + UIDS + ',"00100010":{"vr":"PN","Value":[{"Alphabetic":5}]}}]').encode(), 0xC901),
    (('[{' + UIDS + ',"00081115":{"vr":"SQ","Value":[5]}}]').encode(), 0xC901),
    (('[{' + UIDS + ',"7FE00010":{"vr":"OW","BulkDataURI":5}}]').encode(), 0xC901),
])
def test_malformed_metadata_fails_the_instance_not_the_server(client, app_archive, metadata,
                                                              reason) -> None:
    body, content_type = multipart([({"Content-Type": "application/dicom+json"}, metadata)],
                                   part_type="application/dicom+json")
    r = post(client, body, content_type)
    assert r.status_code == 409
    [failed] = r.json()["00081198"]["Value"]
    assert failed["00081197"]["Value"] == [reason]
    assert failed["00000902"]["Value"][0]
    assert nothing_half_written(app_archive)
