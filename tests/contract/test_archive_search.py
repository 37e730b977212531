"""QIDO-RS searches of the archive, run against SQLite and PostgreSQL alike."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from helpers.dicom_files import ct_instance, part10_bytes, spool
from helpers.postgres import postgres_schema_url
from pydicom.dataset import Dataset
from sqlalchemy import select

from hounsfield.archive.archive import Archive
from hounsfield.archive.index.schema import query_attribute, study_modality
from hounsfield.config import load_settings
from hounsfield.dicom.levels import Level
from hounsfield.dicom.query import parse_search

BASE = "http://example.org/aets/HOUNSFIELD/rs"
A, B, C, D = "1.2.826.0.1.1", "1.2.826.0.1.2", "1.2.826.0.1.3", "1.2.826.0.1.4"


def store(archive: Archive, ds: Dataset) -> None:
    outcome = archive.store_file(spool(part10_bytes(ds), archive.blobs.spool_dir))
    assert outcome.stored, outcome.message


def instance(study: str, series_number: int, number: int, *, patient: tuple[str, str],
             modality: str = "CT", **attributes) -> Dataset:
    ds = ct_instance(study, f"{study}.{series_number}", f"{study}.{series_number}.{number}",
                     seed=number, patient_id=patient[1], modality=modality)
    ds.PatientName = patient[0]
    ds.SeriesNumber = series_number
    ds.InstanceNumber = number
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    return ds


def request_attributes(procedure_id: str) -> list[Dataset]:
    item = Dataset()
    item.RequestedProcedureID = procedure_id
    item.ScheduledProcedureStepID = "SPS-" + procedure_id
    return [item]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Archive]:
    """One corpus per backend for the read-only tests of this module."""
    data = tmp_path_factory.mktemp("search") / "data"
    urls = iter([""]) if request.param == "sqlite" else postgres_schema_url()
    for url in urls:
        settings = load_settings(overrides={"data_dir": data, "database_url": url},
                                 environ={})
        archive = Archive.open(settings)
        fill(archive)
        yield archive
        archive.close()


@pytest.fixture
def corpus(archive: Archive) -> Archive:
    """A corpus of one's own, for tests that change the archive."""
    fill(archive)
    return archive


def fill(archive: Archive) -> None:
    doe_john, doe_jane = ("Doe^John", "P1"), ("doe^jane", "P2")
    zeta, berg = ("Zeta^Zachary", "P3"), ("van der Berg^Anna", "P4")
    a = dict(patient=doe_john, StudyDate="20220928", StudyTime="101500", AccessionNumber="ACC-1",
             StudyDescription="Head CT 50%", ReferringPhysicianName="House^Gregory",
             PatientAge="040Y")
    for number in (2, 1):
        store(archive, instance(A, 1, number, RequestAttributesSequence=request_attributes("RP-1"),
                                **a))
    store(archive, instance(A, 2, 1, modality="PR", **a))
    b = dict(patient=doe_jane, StudyDate="20211231", StudyTime="235900", AccessionNumber="ACC_2",
             InstitutionalDepartmentName="Neuro", PatientAge="033Y")
    for number in (1, 2, 3):
        store(archive, instance(B, 1, number, modality="MR", **b))
    c = dict(patient=zeta, StudyDate="20230101", StudyTime="000100", AccessionNumber="X-3",
             StudyDescription="Chest")
    store(archive, instance(C, 1, 1, **c))
    store(archive, instance(C, 2, 1, modality="MR", **c))
    store(archive, instance(D, 1, 1, patient=berg, StudyDate="19991231"))


def search(archive: Archive, level: Level, params: dict | list = (), *, study=None,
           series=None):
    items = list(params.items()) if isinstance(params, dict) else list(params)
    return archive.search(parse_search(level, items, study=study, series=series), BASE,
                          "HOUNSFIELD")


def values(result, tag: str) -> list:
    return [(ds.get(tag, {}).get("Value") or [None])[0] for ds in result.datasets]


def studies(archive: Archive, params: dict) -> set[str]:
    return set(values(search(archive, Level.STUDY, params), "0020000D"))


