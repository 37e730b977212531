"""One SQLAlchemy engine per process, for SQLite (WAL) or PostgreSQL (psycopg 3).

SQLite: the driver's own transaction handling is switched off and transactions are
begun explicitly, `BEGIN IMMEDIATE` for writers (so two writers never deadlock on a lock
upgrade), while readers run statement by statement; WAL lets them run beside the writer;
`synchronous=FULL` makes every commit durable before the archive acknowledges a store.

PostgreSQL: the store path's look-ups run in autocommit (`read_options`), and so does
the writer's connection, whose transactions `plain_sql.transaction` begins and ends
itself (to send BEGIN and COMMIT with other statements). A pooled connection that has
been idle for `IDLE_PING_SECONDS` is pinged when checked out, and replaced if the server
no longer answers (after a database restart, say). A connection in steady use is not:
a ping on every checkout would cost a round trip, half of what a store costs there.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError

from hounsfield.archive.index import plain_sql

WRITE = {"hounsfield_write": True}
IDLE_PING_SECONDS = 1.0


def read_options(engine: Engine) -> dict[str, Any]:
    """Execution options of a connection for one look-up: no transaction, as SQLite
    readers run. On PostgreSQL that saves the BEGIN and ROLLBACK round trips around a
    look-up; SQLite's connections are set up so already (and resetting SQLAlchemy's
    isolation level would undo that set-up)."""
    return {"isolation_level": "AUTOCOMMIT"} if engine.dialect.name == "postgresql" else {}


def create_index_engine(url: str) -> Engine:
    """Create the engine for `url`, tuned for the backend it names."""
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return _server_engine(url, IDLE_PING_SECONDS)


def _server_engine(url: str, idle_ping_seconds: float) -> Engine:
    engine = create_engine(url, pool_size=8, max_overflow=16)
    event.listen(engine, "before_cursor_execute", plain_sql.send_queued)

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < idle_ping_seconds:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 - any failure means a dead connection
            raise DisconnectionError(f"pooled connection is gone: {exc}") from exc
        if alive is False:
            raise DisconnectionError("pooled connection is gone")

    return engine


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, pool_size=8, max_overflow=16,
                           connect_args={"check_same_thread": False, "timeout": 60})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON",
                       "busy_timeout=60000", "cache_size=-65536"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        if connection.get_execution_options().get("hounsfield_write", False):
            driver = connection.connection.driver_connection
            try:
                driver.execute("BEGIN IMMEDIATE")  # the driver's own call: the cheapest
            except sqlite3.Error as exc:
                raise DBAPIError.instance("BEGIN IMMEDIATE", None, exc, sqlite3.Error) from exc
        # readers run in autocommit: each statement sees one consistent snapshot

    return engine
