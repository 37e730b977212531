"""WADO-RS bulk data of studies, series and instances, Pixel Data resources, videos and
encapsulated documents, through the real ASGI app: status, headers, Content-Locations and
the exact bytes of every part."""

from __future__ import annotations

import io

import pydicom
import pytest
from helpers.data_files import pydicom_test_file
from helpers.dicom_files import ct_instance, part10_bytes, pdf_instance, video_instance
from helpers.multipart_body import split_parts
from pydicom.dataset import Dataset
from starlette.testclient import TestClient

from hounsfield.archive.archive import Archive

RS = "/aets/HOUNSFIELD/rs"
STUDY, SERIES = "2.25.200", "2.25.200.1"
EXPLICIT = "1.2.840.10008.1.2.1"
MPEG4 = "1.2.840.10008.1.2.4.102"  # MPEG-4 AVC/H.264 High Profile / Level 4.1
OCTETS = 'multipart/related; type="application/octet-stream"'
BASE = "http://testserver" + RS


def store(archive: Archive, data: bytes, name: str) -> None:
    path = archive.blobs.spool_dir / name
    path.write_bytes(data)
    assert archive.store_file(path).stored


def with_icon(ds: Dataset) -> Dataset:
    """A bulk data element inside a sequence item, and a private one at top level."""
    icon = Dataset()
    icon.Rows, icon.Columns, icon.BitsAllocated = 32, 32, 16
    icon.PixelData = bytes(range(256)) * 8
    icon["PixelData"].VR = "OW"
    ds.IconImageSequence = [icon]
    ds.add_new(0x00091010, "LO", "HOUNSFIELD TEST")
    ds.add_new(0x00091011, "OB", b"\x07" * 1500)  # private, no creator: still bulk data
    return ds


@pytest.fixture
def series(app_archive: Archive) -> list[bytes]:
    """Two CT instances of one series, the second with 3 frames and an icon."""
    stored = [part10_bytes(ct_instance(STUDY, SERIES, f"{SERIES}.1")),
              part10_bytes(with_icon(ct_instance(STUDY, SERIES, f"{SERIES}.2", seed=1,
                                                 frames=3)))]
    for number, data in enumerate(stored):
        store(app_archive, data, f"{number}.dcm")
    return stored


def url_of(data: bytes, suffix: str = "") -> str:
    ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
    return (f"{RS}/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}"
            f"/instances/{ds.SOPInstanceUID}{suffix}")


def bulk_data_uris(client: TestClient, url: str) -> list[str]:
    """The BulkDataURIs of the metadata of `url`, at every depth, in document order."""
    found: list[str] = []

    def walk(data_set: dict) -> None:
        for element in data_set.values():
            if "BulkDataURI" in element:
                found.append(element["BulkDataURI"])
            for item in element.get("Value", []) if element.get("vr") == "SQ" else []:
                walk(item)

    for data_set in client.get(url + "/metadata").json():
        walk(data_set)
    return found


def parts_of(response) -> list[tuple[dict[str, str], bytes]]:  # noqa: ANN001
    return split_parts(response.content, response.headers["content-type"])


