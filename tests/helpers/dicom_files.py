"""Generated DICOM instances for tests: small, valid, deterministic."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid


def ct_instance(study: str | None = None, series: str | None = None,
                sop: str | None = None, *, rows: int = 16, columns: int = 16,
                frames: int = 1, seed: int = 0, patient_id: str = "PAT-1",
                modality: str = "CT") -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop or generate_uid(None)
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID = study or generate_uid(None)
    ds.SeriesInstanceUID = series or generate_uid(None)
    ds.PatientID = patient_id
    ds.PatientName = "Test^Patient"
    ds.StudyDate = "20260101"
    ds.Modality = modality
    ds.SeriesNumber = 1
    ds.InstanceNumber = seed + 1
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    if frames > 1:
        ds.NumberOfFrames = frames
    pixels = np.random.default_rng(seed).integers(0, 4096, (frames, rows, columns), np.uint16)
    ds.PixelData = pixels.tobytes()
    ds["PixelData"].VR = "OW"
    return ds


def part10_bytes(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def spool(data: bytes, folder: Path, name: str = "in.dcm") -> Path:
    """Write `data` to a new file in `folder` (the archive takes files over)."""
    path = folder / name
    path.write_bytes(data)
    return path


def video_instance(study: str, fragments: int = 3) -> tuple[bytes, bytes]:
    """An MPEG-4 AVC/H.264 instance whose stream is split over `fragments` fragments;
    returns (Part 10 bytes, stream)."""
    stream = b"\x00\x00\x00\x18ftypmp42" + bytes(i % 251 for i in range(6000))
    ds = ct_instance(study, generate_uid(), frames=1)
    del ds.PixelData
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.102"  # MPEG-4 AVC/H.264
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.77.1.4.1"
    ds.NumberOfFrames = 120
    ds.Rows, ds.Columns, ds.BitsAllocated, ds.BitsStored, ds.HighBit = 64, 64, 8, 8, 7
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 3, "YBR_PARTIAL_420"
    ds.PixelData = encapsulate([stream], fragments_per_frame=fragments)
    ds["PixelData"].VR = "OB"
    return part10_bytes(ds), stream


def pdf_instance(study: str) -> tuple[bytes, bytes]:
    """An Encapsulated PDF instance; returns (Part 10 bytes, document)."""
    document = b"%PDF-1.4\n" + b"% hounsfield test document\n" * 100 + b"%%EOF\n"
    ds = without_pixels(ct_instance(study, generate_uid()), "1.2.840.10008.5.1.4.1.1.104.1")
    ds.Modality = "DOC"
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocument = document
    return part10_bytes(ds), document


_IMAGE_PIXEL_KEYWORDS = ("PixelData", "Rows", "Columns", "BitsAllocated", "BitsStored",
                         "HighBit", "PixelRepresentation", "SamplesPerPixel",
                         "PhotometricInterpretation")
BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"


def without_pixels(ds: Dataset, sop_class: str) -> Dataset:
    """`ds` (a generated CT) made into an object of `sop_class` without pixel data."""
    for keyword in _IMAGE_PIXEL_KEYWORDS:
        delattr(ds, keyword)
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = sop_class
    return ds


def coded(meaning: str) -> Dataset:
    """A code item (test scheme 99TEST) with `meaning`."""
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = "1", "99TEST", meaning
    return item


def text_report(study: str, series: str, sop_instance: str, title: str,
                findings: list[str], section: str | None = None) -> Dataset:
    """A Basic Text SR titled `title` with one TEXT "Finding" item per `findings`, inside
    a CONTAINER `section` when given."""
    ds = without_pixels(ct_instance(study, series, sop_instance), BASIC_TEXT_SR)
    ds.Modality, ds.ValueType, ds.ContinuityOfContent = "SR", "CONTAINER", "SEPARATE"
    ds.ConceptNameCodeSequence = [coded(title)]
    ds.CompletionFlag, ds.VerificationFlag = "COMPLETE", "UNVERIFIED"
    items = []
    for text in findings:
        finding = Dataset()
        finding.RelationshipType, finding.ValueType = "CONTAINS", "TEXT"
        finding.ConceptNameCodeSequence = [coded("Finding")]
        finding.TextValue = text
        items.append(finding)
    if section is not None:
        container = Dataset()
        container.RelationshipType, container.ValueType = "CONTAINS", "CONTAINER"
        container.ConceptNameCodeSequence = [coded(section)]
        container.ContinuityOfContent = "SEPARATE"
        container.ContentSequence = items
        items = [container]
    ds.ContentSequence = items
    return ds
