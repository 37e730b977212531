"""WADO-RS through the real ASGI app: studies, series, instances, metadata, frames, bulk
data; status, Content-Type with its transfer-syntax, and the bytes."""

from __future__ import annotations

import gzip
import io

import orjson
import pydicom
import pytest
from helpers.data_files import pydicom_test_file
from helpers.dicom_files import ct_instance, part10_bytes
from helpers.multipart_body import split_parts
from starlette.testclient import TestClient

from hounsfield.archive.archive import Archive

RS = "/aets/HOUNSFIELD/rs"
STUDY, SERIES = "2.25.100", "2.25.100.1"
EXPLICIT = "1.2.840.10008.1.2.1"
IMPLICIT = "1.2.840.10008.1.2"
DICOM_ALL = 'multipart/related; type="application/dicom"; transfer-syntax=*'


def store(archive: Archive, data: bytes, name: str = "in.dcm") -> None:
    path = archive.blobs.spool_dir / name
    path.write_bytes(data)
    assert archive.store_file(path).stored


@pytest.fixture
def series(app_archive: Archive) -> list[bytes]:
    """Three stored instances of one series (the second has 3 frames), as stored."""
    stored = []
    for number in (1, 2, 3):
        ds = ct_instance(STUDY, SERIES, f"{SERIES}.{number}", seed=number - 1,
                         frames=3 if number == 2 else 1)
        stored.append(part10_bytes(ds))
        store(app_archive, stored[-1], f"{number}.dcm")
    return stored


def instance_url(number: int) -> str:
    return f"{RS}/studies/{STUDY}/series/{SERIES}/instances/{SERIES}.{number}"


def test_series_is_streamed_as_stored_in_instance_order(client: TestClient,
                                                        series: list[bytes]) -> None:
    response = client.get(f"{RS}/studies/{STUDY}/series/{SERIES}",
                          headers={"accept": DICOM_ALL})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        f'multipart/related; type="application/dicom"; transfer-syntax={EXPLICIT}; boundary=')
    parts = split_parts(response.content, response.headers["content-type"])
    assert [data for _, data in parts] == series
    assert {h["content-type"] for h, _ in parts} == {
        f"application/dicom; transfer-syntax={EXPLICIT}"}
    assert [int(h["content-length"]) for h, _ in parts] == [len(d) for d in series]
    assert [h["content-location"] for h, _ in parts] == [
        f"http://testserver{instance_url(n)}" for n in (1, 2, 3)]


def test_study_retrieve_without_accept_is_explicit_vr_little_endian(
        client: TestClient, series: list[bytes]) -> None:
    response = client.get(f"{RS}/studies/{STUDY}")
    assert response.status_code == 200
    assert [d for _, d in split_parts(response.content, response.headers["content-type"])] \
        == series


def test_instance_as_single_part(client: TestClient, series: list[bytes]) -> None:
    response = client.get(instance_url(2), headers={"accept": "application/dicom"})
    assert response.status_code == 200
    assert response.headers["content-type"] == f"application/dicom; transfer-syntax={EXPLICIT}"
    assert response.headers["content-length"] == str(len(series[1]))
    assert response.content == series[1]