def test_study_bulkdata_is_every_bulk_data_uri_of_its_metadata(
        client: TestClient, series: list[bytes]) -> None:
    response = client.get(f"{RS}/studies/{STUDY}/bulkdata", headers={"accept": OCTETS})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        f'multipart/related; type="application/octet-stream"; transfer-syntax={EXPLICIT}')
    parts = parts_of(response)
    locations = [h["content-location"] for h, _ in parts]
    assert sorted(locations) == sorted(bulk_data_uris(client, f"{RS}/studies/{STUDY}"))
    second = pydicom.dcmread(io.BytesIO(series[1]))
    expected = {
        f"{BASE}/studies/{STUDY}/series/{SERIES}/instances/{SERIES}.1/pixeldata":
            pydicom.dcmread(io.BytesIO(series[0])).PixelData,
        f"{BASE}/studies/{STUDY}/series/{SERIES}/instances/{SERIES}.2/bulkdata/00091011":
            second[0x00091011].value,
        f"{BASE}/studies/{STUDY}/series/{SERIES}/instances/{SERIES}.2/bulkdata/00880200/0/7FE00010":
            second.IconImageSequence[0].PixelData,
        f"{BASE}/studies/{STUDY}/series/{SERIES}/instances/{SERIES}.2/pixeldata":
            second.PixelData,
    }
    assert {h["content-location"]: d for h, d in parts} == expected
    assert all(h["content-type"] == f"application/octet-stream; transfer-syntax={EXPLICIT}"
               for h, _ in parts)
    assert all(int(h["content-length"]) == len(d) for h, d in parts)
    assert int(response.headers["content-length"]) == len(response.content)


def test_retrieve_with_a_bulk_data_accept_is_the_bulkdata_resource(
        client: TestClient, series: list[bytes]) -> None:
    for url in (f"{RS}/studies/{STUDY}", f"{RS}/studies/{STUDY}/series/{SERIES}",
                f"{RS}/studies/{STUDY}/series/{SERIES}/instances/{SERIES}.2"):
        retrieved = client.get(url, headers={"accept": OCTETS})
        resource = client.get(url + "/bulkdata", headers={"accept": OCTETS})
        assert retrieved.status_code == resource.status_code == 200, url
        assert retrieved.content == resource.content
    instance = client.get(f"{RS}/studies/{STUDY}/series/{SERIES}/instances/{SERIES}.2",
                          headers={"accept": OCTETS})
    assert len(parts_of(instance)) == 3
    as_dicom = client.get(f"{RS}/studies/{STUDY}", headers={
        "accept": f'{OCTETS}, multipart/related; type="application/dicom"; q=0.5'})
    assert as_dicom.headers["content-type"].startswith(
        'multipart/related; type="application/dicom"')


def test_series_and_study_pixeldata_give_one_part_per_instance(
        client: TestClient, series: list[bytes]) -> None:
    pixels = [pydicom.dcmread(io.BytesIO(d)).PixelData for d in series]
    for url in (f"{RS}/studies/{STUDY}/pixeldata",
                f"{RS}/studies/{STUDY}/series/{SERIES}/pixeldata"):
        response = client.get(url)
        assert response.status_code == 200
        parts = parts_of(response)
        assert [d for _, d in parts] == pixels  # the 3 frames of the second: one part
        assert [h["content-location"] for h, _ in parts] == [
            f"{BASE}/studies/{STUDY}/series/{SERIES}/instances/{SERIES}.{n}/pixeldata"
            for n in (1, 2)]


def test_compressed_pixel_data_goes_out_as_stored_and_the_rest_is_left_out(
        client: TestClient, app_archive: Archive, series: list[bytes]) -> None:
    jpeg = pydicom.dcmread(pydicom_test_file("SC_rgb_jpeg_dcmtk.dcm"))
    jpeg.StudyInstanceUID = STUDY
    data = part10_bytes(jpeg)
    store(app_archive, data, "jpeg.dcm")
    fragment = next(pydicom.encaps.generate_frames(jpeg.PixelData, number_of_frames=1))
    response = client.get(f"{RS}/studies/{STUDY}/pixeldata",
                          headers={"accept": 'multipart/related; type="image/jpeg"'})
    assert response.status_code == 200
    [(headers, value)] = parts_of(response)
    assert value == fragment
    assert headers["content-type"] == "image/jpeg; transfer-syntax=1.2.840.10008.1.2.4.50"
    assert headers["content-location"] == "http://testserver" + url_of(data, "/pixeldata")
    assert "2 pixel data part(s) of 2 instance(s)" in response.headers["warning"]
    native = client.get(f"{RS}/studies/{STUDY}/pixeldata", headers={"accept": OCTETS})
    assert len(parts_of(native)) == 2
    assert jpeg.SOPInstanceUID in native.headers["warning"]
    everything = client.get(f"{RS}/studies/{STUDY}/pixeldata", headers={
        "accept": f'{OCTETS}, multipart/related; type="image/jpeg"'})
    assert len(parts_of(everything)) == 3 and "warning" not in everything.headers
    none = client.get(f"{RS}/studies/{STUDY}/pixeldata",
                      headers={"accept": 'multipart/related; type="image/jls"'})
    assert none.status_code == 406
    assert "image/jls" in none.json()["errorMessage"]


