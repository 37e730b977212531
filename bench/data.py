"""Deterministic benchmark data: one CT study, one series, 512x512 16-bit slices.

Instances are generated once with pydicom into a cache folder (``bench/work/``) and
read back as Part 10 bytes. Every UID in them shares one fixed-width *run* segment,
so a run of the benchmark can give the same pixels brand-new UIDs by rewriting that
segment in the header bytes: same length, so no element length changes.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

GENERATOR_VERSION = 1
ROWS = COLUMNS = 512
SLICE_THICKNESS_MM = 1.0
PIXEL_SPACING_MM = 0.683594

# 2.25 root (PS3.5 §B.2) from a fixed UUID, so UIDs never change between machines.
UID_ROOT = "2.25." + str(uuid.uuid5(uuid.NAMESPACE_URL, "hounsfield-bench").int)
BASE_RUN = 100000  # six digits with no leading zero: a run segment keeps its width
MAX_RUN = 899999
STUDY, SERIES, INSTANCE, FRAME_OF_REFERENCE = 1, 2, 3, 4

# (7FE0,0010) Pixel Data, Explicit VR Little Endian, VR OW: UIDs all precede it.
PIXEL_DATA_HEADER = b"\xe0\x7f\x10\x00OW"


def uid(run: int, kind: int, index: int = 0) -> str:
    return f"{UID_ROOT}.{BASE_RUN + run}.{kind}.{index}"


@dataclass(frozen=True)
class Instance:
    """One instance as sent: Part 10 bytes and the SOP Instance UID inside them."""

    data: bytes
    sop_instance_uid: str


@dataclass(frozen=True)
class Series:
    """The cached instances of the benchmark series, in base-run UIDs."""

    files: tuple[bytes, ...]

    @property
    def total_bytes(self) -> int:
        return sum(len(data) for data in self.files)

    def for_run(self, run: int, count: int | None = None) -> list[Instance]:
        """The first ``count`` instances with every UID moved to run ``run``."""
        if not 0 < run <= MAX_RUN:
            raise ValueError(f"run {run} outside 1..{MAX_RUN}")
        old, new = _run_prefix(0), _run_prefix(run)
        chosen = self.files[:count]
        return [
            Instance(_rewrite_header(data, old, new), uid(run, INSTANCE, index))
            for index, data in enumerate(chosen)
        ]


def _run_prefix(run: int) -> bytes:
    return f"{UID_ROOT}.{BASE_RUN + run}.".encode("ascii")


def _rewrite_header(data: bytes, old: bytes, new: bytes) -> bytes:
    end = data.index(PIXEL_DATA_HEADER)
    return data[:end].replace(old, new) + data[end:]


def load_series(count: int, cache_dir: Path, seed: int = 1) -> Series:
    """Return ``count`` instances, generating into ``cache_dir`` those not cached yet."""
    folder = cache_dir / f"ct-{ROWS}x{COLUMNS}-seed{seed}-v{GENERATOR_VERSION}"
    folder.mkdir(parents=True, exist_ok=True)
    _write_manifest(folder, seed)
    phantom = Phantom(seed)
    files = []
    for index in range(count):
        path = folder / f"{index:06d}.dcm"
        if not path.exists():
            _save_atomically(ct_slice(index, phantom), path)
        files.append(path.read_bytes())
    return Series(tuple(files))


def _write_manifest(folder: Path, seed: int) -> None:
    manifest = {"generator_version": GENERATOR_VERSION, "seed": seed, "uid_root": UID_ROOT}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def _save_atomically(dataset: Dataset, path: Path) -> None:
    partial = path.with_suffix(".partial")
    dataset.save_as(partial, enforce_file_format=True)
    partial.replace(path)


class Phantom:
    """A chest-like slice in stored values (HU + 1024): air, body, lungs, spine."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.y, self.x = np.mgrid[0:ROWS, 0:COLUMNS].astype(np.float32)

    def _ellipse(self, cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
        return ((self.x - cx) / rx) ** 2 + ((self.y - cy) / ry) ** 2 <= 1.0

    def pixels(self, index: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, index])
        lung = 70 + 25 * np.sin(index / 40.0)
        image = np.full((ROWS, COLUMNS), 24.0, dtype=np.float32)  # air, -1000 HU
        image[self._ellipse(256, 256, 220, 160)] = 1064.0  # soft tissue, 40 HU
        image[self._ellipse(170, 240, lung, lung * 1.4)] = 174.0  # lung, -850 HU
        image[self._ellipse(342, 240, lung, lung * 1.4)] = 174.0
        image[self._ellipse(256, 360, 28, 24)] = 1724.0  # vertebra, 700 HU
        image += rng.normal(0.0, 12.0, image.shape).astype(np.float32)
        return np.clip(image, 0, 4095).astype("<u2")


