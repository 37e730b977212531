"""The DICOMDIR made from JSON metadata (PS3.3 Annex F, PS3.10 §8.6): pydicom's FileSet
follows its offsets to the same tree, record types follow the SOP Class, keys come from
the metadata, and dciodvfy finds nothing to say."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pydicom
import pytest
from helpers.dicom_files import ct_instance
from pydicom.dataset import Dataset
from pydicom.fileset import FileSet
from pydicom.uid import BasicTextSRStorage

from hounsfield.dicom.dicomdir import DirectoryEntry, dicomdir
from hounsfield.dicom.file_set import file_ids

EXPLICIT = "1.2.840.10008.1.2.1"


def _entries(datasets: list[Dataset]) -> list[DirectoryEntry]:
    ids = file_ids((d.StudyInstanceUID, d.SeriesInstanceUID, d.SOPInstanceUID)
                   for d in datasets)
    return [DirectoryEntry(i, d.SOPClassUID, d.SOPInstanceUID, EXPLICIT,
                           d.to_json_dict(bulk_data_threshold=64,
                                          bulk_data_element_handler=lambda _: "bulk"))
            for i, d in zip(ids, datasets, strict=True)]


def _image(study: str, series: str, sop: str, patient: str = "PAT-1") -> Dataset:
    ds = ct_instance(study, series, sop, patient_id=patient)
    ds.StudyTime, ds.StudyID = "120000", "S1"
    return ds


def _report(study: str, series: str, sop: str) -> Dataset:
    ds = _image(study, series, sop)
    ds.SOPClassUID = BasicTextSRStorage
    ds.Modality = "SR"
    ds.ContentDate, ds.ContentTime = "20260101", "120000"
    ds.CompletionFlag, ds.VerificationFlag = "COMPLETE", "UNVERIFIED"
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = "11528-7", "LN", "Report"
    ds.ConceptNameCodeSequence = [code]
    del ds.PixelData
    return ds


@pytest.fixture
def study_set() -> list[Dataset]:
    return [_image("2.25.1", "2.25.1.1", "2.25.1.1.1"), _image("2.25.1", "2.25.1.1", "2.25.1.1.2"),
            _report("2.25.1", "2.25.1.2", "2.25.1.2.1"),
            _image("2.25.2", "2.25.2.1", "2.25.2.1.1", patient="PAT-2")]


def test_fileset_follows_the_offsets_to_the_same_tree(study_set: list[Dataset],
                                                      tmp_path: Path) -> None:
    path = tmp_path / "DICOMDIR"
    entries = _entries(study_set)
    path.write_bytes(dicomdir(entries, "2.25.77"))
    for entry in entries:  # FileSet lists the instances whose files exist
        tmp_path.joinpath(*entry.file_id).parent.mkdir(parents=True, exist_ok=True)
        tmp_path.joinpath(*entry.file_id).touch()
    file_set = FileSet(path)
    assert file_set.UID == "2.25.77"
    patients = file_set._tree.children
    assert [p._record.PatientID for p in patients] == ["PAT-1", "PAT-2"]
    [study] = patients[0].children
    assert [s._record.SeriesInstanceUID for s in study.children] == ["2.25.1.1", "2.25.1.2"]
    records = [[i._record.DirectoryRecordType for i in s.children] for s in study.children]
    assert records == [["IMAGE", "IMAGE"], ["SR DOCUMENT"]]
    report = study.children[1].children[0]._record
    assert report.CompletionFlag == "COMPLETE"
    assert report.ConceptNameCodeSequence[0].CodeMeaning == "Report"
    [image] = [i for i in file_set if i.SOPInstanceUID == "2.25.1.1.2"]
    assert image.ReferencedFileID == list(file_ids([("2.25.1", "2.25.1.1", "2.25.1.1.2")])[0])
    assert image.ReferencedTransferSyntaxUIDInFile == EXPLICIT
    assert image.InstanceNumber == 1


def test_missing_type_1_keys_are_written_empty(tmp_path: Path) -> None:
    ds = ct_instance("2.25.5", "2.25.5.1", "2.25.5.1.1")  # no Study Time, no Study ID
    del ds.InstanceNumber
    data = dicomdir(_entries([ds]), "2.25.78")
    records = pydicom.dcmread(io.BytesIO(data)).DirectoryRecordSequence
    assert [r.DirectoryRecordType for r in records] == ["PATIENT", "STUDY", "SERIES", "IMAGE"]
    assert records[1].StudyTime == "" and records[1].StudyID == ""
    assert records[1].StudyDate == "20260101"
    assert records[3].InstanceNumber is None


def test_character_set_goes_with_the_records() -> None:
    ds = _image("2.25.6", "2.25.6.1", "2.25.6.1.1")
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = "Müller^Jürgen"
    records = pydicom.dcmread(io.BytesIO(dicomdir(_entries([ds]), "2.25.79"))) \
        .DirectoryRecordSequence
    assert records[0].SpecificCharacterSet == "ISO_IR 192"
    assert records[0].PatientName == "Müller^Jürgen"


def test_metadata_pydicom_cannot_read_gives_empty_keys() -> None:
    entry = DirectoryEntry(("DICOM", "A", "B", "C"), "1.2.840.10008.5.1.4.1.1.2", "2.25.9",
                           EXPLICIT, {"00100020": {"vr": "XX", "Value": [1]}})
    records = pydicom.dcmread(io.BytesIO(dicomdir([entry], "2.25.80"))).DirectoryRecordSequence
    assert records[0].PatientID == "" and records[3].ReferencedSOPInstanceUIDInFile == "2.25.9"


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dicom3tools not installed")
def test_dciodvfy_finds_nothing(study_set: list[Dataset], tmp_path: Path) -> None:
    path = tmp_path / "DICOMDIR"
    path.write_bytes(dicomdir(_entries(study_set), "2.25.81"))
    result = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True,
                            check=False)
    output = (result.stdout + result.stderr).strip()
    assert "Error -" not in output and "Warning -" not in output, output
