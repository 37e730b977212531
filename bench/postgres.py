"""A fresh PostgreSQL database per server start, dropped afterwards."""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator

ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SERVER_HOST = os.environ.get("BENCH_POSTGRES_HOST", "postgres@127.0.0.1:5432")

_numbers = itertools.count(1)


def _execute(statement: str) -> None:
    import psycopg  # a dependency of hounsfield; imported only when --postgres is used

    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=10) as connection:
        connection.execute(statement)


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """Create an empty database; yield its SQLAlchemy URL for Hounsfield; drop it."""
    name = f"hounsfield_bench_{os.getpid()}_{next(_numbers)}"
    _execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://{SERVER_HOST}/{name}"
    finally:
        _execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
