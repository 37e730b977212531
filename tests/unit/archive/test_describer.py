"""Files described in separate processes give the same records and refusals."""

from __future__ import annotations

import multiprocessing

import pytest
from helpers.dicom_files import ct_instance, part10_bytes, spool

from hounsfield.archive.describer import Describer
from hounsfield.archive.instance_file import describe_file
from hounsfield.dicom import status
from hounsfield.errors import InstanceRejectedError, StorageUnavailableError


@pytest.fixture
def pooled():
    describer = Describer(processes=1, bulk_data_threshold=1024)
    yield describer
    describer.close()


def test_record_from_a_process_equals_the_in_process_one(pooled, tmp_path) -> None:
    path = spool(part10_bytes(ct_instance(rows=8, columns=8, frames=2)), tmp_path)
    assert pooled.describe(path) == describe_file(path, bulk_data_threshold=1024)


def test_refusal_crosses_the_process_boundary_intact(pooled, tmp_path) -> None:
    ds = ct_instance()
    path = spool(part10_bytes(ds), tmp_path)
    with pytest.raises(InstanceRejectedError) as refused:
        pooled.describe(path, expected_study="1.2.3")
    assert refused.value.failure_reason == status.STUDY_INSTANCE_UID_MISMATCH
    assert refused.value.sop_instance_uid == ds.SOPInstanceUID
    assert "1.2.3" in refused.value.message


def test_a_dead_process_is_a_storage_error_then_replaced(pooled, tmp_path) -> None:
    path = spool(part10_bytes(ct_instance()), tmp_path)
    pooled.describe(path)
    for child in multiprocessing.active_children():
        child.kill()
        child.join()
    with pytest.raises(StorageUnavailableError, match="describing process"):
        pooled.describe(path)
    assert pooled.describe(path).uids.sop_instance
