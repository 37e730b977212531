from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from hounsfield.app import create_app
from hounsfield.archive.archive import Archive
from hounsfield.config import Settings


@pytest.fixture
def app_archive(settings: Settings) -> Iterator[Archive]:
    archive = Archive.open(settings)
    yield archive
    archive.close()


@pytest.fixture
def client(app_archive: Archive) -> Iterator[TestClient]:
    with TestClient(create_app(app_archive.settings, app_archive)) as test_client:
        yield test_client


@pytest.fixture
def make_client(app_archive: Archive):
    """A client on an app with some settings changed."""
    clients = []

    def make(**changes) -> TestClient:
        settings = dataclasses.replace(app_archive.settings, **changes)
        archive = Archive(settings, app_archive.engine, app_archive.blobs)
        test_client = TestClient(create_app(settings, archive))
        clients.append(test_client.__enter__())
        return test_client

    yield make
    for test_client in clients:
        test_client.__exit__(None, None, None)
