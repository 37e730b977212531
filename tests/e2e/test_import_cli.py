"""`hounsfield import`: folders, files and zip files, a summary and an honest exit code."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers.dicom_files import ct_instance, part10_bytes

pytestmark = pytest.mark.e2e


def run_import(data: Path, *paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hounsfield", "import", "--data", str(data),
                           "--jobs", "2", *map(str, paths)],
                          capture_output=True, text=True, timeout=120,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})


def stored_uids(data: Path) -> set[str]:
    with sqlite3.connect(data / "index.sqlite") as db:
        return {r[0] for r in db.execute("SELECT sop_instance_uid FROM instance")}


def test_import_folder_zip_and_file(tmp_path: Path) -> None:
    folder = tmp_path / "in" / "nested"
    folder.mkdir(parents=True)
    datasets = [ct_instance(seed=i) for i in range(5)]
    for i, ds in enumerate(datasets[:3]):
        (folder / f"{i}.dcm").write_bytes(part10_bytes(ds))
    (folder / "notes.txt").write_text("not DICOM")
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a/3.dcm", part10_bytes(datasets[3]))
        z.writestr("a/4.dcm", part10_bytes(datasets[4]))
    data = tmp_path / "data"

    first = run_import(data, tmp_path / "in", archive)
    assert first.returncode == 1, first.stderr  # notes.txt failed
    assert "notes.txt" in first.stderr and "C000H" in first.stderr
    assert re.search(r"stored\s*\W\s*5\b", first.stderr)
    assert re.search(r"failed\s*\W\s*1\b", first.stderr)
    assert stored_uids(data) == {d.SOPInstanceUID for d in datasets}

    again = run_import(data, folder / "0.dcm", archive)
    assert again.returncode == 0, again.stderr
    assert re.search(r"already stored\s*\W\s*3\b", again.stderr), again.stderr
    assert re.search(r"failed\s*\W\s*0\b", again.stderr)
    assert stored_uids(data) == {d.SOPInstanceUID for d in datasets}


def test_missing_path_fails(tmp_path: Path) -> None:
    result = run_import(tmp_path / "data", tmp_path / "nope")
    assert result.returncode == 1 and "no such file or folder" in result.stderr
