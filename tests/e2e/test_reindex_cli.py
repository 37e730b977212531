"""`hounsfield reindex`: extra query attributes of data stored before they were configured."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.dicom_files import ct_instance, part10_bytes, spool
from sqlalchemy import select

from hounsfield.archive.archive import Archive
from hounsfield.archive.index.schema import query_attribute
from hounsfield.cli import main
from hounsfield.config import load_settings
from hounsfield.dicom.levels import Level
from hounsfield.dicom.query import parse_search


def test_reindex_makes_stored_data_searchable_by_a_new_attribute(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    data = tmp_path / "data"
    archive = Archive.open(load_settings(overrides={"data_dir": data}, environ={}))
    ds = ct_instance("1.2.3.77", "1.2.3.77.1", "1.2.3.77.1.1")
    ds.OperatorsName = "Smith^Ann"
    assert archive.store_file(spool(part10_bytes(ds), archive.blobs.spool_dir)).stored
    archive.close()

    monkeypatch.setenv("HOUNSFIELD_EXTRA_QUERY_ATTRIBUTES", "OperatorsName")
    assert main(["reindex", "--data", str(data)]) == 0
    assert "re-indexed 1 instances (1 extra query attributes)" in capsys.readouterr().out

    settings = load_settings(overrides={"data_dir": data})
    archive = Archive.open(settings)
    query = parse_search(Level.SERIES, [("OperatorsName", "SMITH*")])
    result = archive.search(query, "http://x/rs", "HOUNSFIELD")
    with archive.engine.connect() as conn:
        indexed = conn.execute(select(query_attribute.c.tag, query_attribute.c.value)).all()
    archive.close()
    assert indexed == [("00081070", "SMITH^ANN")]
    assert [d["0020000E"]["Value"] for d in result.datasets] == [["1.2.3.77.1"]]