def test_video_is_one_part_with_byte_ranges(client: TestClient, app_archive: Archive) -> None:
    data, stream = video_instance(STUDY)
    store(app_archive, data, "video.dcm")
    url = url_of(data, "/pixeldata")
    single = client.get(url, headers={"accept": "video/mp4"})
    assert single.status_code == 200
    assert single.headers["content-type"] == f"video/mp4; transfer-syntax={MPEG4}"
    assert single.headers["accept-ranges"] == "bytes"
    assert single.content == stream
    ranged = client.get(url, headers={"accept": "video/mp4", "range": "bytes=2990-3009"})
    assert ranged.status_code == 206
    assert ranged.content == stream[2990:3010]  # across a fragment boundary
    assert ranged.headers["content-range"] == f"bytes 2990-3009/{len(stream)}"
    assert ranged.headers["content-length"] == "20"
    tail = client.get(url, headers={"range": "bytes=-100"})
    assert tail.status_code == 206
    [(headers, value)] = parts_of(tail)
    assert value == stream[-100:] and headers["content-location"].endswith(url)
    study = client.get(f"{RS}/studies/{STUDY}/pixeldata",
                       headers={"accept": 'multipart/related; type="video/mp4"'})
    assert [d for _, d in parts_of(study)] == [stream]
    refused = client.get(url, headers={"accept": "video/mpeg"})
    assert refused.status_code == 406
    assert client.get(url, headers={"range": "bytes=99999-"}).status_code == 416


def test_encapsulated_pdf_goes_out_as_application_pdf(client: TestClient,
                                                      app_archive: Archive) -> None:
    data, document = pdf_instance(STUDY)
    store(app_archive, data, "pdf.dcm")
    response = client.get(f"{RS}/studies/{STUDY}",
                          headers={"accept": 'multipart/related; type="application/pdf"'})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        'multipart/related; type="application/pdf"; boundary=')
    [(headers, value)] = parts_of(response)
    assert headers["content-type"] == "application/pdf"
    assert headers["content-location"] == "http://testserver" + url_of(data,
                                                                       "/bulkdata/00420011")
    assert value == pydicom.dcmread(io.BytesIO(data)).EncapsulatedDocument  # padded
    assert value.rstrip(b"\0") == document
    octets = client.get(url_of(data, "/bulkdata"), headers={"accept": OCTETS})
    [(headers, value)] = parts_of(octets)
    assert headers["content-type"] == f"application/octet-stream; transfer-syntax={EXPLICIT}"
    assert value.rstrip(b"\0") == document
    assert client.get(url_of(data, "/pixeldata")).status_code == 404


def test_no_bulk_data_is_404_and_unknown_study_too(client: TestClient,
                                                   app_archive: Archive) -> None:
    ds = ct_instance("2.25.201", "2.25.201.1")
    del ds.PixelData
    store(app_archive, part10_bytes(ds), "bare.dcm")
    response = client.get(f"{RS}/studies/2.25.201/bulkdata")
    assert response.status_code == 404
    assert "study 2.25.201 has no bulk data" in response.json()["errorMessage"]
    assert client.get(f"{RS}/studies/2.25.201/series/2.25.201.1/pixeldata").status_code == 404
    assert client.get(f"{RS}/studies/2.25.9/pixeldata").status_code == 404
    assert client.get(f"{RS}/studies/1..2/bulkdata").status_code == 400


