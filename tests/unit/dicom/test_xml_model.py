"""The Native DICOM Model XML (PS3.19 Annex A) against the JSON model (PS3.18 Annex F)."""

from __future__ import annotations

import importlib.util
import pathlib

import orjson
import pydicom
import pydicom.data
import pytest
from lxml import etree
from pydicom import Dataset

from hounsfield.dicom.xml_model import json_to_xml, xml_to_json
from hounsfield.errors import BadRequestError

BULK_URI = "http://x/bulk"


def _real_files() -> list[pathlib.Path]:
    """pydicom's test and charset files and the pydicom-data store.

    Listed from their folders: `pydicom.data.get_testdata_files()` finds the same files but
    first spends seconds trying to download the ones missing from the store.
    """
    pydicom_data = pathlib.Path(pydicom.data.__file__).parent
    store = pathlib.Path(importlib.util.find_spec("data_store").origin).parent / "data"
    found = [
        *(pydicom_data / "test_files").rglob("*.dcm"),
        *(pydicom_data / "charset_files").glob("*.dcm"),
        *store.glob("*.dcm"),
    ]
    return sorted({path.resolve() for path in found}, key=lambda path: path.name)


def _json_model(path: pathlib.Path) -> dict:
    try:
        dataset = pydicom.dcmread(path, force=True)
        return dataset.to_json_dict(
            bulk_data_threshold=1024, bulk_data_element_handler=lambda element: BULK_URI
        )
    except Exception as exc:  # a deliberately broken test file
        pytest.skip(f"pydicom cannot read {path.name}: {exc}")


def _assert_round_trip(dataset: dict) -> None:
    back = xml_to_json(json_to_xml(dataset))
    assert back == dataset
    # == takes 1 for 1.0; the JSON text also compares the types of numbers and key order.
    assert orjson.dumps(back) == orjson.dumps(dataset)


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom on the test files' invalid values
@pytest.mark.parametrize("path", _real_files(), ids=lambda p: p.name)
def test_real_file_round_trips_and_pydicom_reads_the_result(path):
    dataset = _json_model(path)
    _assert_round_trip(dataset)
    back = xml_to_json(json_to_xml(dataset))
    Dataset.from_json(back, bulk_data_uri_handler=lambda tag, vr, uri: b"\0\0")


# dcm4chee-arc-light's rendering of a small dataset (one line in the original).
DCM4CHEE_SAMPLE = (
    b'<?xml version="1.0" encoding="UTF-8"?><NativeDicomModel xml:space="preserve">'
    b'<DicomAttribute keyword="SpecificCharacterSet" tag="00080005" vr="CS"/>'
    b'<DicomAttribute keyword="StudyDate" tag="00080020" vr="DA">'
    b'<Value number="1">20220928</Value></DicomAttribute>'
    b'<DicomAttribute keyword="PatientName" tag="00100010" vr="PN"><PersonName number="1">'
    b"<Alphabetic><FamilyName>Zeta</FamilyName><GivenName>Zachary</GivenName></Alphabetic>"
    b"</PersonName></DicomAttribute>"
    b'<DicomAttribute keyword="ReferencedSOPSequence" tag="00081199" vr="SQ"><Item number="1">'
    b'<DicomAttribute keyword="ReferencedSOPClassUID" tag="00081150" vr="UI">'
    b'<Value number="1">1.2.840.10008.5.1.4.1.1.104.1</Value></DicomAttribute></Item>'
    b"</DicomAttribute>"
    b'<DicomAttribute keyword="EncapsulatedDocument" tag="00420011" vr="OB">'
    b'<BulkData uri="bulk2.25.236273414892009727187587613562294401904"/></DicomAttribute>'
    b"</NativeDicomModel>"
)
DCM4CHEE_JSON = {
    "00080005": {"vr": "CS"},
    "00080020": {"vr": "DA", "Value": ["20220928"]},
    "00100010": {"vr": "PN", "Value": [{"Alphabetic": "Zeta^Zachary"}]},
    "00081199": {
        "vr": "SQ",
        "Value": [{"00081150": {"vr": "UI", "Value": ["1.2.840.10008.5.1.4.1.1.104.1"]}}],
    },
    "00420011": {"vr": "OB", "BulkDataURI": "bulk2.25.236273414892009727187587613562294401904"},
}


def test_dcm4chee_sample_parses_to_the_json_model():
    assert xml_to_json(DCM4CHEE_SAMPLE) == DCM4CHEE_JSON


def test_json_model_is_written_exactly_as_dcm4chee_writes_it():
    assert json_to_xml(DCM4CHEE_JSON) == DCM4CHEE_SAMPLE


