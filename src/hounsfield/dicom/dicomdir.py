"""The DICOMDIR of a File-set (PS3.10 §8.6; Basic Directory IOD, PS3.3 Annex F), made
from the instances' JSON metadata, without reading their files.

One PATIENT record per Patient ID (and Patient's Name), under it one STUDY per Study
Instance UID, one SERIES per Series Instance UID, and one record per instance, whose
type follows the SOP Class (IMAGE, SR DOCUMENT, PRESENTATION, ...; pydicom's table of
PS3.3 F.4) and whose keys are those of PS3.3 F.5 for that type. Keys are copied from
the instances; a Type 1 key an instance lacks is written empty, one that only some
record types have is left out. Records are written depth first, each with the byte
offsets (from the first byte of the file) of its next sibling and of its first child.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pydicom
from pydicom import fileset
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.uid import ExplicitVRLittleEndian, MediaStorageDirectoryStorage

from hounsfield.dicom.instance_builder import (
    IMPLEMENTATION_CLASS_UID,
    IMPLEMENTATION_VERSION_NAME,
)

IN_USE = 0xFFFF  # Record In-use Flag (PS3.3 Table F.3-3)
_PATIENT_KEYS = ("PatientName", "PatientID")
_STUDY_KEYS = ("StudyDate", "StudyTime", "StudyDescription", "StudyInstanceUID", "StudyID",
               "AccessionNumber")
_SERIES_KEYS = ("Modality", "SeriesInstanceUID", "SeriesNumber")


@dataclass(frozen=True)
class DirectoryEntry:
    """One instance of the File-set: where it is and what it is."""

    file_id: tuple[str, ...]
    sop_class: str
    sop_instance: str
    transfer_syntax: str  # of the file in the File-set
    metadata: dict[str, Any]  # its DICOM JSON model


@dataclass
class _Node:
    record: Dataset
    children: dict[Any, _Node] = field(default_factory=dict)
    offset: int = 0


def dicomdir(entries: Iterable[DirectoryEntry], file_set_uid: str) -> bytes:
    """The DICOMDIR file (Part 10, Explicit VR Little Endian) of `entries`."""
    root = _Node(Dataset())
    for entry in entries:
        _add(root, entry)
    records = list(_depth_first(root))
    directory = _directory(file_set_uid)
    offset = len(_file_bytes(directory))  # the first item follows the empty sequence
    for node in records:
        node.offset = offset
        offset += 8 + _encoded_length(node.record)
    _link(root)
    directory.DirectoryRecordSequence = [node.record for node in records]
    if root.children:
        tops = list(root.children.values())
        directory.OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity = tops[0].offset
        directory.OffsetOfTheLastDirectoryRecordOfTheRootDirectoryEntity = tops[-1].offset
    return _file_bytes(directory)


def _add(root: _Node, entry: DirectoryEntry) -> None:
    ds = _dataset(entry.metadata)
    patient = _child(root, (ds.get("PatientID"), str(ds.get("PatientName", ""))),
                     lambda: _record("PATIENT", ds, _PATIENT_KEYS))
    study = _child(patient, ds.get("StudyInstanceUID"),
                   lambda: _record("STUDY", ds, _STUDY_KEYS))
    series = _child(study, ds.get("SeriesInstanceUID"),
                    lambda: _record("SERIES", ds, _SERIES_KEYS))
    series.children[entry.sop_instance] = _Node(_instance_record(ds, entry))


def _child(parent: _Node, key: Any, make: Any) -> _Node:
    if key not in parent.children:
        parent.children[key] = _Node(make())
    return parent.children[key]


def _dataset(model: dict[str, Any]) -> Dataset:
    try:
        return Dataset.from_json(model, bulk_data_uri_handler=lambda *_: b"")
    except Exception:  # noqa: BLE001 - metadata pydicom cannot read: keys stay empty
        return Dataset()


def _record(kind: str, ds: Dataset, keys: tuple[str, ...]) -> Dataset:
    record = _common(kind, ds)
    for keyword in keys:
        setattr(record, keyword, ds[keyword].value if keyword in ds else None)
    return _encodable(record)


def _instance_record(ds: Dataset, entry: DirectoryEntry) -> Dataset:
    ds.SOPClassUID = entry.sop_class
    kind = _record_type(ds)
    try:
        keys = fileset.DIRECTORY_RECORDERS[kind](ds)
    except (ValueError, KeyError, AttributeError, TypeError):  # a key the instance lacks
        keys = Dataset()
        if kind == "IMAGE" or "InstanceNumber" in ds:
            keys.InstanceNumber = ds.get("InstanceNumber")
    record = _common(kind, ds)
    record.update(keys)
    record.ReferencedFileID = list(entry.file_id)
    record.ReferencedSOPClassUIDInFile = entry.sop_class
    record.ReferencedSOPInstanceUIDInFile = entry.sop_instance
    record.ReferencedTransferSyntaxUIDInFile = entry.transfer_syntax
    return _encodable(record)


def _encodable(record: Dataset) -> Dataset:
    """The record, each key pydicom cannot encode (a value the metadata got wrong)
    made empty."""
    for element in record:
        probe = Dataset()  # a copy: encoding caches the bytes of a Person Name
        probe.SpecificCharacterSet = record.get("SpecificCharacterSet")
        probe.add(copy.deepcopy(element))
        try:
            _encoded_length(probe)
        except Exception:  # noqa: BLE001 - whatever pydicom raises for that value
            element.value = None
    return record


def _record_type(ds: Dataset) -> str:
    """The record type of an instance (PS3.3 Table F.4-1), by pydicom's table."""
    try:
        return fileset._four_level_record_type(ds)
    except (KeyError, AttributeError, TypeError):
        return "IMAGE"


def _common(kind: str, ds: Dataset) -> Dataset:
    record = Dataset()
    if ds.get("SpecificCharacterSet"):
        record.SpecificCharacterSet = ds.SpecificCharacterSet
    record.OffsetOfTheNextDirectoryRecord = 0
    record.RecordInUseFlag = IN_USE
    record.OffsetOfReferencedLowerLevelDirectoryEntity = 0
    record.DirectoryRecordType = kind
    return record


def _depth_first(node: _Node) -> Iterable[_Node]:
    for child in node.children.values():
        yield child
        yield from _depth_first(child)


def _link(node: _Node) -> None:
    children = list(node.children.values())
    for child, following in zip(children, [*children[1:], None]):  # noqa: B905
        child.record.OffsetOfTheNextDirectoryRecord = following.offset if following else 0
        grandchildren = list(child.children.values())
        child.record.OffsetOfReferencedLowerLevelDirectoryEntity = (
            grandchildren[0].offset if grandchildren else 0)
        _link(child)


def _directory(file_set_uid: str) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MediaStorageDirectoryStorage
    meta.MediaStorageSOPInstanceUID = file_set_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    directory = Dataset()
    directory.file_meta = meta
    directory.FileSetID = ""
    directory.OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity = 0
    directory.OffsetOfTheLastDirectoryRecordOfTheRootDirectoryEntity = 0
    directory.FileSetConsistencyFlag = 0
    directory.DirectoryRecordSequence = []
    return directory


def _file_bytes(directory: Dataset) -> bytes:
    out = io.BytesIO()
    pydicom.dcmwrite(out, directory, enforce_file_format=True)
    return out.getvalue()


def _encoded_length(record: Dataset) -> int:
    """The length of a record's encoding as a sequence item's value."""
    out = DicomBytesIO()
    out.is_little_endian, out.is_implicit_VR = True, False
    write_dataset(out, record)
    return len(out.getvalue())
