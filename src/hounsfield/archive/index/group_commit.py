"""Group commit: write work from many threads shares transactions, and their fsyncs.

Each store needs two durable index writes. Run one by one, every write pays a commit
(an fsync) and, on SQLite, waits its turn for the database's single writer lock. Here the
work queued while a transaction runs goes into the next one, committed once; should a
piece fail (e.g. on a unique key), the batch is rolled back and each piece runs alone, so
that it fails alone. A caller blocks until the commit that holds its work is durable, so
acknowledging after `submit` returns is as safe as committing alone.

No thread of its own: the caller that finds no transaction under way leads, running its
own work and whatever is queued at that moment in one transaction; then it hands the
lead to the first caller still waiting, if any. A lone caller so runs its work itself,
without waking another thread and being woken in turn (on a virtual machine, such a hop
costs about 0.1 ms of CPU).

Work of one kind can also run set-based: `submit_item(run_many, item)` queues an item,
and the items of neighbouring submissions with the same `run_many` are handed to it in
one call (one multi-row insert for many stored instances, say).
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection

T = TypeVar("T")
Item = TypeVar("Item")
Work = Callable[[Connection], Any]
RunMany = Callable[[Connection, list[Any]], list[Any]]


class _Item:
    """An item for `run_many`, which runs every such item of a batch in one call."""

    __slots__ = ("item", "run_many")

    def __init__(self, run_many: RunMany, item: Any):
        self.run_many = run_many
        self.item = item


class _Pending:
    """A submission waiting for its outcome, or for the lead."""

    __slots__ = ("work", "value", "error", "lead", "_wake")

    def __init__(self, work: Any):
        self.work = work
        self.value: Any = None
        self.error: BaseException | None = None
        self.lead = False  # woken to lead rather than with an outcome
        self._wake = threading.Lock()
        self._wake.acquire()

    def wait(self) -> None:
        self._wake.acquire()

    def wake(self) -> None:
        self._wake.release()

    def set_result(self, value: Any) -> None:
        self.value = value

    def set_exception(self, error: BaseException) -> None:
        self.error = error

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


class GroupCommitter:
    def __init__(self, transaction: Callable[[Work], Any], *, max_batch: int = 64):
        """`transaction(work)` runs `work(conn)` in one transaction and commits it."""
        self._transaction = transaction
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: collections.deque[_Pending] = collections.deque()
        self._leading = False  # a caller runs transactions, or has been told to

    def submit(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in the next shared transaction; return once it is committed."""
        return self._submit(_Pending(work))

    def submit_item(self, run_many: Callable[[Connection, list[Item]], list[T]], item: Item) -> T:
        """Run `run_many(conn, items)` in the next shared transaction, `item` among the
        `items` submitted with it; return this item's result once it is committed.
        `run_many` returns one result per item, in order."""
        return self._submit(_Pending(_Item(run_many, item)))

    def waiting(self) -> int:
        """Submissions queued for a transaction not yet begun (for tests)."""
        with self._lock:
            return len(self._queue)

    def _submit(self, pending: _Pending) -> Any:
        with self._lock:
            self._queue.append(pending)
            lead, self._leading = not self._leading, True
        if not lead:
            pending.wait()
        if lead or pending.lead:
            self._lead(pending)
        return pending.outcome()

    def _lead(self, own: _Pending) -> None:
        """Run the queued work, `own` first among it, in one transaction; then hand
        the lead on."""
        batch: list[_Pending] = []
        try:
            with self._lock:
                batch = [self._queue.popleft()
                         for _ in range(min(len(self._queue), self._max_batch))]
            self._run(batch)
        finally:
            with self._lock:
                following = self._queue[0] if self._queue else None
                self._leading = following is not None
            for pending in batch:
                if pending is not own:
                    pending.wake()
            if following is not None:
                following.lead = True
                following.wake()

    def _run(self, batch: list[_Pending]) -> None:
        """One transaction for the whole batch. Should a piece fail, the transaction is
        rolled back and every piece runs again in a transaction of its own, so that it
        fails alone (pieces are index work only: running one again after a rollback is
        running it once). Failures are rare (a race on one SOP Instance UID), and a
        savepoint around every piece would cost two more statements each: two round trips
        to a server database."""
        results: list[Any] = []

        def run_all(conn: Connection) -> None:
            results.clear()
            for run in _runs([pending.work for pending in batch]):
                results.extend(run(conn))

        try:
            self._transaction(run_all)
        except Exception as exc:  # noqa: BLE001 - handed to the caller, or retried alone
            if len(batch) == 1:
                batch[0].set_exception(exc)
                return
            for piece in batch:
                self._run([piece])
            return
        except BaseException as exc:  # nothing in the batch is durable
            for pending in batch:
                pending.set_exception(exc)
            raise
        for pending, value in zip(batch, results, strict=True):
            pending.set_result(value)


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