def test_head_and_etag(client: TestClient, series: list[bytes]) -> None:
    url = f"{RS}/studies/{STUDY}/bulkdata"
    full = client.get(url)
    head = client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(full.content))
    assert head.headers["etag"] == full.headers["etag"]
    again = client.get(url, headers={"if-none-match": full.headers["etag"]})
    assert again.status_code == 304
    other = client.get(url, headers={"accept": OCTETS, "x-forwarded-host": "pacs.example"})
    assert other.headers["etag"] != full.headers["etag"]
    assert "http://pacs.example/" in other.content.decode("latin-1")


def test_unsupported_parameters_are_warned_about(client: TestClient,
                                                 series: list[bytes]) -> None:
    response = client.get(f"{RS}/studies/{STUDY}/pixeldata", params={"quality": "5"})
    assert response.status_code == 200
    assert "quality" in response.headers["warning"]


# -- metadata includefield ----------------------------------------------------------------

def test_metadata_includefield_keeps_those_attributes_and_the_identifying_uids(
        client: TestClient, series: list[bytes]) -> None:
    url = f"{RS}/studies/{STUDY}/series/{SERIES}/metadata"
    full = client.get(url).json()
    response = client.get(url, params=[("includefield", "PatientID,00100010"),
                                       ("includefield", "IconImageSequence.Rows")])
    assert response.status_code == 200 and "warning" not in response.headers
    identifying = {"0020000D", "0020000E", "00080018", "00080016"}
    wanted = {"00100020", "00100010", "00880200"} | identifying
    assert [set(d) for d in response.json()] == [wanted & set(d) for d in full]
    assert response.json()[1]["00880200"] == full[1]["00880200"]  # the sequence, whole
    assert response.headers["etag"] != client.get(url).headers["etag"]
    dcm4chee = client.get(url, params={"includefields": "PatientID"}).json()
    assert [set(d) for d in dcm4chee] == [{"00100020"} | identifying] * 2


def test_metadata_includefield_all_is_everything_and_unknown_keywords_are_400(
        client: TestClient, series: list[bytes]) -> None:
    url = f"{RS}/studies/{STUDY}/metadata"
    assert client.get(url, params={"includefield": "all"}).json() == client.get(url).json()
    both = client.get(url, params={"includefield": "PatientID,all"}).json()
    assert both == client.get(url).json()
    bad = client.get(url, params={"includefield": "PatientNam"})
    assert bad.status_code == 400 and "PatientNam" in bad.json()["errorMessage"]
    private = client.get(url, params={"includefield": "00091011", "excludeprivate": "true"})
    assert all("00091011" not in d for d in private.json())
    kept = client.get(url, params={"includefield": "00091011"}).json()
    assert "BulkDataURI" in kept[1]["00091011"]


def test_cors_exposes_what_bulk_data_clients_read(client: TestClient,
                                                  app_archive: Archive) -> None:
    data, _ = video_instance(STUDY)
    store(app_archive, data, "video.dcm")
    response = client.get(url_of(data, "/pixeldata"), headers={
        "origin": "https://viewer.example", "range": "bytes=0-9"})
    assert response.status_code == 206
    exposed = {h.strip() for h in response.headers["access-control-expose-headers"].split(",")}
    wanted = {"etag", "last-modified", "content-range", "accept-ranges", "content-location",
              "warning", "content-type", "content-length"}
    assert wanted <= exposed
    assert wanted - {"content-location", "warning"} <= set(response.headers)
    preflight = client.options(url_of(data, "/pixeldata"), headers={
        "origin": "https://viewer.example", "access-control-request-method": "GET"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-expose-headers"] == \
        response.headers["access-control-expose-headers"]
    allowed = preflight.headers["access-control-allow-headers"]
    assert {"range", "if-none-match", "if-modified-since"} <= {
        h.strip() for h in allowed.split(",")}