def test_sample_result_is_accepted_by_pydicom():
    dataset = Dataset.from_json(
        xml_to_json(DCM4CHEE_SAMPLE), bulk_data_uri_handler=lambda tag, vr, uri: b"%PDF"
    )
    assert dataset.PatientName.family_name == "Zeta"
    assert dataset.ReferencedSOPSequence[0].ReferencedSOPClassUID.endswith(".104.1")


def test_person_name_with_all_three_groups():
    name = {"Alphabetic": "Yamada^Tarou", "Ideographic": "山田^太郎", "Phonetic": "やまだ^たろう"}
    dataset = {"00100010": {"vr": "PN", "Value": [name]}}
    xml = json_to_xml(dataset)
    person = etree.fromstring(xml).find("DicomAttribute/PersonName")
    assert [group.tag for group in person] == ["Alphabetic", "Ideographic", "Phonetic"]
    assert person.findtext("Ideographic/GivenName") == "太郎"
    _assert_round_trip(dataset)


@pytest.mark.parametrize(
    "name",
    [
        "Doe",
        "Doe^John^Q^Dr^Jr",
        "^John",
        "Doe^",
        "Doe^^^^III",
        "a^b^c^d^e^f",  # more carets than PS3.5 allows stay in NameSuffix
        "",
    ],
)
def test_person_name_components_round_trip(name):
    _assert_round_trip({"00100010": {"vr": "PN", "Value": [{"Alphabetic": name}]}})


def test_person_name_components_are_elements():
    xml = json_to_xml({"00100010": {"vr": "PN", "Value": [{"Alphabetic": "Doe^^Q"}]}})
    assert b"<Alphabetic><FamilyName>Doe</FamilyName><GivenName/><MiddleName>Q</MiddleName>" in xml


def _sequence(*items: dict) -> dict:
    return {"vr": "SQ", "Value": list(items)}


def test_sequence_nested_two_deep_round_trips():
    inner = {"00081150": {"vr": "UI", "Value": ["1.2.3"]}, "00081155": {"vr": "UI"}}
    middle = {"00081199": _sequence(inner, {}), "00081160": {"vr": "IS", "Value": [1, 2]}}
    dataset = {"00081115": _sequence(middle, {"00081199": _sequence()})}
    xml = json_to_xml(dataset)
    root = etree.fromstring(xml)
    path = "DicomAttribute/Item/DicomAttribute/Item/DicomAttribute/Value"
    assert root.findtext(path) == "1.2.3"
    _assert_round_trip(dataset)


@pytest.mark.parametrize(
    "element",
    [
        {"vr": "LO"},
        {"vr": "PN"},
        {"vr": "SQ", "Value": []},  # pydicom writes an empty sequence with an empty Value
        {"vr": "SQ", "Value": [{}]},
        {"vr": "OB"},
        {"vr": "CS", "Value": ["A", "", "B"]},
        {"vr": "DS", "Value": [None, 1.5]},
        {"vr": "US", "Value": [1, None]},
        {"vr": "PN", "Value": [None, {"Alphabetic": "Doe"}]},
        {"vr": "OB", "InlineBinary": ""},
    ],
)
def test_empty_values_round_trip(element):
    _assert_round_trip({"00091010": element})


def test_empty_attribute_has_no_children():
    xml = json_to_xml({"00100020": {"vr": "LO"}})
    assert b'<DicomAttribute keyword="PatientID" tag="00100020" vr="LO"/>' in xml


def test_numbers_are_written_as_json_writes_them():
    xml = json_to_xml(
        {
            "00280010": {"vr": "US", "Value": [512]},
            "00280030": {"vr": "DS", "Value": [0.5, 1.0, 1e-07]},
            "00209241": {"vr": "FL", "Value": [0.1]},
            "00209165": {"vr": "AT", "Value": ["00100020"]},
        }
    )
    for value in (b">512<", b">0.5<", b">1.0<", b">1e-07<", b">0.1<", b">00100020<"):
        assert value in xml


def test_numeric_values_are_typed_by_vr():
    dataset = xml_to_json(
        b'<NativeDicomModel><DicomAttribute tag="00280010" vr="US"><Value number="1">512</Value>'
        b'</DicomAttribute><DicomAttribute tag="00200013" vr="IS"><Value number="1"> +7 </Value>'
        b'</DicomAttribute><DicomAttribute tag="00280030" vr="DS"><Value number="1">1.50</Value>'
        b'<Value number="2">2</Value></DicomAttribute></NativeDicomModel>'
    )
    assert orjson.dumps(dataset) == orjson.dumps(
        {
            "00280010": {"vr": "US", "Value": [512]},
            "00200013": {"vr": "IS", "Value": [7]},
            "00280030": {"vr": "DS", "Value": [1.5, 2.0]},
        }
    )


