"""Parsing QIDO-RS query parameters (PS3.18 §8.3.4) into typed conditions (PS3.4 C.2.2.2)."""

from __future__ import annotations

import pytest

from hounsfield.dicom.attribute_path import AttributePath, parse_attribute
from hounsfield.dicom.levels import Level
from hounsfield.dicom.query import MatchKind, parse_search
from hounsfield.errors import BadRequestError


def one(level: Level, name: str, value: str):
    [condition] = parse_search(level, [(name, value)]).conditions
    return condition


# -- attributes: keyword, tag, sequence path (PS3.18 §8.3.1, §8.3.4.1) ------------------

@pytest.mark.parametrize(("text", "tags"), [
    ("PatientName", (0x00100010,)),
    ("00100010", (0x00100010,)),
    ("0020000d", (0x0020000D,)),
    ("RequestAttributesSequence.RequestedProcedureID", (0x00400275, 0x00401001)),
    ("0040A370.00080050", (0x0040A370, 0x00080050)),
    ("OtherPatientIDsSequence.IssuerOfPatientIDQualifiersSequence.UniversalEntityID",
     (0x00101002, 0x00100024, 0x00400032)),
    ("00091010", (0x00091010,)),  # a private tag
])
def test_attribute_forms(text: str, tags: tuple[int, ...]) -> None:
    assert parse_attribute(text).tags == tags


@pytest.mark.parametrize(("text", "named"), [
    ("PatientNam", "PatientNam"),
    ("PatientName.PatientID", "is not a sequence"),
    ("0010001", "neither a keyword nor a tag"),
    ("Patient-Name", "neither a keyword nor a tag"),
    ("00100000", "cannot be queried"),
    ("00020010", "cannot be queried"),
    ("", "not a keyword"),
    ("A.B.C.D.E", "at most 4"),
])
def test_bad_attributes_name_the_problem(text: str, named: str) -> None:
    with pytest.raises(BadRequestError, match=named):
        parse_attribute(text)


def test_attribute_path_prints_keywords() -> None:
    assert str(parse_attribute("0040A370.00080050")) == \
        "ReferencedRequestSequence.AccessionNumber"


# -- values per VR: PS3.4 C.2.2.2 ---------------------------------------------------------

@pytest.mark.parametrize(("name", "value", "kind", "values"), [
    # C.2.2.2.3 universal matching: empty value, or only "*"
    ("PatientID", "", MatchKind.UNIVERSAL, ()),
    ("PatientID", "*", MatchKind.UNIVERSAL, ()),
    ("PatientID", "**", MatchKind.UNIVERSAL, ()),
    ("StudyDate", "", MatchKind.UNIVERSAL, ()),
    ("RequestAttributesSequence", "", MatchKind.UNIVERSAL, ()),
    # C.2.2.2.1 single value matching
    ("PatientID", "ABC123", MatchKind.SINGLE, ("ABC123",)),
    ("StudyDate", "20220928", MatchKind.SINGLE, ("20220928",)),
    ("SeriesNumber", "3", MatchKind.SINGLE, ("3",)),
    ("PatientName", "Doe^John", MatchKind.SINGLE, ("Doe^John",)),
    # several values: any of them (ModalitiesInStudy also comma-separated)
    ("ModalitiesInStudy", "CT,MR", MatchKind.SINGLE, ("CT", "MR")),
    ("ModalitiesInStudy", "CT\\MR", MatchKind.SINGLE, ("CT", "MR")),
    # C.2.2.2.4 wildcard matching
    ("PatientName", "Zeta^*", MatchKind.WILDCARD, ("Zeta^*",)),
    ("AccessionNumber", "A?C", MatchKind.WILDCARD, ("A?C",)),
    ("StudyDescription", "50%_off*", MatchKind.WILDCARD, ("50%_off*",)),
    # C.2.2.2.2 UID list matching, comma- or backslash-separated
    ("StudyInstanceUID", "1.2.3,1.2.4", MatchKind.UID_LIST, ("1.2.3", "1.2.4")),
    ("StudyInstanceUID", "1.2.3\\1.2.4", MatchKind.UID_LIST, ("1.2.3", "1.2.4")),
    ("SOPClassUID", "1.2.840.10008.5.1.4.1.1.2", MatchKind.UID_LIST,
     ("1.2.840.10008.5.1.4.1.1.2",)),
])
def test_value_kinds(name: str, value: str, kind: MatchKind, values: tuple) -> None:
    condition = one(Level.INSTANCE, name, value)
    assert (condition.kind, condition.values) == (kind, values)


