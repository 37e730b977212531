"""Deterministic WADO-RS benchmark data: CT series, a whole-slide image, real files.

- CT series and the large study reuse the cached instances of ``data.py`` under new
  UIDs (same-length rewrite of the run segment, so no element length changes).
- The whole-slide image is one VL Whole Slide Microscopy Image (PS3.3 §A.32.8) of
  2,000 frames: 256x256 RGB tiles of a seeded stain-like pattern, JPEG baseline
  (Pillow, quality 90, 4:2:2, so YBR_FULL_422) in encapsulated Pixel Data with a Basic
  Offset Table (PS3.5 §A.4), TILED_FULL. Generated once into the cache folder.
- The real files are those of the pydicom-data package that are Part 10 files with a
  preamble and valid UIDs, one per SOP Instance UID (the first in name order).
"""

from __future__ import annotations

import importlib.util
import io
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import UID, JPEGBaseline8Bit

from bench import data

WSI_VERSION = 1
WSI_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.77.1.6"  # VL Whole Slide Microscopy Image
TILE = 256
TILE_COLUMNS = 50  # 50 x 40 tiles of 256 px: a 12,800 x 10,240 total pixel matrix
WSI_RUN = 900  # the run segment of the slide's UIDs (data.uid)
ENCAPSULATED_PIXEL_DATA = b"\xe0\x7f\x10\x00OB\x00\x00\xff\xff\xff\xff"
ITEM = b"\xfe\xff\x00\xe0"


@dataclass(frozen=True)
class StoredFile:
    """One file as the servers receive it, and where its UIDs put it."""

    path: Path
    study: str
    series: str
    sop_instance: str
    size: int


@dataclass(frozen=True)
class Slide:
    """The whole-slide image: its file, its tiles as stored, their places in the file."""

    file: StoredFile
    tiles: tuple[bytes, ...]
    spans: tuple[tuple[int, int], ...]  # (offset, length) of each frame's fragment value


# -- CT series and studies from the cached STOW-RS instances -----------------------------


def ct_files(series: data.Series, runs: list[int], study_run: int, folder: Path,
             count: int) -> list[StoredFile]:
    """``count`` instances per run, all in the study of ``study_run``, written to ``folder``
    (one series per run); existing files are kept."""
    folder.mkdir(parents=True, exist_ok=True)
    study = data.uid(study_run, data.STUDY)
    made = []
    for run in runs:
        old_study = data.uid(run, data.STUDY).encode()
        for index, instance in enumerate(series.for_run(run, count)):
            path = folder / f"{run}-{index:05d}.dcm"
            if not path.exists():
                body = _in_study(instance.data, old_study, study.encode())
                path.write_bytes(body)
            made.append(StoredFile(path, study, data.uid(run, data.SERIES),
                                   instance.sop_instance_uid, path.stat().st_size))
    return made


def _in_study(body: bytes, old: bytes, new: bytes) -> bytes:
    end = body.index(data.PIXEL_DATA_HEADER)
    return body[:end].replace(old, new) + body[end:]


# -- the whole-slide image -------------------------------------------------------------


def load_slide(cache_dir: Path, frames: int = 2000, seed: int = 1) -> Slide:
    """The cached slide of ``frames`` tiles, generated on first use."""
    folder = cache_dir / f"wsi-{TILE}-{frames}-seed{seed}-v{WSI_VERSION}"
    path = folder / "slide.dcm"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        slide_dataset(frames, seed).save_as(partial, enforce_file_format=True)
        partial.replace(path)
    body = path.read_bytes()
    spans = fragment_spans(body)
    file = StoredFile(path, data.uid(WSI_RUN, data.STUDY), data.uid(WSI_RUN, data.SERIES),
                      data.uid(WSI_RUN, data.INSTANCE), len(body))
    return Slide(file, tuple(body[o:o + n] for o, n in spans), tuple(spans))


def fragment_spans(body: bytes) -> list[tuple[int, int]]:
    """(offset, length) of every fragment value after the Basic Offset Table item."""
    position = body.rindex(ENCAPSULATED_PIXEL_DATA) + len(ENCAPSULATED_PIXEL_DATA)
    spans = []
    while body[position:position + 4] == ITEM:
        (length,) = struct.unpack_from("<I", body, position + 4)
        spans.append((position + 8, length))
        position += 8 + length
    return spans[1:]  # the first item is the offset table


