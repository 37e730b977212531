from collections.abc import Iterator
from pathlib import Path

import pytest

from .server import Server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path / "data").start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def replacing_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for a module's many requests (each file of pydicom-data)."""
    folder = tmp_path_factory.mktemp("replacing")
    running = Server(folder / "data", env={"HOUNSFIELD_DUPLICATE_POLICY": "replace"}).start()
    yield running
    running.stop()
