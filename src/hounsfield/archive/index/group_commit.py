"""Group commit: write work from many threads shares transactions, and their fsyncs.

Each store needs two durable index writes. Run one by one, every write pays a commit
(an fsync) and, on SQLite, waits its turn for the database's single writer lock. Here one
writer thread takes whatever work is queued, runs each piece in a savepoint of one shared
transaction (so a piece that fails, e.g. on a unique key, fails alone) and commits once.
A caller blocks until the commit that holds its work is durable, so acknowledging after
`submit` returns is as safe as committing alone.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy import Connection

T = TypeVar("T")
Work = Callable[[Connection], Any]
_STOP = object()


class GroupCommitter:
    def __init__(self, transaction: Callable[[Work], Any], *, max_batch: int = 64):
        """`transaction(work)` runs `work(conn)` in one transaction and commits it."""
        self._transaction = transaction
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="index-writer", daemon=True)
        self._thread.start()

    def submit(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in the next shared transaction; return once it is committed."""
        future: Future = Future()
        self._queue.put((work, future))
        return future.result()

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            batch = [item]
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    self._queue.put(_STOP)
                    break
                batch.append(item)
            self._run(batch)

    def _run(self, batch: list[tuple[Work, Future]]) -> None:
        outcomes: list[tuple[Future, bool, Any]] = []

        def run_all(conn: Connection) -> None:
            outcomes.clear()
            if len(batch) == 1:  # alone, its failure may as well roll back the transaction
                work, future = batch[0]
                outcomes.append((future, True, work(conn)))
                return
            for work, future in batch:
                conn.exec_driver_sql("SAVEPOINT piece")
                try:
                    value = work(conn)
                except Exception as exc:  # noqa: BLE001 - handed to the caller who submitted it
                    conn.exec_driver_sql("ROLLBACK TO SAVEPOINT piece")
                    outcomes.append((future, False, exc))
                else:
                    outcomes.append((future, True, value))
                conn.exec_driver_sql("RELEASE SAVEPOINT piece")

        try:
            self._transaction(run_all)
        except BaseException as exc:  # the commit failed: nothing in the batch is durable
            for _, future in batch:  # (a lone piece gets its own error, as it raised it)
                future.set_exception(exc)
            return
        for future, ok, value in outcomes:
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
