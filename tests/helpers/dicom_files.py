"""Generated DICOM instances for tests: small, valid, deterministic."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
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
