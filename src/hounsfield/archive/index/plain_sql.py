"""Plain SQL on the driver's own cursor, for the statements on hot paths.

Building and compiling SQLAlchemy constructs costs more than the database's own work
for a point lookup or a one-row insert (measured: 30 us in SQLite, 380 us through a
Core select). These statements are written once as text with :name parameters,
turned into the driver's parameter style once, and run inside the connection's
transaction; driver errors are wrapped as SQLAlchemy wraps them, so callers see one
kind of error.

In a write transaction on a server database (`transaction`), statements whose answer is
not needed (`run`, `run_many`) wait in a queue, and go with the next statement that
needs its answer, or with the COMMIT, in one round trip (libpq's pipeline mode:
`pg_pipeline`, one write and one read per batch): the transaction's BEGIN goes with its
first look-up. A store so costs two or three round trips instead of five.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from hounsfield.archive.index import pg_pipeline

_PARAMETER = re.compile(r"(?<!:):([a-z_][a-z_0-9]*)")  # :name, not a ::type cast
_PYFORMAT: dict[str, str] = {}  # SQL: the same for psycopg's cursor (%(name)s)
_NUMBERED: dict[str, tuple[str, tuple[str, ...]]] = {}  # SQL: ($n SQL, names), pg_pipeline
_QUEUE = "hounsfield_queued"  # conn.info key: statements waiting to be sent


class Unprepared(str):
    """SQL text a server database plans anew each time it runs (psycopg prepares a
    statement run five times, and PostgreSQL may then keep one generic plan for it).
    For a look-up whose text is made per call (an IN list): a generic plan made while
    its table was young scans the table (seen: every store's SOP Instance UID look-up
    read the whole instance table until autovacuum analysed it), and each list length
    would be one more prepared statement."""

    __slots__ = ()


def run_one(conn: Connection, sql: str, **params: Any) -> tuple[Any, ...] | None:
    """Execute `sql`; its first row, if any."""
    rows = _execute(conn, sql, params, first_only=True)
    return rows[0] if rows else None


def run_all(conn: Connection, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Execute `sql`; all its rows."""
    return _execute(conn, sql, params, first_only=False)


def run_each(conn: Connection, *statements: tuple[str, dict[str, Any]]
             ) -> list[list[tuple[Any, ...]]]:
    """Execute each (sql, params) in turn; the rows of each. In a `transaction` on a
    server database they go in one round trip."""
    queue = conn.info.get(_QUEUE)
    if queue is None:
        return [_execute(conn, sql, params, first_only=False) for sql, params in statements]
    return _send(conn, [*queue.take(), *statements], len(statements))


def run(conn: Connection, sql: str, **params: Any) -> None:
    """Execute `sql`, whose answer is not needed (so it can wait in the queue)."""
    run_many(conn, sql, [params])


def run_many(conn: Connection, sql: str, rows: list[dict[str, Any]]) -> None:
    """Execute `sql` once per parameter set in `rows` (for SQLite the driver's
    executemany: one prepared statement)."""
    if not rows:
        return
    queue = conn.info.get(_QUEUE)
    if queue is not None:
        queue.add(sql, rows)
        return
    sql = _driver_sql(conn, sql)
    dbapi = conn.dialect.loaded_dbapi
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(sql, rows)
    except dbapi.Error as exc:
        raise _wrapped(conn, sql, rows, exc) from exc
    finally:
        cursor.close()


@contextlib.contextmanager
def transaction(conn: Connection) -> Iterator[None]:
    """A write transaction of our own on a server database connection in autocommit
    (psycopg): BEGIN waits in the queue for the first statement that needs an answer,
    COMMIT takes what is left in one round trip; a failure rolls back. Statements
    SQLAlchemy executes itself see the queue sent first (`send_queued`, an engine
    listener). For a driver without pipeline mode (SQLite), or a connection not in
    autocommit, nothing happens here: the caller's `conn.begin()` is the transaction."""
    driver = conn.connection.driver_connection
    if not (hasattr(driver, "pipeline") and driver.autocommit):
        yield
        return
    queue = _Queue()
    conn.info[_QUEUE] = queue
    try:
        yield
        if queue.begun or queue.statements:
            _send(conn, [*queue.take(), ("COMMIT", None)], 0)
    except BaseException:
        if queue.begun:
            with contextlib.suppress(Exception):
                driver.execute("ROLLBACK")
        raise
    finally:
        conn.info.pop(_QUEUE, None)


