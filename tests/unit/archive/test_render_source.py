"""render_source: a stored instance renders as the same file parsed by pydicom does, in
every transfer syntax (read in place, or read whole for big endian and deflated)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest
from helpers.data_files import pydicom_data_dir, pydicom_test_file
from helpers.render_source import dataset_source
from PIL import Image

from hounsfield.archive.archive import Archive
from hounsfield.archive.render_source import frame_count, render_source
from hounsfield.archive.retrieve import StoredInstance, Target
from hounsfield.config import load_settings
from hounsfield.dicom.render import PNG, RenderRequest, render
from hounsfield.errors import NotRenderableError

FILES = [pydicom_test_file(name) for name in (
    "CT_small.dcm", "MR_small_bigendian.dcm", "image_dfl.dcm", "MR_small_RLE.dcm",
    "MR_small_jpeg_ls_lossless.dcm", "JPEG2000.dcm", "SC_rgb_jpeg_dcmtk.dcm",
    "SC_rgb_rle.dcm", "SC_rgb_32bit_2frame.dcm", "US1_J2KR.dcm", "liver_1frame.dcm",
    "emri_small_jpeg_2k_lossless.dcm", "MR_small_implicit.dcm", "JPEG-LL.dcm",
    "OBXXXX1A.dcm", "rtdose.dcm", "SC_ybr_full_uncompressed.dcm", "examples_palette.dcm",
)] + [pydicom_data_dir() / name for name in (
    "693_J2KR.dcm", "mlut_18.dcm", "vlut_04.dcm",
    "gdcm-US-ALOKA-16.dcm", "gdcm-US-ALOKA-16_big.dcm", "color3d_jpeg_baseline.dcm")]


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[dict[Path, tuple[Archive, StoredInstance]]]:
    """Each file stored once; files sharing a SOP Instance UID go to another archive."""
    archives: list[Archive] = []
    found: dict[Path, tuple[Archive, StoredInstance]] = {}
    for number, path in enumerate(FILES):
        for archive in [*archives, None]:
            if archive is None:
                archive = Archive.open(load_settings(overrides={
                    "data_dir": tmp_path_factory.mktemp("render-source") / "data",
                    "recovery_grace_seconds": 0}, environ={}))
                archives.append(archive)
            copy = archive.blobs.spool_dir / f"{number}.dcm"
            copy.write_bytes(path.read_bytes())
            outcome = archive.store_file(copy)
            if outcome.stored:
                break
        target = Target(outcome.study_instance_uid, outcome.series_instance_uid,
                        outcome.sop_instance_uid)
        [instance] = archive.stored_instances(target, metadata=True, locations=True)
        found[path] = archive, instance
    yield found
    for archive in archives:
        archive.close()


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)), np.int16)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_stored_instance_renders_as_the_file_parsed_by_pydicom(stored, path: Path) -> None:
    archive, instance = stored[path]
    last = frame_count(instance)
    for frame in sorted({1, last}):
        request = RenderRequest(PNG, frame=frame)
        ours = _pixels(render(render_source(archive, instance), request))
        reference = _pixels(render(dataset_source(pydicom.dcmread(path)), request))
        assert ours.shape == reference.shape
        difference = np.abs(ours - reference)
        if instance.transfer_syntax_uid == "1.2.840.10008.1.2.4.50":
            # JPEG Baseline is decoded by libjpeg-turbo here (colour converted as it
            # decodes) and by pydicom's decoder there: their chroma upsampling differs
            assert difference.mean() <= 1 and difference.max() <= 8, (path.name, frame)
            continue
        # compressed YBR frames are converted by our matrix here, by pydicom's there
        assert difference.max() <= 2, (path.name, frame)


@pytest.mark.parametrize("name", ["gdcm-US-ALOKA-16.dcm", "gdcm-US-ALOKA-16_big.dcm"])
def test_lut_data_kept_as_bulk_data_is_read(stored, name: str) -> None:
    """From the bulk data table (little endian), or from the file read whole (big)."""
    [palette] = [v for p, v in stored.items() if p.name == name]
    source = render_source(*palette)
    uris = [v["BulkDataURI"] for k, v in source.attributes.items()
            if k.startswith("002812") and isinstance(v, dict) and "BulkDataURI" in v]
    assert uris, "the palette LUT data is kept as bulk data"
    assert source.bulk_data is not None
    assert all(len(source.bulk_data(uri)) >= 2 for uri in uris)


def test_an_unknown_bulk_data_uri_is_not_renderable(stored) -> None:
    source = render_source(*stored[FILES[0]])
    assert source.bulk_data is not None
    with pytest.raises(NotRenderableError):
        source.bulk_data("/studies/1/series/2/instances/3/bulkdata/00091234")