def tile(index: int, seed: int) -> bytes:
    """Tile ``index`` as JPEG baseline: a stain-like pattern with seeded texture."""
    rng = np.random.default_rng([seed, index])
    y, x = np.mgrid[0:TILE, 0:TILE].astype(np.float32)
    column, row = index % TILE_COLUMNS, index // TILE_COLUMNS
    wave = np.sin((x + column * TILE) / 37.0) * np.cos((y + row * TILE) / 23.0)
    nuclei = (wave > 0.6).astype(np.float32)
    texture = rng.normal(0.0, 6.0, (TILE, TILE)).astype(np.float32)
    red = 230 - 90 * nuclei + texture
    green = 180 - 120 * nuclei + 20 * wave + texture
    blue = 215 - 40 * nuclei + texture
    rgb = np.clip(np.stack([red, green, blue], axis=-1), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(out, "JPEG", quality=90, subsampling=1)
    return out.getvalue()


def slide_dataset(frames: int, seed: int) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = WSI_SOP_CLASS
    ds.file_meta.MediaStorageSOPInstanceUID = data.uid(WSI_RUN, data.INSTANCE)
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    _slide_header(ds, frames)
    ds.PixelData = encapsulate([tile(i, seed) for i in range(frames)], has_bot=True)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    return ds


def _slide_header(ds: Dataset, frames: int) -> None:
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = WSI_SOP_CLASS
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = data.uid(WSI_RUN, data.STUDY)
    ds.SeriesInstanceUID = data.uid(WSI_RUN, data.SERIES)
    ds.FrameOfReferenceUID = data.uid(WSI_RUN, data.FRAME_OF_REFERENCE)
    ds.PatientName, ds.PatientID = "Bench^Slide", "BENCH-WSI"
    ds.StudyDate = ds.ContentDate = "20240305"
    ds.StudyTime = ds.ContentTime = "110000"
    ds.AccessionNumber, ds.StudyID, ds.ReferringPhysicianName = "BENCHWSI", "1", ""
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "SM", 1, 1
    ds.Manufacturer, ds.ContainerIdentifier = "Hounsfield Bench", "SLIDE-1"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "VOLUME", "NONE"]
    ds.DimensionOrganizationType = "TILED_FULL"
    ds.NumberOfFrames = frames
    ds.TotalPixelMatrixColumns = TILE * TILE_COLUMNS
    ds.TotalPixelMatrixRows = TILE * -(-frames // TILE_COLUMNS)
    ds.TotalPixelMatrixFocalPlanes = 1
    ds.ImagedVolumeWidth, ds.ImagedVolumeHeight, ds.ImagedVolumeDepth = 6.4, 5.12, 0.001
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 3, "YBR_FULL_422"
    ds.PlanarConfiguration = 0
    ds.Rows = ds.Columns = TILE
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionMethod = "ISO_10918_1"
    ds.SharedFunctionalGroupsSequence = [_shared_groups()]


def _shared_groups() -> Dataset:
    measures = Dataset()
    measures.PixelSpacing = [0.0005, 0.0005]
    measures.SliceThickness = 0.001
    groups = Dataset()
    groups.PixelMeasuresSequence = [measures]
    return groups


# -- the pydicom-data files --------------------------------------------------------------


def pydicom_data_files() -> list[StoredFile]:
    """The package's Part 10 files with a preamble and valid UIDs, the first of each
    SOP Instance UID."""
    spec = importlib.util.find_spec("data_store")
    if spec is None or not spec.origin:
        return []
    chosen: dict[str, StoredFile] = {}
    for path in sorted((Path(spec.origin).parent / "data").glob("*.dcm")):
        with path.open("rb") as fp:
            if fp.read(132)[128:] != b"DICM":
                continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            uids = (ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID)
            valid = all(UID(u).is_valid for u in uids)
        if valid and uids[2] not in chosen:
            chosen[uids[2]] = StoredFile(path, *uids, path.stat().st_size)
    return list(chosen.values())
