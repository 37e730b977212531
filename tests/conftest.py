"""Shared fixtures: real DICOM files, settings on a temporary folder, the index backends.

PostgreSQL is found through HOUNSFIELD_TEST_POSTGRES_URL (e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/test); `.ci/run` sets it. Without it the
PostgreSQL variants skip with a message saying so. Each test gets a schema of its own.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.postgres import postgres_schema_url

from hounsfield.archive.archive import Archive
from hounsfield.config import Settings, load_settings

warnings.filterwarnings("ignore", module="pydicom")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(overrides={"data_dir": tmp_path / "data",
                                    "recovery_grace_seconds": 0}, environ={})


@pytest.fixture(params=["sqlite", "postgresql"])
def index_settings(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Settings]:
    """Settings on SQLite, then on PostgreSQL: the contract suites run on both."""
    if request.param == "sqlite":
        yield settings
        return
    for url in postgres_schema_url():
        yield load_settings(overrides={"data_dir": settings.data_dir, "database_url": url,
                                       "recovery_grace_seconds": 0}, environ={})


@pytest.fixture
def archive(index_settings: Settings) -> Iterator[Archive]:
    opened = Archive.open(index_settings)
    yield opened
    opened.close()
