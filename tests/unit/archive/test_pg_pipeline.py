"""pg_pipeline on a real PostgreSQL: a batch of statements goes in one write and its
answers come back together; values keep their types both ways; statements are prepared
once per connection; a failing statement stops the batch, and the connection goes on."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Iterator

import psycopg
import pytest
from helpers.postgres import postgres_schema_url

from hounsfield.archive.index import pg_pipeline

CREATE = ("CREATE TABLE item (name TEXT PRIMARY KEY, size BIGINT, ratio DOUBLE PRECISION, "
          "flag BOOLEAN, data BYTEA)")
INSERT = "INSERT INTO item (name, size, ratio, flag, data) VALUES ($1, $2, $3, $4, $5)"
SELECT = "SELECT name, size, ratio, flag, data FROM item WHERE name = $1"


@pytest.fixture()
def conninfo() -> Iterator[str]:
    for url in postgres_schema_url():
        yield url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture()
def driver(conninfo: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(CREATE)
        yield conn


def run(driver: psycopg.Connection, *statements: tuple[str, tuple, bool]) -> list[list[tuple]]:
    return pg_pipeline.execute(driver, list(statements))


def names(driver: psycopg.Connection) -> list[str]:
    return [row[0] for row in driver.execute("SELECT name FROM item ORDER BY name")]


def test_each_statement_answers_its_own_rows(driver) -> None:
    rows = run(driver, ("BEGIN", (), False),
               (INSERT, ("a", 1, 0.5, True, b"x"), True),
               (SELECT, ("a",), True),
               ("SELECT name FROM item WHERE name = $1", ("nothing",), False),
               ("COMMIT", (), False))
    assert rows == [[], [], [("a", 1, 0.5, True, b"x")], [], []]


def test_values_keep_their_types_and_bytes(driver) -> None:
    data = bytes(range(256)) * 40  # binary, NUL bytes and all
    values = ("ü \\ ' \" %s $1 名", 2**62, 1 / 3, False, data)
    run(driver, (INSERT, values, True))
    assert run(driver, (SELECT, (values[0],), True)) == [[values]]
    run(driver, (INSERT, ("null", None, None, None, None), True))
    assert run(driver, (SELECT, ("null",), False)) == [[("null", None, None, None, None)]]


def test_floats_go_exactly(driver) -> None:
    values = [1733512345.1234567, 5e-324, 1.7976931348623157e308, -0.0]
    for number, value in enumerate(values):
        run(driver, (INSERT, (f"f{number}", 0, value, True, b""), True))
    stored = run(driver, ("SELECT ratio FROM item ORDER BY name", (), False))[0]
    assert [row[0] for row in stored] == values


def test_a_parameter_of_no_known_type_is_refused_before_anything_is_sent(driver) -> None:
    with pytest.raises(TypeError, match="complex"):
        run(driver, (INSERT, ("a", 1j, 0.0, True, b""), True))
    assert names(driver) == []
    assert run(driver, (SELECT, ("a",), True)) == [[]]  # the connection goes on


def test_a_statement_is_prepared_once_per_connection(driver) -> None:
    prepared = pg_pipeline.prepared_on(driver)
    for number in range(3):
        run(driver, (INSERT, (f"a{number}", number, 0.0, True, b""), True),
            ("SELECT count(*) FROM item WHERE name IN ($1, $2)", ("a", "b"), False),
)
    on_server = dict(driver.execute("SELECT name, statement FROM pg_prepared_statements"))
    assert on_server == {"hf_0": INSERT}
    assert prepared.names == {INSERT: b"hf_0"}
    assert names(driver) == ["a0", "a1", "a2"]


def test_beyond_the_limit_statements_go_unnamed(driver, monkeypatch) -> None:
    monkeypatch.setattr(pg_pipeline, "MAX_PREPARED", 1)
    prepared = pg_pipeline.prepared_on(driver)
    rows = run(driver, ("SELECT 1 WHERE $1::int = 1", (1,), True),
               ("SELECT 2 WHERE $1::int = 1", (1,), True))
    assert rows == [[(1,)], [(2,)]]
    assert list(prepared.names) == ["SELECT 1 WHERE $1::int = 1"]


def test_a_failing_statement_undoes_the_batch_and_the_connection_goes_on(driver) -> None:
    run(driver, (INSERT, ("a", 1, 0.0, True, b""), True))
    with pytest.raises(psycopg.errors.UniqueViolation, match="item_pkey"):
        run(driver, (INSERT, ("b", 1, 0.0, True, b""), True),
            (INSERT, ("a", 1, 0.0, True, b""), True),
            (INSERT, ("c", 1, 0.0, True, b""), True))
    # a batch is one implicit transaction (up to its Sync): b is undone, c never ran
    assert names(driver) == ["a"]
    assert run(driver, (SELECT, ("a",), True))[0][0][0] == "a"


def test_a_failure_in_a_transaction_leaves_it_to_be_rolled_back(driver) -> None:
    with pytest.raises(psycopg.errors.UniqueViolation):
        run(driver, ("BEGIN", (), False), (INSERT, ("a", 1, 0.0, True, b""), True),
            (INSERT, ("a", 1, 0.0, True, b""), True), ("COMMIT", (), False))
    assert driver.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
    driver.execute("ROLLBACK")
    assert names(driver) == []


def test_a_statement_that_cannot_be_prepared_is_not_taken_as_prepared(driver) -> None:
    prepared = pg_pipeline.prepared_on(driver)
    with pytest.raises(psycopg.errors.UndefinedTable):
        run(driver, ("SELECT * FROM no_such_table WHERE x = $1", (1,), True),
)
    assert prepared.names == {}
    assert run(driver, (SELECT, ("a",), True)) == [[]]


def test_statements_prepared_before_one_that_cannot_be_are_known(driver) -> None:
    """Each is prepared once: preparing it again would fail (the name exists)."""
    prepared = pg_pipeline.prepared_on(driver)
    with pytest.raises(psycopg.errors.UndefinedTable):
        run(driver, (SELECT, ("a",), True),
            ("SELECT * FROM no_such_table WHERE x = $1", (1,), True),
            ("SELECT count(*) FROM item WHERE name = $1", ("a",), True))
    assert prepared.names == {SELECT: b"hf_0"}
    assert run(driver, (SELECT, ("a",), True),
               ("SELECT count(*) FROM item WHERE name = $1", ("a",), True)) == [[], [(0,)]]
    on_server = dict(driver.execute("SELECT name, statement FROM pg_prepared_statements"))
    assert on_server == {"hf_0": SELECT, "hf_1": "SELECT count(*) FROM item WHERE name = $1"}


def test_a_batch_larger_than_the_socket_buffers_goes_through(driver) -> None:
    """The answers are read while the batch is written, so neither side stalls."""
    blob = bytes(range(256)) * 4096  # 1 MiB
    statements = [(INSERT, (f"n{number:03d}", number, 0.0, True, blob), True)
                  for number in range(24)]
    run(driver, ("BEGIN", (), False), *statements, ("COMMIT", (), False))
    assert len(names(driver)) == 24
    total = driver.execute("SELECT sum(length(data)) FROM item").fetchone()[0]
    assert total == 24 * len(blob)


def test_a_lost_connection_closes_it(driver, conninfo) -> None:
    pid = driver.info.backend_pid
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(psycopg.OperationalError):
        run(driver, (SELECT, ("a",), True))
    assert driver.closed


def test_a_batch_is_one_write_and_its_answers_one_read(conninfo) -> None:
    """Counted on the wire, through a relay between client and server: five statements
    (once prepared) cross it in one write, their answers in one."""
    with _Relay(conninfo) as relay, psycopg.connect(relay.conninfo, autocommit=True) as conn:
        conn.execute(CREATE)
        statements = [("BEGIN", (), False), (INSERT, ("a", 1, 0.0, True, b"x" * 3000), True),
                      ("UPDATE item SET size = size + $1 WHERE name = $2", (1, "a"), True),
                      (SELECT, ("a",), True), ("COMMIT", (), False)]
        pg_pipeline.execute(conn, statements)  # prepares three of them first
        statements[1] = (INSERT, ("b", 1, 0.0, True, b"x" * 3000), True)
        relay.chunks.clear()
        rows = pg_pipeline.execute(conn, statements)
        assert relay.chunks == ["to server", "to client"]
        assert rows[3] == [("a", 3, 0.0, True, b"x" * 3000)]  # one more each time


class _Relay:
    """A TCP relay to PostgreSQL on loopback that notes each chunk it passes on (before
    passing it on: what the client has received is noted)."""

    def __init__(self, conninfo: str):
        info = psycopg.conninfo.conninfo_to_dict(conninfo)
        self.target = (info.get("host") or "127.0.0.1", int(info.get("port") or 5432))
        self.listener = socket.create_server(("127.0.0.1", 0))
        info.update(host="127.0.0.1", port=str(self.listener.getsockname()[1]))
        self.conninfo = psycopg.conninfo.make_conninfo(**info)
        self.chunks: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> _Relay:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.listener.close()

    def _serve(self) -> None:
        client, _ = self.listener.accept()
        with contextlib.closing(client), socket.create_connection(self.target) as server:
            ends = {client: (server, "to server"), server: (client, "to client")}
            while not self._stop.is_set():
                readable, _, _ = select.select(list(ends), [], [], 0.2)
                for end in readable:
                    data = end.recv(1 << 20)
                    if not data:
                        return
                    other, direction = ends[end]
                    self.chunks.append(direction)
                    other.sendall(data)


def test_an_archive_on_sqlite_never_loads_psycopg(tmp_path) -> None:
    """psycopg and its adapters would cost every SQLite worker process some 6 MB."""
    import subprocess
    import sys

    code = f"""
import sys
from pathlib import Path
from pydicom.data import get_testdata_file
from hounsfield.config import Settings
from hounsfield.archive.archive import Archive
import hounsfield.app
archive = Archive.open(Settings(data_dir=Path({str(tmp_path)!r})))
spooled = archive.blobs.spool_dir / "in.dcm"
spooled.write_bytes(Path(get_testdata_file("CT_small.dcm")).read_bytes())
print(archive.store_file(spooled).disposition.name, "psycopg" in sys.modules)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split() == ["STORED", "False"]


def test_a_connection_whose_descriptor_is_past_1024_works(conninfo) -> None:
    """A busy server has many descriptors open: waiting on the connection must not be
    select's (limited to descriptors below 1024)."""
    import os
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"this process may open {hard} descriptors")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    null = os.open(os.devnull, os.O_RDONLY)
    taken = [os.dup(null) for _ in range(1100)]
    try:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            assert conn.pgconn.socket > 1024
            conn.execute(CREATE)
            rows = run(conn, (INSERT, ("a", 1, 0.0, True, b"x"), True), (SELECT, ("a",), True))
        assert rows == [[], [("a", 1, 0.0, True, b"x")]]
    finally:
        for fd in [*taken, null]:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