def test_text_is_escaped_and_kept_exactly():
    text = '  <b>&"quoted"</b>\r\n\tline two\n  '
    dataset = {"00324000": {"vr": "LT", "Value": [text]}, "00080008": {"vr": "CS", "Value": ["A "]}}
    xml = json_to_xml(dataset)
    assert b"&lt;b&gt;&amp;" in xml
    _assert_round_trip(dataset)


def test_characters_xml_cannot_carry_become_replacement_characters():
    xml = json_to_xml({"00100020": {"vr": "LO", "Value": ["a\x00b\x1bc"]}})
    assert xml_to_json(xml)["00100020"]["Value"] == ["a\ufffdb\ufffdc"]


def test_private_tags_carry_their_creator_and_no_keyword():
    dataset = {
        "00090010": {"vr": "LO", "Value": ["ACME 1.0"]},
        "00091001": {"vr": "LO", "Value": ["x"]},
    }
    xml = json_to_xml(dataset)
    assert b'<DicomAttribute tag="00090010" vr="LO">' in xml
    assert b'<DicomAttribute tag="00091001" vr="LO" privateCreator="ACME 1.0">' in xml
    _assert_round_trip(dataset)


PRETTY = b"""<?xml version="1.0" encoding="UTF-8"?>
<!-- written by hand -->
<NativeDicomModel xmlns="http://dicom.nema.org/PS3.19/models/NativeDICOM">
  <DicomAttribute tag="0020000d" vr="UI">
    <Value number="1">
      1.2.3.4
    </Value>
  </DicomAttribute>
  <DicomAttribute tag="00081030">
    <Value number="1">  Head  </Value>
  </DicomAttribute>
  <DicomAttribute tag="00081115" vr="SQ">
    <Item number="1">
      <DicomAttribute tag="0020000E" vr="UI"><Value number="1">1.2.3.4.5</Value></DicomAttribute>
    </Item>
  </DicomAttribute>
  <DicomAttribute tag="00100010" vr="PN">
    <PersonName number="1">
      <Alphabetic>
        <FamilyName>Doe</FamilyName>
      </Alphabetic>
    </PersonName>
  </DicomAttribute>
  <DicomAttribute tag="7FE00010" vr="OW">
    <BulkData uuid="urn:uuid:6a1f9e0e-3c4b-4d8e-9c37-9e1d2f0b7a11"/>
  </DicomAttribute>
  <DicomAttribute tag="00420011" vr="OB">
    <InlineBinary>
      AAEC
    </InlineBinary>
  </DicomAttribute>
</NativeDicomModel>
"""


def test_pretty_printed_namespaced_document_is_read():
    assert xml_to_json(PRETTY) == {
        "0020000D": {"vr": "UI", "Value": ["1.2.3.4"]},
        "00081030": {"vr": "LO", "Value": ["  Head  "]},  # vr from the dictionary
        "00081115": _sequence({"0020000E": {"vr": "UI", "Value": ["1.2.3.4.5"]}}),
        "00100010": {"vr": "PN", "Value": [{"Alphabetic": "Doe"}]},
        "7FE00010": {"vr": "OW", "BulkDataURI": "urn:uuid:6a1f9e0e-3c4b-4d8e-9c37-9e1d2f0b7a11"},
        "00420011": {"vr": "OB", "InlineBinary": "AAEC"},
    }


def _document(attributes: str) -> bytes:
    return f"<NativeDicomModel>{attributes}</NativeDicomModel>".encode()


