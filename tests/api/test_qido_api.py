"""QIDO-RS through the real ASGI app: every resource, format, header and error."""

from __future__ import annotations

import gzip
import random
import urllib.parse

import orjson
import pytest
from helpers.dicom_files import ct_instance, part10_bytes, spool
from starlette.testclient import TestClient

from hounsfield.archive.archive import Archive
from hounsfield.dicom.xml_model import xml_to_json

RS = "/aets/HOUNSFIELD/rs"
SERVICE = "http://testserver/aets/HOUNSFIELD/rs"
S1, S2 = "1.2.826.0.9.1", "1.2.826.0.9.2"


@pytest.fixture
def stored(app_archive: Archive) -> Archive:
    """Study S1: series .1 (CT, 3 instances), .2 (PR, 1); study S2: series .1 (MR, 2)."""
    for study, series, modality, count, name in ((S1, 1, "CT", 3, "Doe^John"),
                                                 (S1, 2, "PR", 1, "Doe^John"),
                                                 (S2, 1, "MR", 2, "Roe^Jane")):
        for number in range(1, count + 1):
            ds = ct_instance(study, f"{study}.{series}", f"{study}.{series}.{number}",
                             seed=number, modality=modality, patient_id=name[:3])
            ds.PatientName, ds.SeriesNumber, ds.InstanceNumber = name, series, number
            ds.StudyDescription = "Head & <Neck>"
            assert app_archive.store_file(spool(part10_bytes(ds),
                                                app_archive.blobs.spool_dir)).stored
    return app_archive


def uids(response, tag: str) -> list[str]:
    return [ds[tag]["Value"][0] for ds in response.json()]