# C.2.2.2.5 range matching: bounds as text, low inclusive, high exclusive
@pytest.mark.parametrize(("name", "value", "low", "high"), [
    ("StudyDate", "20220101-20221231", "20220101", "20221232"),
    ("StudyDate", "-20220928", None, "20220929"),
    ("StudyDate", "20220928-", "20220928", None),
    ("StudyTime", "0800-1200", "08", "1201"),
    ("StudyTime", "2130-22", "213", "23"),
    ("StudyTime", "1030", "103", "1031"),  # a single TM value is the range it names
    ("StudyTime", "101530.5-", "101530.5", None),
    ("AcquisitionDateTime", "20220101-20220102", "20220101", "20220103"),
    ("AcquisitionDateTime", "2022-", "2022", None),
    ("AcquisitionDateTime", "20220101120000+0100-", "2022010112", None),
    ("AcquisitionDateTime", "-20221231235959.999999", None, "20221231235959.99999:"),
])
def test_ranges(name: str, value: str, low: str | None, high: str | None) -> None:
    condition = one(Level.INSTANCE, name, value)
    assert (condition.kind, condition.low, condition.high) == (MatchKind.RANGE, low, high)


@pytest.mark.parametrize(("name", "value", "named"), [
    ("StudyDate", "2022-09-28", "not a DA value or range"),
    ("StudyDate", "20220928-2023", "not a DA value or range"),
    ("StudyDate", "-", "not a DA value or range"),
    ("StudyDate", "yesterday", "not a DA value or range"),
    ("StudyTime", "25:00", "not a TM value or range"),
    ("StudyTime", "2400", "not a valid TM value"),
    ("StudyTime", "1260-", "not a valid TM value"),
    ("StudyDate", "20221301", "not a valid DA value"),
    ("StudyDate", "20220100-", "not a valid DA value"),
    ("AcquisitionDateTime", "2022130112", "not a valid DT value"),
    ("StudyTime", "1", "not a TM value or range"),
    ("AcquisitionDateTime", "20220101T1200", "not a DT value or range"),
    ("StudyInstanceUID", "1.2.03", "not a valid UID"),
    ("StudyInstanceUID", "1.2.*", "not a valid UID"),
    ("StudyInstanceUID", "1.2.3,,1.2.4", "not a valid UID"),
    ("SeriesNumber", "x1", "not a IS number"),
    ("SeriesNumber", "1*", "not a IS number"),
    ("Rows", "-", "not a US number"),
    ("PixelData", "AAAA", "binary values cannot be matched"),
    ("RequestAttributesSequence", "x", "is a sequence"),
    ("PatientID", "A\x00B", "NUL"),
    ("PatientID", "A\ud800", "not valid Unicode"),
    ("PatientID", "x" * 1025, "longer than 1024"),
])
def test_malformed_values_name_the_key(name: str, value: str, named: str) -> None:
    with pytest.raises(BadRequestError, match=named) as caught:
        parse_search(Level.INSTANCE, [(name, value)])
    assert name in caught.value.message or "NUL" in named


# C.2.2.2.5.1: a DA key with its TM partner is one combined date-time range
@pytest.mark.parametrize(("date", "time", "bounds"), [
    ("20220928", "1000-1200", ("20220928", "1", "20220928", "1201")),
    ("20220101-20220131", "1000-", ("20220101", "1", "20220131", None)),
    ("-20220131", "-0800", (None, None, "20220131", "0801")),
    ("20220101-", "0930", ("20220101", "093", None, "0931")),
])
def test_date_and_time_keys_combine(date: str, time: str, bounds: tuple) -> None:
    query = parse_search(Level.STUDY, [("StudyDate", date), ("StudyTime", time)])
    [c] = query.conditions
    assert c.kind is MatchKind.DATETIME_RANGE
    assert c.partner == AttributePath((0x00080030,))
    assert (c.low, c.low_time, c.high, c.high_time) == bounds


