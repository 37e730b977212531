"""Whatever bytes a client sends, describing them ends in a record or a DICOM failure
reason — never in an unexpected exception (which would be a 500)."""

from __future__ import annotations

import pytest
from helpers.data_files import corrupted_copies, pydicom_data_files

from hounsfield.archive.instance_file import describe_file
from hounsfield.dicom import status
from hounsfield.errors import InstanceRejectedError

FILES = [p for p in pydicom_data_files() if p.stat().st_size < 300_000]


@pytest.mark.parametrize("seed", range(6))
def test_corrupted_files_are_refused_cleanly(tmp_path, seed: int) -> None:
    target = tmp_path / "x.dcm"
    for data in corrupted_copies(FILES, seed, 150):
        target.write_bytes(data)
        try:
            describe_file(target, bulk_data_threshold=1024)
        except InstanceRejectedError as exc:
            assert exc.failure_reason in (status.CANNOT_UNDERSTAND,
                                          status.DATA_SET_DOES_NOT_MATCH_SOP_CLASS,
                                          status.TRANSFER_SYNTAX_NOT_SUPPORTED)
            assert exc.message
