"""The index engine on a real PostgreSQL: a pooled connection whose server process is
gone is replaced when it is checked out after being idle, and one in steady use is not
pinged."""

from __future__ import annotations

import time

import pytest
from helpers.postgres import POSTGRES_URL
from sqlalchemy import create_engine, event, text

from hounsfield.archive.index.engine import _server_engine


@pytest.fixture()
def server_url() -> str:
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need HOUNSFIELD_TEST_POSTGRES_URL "
                    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test); .ci/run sets it")
    return POSTGRES_URL


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _terminate(pid: int) -> None:
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}
                                ).scalar_one()
    finally:
        admin.dispose()


def test_an_idle_connection_whose_server_is_gone_is_replaced(server_url) -> None:
    engine = _server_engine(server_url, idle_ping_seconds=0.05)
    try:
        dead = _backend_pid(engine)  # the pool keeps this connection
        _terminate(dead)
        time.sleep(0.1)
        assert _backend_pid(engine) != dead  # the checkout pinged, and reconnected
    finally:
        engine.dispose()


def test_a_connection_in_steady_use_is_not_pinged(server_url) -> None:
    engine = _server_engine(server_url, idle_ping_seconds=60)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, sql, *rest: statements.append(sql))
    pings: list[int] = []
    original = engine.dialect.do_ping
    engine.dialect.do_ping = lambda dbapi_connection: pings.append(1) or original(
        dbapi_connection)
    try:
        for _ in range(5):
            _backend_pid(engine)
        assert pings == [] and len(statements) == 5
    finally:
        engine.dispose()


def test_without_the_idle_ping_a_dead_connection_fails(server_url) -> None:
    """What the ping guards against: a checked-out connection of a gone server process."""
    engine = _server_engine(server_url, idle_ping_seconds=60)
    try:
        _terminate(_backend_pid(engine))
        with pytest.raises(Exception, match="terminat|closed|connection"):
            _backend_pid(engine)
    finally:
        engine.dispose()
