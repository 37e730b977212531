from collections.abc import Iterator
from pathlib import Path

import pytest

from .server import Server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path / "data").start()
    yield running
    running.stop()


@pytest.fixture
def replacing_server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path / "data", env={"HOUNSFIELD_DUPLICATE_POLICY": "replace"}).start()
    yield running
    running.stop()
