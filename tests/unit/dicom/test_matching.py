"""PS3.4 C.2.2.2 matching of conditions against DICOM JSON data sets (the metadata path)."""

from __future__ import annotations

import pytest

from hounsfield.dicom.levels import Level
from hounsfield.dicom.matching import (
    condition_matches,
    fuzzy_name_matches,
    normalized_name,
)
from hounsfield.dicom.query import parse_search


def matches(name: str, value: str, dataset: dict, *, fuzzy: bool = False,
            level: Level = Level.INSTANCE) -> bool:
    params = [(name, value)] + ([("fuzzymatching", "true")] if fuzzy else [])
    [condition] = parse_search(level, params).conditions
    return condition_matches(condition, dataset)


def text(tag: str, vr: str, *values) -> dict:
    return {tag: {"vr": vr, "Value": list(values)}} if values else {tag: {"vr": vr}}


def name(tag: str, *alphabetic: str) -> dict:
    return {tag: {"vr": "PN", "Value": [{"Alphabetic": a} for a in alphabetic]}}


DESCRIPTION = "00081030"  # Study Description, LO
IMAGE_TYPE = "00080008"  # CS, multi-valued
PATIENT_NAME = "00100010"


# C.2.2.2.1 single value matching: case-sensitive except PN; any value of a multi-valued
# attribute; an absent or empty value never matches
@pytest.mark.parametrize(("key", "stored", "expected"), [
    ("Head", text(DESCRIPTION, "LO", "Head"), True),
    ("Head", text(DESCRIPTION, "LO", "head"), False),
    ("Head", text(DESCRIPTION, "LO", "Head CT"), False),
    ("Head", text(DESCRIPTION, "LO"), False),
    ("Head", {}, False),
    ("Head\\Neck", text(DESCRIPTION, "LO", "Neck"), True),
])
def test_single_value(key: str, stored: dict, expected: bool) -> None:
    assert matches("StudyDescription", key, stored) is expected


def test_single_value_matches_any_value_of_a_multi_valued_attribute() -> None:
    stored = text(IMAGE_TYPE, "CS", "ORIGINAL", "PRIMARY", "AXIAL")
    assert matches("ImageType", "AXIAL", stored)
    assert not matches("ImageType", "LOCALIZER", stored)


# C.2.2.2.3 universal matching: every entity matches, even without the attribute
@pytest.mark.parametrize("stored", [{}, text(DESCRIPTION, "LO"), text(DESCRIPTION, "LO", "x")])
def test_universal(stored: dict) -> None:
    assert matches("StudyDescription", "", stored)
    assert matches("StudyDescription", "*", stored)


# C.2.2.2.4 wildcard matching: '*' any run (also none), '?' one character
@pytest.mark.parametrize(("key", "value", "expected"), [
    ("Head*", "Head CT", True),
    ("Head*", "Head", True),
    ("*CT", "Head CT", True),
    ("H?ad", "Head", True),
    ("H?ad", "Hd", False),
    ("H*d C?", "Head CT", True),
    ("head*", "Head CT", False),  # case-sensitive outside PN
    ("50%*", "50% off", True),  # SQL LIKE characters are plain text
    ("50%*", "500 off", False),
    ("a_b*", "axb", False),
    ("[x]*", "[x] y", True),
])
def test_wildcard(key: str, value: str, expected: bool) -> None:
    assert matches("StudyDescription", key, text(DESCRIPTION, "LO", value)) is expected


# C.2.2.2.2 UID list matching
@pytest.mark.parametrize(("key", "expected"), [
    ("1.2.3", True), ("1.2.4,1.2.3", True), ("1.2.4\\1.2.5", False), ("1.2", False),
])
def test_uid_list(key: str, expected: bool) -> None:
    assert matches("StudyInstanceUID", key, text("0020000D", "UI", "1.2.3")) is expected


# C.2.2.2.5 range matching, including open ranges and partial times
@pytest.mark.parametrize(("name", "key", "stored", "expected"), [
    ("StudyDate", "20220101-20221231", "20220615", True),
    ("StudyDate", "20220101-20221231", "20221231", True),
    ("StudyDate", "20220101-20221231", "20230101", False),
    ("StudyDate", "20220101-20221231", "20211231", False),
    ("StudyDate", "-20220928", "19991231", True),
    ("StudyDate", "-20220928", "20220929", False),
    ("StudyDate", "20220928-", "20220928", True),
    ("StudyDate", "20220928-", "20220927", False),
    ("StudyTime", "0800-1200", "080000", True),
    ("StudyTime", "0800-1200", "120059.999", True),  # 12:00 includes its minute
    ("StudyTime", "0800-1200", "120100", False),
    ("StudyTime", "0800-1200", "0759", False),
    ("StudyTime", "22", "2259", True),  # a single partial time names a range
    ("StudyTime", "22", "23", False),
    ("StudyTime", "2130-", "21", False),  # 21:00 is before 21:30
    ("StudyTime", "2100-", "21", True),
    ("AcquisitionDateTime", "20220101-20220101", "20220101235959.5", True),
    ("AcquisitionDateTime", "20220101-20220101", "20220102", False),
])
def test_range(name: str, key: str, stored: str, expected: bool) -> None:
    tag = {"StudyDate": "00080020", "StudyTime": "00080030",
           "AcquisitionDateTime": "0008002A"}[name]
    vr = {"StudyDate": "DA", "StudyTime": "TM", "AcquisitionDateTime": "DT"}[name]
    assert matches(name, key, text(tag, vr, stored)) is expected