@pytest.mark.parametrize(("params", "expected"), [
    ({}, {A, B, C, D}),
    ({"PatientName": "DOE^JOHN"}, {A}),  # PN literal: case-insensitive
    ({"PatientName": "doe*"}, {A, B}),
    ({"PatientName": "Doe^J?hn"}, {A}),
    ({"PatientName": "*zach*"}, {C}),
    ({"PatientID": "P2"}, {B}),
    ({"PatientID": "p2"}, set()),  # other VRs: case-sensitive
    ({"00100020": "P3"}, {C}),
    ({"ReferringPhysicianName": "house*"}, {A}),
    ({"StudyDescription": "Head CT 50%"}, {A}),
    ({"StudyDescription": "*50%"}, {A}),
    ({"StudyDescription": "*5_%"}, set()),  # '_' is text, not a LIKE wildcard
    ({"AccessionNumber": "ACC_2"}, {B}),
    ({"AccessionNumber": "ACC_*"}, {B}),
    ({"AccessionNumber": "ACC?2"}, {B}),
    ({"AccessionNumber": "acc*"}, set()),
    ({"StudyInstanceUID": f"{A},{C}"}, {A, C}),
    ({"StudyInstanceUID": f"{B}\\1.2.3"}, {B}),
    ({"StudyDate": "20220101-"}, {A, C}),
    ({"StudyDate": "-20220101"}, {B, D}),
    ({"StudyDate": "20220101-20221231"}, {A}),
    ({"StudyDate": "20220928"}, {A}),
    ({"StudyDate": "20211231-20220928", "StudyTime": "2300-1000"}, {B}),  # combined
    ({"StudyDate": "20211231-20220928", "StudyTime": "2300-1100"}, {A, B}),
    ({"StudyTime": "23-"}, {B}),
    ({"ModalitiesInStudy": "MR"}, {B, C}),
    ({"ModalitiesInStudy": "CT,PR"}, {A, C, D}),
    ({"ModalitiesInStudy": "M*"}, {B, C}),
    ({"ModalitiesInStudy": "PR", "PatientName": "doe*"}, {A}),
    ({"NumberOfStudyRelatedSeries": "2"}, {A, C}),
    ({"PatientAge": "033Y"}, {B}),  # not indexed: matched against the stored metadata
    ({"PatientAge": "0*"}, {A, B}),
    ({"StudyID": ""}, {A, B, C, D}),
])
def test_study_matching(shared: Archive, params: dict, expected: set) -> None:
    assert studies(shared, params) == expected


@pytest.mark.parametrize(("key", "expected"), [
    ("jo", {A}), ("ja do", {B}), ("doe", {A, B}), ("ann", {D}), ("berg anna", {D}),
    ("zz", set()),
])
def test_fuzzy_person_name_matching(shared: Archive, key: str, expected: set) -> None:
    assert studies(shared, {"PatientName": key, "fuzzymatching": "true"}) == expected


def test_studies_are_newest_first_with_default_attributes(shared: Archive) -> None:
    result = search(shared, Level.STUDY)
    assert values(result, "0020000D") == [D, C, B, A]
    first = result.datasets[-1]
    assert first["00080061"] == {"vr": "CS", "Value": ["CT", "PR"]}
    assert first["00201206"] == {"vr": "IS", "Value": ["2"]}
    assert first["00201208"] == {"vr": "IS", "Value": ["3"]}
    assert first["00100010"] == {"vr": "PN", "Value": [{"Alphabetic": "Doe^John"}]}
    assert first["00080090"] == {"vr": "PN", "Value": [{"Alphabetic": "House^Gregory"}]}
    assert first["00081190"] == {"vr": "UR", "Value": [f"{BASE}/studies/{A}"]}
    assert first["00080054"] == {"vr": "AE", "Value": ["HOUNSFIELD"]}
    assert first["00080056"] == {"vr": "CS", "Value": ["ONLINE"]}
    assert list(first) == sorted(first)
    assert "00081030" not in first  # Study Description is not a default


def test_study_series_are_in_series_number_order(shared: Archive) -> None:
    result = search(shared, Level.SERIES, study=A)
    assert values(result, "0020000E") == [f"{A}.1", f"{A}.2"]
    assert values(result, "00080060") == ["CT", "PR"]
    assert values(result, "00201209") == ["2", "1"]
    assert values(result, "00081190") == [f"{BASE}/studies/{A}/series/{A}.1",
                                          f"{BASE}/studies/{A}/series/{A}.2"]
    assert "00100010" not in result.datasets[0]  # study attributes: only for All Series