XXE = (
    b'<?xml version="1.0"?><!DOCTYPE NativeDicomModel [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
    b'<NativeDicomModel><DicomAttribute tag="00100020" vr="LO"><Value number="1">&secret;</Value>'
    b"</DicomAttribute></NativeDicomModel>"
)
LAUGHS = (
    b'<!DOCTYPE NativeDicomModel [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">]>'
    b'<NativeDicomModel><DicomAttribute tag="00100020" vr="LO"><Value number="1">&b;</Value>'
    b"</DicomAttribute></NativeDicomModel>"
)
EXTERNAL_DTD = b'<!DOCTYPE NativeDicomModel SYSTEM "http://127.0.0.1:9/x.dtd"><NativeDicomModel/>'


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (b"", "malformed XML"),
        (b"<NativeDicomModel><DicomAttribute", "malformed XML"),
        (b"not xml at all", "malformed XML"),
        (_document("&undefined;"), "malformed XML"),
        (XXE, "DOCTYPE"),
        (LAUGHS, "DOCTYPE"),
        (EXTERNAL_DTD, "DOCTYPE"),
        (b"<Dataset/>", "root element is <Dataset>"),
        (b'<NativeDicomModel xmlns="urn:other"/>', "root element"),
        (_document('<DicomAttribute tag="0010002G" vr="LO"/>'), "'0010002G'"),
        (_document('<DicomAttribute tag="100020" vr="LO"/>'), "bad tag attribute '100020'"),
        (_document('<DicomAttribute vr="LO"/>'), "bad tag attribute None"),
        (_document('<DicomAttribute tag="00100020" vr="XX"/>'), "00100020: unknown VR 'XX'"),
        (_document('<DicomAttribute tag="00091001"/>'), "00091001: no vr attribute"),
        (_document('<DicomAttribute tag="00280106"/>'), "00280106: no vr attribute"),
        (
            _document('<DicomAttribute tag="00280010" vr="US"><Value number="1">x</Value>'),
            "malformed XML",
        ),
        (
            _document('<DicomAttribute tag="00280010" vr="US"><Value>5x</Value></DicomAttribute>'),
            "00280010 (US): value '5x' is not a number",
        ),
        (
            _document('<DicomAttribute tag="00280030" vr="DS"><Value>1_0</Value></DicomAttribute>'),
            "00280030 (DS): value '1_0' is not a number",
        ),
        (
            _document(
                '<DicomAttribute tag="00209165" vr="AT"><Value>0010</Value></DicomAttribute>'
            ),
            "00209165 (AT): value '0010' is not 8 hex digits",
        ),
        (
            _document('<DicomAttribute tag="00100020" vr="LO"><Item/></DicomAttribute>'),
            "00100020: <Item> is not allowed for VR LO",
        ),
        (
            _document('<DicomAttribute tag="00081115" vr="SQ"><Value/></DicomAttribute>'),
            "00081115: <Value> is not allowed for VR SQ",
        ),
        (
            _document('<DicomAttribute tag="00100010" vr="PN"><Value/></DicomAttribute>'),
            "00100010: <Value> is not allowed for VR PN",
        ),
        (
            _document(
                '<DicomAttribute tag="00100010" vr="PN"><PersonName><Alphabetic>'
                "<Surname>Doe</Surname></Alphabetic></PersonName></DicomAttribute>"
            ),
            "00100010: <Surname> is not a name component",
        ),
        (
            _document(
                '<DicomAttribute tag="00100010" vr="PN"><PersonName><Latin/></PersonName>'
                "</DicomAttribute>"
            ),
            "00100010: <Latin> is not a person name group",
        ),
        (
            _document('<DicomAttribute tag="00100020" vr="LO"><Val/></DicomAttribute>'),
            "00100020: unexpected element <Val>",
        ),
        (
            _document(
                '<DicomAttribute tag="00100020" vr="LO"><Value>a</Value><BulkData uri="u"/>'
                "</DicomAttribute>"
            ),
            "00100020: <BulkData> mixed with <Value>",
        ),
        (
            _document('<DicomAttribute tag="7FE00010" vr="OW"><BulkData/></DicomAttribute>'),
            "7FE00010: <BulkData> without a uri",
        ),
        (
            _document('<DicomAttribute tag="00100020" vr="LO">ABC</DicomAttribute>'),
            "00100020: text outside of Value elements",
        ),
        (
            _document(
                '<DicomAttribute tag="00100020" vr="LO"><Value><b/></Value></DicomAttribute>'
            ),
            "00100020: <Value> must hold text only",
        ),
        (
            _document('<DicomAttribute tag="00100020" vr="LO"/><DicomAttribute tag="00100020"/>'),
            "attribute 00100020 appears twice",
        ),
        (_document("<Attribute/>"), "<Attribute> found in <NativeDicomModel>"),
    ],
)
def test_bad_document_is_a_bad_request_naming_the_problem(xml, message):
    with pytest.raises(BadRequestError) as caught:
        xml_to_json(xml)
    assert message in caught.value.message


def test_external_entity_is_never_resolved():
    with pytest.raises(BadRequestError) as caught:
        xml_to_json(XXE)
    assert "root:" not in caught.value.message


@pytest.mark.parametrize(
    ("dataset", "message"),
    [
        ({"0010002G": {"vr": "LO"}}, "'0010002G' is not a tag"),
        ({"00100020": {"vr": "XX"}}, "00100020: unknown VR 'XX'"),
        ({"00100020": {"Value": ["x"]}}, "00100020: not a JSON model attribute"),
        ({"00100020": {"vr": "LO", "Value": [{"a": 1}]}}, "00100020: value {'a': 1} is not"),
        ({"00100010": {"vr": "PN", "Value": [{"Latin": "Doe"}]}}, "bad person name group"),
        ({"7FE00010": {"vr": "OW", "BulkDataURI": 5}}, "7FE00010: 5 is not a string"),
    ],
)
def test_bad_json_model_is_a_bad_request(dataset, message):
    with pytest.raises(BadRequestError) as caught:
        json_to_xml(dataset)
    assert message in caught.value.message