# C.2.2.2.5.1 combined date-time matching (QIDO-RS always combines a DA/TM pair)
@pytest.mark.parametrize(("date", "time", "stored", "expected"), [
    ("20220101-20220103", "1000-1200", ("20220102", "0300"), True),  # not 10-12 each day
    ("20220101-20220103", "1000-1200", ("20220101", "0900"), False),
    ("20220101-20220103", "1000-1200", ("20220101", "1000"), True),
    ("20220101-20220103", "1000-1200", ("20220103", "1200"), True),
    ("20220101-20220103", "1000-1200", ("20220103", "1230"), False),
    ("20220928", "1000-1200", ("20220928", "113000"), True),
    ("20220928", "1000-1200", ("20220927", "113000"), False),
    ("-20220103", "1200", ("20200101", "2359"), True),
])
def test_combined_date_time(date: str, time: str, stored: tuple, expected: bool) -> None:
    params = [("StudyDate", date), ("StudyTime", time)]
    [condition] = parse_search(Level.STUDY, params).conditions
    dataset = {**text("00080020", "DA", stored[0]), **text("00080030", "TM", stored[1])}
    assert condition_matches(condition, dataset) is expected


# PN: case-insensitive, on the whole name with its components
@pytest.mark.parametrize(("key", "stored", "expected"), [
    ("Doe^John", "DOE^JOHN", True),
    ("doe^john", "Doe^John^^^", True),
    ("Doe^John", "Doe^Johnny", False),
    ("Zeta^*", "Zeta^Zachary", True),
    ("zeta^z*", "Zeta^Zachary", True),
    ("*^Zachary", "Zeta^Zachary", True),
    ("Zeta", "Zeta^Zachary", False),
    ("Zet*", "Zeta^Zachary=ゼータ^ザカリー", True),
])
def test_person_name(key: str, stored: str, expected: bool) -> None:
    assert matches("PatientName", key, name(PATIENT_NAME, stored)) is expected


# fuzzymatching=true: each key word starts some name component, in any order
@pytest.mark.parametrize(("key", "stored", "expected"), [
    ("jo", "Doe^John", True),
    ("do jo", "Doe^John", True),
    ("John Doe", "Doe^John", True),
    ("Doe^Jo", "Doe^John", True),
    ("oh", "Doe^John", False),
    ("Doe^Jane", "Doe^John", False),
    ("van", "van der Berg^Anna", True),
])
def test_fuzzy_person_name(key: str, stored: str, expected: bool) -> None:
    assert matches("PatientName", key, name(PATIENT_NAME, stored), fuzzy=True) is expected


@pytest.mark.parametrize(("stored", "normal"), [
    ("Doe^John^^^", "DOE^JOHN"), (" doe ^ john ", "DOE^JOHN"), ("Doe=ドウ", "DOE"),
    ("", None), ("^^", None),
])
def test_normalized_name(stored: str, normal: str | None) -> None:
    assert normalized_name(stored) == normal


def test_fuzzy_with_no_words_matches_everything() -> None:
    assert fuzzy_name_matches("^", "DOE^JOHN")


# Sequence matching (C.2.2.2.6): an item must match the key inside the sequence
@pytest.mark.parametrize(("key", "expected"), [("RP-2", True), ("RP-9", False), ("RP*", True)])
def test_sequence_matching(key: str, expected: bool) -> None:
    dataset = {"00400275": {"vr": "SQ", "Value": [
        text("00401001", "SH", "RP-1"), text("00401001", "SH", "RP-2")]}}
    assert matches("RequestAttributesSequence.RequestedProcedureID", key, dataset,
                   level=Level.SERIES) is expected


def test_sequence_matching_without_the_sequence_fails() -> None:
    assert not matches("RequestAttributesSequence.RequestedProcedureID", "RP-1", {},
                       level=Level.SERIES)


@pytest.mark.parametrize(("key", "stored", "expected"), [
    ("3", 3, True), ("03", "3", True), ("3", 4, False), ("2.5", "2.50", True),
])
def test_numbers_compare_by_value(key: str, stored, expected: bool) -> None:
    vr = "DS" if "." in key else "IS"
    tag = "00181050" if vr == "DS" else "00200011"
    keyword = "SpatialResolution" if vr == "DS" else "SeriesNumber"
    assert matches(keyword, key, text(tag, vr, stored)) is expected