@pytest.mark.parametrize(("path", "tag", "expected"), [
    ("/studies", "0020000D", [S2, S1]),
    ("/series", "0020000E", [f"{S2}.1", f"{S1}.2", f"{S1}.1"]),
    ("/instances?limit=2", "00080018", [f"{S2}.1.2", f"{S2}.1.1"]),
    (f"/studies/{S1}/series", "0020000E", [f"{S1}.1", f"{S1}.2"]),
    (f"/studies/{S1}/instances", "00080018",
     [f"{S1}.1.1", f"{S1}.1.2", f"{S1}.1.3", f"{S1}.2.1"]),
    (f"/studies/{S1}/series/{S1}.1/instances", "00080018",
     [f"{S1}.1.1", f"{S1}.1.2", f"{S1}.1.3"]),
])
def test_every_resource(client: TestClient, stored: Archive, path: str, tag: str,
                        expected: list[str]) -> None:
    response = client.get(RS + path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/dicom+json"
    assert uids(response, tag) == expected


def test_study_answer_has_the_default_attributes(client: TestClient, stored: Archive) -> None:
    [study] = client.get(RS + f"/studies?StudyInstanceUID={S1}").json()
    assert set(study) == {"00080005", "00080020", "00080030", "00080050", "00080054",
                          "00080056", "00080061", "00080090", "00080201", "00081190",
                          "00100010", "00100020", "00100030", "00100040", "0020000D",
                          "00200010", "00201206", "00201208"}
    assert study["00080061"]["Value"] == ["CT", "PR"]
    assert study["00201208"]["Value"] == ["4"]
    assert study["00081190"]["Value"] == [f"{SERVICE}/studies/{S1}"]


def test_match_keys_and_includefields_are_returned(client: TestClient, stored: Archive) -> None:
    response = client.get(RS + "/studies?PatientName=doe*&includefield=StudyDescription"
                          "&includefield=00101010,PatientWeight")
    [study] = response.json()
    assert study["00081030"] == {"vr": "LO", "Value": ["Head & <Neck>"]}
    assert study["00101010"] == {"vr": "AS"} and study["00101030"] == {"vr": "DS"}


@pytest.mark.parametrize(("accept", "content_type"), [
    (None, "application/dicom+json"),
    ("*/*", "application/dicom+json"),
    ("application/dicom+json", "application/dicom+json"),
    ("application/json", "application/json"),
    ("application/*", "application/dicom+json"),
    ("image/jpeg, application/json;q=0.5", "application/json"),
])
def test_json_media_types(client: TestClient, stored: Archive, accept: str | None,
                          content_type: str) -> None:
    headers = {"accept": accept} if accept else {}
    response = client.get(RS + "/studies", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert uids(response, "0020000D") == [S2, S1]


def test_multipart_xml_holds_one_native_model_document_per_match(client: TestClient,
                                                                 stored: Archive) -> None:
    json_answer = client.get(RS + "/studies").json()
    response = client.get(RS + "/studies",
                          headers={"accept": 'multipart/related; type="application/dicom+xml"'})
    assert response.status_code == 200
    boundary = response.headers["content-type"].rsplit("boundary=", 1)[1]
    parts = response.content.split(f"--{boundary}".encode())[1:-1]
    documents = [part.split(b"\r\n\r\n", 1)[1].removesuffix(b"\r\n") for part in parts]
    models = [xml_to_json(d) for d in documents]
    assert [sorted(m) for m in models] == [sorted(m) for m in json_answer]
    assert [m["0020000D"] for m in models] == [m["0020000D"] for m in json_answer]
    assert models[0]["00201208"] == {"vr": "IS", "Value": [2]}  # XML has no text/number
    assert b"Head &amp; &lt;Neck&gt;" not in documents[0]  # defaults only


def test_csv(client: TestClient, stored: Archive) -> None:
    response = client.get(RS + f"/studies/{S1}/series?includefield=StudyDescription",
                          headers={"accept": "text/csv"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    lines = response.text.split("\r\n")
    header = lines[0].split(",")
    assert header[:3] == ["RetrieveAETitle", "InstanceAvailability", "Modality"]
    rows = [dict(zip(header, line.split(","), strict=True)) for line in lines[1:3]]
    assert [r["SeriesInstanceUID"] for r in rows] == [f"{S1}.1", f"{S1}.2"]
    assert [r["NumberOfSeriesRelatedInstances"] for r in rows] == ["3", "1"]
    assert lines[3:] == [""]


def test_accept_query_parameter(client: TestClient, stored: Archive) -> None:
    response = client.get(RS + "/studies?accept=text/csv")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"


def test_unacceptable_media_type_is_406(client: TestClient, stored: Archive) -> None:
    response = client.get(RS + "/studies", headers={"accept": "image/jpeg"})
    assert response.status_code == 406
    assert "image/jpeg" in response.json()["errorMessage"]


def test_gzip_when_accepted(client: TestClient, stored: Archive) -> None:
    response = client.get(RS + "/instances", headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert len(response.json()) == 6  # httpx inflated it
    raw = client.get(RS + "/instances", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert int(raw.headers["content-length"]) > len(gzip.compress(raw.content)) > 0


def test_no_match_is_204_without_body(client: TestClient, stored: Archive) -> None:
    response = client.get(RS + "/studies?PatientID=nobody")
    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers


def test_truncated_answer_says_how_many_remain(client: TestClient, stored: Archive) -> None:
    response = client.get(RS + "/instances?limit=4&offset=1")
    assert response.status_code == 200
    assert len(response.json()) == 4
    assert response.headers.get_list("warning") == [
        f"299 {SERVICE}: There are 1 additional results that can be requested"]
    assert "warning" in response.headers["access-control-expose-headers"]


def test_unsupported_parameter_is_named_in_a_warning(client: TestClient,
                                                      stored: Archive) -> None:
    response = client.get(RS + "/studies?orderby=StudyDate&PatientID=Doe")
    assert response.status_code == 200
    assert response.headers.get_list("warning") == [
        f"299 {SERVICE}: The query parameter orderby is not supported and was ignored"]


def test_key_below_the_level_is_named_in_a_warning(client: TestClient, stored: Archive) -> None:
    response = client.get(RS + "/studies?Modality=CT")
    assert response.status_code == 200 and len(response.json()) == 2
    assert response.headers["warning"] == (
        f"299 {SERVICE}: The attribute Modality is not supported for matching at the study "
        "level and was ignored")


def test_fuzzymatching(client: TestClient, stored: Archive) -> None:
    response = client.get(RS + "/studies?PatientName=jan&fuzzymatching=true")
    assert uids(response, "0020000D") == [S2]
    assert "warning" not in response.headers


@pytest.mark.parametrize(("query", "named"), [
    ("PatientNam=x", "unknown attribute keyword 'PatientNam'"),
    ("StudyDate=2022-09-28", "StudyDate: '2022-09-28' is not a DA value or range"),
    ("StudyTime=25", "StudyTime: '25' is not a valid TM value"),
    ("StudyInstanceUID=1.2.03", "StudyInstanceUID: '1.2.03' is not a valid UID"),
    ("limit=-1", "limit='-1' is not an unsigned integer"),
    ("offset=x", "offset='x' is not an unsigned integer"),
    ("fuzzymatching=1", "fuzzymatching='1': must be true or false"),
    ("includefield=Nope", "unknown attribute keyword 'Nope'"),
    ("PixelData=1", "PixelData has VR OB"),
    ("PatientName.PatientID=1", "PatientName is not a sequence"),
    ("SeriesNumber=abc", "SeriesNumber: 'abc' is not a IS number"),
])
def test_bad_queries_are_400_naming_the_problem(client: TestClient, stored: Archive,
                                                 query: str, named: str) -> None:
    response = client.get(RS + "/instances?" + query)
    assert response.status_code == 400
    assert named in response.json()["errorMessage"]
    assert response.headers["content-type"] == "application/json"
    assert named.split(":")[0] in response.headers["warning"]


def test_bad_uid_in_the_path_is_400(client: TestClient) -> None:
    response = client.get(RS + "/studies/1.2.x/series")
    assert response.status_code == 400
    assert "StudyInstanceUID '1.2.x' is not a valid UID" in response.json()["errorMessage"]


def test_unknown_ae_title_is_404(client: TestClient) -> None:
    response = client.get("/aets/NOPE/rs/studies")
    assert response.status_code == 404


@pytest.mark.parametrize(("headers", "root"), [
    ({"x-forwarded-proto": "https", "x-forwarded-host": "pacs.example.org",
      "x-forwarded-prefix": "/dicomweb"}, "https://pacs.example.org/dicomweb"),
    ({"x-forwarded-proto": "https, http", "x-forwarded-host": "a.example:8443, b"},
     "https://a.example:8443"),
    ({"x-forwarded-proto": "gopher", "x-forwarded-host": "bad host/x"}, "http://testserver"),
])
def test_retrieve_url_behind_a_reverse_proxy(client: TestClient, stored: Archive,
                                             headers: dict, root: str) -> None:
    response = client.get(RS + f"/studies/{S2}/series", headers=headers)
    [series] = response.json()
    assert series["00081190"]["Value"] == [
        f"{root}/aets/HOUNSFIELD/rs/studies/{S2}/series/{S2}.1"]


def test_configured_public_base_url_wins(make_client, stored: Archive) -> None:
    client = make_client(public_base_url="https://pacs.example.org/prefix")
    response = client.get(RS + f"/studies/{S2}/series?limit=0",
                          headers={"x-forwarded-host": "other.example"})
    assert response.status_code == 204
    assert response.headers["warning"] == (
        "299 https://pacs.example.org/prefix/aets/HOUNSFIELD/rs: There are 1 additional "
        "results that can be requested")


def test_configured_maximum_limits_every_answer(make_client, stored: Archive) -> None:
    client = make_client(qido_max_limit=2)
    response = client.get(RS + "/instances?limit=5")
    assert len(response.json()) == 2
    assert "There are 4 additional results" in response.headers["warning"]


@pytest.mark.parametrize("query", [
    "NumberOfStudyRelatedSeries=99999999999999999999",
    "NumberOfStudyRelatedSeries=-99999999999999999999",
    "SeriesNumber=99999999999999999999", "InstanceNumber=-1", "Rows=3",
    "offset=999999999&limit=999999999", "PatientName=%F0%9F%98%80*",
    "StudyDescription=%ED%A0%80", "00091010=x", "00090010=ACME",
    "OtherPatientIDsSequence.PatientID=x*",
])
def test_extreme_but_valid_keys_match_nothing(client: TestClient, stored: Archive,
                                               query: str) -> None:
    response = client.get(RS + "/instances?" + query)
    assert response.status_code == 204, response.text


_ALPHABET = ["PatientName", "StudyDate", "0020000D", "includefield", "limit", "offset",
             "fuzzymatching", "=", "&", "*", "?", "-", ",", "\\", "%", "%00", "%ZZ", "%C3%28",
             ".", "'", '"', ";", "1", "2.25", "all", "true", " ", "+", "^", "_", "[", "é",
             "SELECT", "ModalitiesInStudy", "00400275.00401001", "\x7f", "SeriesNumber",
             "99999999999999999999", "NumberOfStudyRelatedSeries", "1e400", "00091010"]


def test_no_query_string_makes_a_500(client: TestClient, stored: Archive) -> None:
    rng = random.Random(4)
    for _ in range(300):
        query = "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 12)))
        path = rng.choice(["/studies", "/series", "/instances", f"/studies/{S1}/series"])
        response = client.get(RS + path + "?" + urllib.parse.quote(query, safe="=&%,*?\\"))
        assert response.status_code in (200, 204, 400), (query, response.text)
        if response.status_code == 400:
            assert orjson.loads(response.content)["errorMessage"]
