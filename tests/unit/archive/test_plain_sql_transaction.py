"""plain_sql's write transactions on a real PostgreSQL: statements whose answer is not
needed wait and go with the next look-up or the COMMIT, BEGIN goes with the first
look-up, and a failure anywhere leaves nothing of the transaction behind."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from helpers.postgres import postgres_schema_url
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from hounsfield.archive.index import plain_sql
from hounsfield.archive.index.engine import WRITE, create_index_engine, read_options

INSERT = "INSERT INTO item (name) VALUES (:name)"
NAMES = "SELECT name FROM item ORDER BY name"


@pytest.fixture()
def engine() -> Iterator[Engine]:
    for url in postgres_schema_url():
        created = create_index_engine(url)
        with created.connect() as conn:
            conn.execute(text("CREATE TABLE item (name TEXT PRIMARY KEY)"))
            conn.commit()
        yield created
        created.dispose()


@pytest.fixture()
def writer(engine: Engine) -> Iterator[Connection]:
    """A connection as the archive's writer has it: in autocommit."""
    with engine.connect().execution_options(**WRITE, **read_options(engine)) as conn:
        yield conn


@pytest.fixture()
def pipelines(writer: Connection, monkeypatch) -> list[int]:
    """The number of statements sent in each pipeline (each one round trip)."""
    sent: list[int] = []
    send = plain_sql._send
    monkeypatch.setattr(plain_sql, "_send", lambda conn, statements, answered: (
        sent.append(len(statements)) or send(conn, statements, answered)))
    return sent


@contextlib.contextmanager
def transaction(conn: Connection) -> Iterator[None]:
    """A write transaction as the archive's writer runs one."""
    with conn.begin(), plain_sql.transaction(conn):
        yield


def names(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [row[0] for row in conn.execute(text(NAMES))]


def test_begin_a_look_up_and_the_writes_with_commit_take_two_round_trips(
        engine, writer, pipelines) -> None:
    with transaction(writer):
        looked_up = plain_sql.run_each(writer, (NAMES, {}), ("SELECT 1", {}))
        plain_sql.run(writer, INSERT, name="a")
        plain_sql.run_many(writer, INSERT, [{"name": "b"}, {"name": "c"}])
        assert names(engine) == []  # not sent yet
    assert looked_up == [[], [(1,)]]
    assert pipelines == [3, 4]  # BEGIN + 2 look-ups; 3 inserts + COMMIT
    assert names(engine) == ["a", "b", "c"]


def test_a_look_up_sees_the_writes_queued_before_it(engine, writer, pipelines) -> None:
    with transaction(writer):
        plain_sql.run(writer, INSERT, name="a")
        seen = plain_sql.run_all(writer, NAMES)
        plain_sql.run(writer, INSERT, name="b")
    assert seen == [("a",)]
    assert pipelines == [3, 2]  # BEGIN, insert, look-up; insert + COMMIT
    assert names(engine) == ["a", "b"]


def test_a_statement_sqlalchemy_runs_itself_sees_the_queued_writes(engine, writer) -> None:
    with transaction(writer):
        plain_sql.run(writer, INSERT, name="a")
        assert writer.execute(text("SELECT count(*) FROM item")).scalar_one() == 1
    assert names(engine) == ["a"]


def test_a_statement_sqlalchemy_runs_first_is_inside_the_transaction(engine, writer) -> None:
    with pytest.raises(IntegrityError), transaction(writer):
        writer.execute(text("INSERT INTO item (name) VALUES ('a')"))
        plain_sql.run(writer, INSERT, name="a")
    assert names(engine) == []


def test_a_failing_write_sent_with_the_commit_leaves_nothing(engine, writer) -> None:
    with pytest.raises(IntegrityError, match="item_pkey"), transaction(writer):
        plain_sql.run(writer, INSERT, name="a")
        plain_sql.run(writer, INSERT, name="a")
    assert names(engine) == []
    with transaction(writer):  # the connection is usable again
        plain_sql.run(writer, INSERT, name="b")
    assert names(engine) == ["b"]


def test_an_error_in_the_work_rolls_back_what_was_sent(engine, writer) -> None:
    with pytest.raises(RuntimeError, match="work failed"), transaction(writer):
        plain_sql.run(writer, INSERT, name="a")
        assert plain_sql.run_all(writer, NAMES) == [("a",)]  # sent, in the transaction
        raise RuntimeError("work failed")
    assert names(engine) == []


def test_a_transaction_that_runs_nothing_sends_nothing(writer, pipelines) -> None:
    with transaction(writer):
        pass
    assert pipelines == []


def test_a_lost_connection_is_reported_as_such(engine, writer) -> None:
    pid = writer.execute(text("SELECT pg_backend_pid()")).scalar_one()
    writer.commit()
    with engine.connect().execution_options(**read_options(engine)) as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with pytest.raises(DBAPIError) as raised, transaction(writer):
        plain_sql.run_all(writer, NAMES)
    assert raised.value.connection_invalidated


def test_outside_autocommit_the_callers_transaction_is_used(engine) -> None:
    """A connection SQLAlchemy runs transactions on (SQLite's, say) is left to them."""
    with engine.connect() as conn, transaction(conn):
        plain_sql.run(conn, INSERT, name="a")  # sent now: there is no queue
        assert conn.execute(text("SELECT count(*) FROM item")).scalar_one() == 1
    assert names(engine) == ["a"]


def test_unprepared_text_is_planned_anew_each_time(writer) -> None:
    """psycopg prepares a statement it has run five times; an Unprepared one never is
    (so PostgreSQL never keeps a generic plan made while the table was young)."""
    one_off = plain_sql.Unprepared("SELECT name FROM item WHERE name IN (:a, :b)")
    kept = "SELECT count(*) FROM item WHERE name = :a"
    for _ in range(8):
        with transaction(writer):
            plain_sql.run_each(writer, (one_off, {"a": "x", "b": "y"}), (kept, {"a": "x"}))
        plain_sql.run_all(writer, one_off, a="x", b="y")  # outside a transaction too
    prepared = [row[0] for row in writer.execute(
        text("SELECT statement FROM pg_prepared_statements"))]
    assert any("count(*)" in statement for statement in prepared)
    assert not any(" IN (" in statement for statement in prepared)
