"""A batch of statements in one round trip to PostgreSQL: libpq's pipeline mode, driven
directly.

psycopg's own pipeline sends each statement as it is executed and asks the server to
flush its answer to each: a store transaction of seven statements cost about fourteen
small packets and as many wake-ups. Here a batch is written at once and followed by one
Sync, so the server answers it at once too. `python -m bench pg-transaction` runs the
writer's store transaction both ways: 0.35-0.43 against 0.63-0.72 ms of client CPU per
transaction, and 6-14% less of PostgreSQL's.

Parameters go as text, bytes as binary (bytea), and the server infers their types from
the statement, so one prepared statement serves whatever Python numbers it is given.
A statement is prepared the first time it is sent on a connection (named `hf_<n>`, in a
segment of its own ahead of the batch, so that a batch that fails never leaves a name
half known), unless it must be planned anew every time (`prepare=False`: see
plain_sql.Unprepared).
"""

from __future__ import annotations

import select
import weakref
from collections.abc import Sequence
from typing import Any

from psycopg import Connection, errors, pq
from psycopg.adapt import Transformer

Statement = tuple[str, Sequence[Any], bool]  # SQL with $n parameters, values, prepare
_STATUS = pq.ExecStatus
_TEXT, _BINARY = pq.Format.TEXT, pq.Format.BINARY
_BINARY_TYPES = (bytes, bytearray, memoryview)
MAX_PREPARED = 64  # per connection: beyond, statements go unnamed


class Prepared:
    """The statements prepared on one connection (one server session): name by SQL."""

    __slots__ = ("names",)

    def __init__(self) -> None:
        self.names: dict[str, bytes] = {}


_SESSIONS: weakref.WeakKeyDictionary[Connection, Prepared] = weakref.WeakKeyDictionary()


def prepared_on(driver: Connection) -> Prepared:
    """The statements prepared on `driver`'s session (kept as long as the connection)."""
    prepared = _SESSIONS.get(driver)
    if prepared is None:
        prepared = _SESSIONS[driver] = Prepared()
    return prepared


def execute(driver: Connection, statements: Sequence[Statement]
            ) -> list[list[tuple[Any, ...]]]:
    """Run `statements` in order, in one round trip (statements to prepare go first,
    their answers read with the others); the rows of each. The first failing
    statement's error is raised once every answer has been read: the statements after
    it did not run, and those before it are undone unless a BEGIN before the batch
    left them to a transaction the caller ends."""
    pgconn = driver.pgconn
    encoding = driver.info.encoding
    prepared = prepared_on(driver)
    to_prepare = _to_prepare(statements, prepared)
    names = {**prepared.names, **to_prepare}
    batch = [(sql.encode(encoding), names.get(sql) if prepare else None,
              *_params(values, encoding)) for sql, values, prepare in statements]
    pgconn.enter_pipeline_mode()
    try:
        for sql, name in to_prepare.items():
            pgconn.send_prepare(name, sql.encode(encoding))
        if to_prepare:
            pgconn.pipeline_sync()
        for sql, name, params, formats in batch:
            if name is None:
                pgconn.send_query_params(sql, params, param_formats=formats)
            else:
                pgconn.send_query_prepared(name, params, param_formats=formats)
        pgconn.pipeline_sync()
        _flush(pgconn)
        preparations = _segment(pgconn) if to_prepare else []
        answers = _segment(pgconn)
        pgconn.exit_pipeline_mode()
    except BaseException:
        if pgconn.pipeline_status != pq.PipelineStatus.OFF:
            driver.close()  # answers not read can no longer be told apart
        raise
    for (sql, name), results in zip(to_prepare.items(), preparations, strict=False):
        if results and results[-1].status == _STATUS.COMMAND_OK:  # up to a failed one
            prepared.names[sql] = name
    _raise_first_error(preparations, encoding)
    _raise_first_error(answers, encoding)
    return _rows(driver, answers)


def _to_prepare(statements: Sequence[Statement], prepared: Prepared) -> dict[str, bytes]:
    """Name by SQL text of the statements to prepare before this batch."""
    new: dict[str, bytes] = {}
    for sql, _, prepare in statements:
        if prepare and sql not in prepared.names and sql not in new:
            count = len(prepared.names) + len(new)
            if count >= MAX_PREPARED:
                break
            new[sql] = b"hf_%d" % count
    return new


def _params(values: Sequence[Any], encoding: str
            ) -> tuple[list[bytes | None], list[pq.Format] | None]:
    """The values as the server reads them (text; bytes as binary), and their formats
    (None: all text)."""
    params = [_param(value, encoding) for value in values]
    if not any(isinstance(value, _BINARY_TYPES) for value in values):
        return params, None
    return params, [_BINARY if isinstance(value, _BINARY_TYPES) else _TEXT
                    for value in values]


def _param(value: Any, encoding: str) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, _BINARY_TYPES):
        return bytes(value)
    if isinstance(value, bool):
        return b"t" if value else b"f"
    if isinstance(value, str):
        return value.encode(encoding)
    if isinstance(value, int):
        return str(int(value)).encode()
    if isinstance(value, float):
        return repr(float(value)).encode()
    raise TypeError(f"no PostgreSQL text form for a parameter of type {type(value).__name__}")


def _flush(pgconn: Any) -> None:
    """Write out what is queued, reading answers meanwhile (so that neither side ever
    waits for the other with its buffers full)."""
    while pgconn.flush():
        if _wait(pgconn.socket, select.POLLIN | select.POLLOUT) & select.POLLIN:
            pgconn.consume_input()


def _segment(pgconn: Any) -> list[list[Any]]:
    """The results of each statement up to the next Sync, in order."""
    answers: list[list[Any]] = []
    current: list[Any] = []
    while True:
        while pgconn.is_busy():
            _wait(pgconn.socket, select.POLLIN)
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:
            answers.append(current)
            current = []
        elif result.status == _STATUS.PIPELINE_SYNC:
            return answers
        else:
            current.append(result)


def _wait(fd: int, events: int) -> int:
    """Block (the GIL released) until `fd` is ready for `events`; the events that are
    (poll, not select: a busy server's descriptors go past select's 1024)."""
    poller = select.poll()
    poller.register(fd, events)
    return next((ready for _, ready in poller.poll()), 0)


def _raise_first_error(answers: list[list[Any]], encoding: str) -> None:
    for results in answers:
        for result in results:
            if result.status == _STATUS.FATAL_ERROR:
                raise errors.error_from_result(result, encoding=encoding)
            if result.status == _STATUS.PIPELINE_ABORTED:  # after an error: not reached
                raise errors.PipelineAborted("pipeline aborted")


def _rows(driver: Connection, answers: list[list[Any]]) -> list[list[tuple[Any, ...]]]:
    loader = Transformer(driver)
    rows = []
    for results in answers:
        result = results[-1] if results else None
        if result is None or result.status != _STATUS.TUPLES_OK or not result.ntuples:
            rows.append([])
            continue
        loader.set_pgresult(result)
        rows.append(loader.load_rows(0, result.ntuples, tuple))
    return rows
