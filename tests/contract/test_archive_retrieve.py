"""What WADO-RS reads from the archive, run against SQLite and PostgreSQL alike."""

from __future__ import annotations

import orjson
import pytest
from helpers.dicom_files import ct_instance, part10_bytes, spool

from hounsfield.archive.archive import Archive
from hounsfield.archive.retrieve import Target
from hounsfield.errors import InstanceNotFoundError, SeriesNotFoundError, StudyNotFoundError

STUDY, OTHER = "1.2.826.0.9.1", "1.2.826.0.9.2"


@pytest.fixture
def stored(archive: Archive) -> dict[str, bytes]:
    """Two series of STUDY, stored out of order, and a study OTHER."""
    files = {}
    for study, series, number in [(STUDY, 2, 1), (STUDY, 1, 3), (STUDY, 1, 1), (STUDY, 1, 2),
                                  (OTHER, 1, 1)]:
        ds = ct_instance(study, f"{study}.{series}", f"{study}.{series}.{number}",
                         seed=number, frames=2 if number == 2 else 1)
        ds.InstanceNumber = number
        files[ds.SOPInstanceUID] = part10_bytes(ds)
        outcome = archive.store_file(spool(files[ds.SOPInstanceUID], archive.blobs.spool_dir))
        assert outcome.stored
    return files


def test_a_study_in_series_then_instance_number_order(archive: Archive, stored) -> None:
    found = archive.stored_instances(Target(STUDY))
    assert [i.sop_instance for i in found] == [
        f"{STUDY}.2.1", f"{STUDY}.1.1", f"{STUDY}.1.2", f"{STUDY}.1.3"]
    first = found[0]
    assert (first.study, first.series, first.transfer_syntax_uid) == (
        STUDY, f"{STUDY}.2", "1.2.840.10008.1.2.1")
    assert first.size_bytes == len(stored[first.sop_instance])
    assert first.metadata_json is None and first.frames is None


def test_a_series_and_an_instance_with_their_columns(archive: Archive, stored) -> None:
    found = archive.stored_instances(Target(STUDY, f"{STUDY}.1"), metadata=True)
    assert [i.sop_instance for i in found] == [f"{STUDY}.1.{n}" for n in (1, 2, 3)]
    assert orjson.loads(found[0].metadata_json)["00080018"]["Value"] == [f"{STUDY}.1.1"]
    [one] = archive.stored_instances(Target(STUDY, f"{STUDY}.1", f"{STUDY}.1.2"),
                                     locations=True)
    assert one.number_of_frames == 2 and len(one.frames) == 2
    data = stored[one.sop_instance]
    [first, second] = archive.read_runs(one.blob_key, list(one.frames))
    pixel_offset, pixel_length = one.bulk_data["pixeldata"]
    assert first + second == data[pixel_offset:pixel_offset + pixel_length]


@pytest.mark.parametrize("target, error, message", [
    (Target("1.2.3"), StudyNotFoundError, "study 1.2.3 not found"),
    (Target(STUDY, f"{OTHER}.1"), SeriesNotFoundError,
     f"series {OTHER}.1 not found in study {STUDY}"),
    (Target(STUDY, f"{STUDY}.1", f"{STUDY}.2.1"), InstanceNotFoundError,
     f"instance {STUDY}.2.1 not found in series {STUDY}.1 of study {STUDY}"),
])
def test_what_was_not_found_is_named(archive: Archive, stored, target, error, message) -> None:
    with pytest.raises(error, match=message.replace(".", r"\.")):
        archive.stored_instances(target)