def test_date_alone_or_universal_time_is_not_combined() -> None:
    query = parse_search(Level.STUDY, [("StudyDate", "20220928"), ("StudyTime", "")])
    assert [c.kind for c in query.conditions] == [MatchKind.SINGLE, MatchKind.UNIVERSAL]


def test_series_date_time_pair_combines_too() -> None:
    query = parse_search(Level.SERIES, [("SeriesDate", "20220928"), ("SeriesTime", "10-")])
    assert [c.kind for c in query.conditions] == [MatchKind.DATETIME_RANGE]


# -- parameters -------------------------------------------------------------------------

def test_includefield_as_list_repeated_by_tag_or_keyword() -> None:
    query = parse_search(Level.STUDY, [("includefield", "00081030,PatientAge"),
                                       ("includefield", "StudyDescription"),
                                       ("includefield", "IssuerOfPatientID")])
    assert [str(p) for p in query.includes] == ["StudyDescription", "PatientAge",
                                                 "IssuerOfPatientID"]
    assert not query.include_all


def test_includefield_all() -> None:
    assert parse_search(Level.SERIES, [("includefield", "all")]).include_all


def test_includefield_below_the_level_is_not_returned_and_said_so() -> None:
    query = parse_search(Level.STUDY, [("includefield", "Modality")])
    assert query.includes == ()
    assert query.warnings == ("The attribute Modality is below the study level and is not "
                              "returned",)


def test_match_key_below_the_level_is_ignored_with_a_warning() -> None:
    query = parse_search(Level.STUDY, [("SOPInstanceUID", "1.2.3")])
    assert query.conditions == ()
    assert "SOPInstanceUID is not supported for matching at the study level" in \
        query.warnings[0]


@pytest.mark.parametrize("name", ["orderby", "charset", "emptyvaluematching", "foo"])
def test_unsupported_parameters_are_ignored_with_a_warning(name: str) -> None:
    query = parse_search(Level.STUDY, [(name, "x"), ("PatientID", "1")])
    assert query.warnings == (f"The query parameter {name} is not supported and was "
                              "ignored",)
    assert len(query.conditions) == 1


@pytest.mark.parametrize(("params", "expected"), [
    ([("limit", "10"), ("offset", "20")], (10, 20)),
    ([("limit", "0")], (0, 0)),
    ([], (None, 0)),
])
def test_paging(params: list, expected: tuple) -> None:
    query = parse_search(Level.STUDY, params)
    assert (query.limit, query.offset) == expected


@pytest.mark.parametrize(("params", "named"), [
    ([("limit", "-1")], "limit='-1' is not an unsigned integer"),
    ([("limit", "ten")], "limit='ten'"),
    ([("offset", "1.5")], "offset='1.5'"),
    ([("limit", "1"), ("limit", "2")], "limit is given twice"),
    ([("limit", "9999999999")], "at most 9 digits"),
    ([("fuzzymatching", "yes")], "fuzzymatching='yes'"),
    ([("PatientID", "1"), ("00100020", "2")], r"PatientID \(00100020\) is given twice"),
    ([("includefield", "PatientID,,StudyDate")], "empty attribute"),
])
def test_bad_parameters_are_refused(params: list, named: str) -> None:
    with pytest.raises(BadRequestError, match=named):
        parse_search(Level.STUDY, params)


def test_fuzzymatching_marks_person_name_keys_only() -> None:
    query = parse_search(Level.STUDY, [("fuzzymatching", "true"), ("PatientName", "doe"),
                                       ("PatientID", "doe")])
    assert [c.fuzzy for c in query.conditions] == [True, False]


def test_returned_paths_are_includes_and_keys_at_or_above_the_level() -> None:
    query = parse_search(Level.SERIES, [("PatientAge", "040Y"),
                                        ("includefield", "BodyPartExamined"),
                                        ("includefield", "PatientWeight")])
    assert [str(p) for p in query.returned_paths] == ["BodyPartExamined", "PatientWeight",
                                                      "PatientAge"]
