"""One SQLAlchemy engine per process, for SQLite (WAL) or PostgreSQL (psycopg 3).

SQLite: the driver's own transaction handling is switched off and transactions are
begun explicitly, `BEGIN IMMEDIATE` for writers (so two writers never deadlock on a lock
upgrade), while readers run statement by statement; WAL lets them run beside the writer;
`synchronous=FULL` makes every commit durable before the archive acknowledges a store.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

WRITE = {"hounsfield_write": True}


def create_index_engine(url: str) -> Engine:
    """Create the engine for `url`, tuned for the backend it names."""
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_engine(url, pool_size=8, max_overflow=16, pool_pre_ping=True)


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
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        # readers run in autocommit: each statement sees one consistent snapshot

    return engine