def ct_slice(index: int, phantom: Phantom) -> Dataset:
    """Instance ``index`` of the series, in base-run UIDs."""
    ds = Dataset()
    ds.file_meta = _file_meta(uid(0, INSTANCE, index))
    _patient_and_study(ds)
    _series_and_equipment(ds)
    _ct_image(ds, index)
    ds.PixelData = phantom.pixels(index).tobytes()
    return ds


def _file_meta(sop_instance_uid: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = sop_instance_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return meta


def _patient_and_study(ds: Dataset) -> None:
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName = "Bench^Patient"
    ds.PatientID = "BENCH-0001"
    ds.PatientBirthDate = "19600101"
    ds.PatientSex = "M"
    ds.PatientAge = "064Y"
    ds.StudyInstanceUID = uid(0, STUDY)
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = "20240305"
    ds.StudyTime = "101500"
    ds.AccessionNumber = "BENCH0001"
    ds.ReferringPhysicianName = "Doe^Referrer"
    ds.StudyDescription = "CT CHEST W/O CONTRAST"
    ds.StudyID = "1"


def _series_and_equipment(ds: Dataset) -> None:
    ds.Modality = "CT"
    ds.SeriesInstanceUID = uid(0, SERIES)
    ds.SeriesNumber = 2
    ds.SeriesTime = ds.AcquisitionTime = ds.ContentTime = "101712"
    ds.SeriesDescription = "AXIAL 1.0 STANDARD"
    ds.BodyPartExamined = "CHEST"
    ds.PatientPosition = "HFS"
    ds.Manufacturer = "Hounsfield Bench"
    ds.ManufacturerModelName = "Synthetic 64"
    ds.InstitutionName = "Bench General Hospital"
    ds.StationName = "CT01"
    ds.SoftwareVersions = "1.0"
    ds.FrameOfReferenceUID = uid(0, FRAME_OF_REFERENCE)
    ds.PositionReferenceIndicator = ""


def _ct_image(ds: Dataset, index: int) -> None:
    z = -100.0 - index * SLICE_THICKNESS_MM
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.AcquisitionNumber = 1
    ds.InstanceNumber = index + 1
    ds.SliceThickness = SLICE_THICKNESS_MM
    ds.KVP = 120
    ds.DataCollectionDiameter = 500
    ds.ReconstructionDiameter = 350
    ds.GantryDetectorTilt = 0
    ds.TableHeight = 160
    ds.RotationDirection = "CW"
    ds.ExposureTime = 500
    ds.XRayTubeCurrent = 250
    ds.Exposure = 125
    ds.ConvolutionKernel = "STANDARD"
    ds.ImagePositionPatient = [-175.0, -175.0, z]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.SliceLocation = z
    _pixel_module(ds)


def _pixel_module(ds: Dataset) -> None:
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = ROWS, COLUMNS
    ds.PixelSpacing = [PIXEL_SPACING_MM, PIXEL_SPACING_MM]
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.WindowCenter = 40
    ds.WindowWidth = 400
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    ds.RescaleType = "HU"
