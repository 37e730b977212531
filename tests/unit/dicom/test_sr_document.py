"""The SR content tree as HTML and plain text (PS3.3 C.17.3), from the DICOM JSON model."""

from __future__ import annotations

from pydicom.dataset import Dataset

from hounsfield.dicom import sr_document


def code(meaning: str, value: str = "1") -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "99T", meaning
    return item


def content(value_type: str, name: str, **values) -> Dataset:
    item = Dataset()
    item.RelationshipType, item.ValueType = "CONTAINS", value_type
    item.ConceptNameCodeSequence = [code(name)]
    for keyword, value in values.items():
        setattr(item, keyword, value)
    return item


def report() -> dict:
    ds = Dataset()
    ds.PatientName, ds.PatientID, ds.CompletionFlag = "Doe^Jane", "P-7", "PARTIAL"
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = [code("CT Report")]
    measured = Dataset()
    measured.NumericValue = "12.5"
    measured.MeasurementUnitsCodeSequence = [code("millimeter", "mm")]
    size = content("NUM", "Diameter", MeasuredValueSequence=[measured])
    size.ContentSequence = [content("CODE", "Site", ConceptCodeSequence=[code("Liver")])]
    reference = Dataset()
    reference.ReferencedSOPClassUID, reference.ReferencedSOPInstanceUID = "1.2.3", "1.2.3.4"
    findings = content("CONTAINER", "Findings", ContinuityOfContent="SEPARATE")
    findings.ContentSequence = [
        content("TEXT", "Impression", TextValue="<b>not bold</b>"), size,
        content("IMAGE", "Key image", ReferencedSOPSequence=[reference]),
        content("DATE", "Seen", Date="20260102"),
        content("SCOORD", "Outline", GraphicType="POINT", GraphicData=[1.5, 2.0]),
        content("PNAME", "Reader", PersonName="Roe^Rick")]
    ds.ContentSequence = [findings]
    return ds.to_json_dict()


def test_content_tree_follows_the_content_sequences() -> None:
    title, [findings] = sr_document.content_tree(report())
    assert title == "CT Report" and findings.name == "Findings"
    assert [(c.value_type, c.name, c.value) for c in findings.children] == [
        ("TEXT", "Impression", "<b>not bold</b>"), ("NUM", "Diameter", "12.5 mm"),
        ("IMAGE", "Key image", "1.2.3 1.2.3.4"), ("DATE", "Seen", "20260102"),
        ("SCOORD", "Outline", "POINT (1.5, 2)"), ("PNAME", "Reader", "Roe Rick")]
    assert findings.children[1].children[0].value == "Liver"


def test_html_escapes_every_value_and_nests_sections() -> None:
    html = sr_document.to_html(report())
    assert "<title>CT Report</title>" in html and "<h2>Findings</h2>" in html
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html and "<b>not bold</b>" not in html
    assert "<dt>Patient</dt><dd>Doe Jane</dd>" in html
    assert "<li><b>Diameter</b>: 12.5 mm<ul><li><b>Site</b>: Liver</li></ul></li>" in html


def test_text_indents_children_under_their_parent() -> None:
    lines = sr_document.to_text(report()).splitlines()
    assert lines[:5] == ["CT Report", "=========", "Patient: Doe Jane", "Patient ID: P-7",
                         "Completion: PARTIAL"]
    assert "  Diameter: 12.5 mm" in lines and "    Site: Liver" in lines


def test_structured_report_classes() -> None:
    assert sr_document.is_structured_report("1.2.840.10008.5.1.4.1.1.88.33")
    assert not sr_document.is_structured_report("1.2.840.10008.5.1.4.1.1.2")
