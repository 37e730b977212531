from hounsfield.archive.record import Disposition, StoreOutcome
from hounsfield.dicom import status
from hounsfield.web.stow_response import stow_response

BASE = "http://h/aets/A/rs"


def test_stored_and_failed_instances_are_listed() -> None:
    ok = StoreOutcome(Disposition.STORED, "1.2.840.10008.5.1.4.1.1.2", "1.5", "1.3", "1.4")
    bad = StoreOutcome(Disposition.FAILED, "1.2.840.10008.5.1.4.1.1.2", "1.6",
                       failure_reason=status.DUPLICATE_SOP_INSTANCE, message="dup")
    body = stow_response([ok, bad], BASE)
    assert body["00081190"] == {"vr": "UR", "Value": [f"{BASE}/studies/1.3"]}
    [ref] = body["00081199"]["Value"]
    assert ref["00081155"]["Value"] == ["1.5"]
    assert ref["00081190"]["Value"] == [f"{BASE}/studies/1.3/series/1.4/instances/1.5"]
    [failed] = body["00081198"]["Value"]
    assert failed["00081197"] == {"vr": "US", "Value": [0x0111]}
    assert failed["00081155"]["Value"] == ["1.6"]
    assert failed["00000902"]["Value"] == ["dup"]


def test_no_study_url_when_instances_span_studies() -> None:
    a = StoreOutcome(Disposition.STORED, "1.2", "1.5", "1.3", "1.4")
    b = StoreOutcome(Disposition.STORED, "1.2", "1.6", "1.7", "1.8")
    assert "00081190" not in stow_response([a, b], BASE)


def test_warning_reason_on_stored_item() -> None:
    w = StoreOutcome(Disposition.STORED, "1.2", "1.5", "1.3", "1.4",
                     warnings=((status.COERCION_OF_DATA_ELEMENTS, "Rows corrected"),))
    [ref] = stow_response([w], BASE)["00081199"]["Value"]
    assert ref["00081196"] == {"vr": "US", "Value": [0xB000]}
