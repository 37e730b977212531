"""Group commit: write work from many threads shares transactions, and their fsyncs.

Each store needs two durable index writes. Run one by one, every write pays a commit
(an fsync) and, on SQLite, waits its turn for the database's single writer lock. Here one
writer thread takes whatever work is queued, runs it all in one shared transaction and
commits once; should a piece fail (e.g. on a unique key), the batch is rolled back and
each piece runs alone, so that it fails alone.
A caller blocks until the commit that holds its work is durable, so acknowledging after
`submit` returns is as safe as committing alone.

Work of one kind can also run set-based: `submit_item(run_many, item)` queues an item,
and the items of neighbouring submissions with the same `run_many` are handed to it in
one call (one multi-row insert for many stored instances, say).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy import Connection

T = TypeVar("T")
Item = TypeVar("Item")
Work = Callable[[Connection], Any]
RunMany = Callable[[Connection, list[Any]], list[Any]]
_STOP = object()


class _Item:
    """An item for `run_many`, which runs every such item of a batch in one call."""

    __slots__ = ("item", "run_many")

    def __init__(self, run_many: RunMany, item: Any):
        self.run_many = run_many
        self.item = item


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

    def submit_item(self, run_many: Callable[[Connection, list[Item]], list[T]], item: Item) -> T:
        """Run `run_many(conn, items)` in the next shared transaction, `item` among the
        `items` submitted with it; return this item's result once it is committed.
        `run_many` returns one result per item, in order."""
        future: Future = Future()
        self._queue.put((_Item(run_many, item), future))
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
        """One transaction for the whole batch. Should a piece fail, the transaction is
        rolled back and every piece runs again in a transaction of its own, so that it
        fails alone (pieces are index work only: running one again after a rollback is
        running it once). Failures are rare (a race on one SOP Instance UID), and a
        savepoint around every piece would cost two more statements each: two round trips
        to a server database."""
        results: list[Any] = []

        def run_all(conn: Connection) -> None:
            results.clear()
            for run in _runs([work for work, _ in batch]):
                results.extend(run(conn))

        try:
            self._transaction(run_all)
        except Exception as exc:  # noqa: BLE001 - handed to the caller, or retried alone
            if len(batch) == 1:
                batch[0][1].set_exception(exc)
                return
            for piece in batch:
                self._run([piece])
            return
        except BaseException as exc:  # nothing in the batch is durable; the writer goes on
            for _, future in batch:
                future.set_exception(exc)
            return
        for (_, future), value in zip(batch, results, strict=True):
            future.set_result(value)


def _runs(works: list[Any]) -> list[Callable[[Connection], list[Any]]]:
    """The batch as calls, each returning its pieces' results: a run of neighbouring
    items with the same `run_many` is one call."""
    runs: list[Callable[[Connection], list[Any]]] = []
    start = 0
    while start < len(works):
        work = works[start]
        if not isinstance(work, _Item):
            runs.append(lambda conn, work=work: [work(conn)])
            start += 1
            continue
        end = start + 1
        while end < len(works) and isinstance(works[end], _Item) \
                and works[end].run_many == work.run_many:
            end += 1
        items = [w.item for w in works[start:end]]
        runs.append(lambda conn, run_many=work.run_many, items=items:
                    _checked(run_many(conn, items), len(items)))
        start = end
    return runs


def _checked(results: list[Any], count: int) -> list[Any]:
    if len(results) != count:
        raise RuntimeError(f"run_many returned {len(results)} results for {count} items")
    return results