def send_queued(conn: Connection, *_args: Any) -> None:
    """Send the queued statements, BEGIN first if not sent yet, now: before a statement
    SQLAlchemy executes itself (an engine's "before_cursor_execute" listener)."""
    queue = conn.info.get(_QUEUE)
    if queue is not None and (queue.statements or not queue.begun):
        _send(conn, queue.take(), 0)


class _Queue:
    """The statements of a transaction not sent yet; BEGIN goes with the first ones."""

    __slots__ = ("statements", "begun")

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []
        self.begun = False  # BEGIN has been sent

    def add(self, sql: str, rows: list[Any]) -> None:
        self.statements += [(sql, params) for params in rows]

    def take(self) -> list[tuple[str, Any]]:
        """The statements to send now (after BEGIN, the first time)."""
        taken, self.statements = self.statements, []
        if not self.begun:
            self.begun = True
            taken.insert(0, ("BEGIN", None))
        return taken


def _send(conn: Connection, statements: list[tuple[str, Any]],
          answered: int) -> list[list[tuple[Any, ...]]]:
    """Send `statements` in one round trip (`pg_pipeline`); the rows of the last
    `answered` of them."""
    # imported here: psycopg and its adapters cost each SQLite process 6 MB
    from hounsfield.archive.index import pg_pipeline

    driver = conn.connection.driver_connection
    try:
        rows = pg_pipeline.execute(driver, [_numbered(sql, params) for sql, params in statements])
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _wrapped(conn, "; ".join(sql for sql, _ in statements), None, exc) from exc
    return rows[len(rows) - answered:]


def _numbered(sql: str, params: dict[str, Any] | None) -> pg_pipeline.Statement:
    """A statement (:name parameters) and its parameters as pg_pipeline takes them:
    (SQL with $n parameters, values, prepare)."""
    prepare = not isinstance(sql, Unprepared)
    numbered = _NUMBERED.get(sql) if prepare else None
    if numbered is None:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match[1] not in names:
                names.append(match[1])
            return f"${names.index(match[1]) + 1}"

        numbered = _PARAMETER.sub(number, sql), tuple(names)
        if prepare:
            _NUMBERED[sql] = numbered
    text, names = numbered
    return text, [params[name] for name in names] if params else [], prepare


def _wrapped(conn: Connection, sql: str, params: Any, exc: Exception) -> DBAPIError:
    """The driver's error as SQLAlchemy would raise it, telling whether the connection
    is lost."""
    lost = conn.dialect.is_disconnect(exc, conn.connection.driver_connection, None)
    return DBAPIError.instance(sql, params, exc, conn.dialect.loaded_dbapi.Error,
                               connection_invalidated=lost)


def _driver_sql(conn: Connection, sql: str) -> str:
    if conn.dialect.paramstyle != "pyformat":
        return sql
    if isinstance(sql, Unprepared):
        return Unprepared(_to_pyformat(sql))
    return _PYFORMAT.get(sql) or _PYFORMAT.setdefault(sql, _to_pyformat(sql))


def _prepare(sql: str) -> dict[str, Any]:
    """psycopg's `prepare` argument for `sql` (only ever passed to psycopg)."""
    return {"prepare": False} if isinstance(sql, Unprepared) else {}


def _execute(conn: Connection, sql: str, params: dict[str, Any],
             first_only: bool) -> list[tuple[Any, ...]]:
    queue = conn.info.get(_QUEUE)
    if queue is not None:
        rows = _send(conn, [*queue.take(), (sql, params)], 1)[0]
        return rows[:1] if first_only else rows
    sql = _driver_sql(conn, sql)
    dbapi = conn.dialect.loaded_dbapi
    cursor = conn.connection.cursor()
    options = _prepare(sql) if hasattr(conn.connection.driver_connection, "pipeline") else {}
    try:
        cursor.execute(sql, params, **options)
        if cursor.description is None:
            return []
        if first_only:
            row = cursor.fetchone()
            return [row] if row is not None else []
        return cursor.fetchall()
    except dbapi.Error as exc:
        raise _wrapped(conn, sql, params, exc) from exc
    finally:
        cursor.close()


def _to_pyformat(sql: str) -> str:
    return _PARAMETER.sub(r"%(\1)s", sql)
