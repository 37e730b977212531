"""The index writer's store transaction on PostgreSQL, sent two ways, side by side.

    python -m bench pg-transaction [--transactions 300] [--rounds 5]

Hounsfield sends a store transaction's statements through libpq's pipeline mode itself
(`hounsfield.archive.index.pg_pipeline`: one write and one read per round trip) instead
of through psycopg's pipeline (each statement sent, and its answer asked for, apart).
This measures both on the same transactions: the writer's own code
(`writer.insert_new_instances` in `plain_sql.transaction`, one CT instance each, two
round trips), into a fresh database migrated as the archive migrates it. Rounds
alternate between the two ways; per transaction it prints the client's CPU (this
process), PostgreSQL's CPU (every `postgres` process) and the wall time, medians over
the rounds.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench import data, postgres, process_tree
from hounsfield.archive.blobs.base import blob_key
from hounsfield.archive.index import migrate, plain_sql, writer
from hounsfield.archive.index.engine import WRITE, create_index_engine, read_options
from hounsfield.archive.index.plain_sql import Unprepared
from hounsfield.archive.instance_file import describe_file

WORK_DIR = Path(__file__).resolve().parent / "work"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench pg-transaction")
    parser.add_argument("--transactions", type=int, default=300,
                        help="transactions per round (default 300, at most 500)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each way")
    args = parser.parse_args(argv)
    count = min(args.transactions, 500)
    with postgres.fresh_database() as url, tempfile.TemporaryDirectory() as folder:
        records = _records(count * args.rounds * 2 + 20, Path(folder))
        figures: dict[str, list[tuple[float, float, float]]] = {"psycopg": [], "hounsfield": []}
        with _writer(url) as conn:
            _run(conn, records[:20], _SENDS["hounsfield"])  # warm up: prepares, caches
            records = records[20:]
            for round_number in range(args.rounds):
                for way in ("psycopg", "hounsfield") if round_number % 2 else \
                        ("hounsfield", "psycopg"):
                    batch, records = records[:count], records[count:]
                    figures[way].append(_measure(conn, batch, _SENDS[way]))
    _print(figures)
    return 0


def _records(count: int, folder: Path) -> list[tuple[Any, str]]:
    """(record, blob key) of `count` distinct CT instances of one series."""
    series = data.load_series(500, WORK_DIR)
    records = []
    for run in range(1, count // 500 + 2):
        for number, instance in enumerate(series.for_run(1000 + run)):
            path = folder / f"{run}-{number}.dcm"
            path.write_bytes(instance.data)
            record = describe_file(path, bulk_data_threshold=1024)
            uids = record.uids
            records.append((record, blob_key(uids.study, uids.series, uids.sop_instance,
                                             record.digest)))
            path.unlink()
    return records[:count]


@contextlib.contextmanager
def _writer(url: str) -> Iterator[Any]:
    """A connection as the archive's writer has it (autocommit), schema migrated."""
    engine = create_index_engine(url)
    migrate.upgrade(engine)
    try:
        with engine.connect().execution_options(**WRITE, **read_options(engine)) as conn:
            yield conn
    finally:
        engine.dispose()


def _measure(conn: Any, batch: list[tuple[Any, str]], send: Callable[..., Any]
             ) -> tuple[float, float, float]:
    client, server, wall = time.process_time(), _server_cpu(), time.perf_counter()
    _run(conn, batch, send)
    count = len(batch)
    return ((time.process_time() - client) / count, (_server_cpu() - server) / count,
            (time.perf_counter() - wall) / count)


def _run(conn: Any, batch: list[tuple[Any, str]], send: Callable[..., Any]) -> None:
    original = plain_sql._send
    plain_sql._send = send
    try:
        for entry in batch:
            with conn.begin(), plain_sql.transaction(conn):
                writer.insert_new_instances(conn, [entry])
    finally:
        plain_sql._send = original


def _server_cpu() -> float:
    return process_tree.named_cpu_seconds("postgres")


def _psycopg_pipeline(conn: Any, statements: list[tuple[str, Any]], answered: int
                      ) -> list[list[tuple[Any, ...]]]:
    """The statements through psycopg's own pipeline (as Hounsfield sent them before)."""
    driver = conn.connection.driver_connection
    cursors = []
    with driver.pipeline():
        for sql, params in statements:
            options = {"prepare": False} if isinstance(sql, Unprepared) else {}
            cursors.append(driver.execute(plain_sql._driver_sql(conn, sql), params, **options))
    rows = [cursor.fetchall() if cursor.description is not None else []
            for cursor in cursors[len(cursors) - answered:]]
    for cursor in cursors:
        cursor.close()
    return rows


_SENDS = {"psycopg": _psycopg_pipeline, "hounsfield": plain_sql._send}


def _print(figures: dict[str, list[tuple[float, float, float]]]) -> None:
    medians = {way: [statistics.median(values) * 1000 for values in zip(*rounds, strict=True)]
               for way, rounds in figures.items()}
    print("store transaction (one CT instance, two round trips), ms per transaction, "
          f"median of {len(figures['hounsfield'])} rounds")
    print(f"{'sent through':<26}{'client CPU':>12}{'PostgreSQL CPU':>16}{'wall':>8}")
    for way, label in (("psycopg", "psycopg's pipeline"),
                       ("hounsfield", "pg_pipeline (Hounsfield)")):
        client, server, wall = medians[way]
        print(f"{label:<26}{client:>12.3f}{server:>16.3f}{wall:>8.3f}")
    ratios = [new / old for new, old in zip(medians["hounsfield"], medians["psycopg"],
                                             strict=True)]
    print(f"{'ratio (Hounsfield/psycopg)':<26}{ratios[0]:>12.2f}{ratios[1]:>16.2f}"
          f"{ratios[2]:>8.2f}")