def test_one_instance_as_multipart_has_its_exact_length(client: TestClient,
                                                        series: list[bytes]) -> None:
    """A small file read with its index row goes out with a Content-Length (not chunked),
    which must be the body's length to the byte."""
    response = client.get(instance_url(2), headers={
        "accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'})
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(response.content))
    [(_, data)] = split_parts(response.content, response.headers["content-type"])
    assert data == series[1]
    assert response.content.endswith(b"--\r\n")


def test_accept_query_parameter_wins_over_the_header(client: TestClient,
                                                     series: list[bytes]) -> None:
    response = client.get(instance_url(1), params={"accept": "application/dicom"},
                          headers={"accept": "application/dicom+json"})
    assert response.status_code == 200
    assert response.content == series[0]


def test_unknown_uids_name_what_was_not_found(client: TestClient, series: list[bytes]) -> None:
    cases = {
        f"{RS}/studies/2.25.9": "study 2.25.9 not found",
        f"{RS}/studies/{STUDY}/series/2.25.9": f"series 2.25.9 not found in study {STUDY}",
        f"{RS}/studies/2.25.9/series/{SERIES}/metadata": "study 2.25.9 not found",
        f"{RS}/studies/{STUDY}/series/{SERIES}/instances/2.25.9/frames/1":
            "instance 2.25.9 not found",
    }
    for url, message in cases.items():
        response = client.get(url)
        assert response.status_code == 404, url
        assert message in response.json()["errorMessage"]


def test_malformed_uid_is_a_bad_request(client: TestClient) -> None:
    response = client.get(f"{RS}/studies/1..2/metadata")
    assert response.status_code == 400
    assert "StudyInstanceUID" in response.json()["errorMessage"]


def test_head_has_headers_and_no_body(client: TestClient, series: list[bytes]) -> None:
    response = client.head(instance_url(1), headers={"accept": "application/dicom"})
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(series[0]))
    assert response.content == b""
    metadata = client.head(f"{RS}/studies/{STUDY}/metadata")
    assert metadata.status_code == 200 and int(metadata.headers["content-length"]) > 0
    assert metadata.content == b""