def test_all_series_carry_study_attributes(shared: Archive) -> None:
    result = search(shared, Level.SERIES, {"Modality": "MR"})
    assert set(values(result, "0020000E")) == {f"{B}.1", f"{C}.2"}
    assert set(values(result, "00100020")) == {"P2", "P3"}


def test_series_instances_in_instance_number_order(shared: Archive) -> None:
    result = search(shared, Level.INSTANCE, study=A, series=f"{A}.1")
    assert values(result, "00080018") == [f"{A}.1.1", f"{A}.1.2"]
    assert values(result, "00200013") == ["1", "2"]
    assert values(result, "00280010") == [16, 16]
    assert values(result, "00280100") == [16, 16]
    assert values(result, "00081190")[0] == f"{BASE}/studies/{A}/series/{A}.1/instances/{A}.1.1"


def test_study_instances_carry_series_attributes(shared: Archive) -> None:
    result = search(shared, Level.INSTANCE, study=A)
    assert values(result, "00080018") == [f"{A}.1.1", f"{A}.1.2", f"{A}.2.1"]
    assert values(result, "00080060") == ["CT", "CT", "PR"]


@pytest.mark.parametrize(("level", "params", "expected"), [
    (Level.SERIES, {"SeriesNumber": "2"}, {f"{A}.2", f"{C}.2"}),
    (Level.SERIES, {"InstitutionalDepartmentName": "Neuro"}, {f"{B}.1"}),
    (Level.SERIES, {"InstitutionalDepartmentName": "neuro"}, set()),
    (Level.SERIES, {"RequestAttributesSequence.RequestedProcedureID": "RP-1"}, {f"{A}.1"}),
    (Level.SERIES, {"00400275.00400009": "SPS-RP*"}, {f"{A}.1"}),
    (Level.SERIES, {"PatientName": "doe^jane", "Modality": "MR"}, {f"{B}.1"}),
    (Level.INSTANCE, {"InstanceNumber": "3"}, {f"{B}.1.3"}),
    (Level.INSTANCE, {"SOPInstanceUID": f"{C}.2.1,{D}.1.1"}, {f"{C}.2.1", f"{D}.1.1"}),
    (Level.INSTANCE, {"Rows": "16", "Modality": "PR"}, {f"{A}.2.1"}),
])
def test_series_and_instance_matching(shared: Archive, level: Level, params: dict,
                                      expected: set) -> None:
    tag = "0020000E" if level is Level.SERIES else "00080018"
    assert set(values(search(shared, level, params), tag)) == expected


def test_includefield_returns_indexed_and_stored_attributes(shared: Archive) -> None:
    result = search(shared, Level.STUDY, [("StudyInstanceUID", A),
                                          ("includefield", "StudyDescription,00101010"),
                                          ("includefield", "IssuerOfPatientID")])
    [ds] = result.datasets
    assert ds["00081030"] == {"vr": "LO", "Value": ["Head CT 50%"]}
    assert ds["00101010"] == {"vr": "AS", "Value": ["040Y"]}
    assert ds["00100021"] == {"vr": "LO"}  # asked for, not present: empty


def test_includefield_all_gives_the_level_attributes(shared: Archive) -> None:
    [ds] = search(shared, Level.STUDY, [("StudyInstanceUID", A),
                                        ("includefield", "all")]).datasets
    assert ds["00101010"] == {"vr": "AS", "Value": ["040Y"]}
    assert ds["00081030"]["Value"] == ["Head CT 50%"]
    assert "00080060" not in ds and "7FE00010" not in ds and "00280010" not in ds
    [series] = search(shared, Level.SERIES, [("includefield", "all"), ("SeriesNumber", "1")],
                      study=A).datasets
    assert series["00400275"]["Value"][0]["00401001"]["Value"] == ["RP-1"]


def test_paging_visits_every_match_once(shared: Archive) -> None:
    seen, offset = [], 0
    while True:
        result = search(shared, Level.INSTANCE, {"limit": "3", "offset": str(offset)})
        page = values(result, "00080018")
        if not page:
            break
        seen += page
        offset += 3
        assert result.remaining == max(0, 9 - offset)
    assert len(seen) == 9 and len(set(seen)) == 9


def test_paging_with_metadata_matching_visits_every_match_once(shared: Archive) -> None:
    seen = []
    for offset in range(0, 12, 2):
        result = search(shared, Level.INSTANCE, {"PatientAge": "0*", "limit": "2",
                                                 "offset": str(offset)})
        seen += values(result, "00080018")
        assert result.remaining == max(0, 6 - offset - 2)
    assert len(seen) == 6 == len(set(seen))