def test_etag_and_last_modified_give_304(client: TestClient, series: list[bytes]) -> None:
    first = client.get(f"{RS}/studies/{STUDY}/series/{SERIES}")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = client.get(f"{RS}/studies/{STUDY}/series/{SERIES}", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag
    since = client.get(f"{RS}/studies/{STUDY}/series/{SERIES}",
                       headers={"if-modified-since": modified})
    assert since.status_code == 304
    other = client.get(f"{RS}/studies/{STUDY}/series/{SERIES}",
                       headers={"if-none-match": '"other"'})
    assert other.status_code == 200 and other.content == first.content
    # another representation has another ETag
    single = client.get(instance_url(1), headers={"accept": "application/dicom"})
    assert single.headers["etag"] != etag


# -- transfer syntaxes ------------------------------------------------------------------

@pytest.fixture
def implicit(app_archive: Archive) -> bytes:
    data = pydicom_test_file("MR_small_implicit.dcm").read_bytes()
    store(app_archive, data)
    return data


@pytest.fixture
def jpeg(app_archive: Archive) -> bytes:
    data = pydicom_test_file("SC_rgb_jpeg_dcmtk.dcm").read_bytes()
    store(app_archive, data)
    return data


def _url_of(data: bytes, suffix: str = "") -> str:
    ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
    return (f"{RS}/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}"
            f"/instances/{ds.SOPInstanceUID}{suffix}")


def test_implicit_vr_is_transcoded_to_explicit_vr_pixel_exact(client: TestClient,
                                                               implicit: bytes) -> None:
    response = client.get(_url_of(implicit), headers={"accept": "application/dicom"})
    assert response.status_code == 200
    assert response.headers["content-type"] == f"application/dicom; transfer-syntax={EXPLICIT}"
    original = pydicom.dcmread(io.BytesIO(implicit))
    transcoded = pydicom.dcmread(io.BytesIO(response.content))
    assert transcoded.file_meta.TransferSyntaxUID == EXPLICIT
    assert transcoded.PixelData == original.PixelData
    assert (transcoded.pixel_array == original.pixel_array).all()
    assert transcoded.PatientName == original.PatientName


def test_as_stored_when_the_stored_syntax_is_named(client: TestClient, implicit: bytes) -> None:
    accept = f"multipart/related; type=application/dicom; transfer-syntax={IMPLICIT}"
    response = client.get(_url_of(implicit), headers={"accept": accept})
    assert response.status_code == 200
    [(headers, data)] = split_parts(response.content, response.headers["content-type"])
    assert headers["content-type"] == f"application/dicom; transfer-syntax={IMPLICIT}"
    assert data == implicit


def test_compressed_instance_without_a_decoder_is_406(client: TestClient,
                                                      app_archive: Archive) -> None:
    # JPEG 2000 Part 2 (multi-component): no decoder here; the codestream is Part 1's
    lossless = pydicom_test_file("emri_small_jpeg_2k_lossless.dcm").read_bytes().replace(
        b"1.2.840.10008.1.2.4.90", b"1.2.840.10008.1.2.4.92")
    store(app_archive, lossless)
    response = client.get(_url_of(lossless))
    assert response.status_code == 406
    message = response.json()["errorMessage"]
    assert "1.2.840.10008.1.2.4.92" in message and "transfer-syntax=*" in message
    assert "cannot decode" in message
    stored = client.get(_url_of(lossless), headers={"accept": DICOM_ALL})
    assert stored.status_code == 200
    assert split_parts(stored.content, stored.headers["content-type"])[0][1] == lossless


def test_jpeg_baseline_is_decoded_to_explicit_vr_like_pydicom_decodes_it(
        client: TestClient, jpeg: bytes) -> None:
    response = client.get(_url_of(jpeg), headers={"accept": "application/dicom"})
    assert response.status_code == 200
    assert response.headers["content-type"] == f"application/dicom; transfer-syntax={EXPLICIT}"
    original = pydicom.dcmread(io.BytesIO(jpeg))
    decoded = pydicom.dcmread(io.BytesIO(response.content))
    assert (decoded.pixel_array == original.pixel_array).all()
    # the JPEG's YCbCr samples as decoded (converting them to RGB would round them)
    assert decoded.PhotometricInterpretation == "YBR_FULL" and decoded.PlanarConfiguration == 0
    assert decoded.LossyImageCompression == "01"
    assert decoded.SOPInstanceUID == original.SOPInstanceUID


def test_mixed_study_takes_the_first_acceptable_syntax_per_instance(
        client: TestClient, implicit: bytes, jpeg: bytes) -> None:
    # each fixture file has its own study: check the per-part choice on one of them
    accept = ('multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.50,'
              ' multipart/related; type="application/dicom"; q=0.5')
    response = client.get(_url_of(implicit).split("/series/")[0], headers={"accept": accept})
    assert response.status_code == 200
    [(headers, _)] = split_parts(response.content, response.headers["content-type"])
    assert headers["content-type"] == f"application/dicom; transfer-syntax={EXPLICIT}"
    response = client.get(_url_of(jpeg).split("/series/")[0], headers={"accept": accept})
    [(headers, data)] = split_parts(response.content, response.headers["content-type"])
    assert headers["content-type"] == "application/dicom; transfer-syntax=1.2.840.10008.1.2.4.50"
    assert data == jpeg


# -- metadata -----------------------------------------------------------------------------

def test_series_metadata_has_absolute_bulk_data_uris(client: TestClient,
                                                     series: list[bytes]) -> None:
    response = client.get(f"{RS}/studies/{STUDY}/series/{SERIES}/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/dicom+json"
    documents = response.json()
    assert [d["00080018"]["Value"][0] for d in documents] == [f"{SERIES}.{n}" for n in (1, 2, 3)]
    uri = documents[0]["7FE00010"]["BulkDataURI"]
    assert uri == f"http://testserver{instance_url(1)}/pixeldata"


def test_metadata_behind_a_proxy_and_gzip(client: TestClient, series: list[bytes]) -> None:
    response = client.get(f"{RS}/studies/{STUDY}/metadata", headers={
        "accept-encoding": "gzip", "x-forwarded-proto": "https",
        "x-forwarded-host": "pacs.example.org", "x-forwarded-prefix": "/dicom"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    uri = response.json()[1]["7FE00010"]["BulkDataURI"]
    assert uri == f"https://pacs.example.org/dicom{instance_url(2)}/pixeldata"


def test_metadata_as_multipart_xml(client: TestClient, series: list[bytes]) -> None:
    response = client.get(f"{RS}/studies/{STUDY}/metadata",
                          headers={"accept": 'multipart/related; type="application/dicom+xml"'})
    assert response.status_code == 200
    parts = split_parts(response.content, response.headers["content-type"])
    assert len(parts) == 3
    assert all(h["content-type"] == "application/dicom+xml" for h, _ in parts)
    assert f"{SERIES}.3".encode() in parts[2][1]


def test_metadata_not_acceptable(client: TestClient, series: list[bytes]) -> None:
    response = client.get(f"{RS}/studies/{STUDY}/metadata", headers={"accept": "image/png"})
    assert response.status_code == 406


def test_every_bulk_data_uri_of_the_metadata_resolves(client: TestClient,
                                                      app_archive: Archive) -> None:
    data = pydicom_test_file("SC_rgb_jpeg_dcmtk.dcm").read_bytes()
    store(app_archive, data, "a.dcm")
    ds = pydicom.dcmread(io.BytesIO(data))
    metadata = client.get(_url_of(data, "/metadata")).json()[0]
    uris = [v["BulkDataURI"] for v in metadata.values() if "BulkDataURI" in v]
    assert uris
    for uri in uris:
        response = client.get(uri)
        assert response.status_code == 200, (uri, response.text)
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.50"


# -- frames -----------------------------------------------------------------------------

def test_frames_are_read_from_the_frame_table(client: TestClient, series: list[bytes]) -> None:
    pixels = pydicom.dcmread(io.BytesIO(series[1])).PixelData
    frame = len(pixels) // 3
    response = client.get(instance_url(2) + "/frames/3,1")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        f'multipart/related; type="application/octet-stream"; transfer-syntax={EXPLICIT}')
    parts = split_parts(response.content, response.headers["content-type"])
    assert [d for _, d in parts] == [pixels[2 * frame:], pixels[:frame]]
    assert parts[0][0]["content-type"] == f"application/octet-stream; transfer-syntax={EXPLICIT}"
    assert parts[0][0]["content-location"].endswith(instance_url(2) + "/frames/3")


@pytest.mark.parametrize("frames, status", [
    ("1", 200), ("1,2,3", 200), ("0", 404), ("4", 404), ("1,4", 404),
    ("99999999999999999999999", 404), ("a", 400), ("1,", 400), ("1;2", 400), ("-1", 400),
    (" 1", 400), ("1,,2", 400),
])
def test_frame_lists(client: TestClient, series: list[bytes], frames: str,
                     status: int) -> None:
    response = client.get(instance_url(2) + f"/frames/{frames}")
    assert response.status_code == status, response.text
    if status != 200:
        assert "frame" in response.json()["errorMessage"]


def test_compressed_frame_passes_through_untouched(client: TestClient, jpeg: bytes) -> None:
    ds = pydicom.dcmread(io.BytesIO(jpeg))
    fragment = next(pydicom.encaps.generate_frames(ds.PixelData, number_of_frames=1))
    for accept in ('multipart/related; type="image/jpeg"', "*/*",
                   'multipart/related; type="image/jpeg"; transfer-syntax=1.2.840.10008.1.2.4.50'):
        response = client.get(_url_of(jpeg, "/frames/1"), headers={"accept": accept})
        assert response.status_code == 200, accept
        [(headers, data)] = split_parts(response.content, response.headers["content-type"])
        assert headers["content-type"] == "image/jpeg; transfer-syntax=1.2.840.10008.1.2.4.50"
        assert data == fragment
    single = client.get(_url_of(jpeg, "/frames/1"), headers={"accept": "image/jpeg"})
    assert single.status_code == 200 and single.content == fragment
    for refused in ('multipart/related; type="image/jpx"',
                    'multipart/related; type="image/jpeg"; transfer-syntax=1.2.840.10008.1.2.4.51',
                    'multipart/related; type="image/jpeg"; transfer-syntax=1.2.840.10008.1.2.4.80'):
        response = client.get(_url_of(jpeg, "/frames/1"), headers={"accept": refused})
        assert response.status_code == 406, refused
        assert "image/jpeg" in response.json()["errorMessage"]


# -- bulk data --------------------------------------------------------------------------

def test_pixeldata_is_the_exact_element_value(client: TestClient, series: list[bytes]) -> None:
    pixels = pydicom.dcmread(io.BytesIO(series[0])).PixelData
    response = client.get(instance_url(1) + "/pixeldata")
    assert response.status_code == 200
    [(headers, data)] = split_parts(response.content, response.headers["content-type"])
    assert data == pixels
    single = client.get(instance_url(1) + "/pixeldata",
                        headers={"accept": "application/octet-stream"})
    assert single.headers["content-type"] == f"application/octet-stream; transfer-syntax={EXPLICIT}"
    assert single.content == pixels


@pytest.mark.parametrize("range_header, status, start, end", [
    ("bytes=0-9", 206, 0, 10), ("bytes=10-", 206, 10, None), ("bytes=-4", 206, -4, None),
    ("bytes=5-100000", 206, 5, None), ("bytes=600-700", 416, 0, 0),
    ("bytes=9-3", 200, 0, None), ("lines=1-2", 200, 0, None), ("bytes=0-1,4-5", 200, 0, None),
])
def test_byte_ranges_of_single_part_bulk_data(client: TestClient, series: list[bytes],
                                              range_header: str, status: int, start: int,
                                              end: int | None) -> None:
    pixels = pydicom.dcmread(io.BytesIO(series[0])).PixelData
    assert len(pixels) == 512
    response = client.get(instance_url(1) + "/pixeldata", headers={
        "accept": "application/octet-stream", "range": range_header})
    assert response.status_code == status
    if status == 416:
        assert response.headers["content-range"] == "bytes */512"
        return
    assert response.content == pixels[start:end]
    if status == 206:
        first = start % 512
        last = (512 if end is None else end) - 1
        assert response.headers["content-range"] == f"bytes {first}-{last}/512"


def test_bulkdata_paths(client: TestClient, series: list[bytes]) -> None:
    assert client.get(instance_url(1) + "/bulkdata/7FE00010").status_code == 404
    bad = client.get(instance_url(1) + "/bulkdata/zz")
    assert bad.status_code == 400 and "bulk data path" in bad.json()["errorMessage"]


def test_retrieve_never_answers_400_for_unacceptable_media(client: TestClient,
                                                           series: list[bytes]) -> None:
    for accept in ("text/html", "application/dicom+json", "image/*",
                   'multipart/related; type="image/jpeg"'):
        response = client.get(f"{RS}/studies/{STUDY}", headers={"accept": accept})
        assert response.status_code == 406, accept
    # application/dicom single part is for one instance only
    response = client.get(f"{RS}/studies/{STUDY}", headers={"accept": "application/dicom"})
    assert response.status_code == 406


def test_gzip_body_is_the_same_json(client: TestClient, series: list[bytes]) -> None:
    plain = client.get(f"{RS}/studies/{STUDY}/metadata", headers={"accept-encoding": "identity"})
    zipped = client.get(f"{RS}/studies/{STUDY}/metadata", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in plain.headers
    assert orjson.loads(plain.content) == zipped.json()
    assert gzip.compress(plain.content) != plain.content


def test_a_file_stored_without_preamble_goes_out_as_part10(client: TestClient,
                                                           app_archive: Archive) -> None:
    ds = ct_instance(STUDY, SERIES, f"{SERIES}.9")
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, ds)  # no preamble, no "DICM", as dicomweb-client sends
    received = buffer.getvalue()
    assert received[:2] == b"\x02\x00"
    store(app_archive, received)
    expected = b"\0" * 128 + b"DICM" + received
    single = client.get(instance_url(9), headers={"accept": "application/dicom"})
    assert single.headers["content-length"] == str(len(expected))
    assert single.content == expected
    head = client.head(instance_url(9), headers={"accept": "application/dicom"})
    assert head.headers["content-length"] == str(len(expected))
    multipart = client.get(instance_url(9))
    [(headers, data)] = split_parts(multipart.content, multipart.headers["content-type"])
    assert headers["content-length"] == str(len(expected)) and data == expected
    assert pydicom.dcmread(io.BytesIO(data)).SOPInstanceUID == f"{SERIES}.9"


def test_an_instance_without_pixel_data_has_no_frames(client: TestClient,
                                                      app_archive: Archive) -> None:
    ds = ct_instance(STUDY, SERIES, f"{SERIES}.8")
    del ds.PixelData
    store(app_archive, part10_bytes(ds))
    for suffix in ("/frames/1", "/pixeldata"):
        response = client.get(instance_url(8) + suffix)
        assert response.status_code == 404, suffix
        assert f"{SERIES}.8" in response.json()["errorMessage"]


def test_unsupported_query_parameters_are_warned_about(client: TestClient,
                                                       series: list[bytes]) -> None:
    for suffix in ("", "/instances/" + f"{SERIES}.2/frames/1"):
        response = client.get(f"{RS}/studies/{STUDY}/series/{SERIES}{suffix}",
                              params={"includefield": "all", "accept": "*/*"})
        assert response.status_code == 200
        assert response.headers["warning"] == (
            f"299 http://testserver{RS}: The query parameter includefield is not "
            "supported and was ignored")
    metadata = client.get(f"{RS}/studies/{STUDY}/series/{SERIES}/metadata",
                          params={"includefield": "all", "charset": "utf-8"})
    assert metadata.headers["warning"] == (
        f"299 http://testserver{RS}: The query parameter charset is not supported and "
        "was ignored")  # includefield is supported on metadata


def test_metadata_excludeprivate(client: TestClient, app_archive: Archive) -> None:
    ds = ct_instance(STUDY, SERIES, f"{SERIES}.7")
    ds.private_block(0x0009, "HOUNSFIELD TEST", create=True).add_new(0x01, "LO", "secret")
    item = pydicom.Dataset()
    item.CodeValue = "1"
    item.private_block(0x0011, "HOUNSFIELD TEST", create=True).add_new(0x02, "LO", "nested")
    ds.ProcedureCodeSequence = [item]
    store(app_archive, part10_bytes(ds))
    url = instance_url(7) + "/metadata"
    full = client.get(url).json()[0]
    assert "00091001" in full and "00110010" in full["00081032"]["Value"][0]
    response = client.get(url, params={"excludeprivate": "true"})
    assert response.status_code == 200 and "warning" not in response.headers
    [public] = response.json()
    assert not [t for t in public if int(t[3], 16) % 2]
    assert public["00081032"]["Value"][0] == {"00080100": {"vr": "SH", "Value": ["1"]}}
    assert public["00080018"] == full["00080018"]
    assert client.get(url, params={"excludeprivate": "yes"}).status_code == 400


def test_a_series_as_stored_has_its_exact_length(client: TestClient, app_archive: Archive,
                                                 series: list[bytes]) -> None:
    """The index knows each file's served size, a preamble-less file's included: the
    multipart answer has a Content-Length, to the byte, and is not chunked."""
    ds = ct_instance(STUDY, SERIES, f"{SERIES}.9")
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, ds)  # no preamble
    store(app_archive, buffer.getvalue())
    url = f"{RS}/studies/{STUDY}/series/{SERIES}"
    response = client.get(url, headers={"accept": DICOM_ALL})
    assert response.headers["content-length"] == str(len(response.content))
    parts = [d for _, d in split_parts(response.content, response.headers["content-type"])]
    assert sorted(parts) == sorted([*series, b"\0" * 128 + b"DICM" + buffer.getvalue()])
    head = client.head(url, headers={"accept": DICOM_ALL})
    assert head.headers["content-length"] == str(len(response.content))


def test_files_stored_before_their_preamble_was_recorded_go_out_chunked(
        client: TestClient, app_archive: Archive, series: list[bytes]) -> None:
    with app_archive.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE instance SET preamble_missing = NULL")
    response = client.get(f"{RS}/studies/{STUDY}/series/{SERIES}",
                          headers={"accept": DICOM_ALL})
    assert response.status_code == 200 and "content-length" not in response.headers
    assert [d for _, d in split_parts(response.content,
                                      response.headers["content-type"])] == series