def test_limit_above_the_maximum_is_cut_to_it(shared: Archive) -> None:
    capped = Archive(dataclasses.replace(shared.settings, qido_max_limit=3), shared.engine,
                     shared.blobs)
    result = search(capped, Level.INSTANCE, {"limit": "100"})
    assert len(result.datasets) == 3 and result.remaining == 6
    assert len(search(capped, Level.INSTANCE).datasets) == 3


def test_no_match_is_an_empty_result(shared: Archive) -> None:
    result = search(shared, Level.STUDY, {"PatientID": "nobody"})
    assert result.datasets == [] and result.remaining == 0


def test_extra_query_attributes_are_indexed_at_store_and_by_reindex(corpus: Archive) -> None:
    settings = dataclasses.replace(corpus.settings,
                                   extra_query_attributes=("InstitutionalDepartmentName",
                                                           "PatientAge", "OperatorsName"))
    extended = Archive(settings, corpus.engine, corpus.blobs)
    assert extended.reindex() == 9
    store(extended, instance("1.2.826.0.1.5", 1, 1, patient=("New^Patient", "P5"),
                             PatientAge="033Y", OperatorsName="Smith^Ann"))
    with corpus.engine.connect() as conn:
        rows = conn.execute(select(query_attribute.c.tag, query_attribute.c.value)).all()
    assert sorted(set(rows)) == [("00081040", "Neuro"), ("00081070", "SMITH^ANN"),
                                 ("00101010", "033Y"), ("00101010", "040Y")]
    assert studies(extended, {"PatientAge": "033Y"}) == {B, "1.2.826.0.1.5"}
    assert studies(extended, {"PatientAge": "04*"}) == {A}
    found = search(extended, Level.SERIES, {"OperatorsName": "smith*"})
    assert values(found, "0020000E") == ["1.2.826.0.1.5.1"]
    found = search(extended, Level.SERIES, {"InstitutionalDepartmentName": "Neuro"})
    assert values(found, "0020000E") == [f"{B}.1"]


def test_reindex_fills_columns_from_metadata(corpus: Archive) -> None:
    from hounsfield.archive.index.schema import study

    with corpus.engine.begin() as conn:
        conn.execute(study.update().values(patient_name_norm=None))
    assert studies(corpus, {"PatientName": "zeta*"}) == set()
    corpus.reindex()
    assert studies(corpus, {"PatientName": "zeta*"}) == {C}


def test_study_modalities_follow_replaced_instances(archive: Archive) -> None:
    replacing = Archive(dataclasses.replace(archive.settings, duplicate_policy="replace"),
                        archive.engine, archive.blobs)
    store(replacing, instance(A, 1, 1, patient=("X^Y", "P9"), modality="MR"))
    assert studies(replacing, {"ModalitiesInStudy": "MR"}) == {A}
    moved = instance(B, 1, 1, patient=("X^Y", "P9"), modality="US")
    moved.SOPInstanceUID = f"{A}.1.1"
    store(replacing, moved)
    assert studies(replacing, {"ModalitiesInStudy": "MR"}) == set()
    assert studies(replacing, {"ModalitiesInStudy": "US"}) == {B}
    with archive.engine.connect() as conn:
        assert conn.execute(select(study_modality.c.modality)).scalars().all() == ["US"]


@pytest.mark.parametrize("params", [
    {"SeriesNumber": "99999999999999999999"}, {"NumberOfStudyRelatedSeries": "-1"},
    {"PatientName": "\ufffd*"}, {"PatientID": "x" * 1024},
    {"AccessionNumber": "%_[]*?"}, {"StudyDate": "19000101-29991231"},
    {"AcquisitionDateTime": "2022+0100-"}, {"00091010": "x"}, {"00090010": "ACME"},
    {"PatientName": "^^^", "fuzzymatching": "true"}, {"ModalitiesInStudy": "C?"},
    {"SOPClassesInStudy": "1.2.3"}, {"limit": "0"}, {"offset": "999999999"},
])
def test_odd_but_valid_keys_never_fail(shared: Archive, params: dict) -> None:
    for level in Level:
        result = search(shared, level, params)
        assert isinstance(result.datasets, list)
