"""Group commit on a real SQLite database: one transaction for a batch, and a piece
that fails fails alone."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Connection, create_engine, text

from hounsfield.archive.index.group_commit import GroupCommitter


@pytest.fixture()
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'g.sqlite'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (uid TEXT PRIMARY KEY)"))
    yield engine
    engine.dispose()


def _committer(engine, transactions: list[int], linger: float = 0.0) -> GroupCommitter:
    def transaction(work):
        with engine.begin() as conn:
            transactions.append(1)
            return work(conn)
    return GroupCommitter(transaction, linger=linger)


def _insert(uid: str, gate: threading.Event | None = None,
            started: threading.Event | None = None):
    def work(conn: Connection) -> str:
        if started is not None:
            started.set()
        if gate is not None:
            gate.wait(5)
        conn.execute(text("INSERT INTO t (uid) VALUES (:uid)"), {"uid": uid})
        return uid
    return work


def _uids(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(r[0] for r in conn.execute(text("SELECT uid FROM t")))


def _insert_many(calls: list[list[str]]):
    """A `run_many` inserting its items (uids) with one executemany; records each call."""
    def run_many(conn: Connection, uids: list[str]) -> list[str]:
        calls.append(list(uids))
        conn.execute(text("INSERT INTO t (uid) VALUES (:uid)"), [{"uid": u} for u in uids])
        return [u.upper() for u in uids]
    return run_many


def _batch(committer: GroupCommitter, works) -> list:
    """Submit `works` while the writer is held by a first piece, so that they make one
    batch; the outcome (value or exception) of each. A work given as a (run_many, item)
    pair goes in by `submit_item`."""
    gate, started = threading.Event(), threading.Event()
    with ThreadPoolExecutor(len(works) + 1) as pool:
        first = pool.submit(committer.submit, _insert("first", gate, started))
        assert started.wait(5)  # the writer runs the first piece, alone
        futures = []
        for w in works:  # one by one, so that the queue keeps their order
            size = committer.waiting()
            futures.append(pool.submit(committer.submit_item, *w) if isinstance(w, tuple)
                           else pool.submit(committer.submit, w))
            while committer.waiting() == size:
                pass
        while committer.waiting() < len(works):
            pass
        gate.set()
        first.result(5)
        outcomes = []
        for f in futures:
            try:
                outcomes.append(f.result(5))
            except Exception as exc:  # noqa: BLE001
                outcomes.append(exc)
    return outcomes


def test_a_batch_commits_in_one_transaction(engine) -> None:
    transactions: list[int] = []
    committer = _committer(engine, transactions)
    outcomes = _batch(committer, [_insert(f"u{i}") for i in range(5)])
    assert outcomes == [f"u{i}" for i in range(5)]
    assert _uids(engine) == ["first"] + [f"u{i}" for i in range(5)]
    assert len(transactions) == 2  # the first piece alone, then the five together


def test_a_failing_piece_fails_alone_and_the_others_commit(engine) -> None:
    transactions: list[int] = []
    committer = _committer(engine, transactions)
    outcomes = _batch(committer, [_insert("a"), _insert("first"), _insert("b")])
    assert outcomes[0] == "a" and outcomes[2] == "b"
    assert "UNIQUE" in str(outcomes[1])
    assert _uids(engine) == ["a", "b", "first"]


def test_items_of_one_kind_run_in_one_call(engine) -> None:
    transactions: list[int] = []
    calls: list[list[str]] = []
    many = _insert_many(calls)
    committer = _committer(engine, transactions)
    outcomes = _batch(committer, [(many, "a"), (many, "b"), _insert("c"), (many, "d"),
                                  (many, "e"), (many, "f")])
    assert outcomes == ["A", "B", "c", "D", "E", "F"]
    assert calls == [["a", "b"], ["d", "e", "f"]]  # a plain piece between splits the run
    assert len(transactions) == 2
    assert _uids(engine) == ["a", "b", "c", "d", "e", "f", "first"]


def test_an_item_that_fails_its_call_fails_alone(engine) -> None:
    transactions: list[int] = []
    calls: list[list[str]] = []
    many = _insert_many(calls)
    committer = _committer(engine, transactions)
    outcomes = _batch(committer, [(many, "a"), (many, "first"), (many, "b")])
    assert outcomes[0] == "A" and outcomes[2] == "B"
    assert "UNIQUE" in str(outcomes[1])
    assert calls == [["a", "first", "b"], ["a"], ["first"], ["b"]]
    assert _uids(engine) == ["a", "b", "first"]


def test_a_run_many_returning_too_few_results_fails_its_items(engine) -> None:
    committer = _committer(engine, [])

    def wrong(conn: Connection, items: list[str]) -> list[str]:
        return []
    outcomes = _batch(committer, [(wrong, "a")])
    assert isinstance(outcomes[0], RuntimeError) and "0 results for 1" in str(outcomes[0])


def test_a_lone_caller_runs_its_transaction_in_its_own_thread(engine) -> None:
    committer = _committer(engine, [])
    threads: list[int] = []

    def work(conn: Connection) -> str:
        threads.append(threading.get_ident())
        return "done"
    assert committer.submit(work) == "done"
    assert threads == [threading.get_ident()]


def test_the_lead_passes_to_the_first_caller_waiting(engine) -> None:
    """While one caller's transaction runs, the others queue; the first of them then
    runs the whole queue, in its own thread, in one transaction."""
    transactions: list[int] = []
    committer = _committer(engine, transactions)
    ran_in: list[int] = []
    callers: list[int] = []

    def recorded(uid: str):
        def work(conn: Connection) -> str:
            ran_in.append(threading.get_ident())
            return _insert(uid)(conn)
        return work

    def submit(uid: str) -> str:
        callers.append(threading.get_ident())
        return committer.submit(recorded(uid))
    gate, started = threading.Event(), threading.Event()
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(committer.submit, _insert("first", gate, started))
        assert started.wait(5)
        futures = []
        for uid in ("a", "b", "c"):
            size = committer.waiting()
            futures.append(pool.submit(submit, uid))
            while committer.waiting() == size:
                pass
        gate.set()
        assert first.result(5) == "first" and [f.result(5) for f in futures] == ["a", "b", "c"]
    assert ran_in == [callers[0]] * 3 and len(transactions) == 2


def test_a_lead_waits_for_an_announced_submission_and_commits_both_at_once(engine) -> None:
    transactions: list[int] = []
    committer = _committer(engine, transactions, linger=30)
    announced, release = threading.Event(), threading.Event()

    def announced_store() -> str:
        with committer.coming() as arrival:
            announced.set()
            release.wait(5)  # parsing, writing the blob
            return committer.submit(_insert("b"), arrival)

    with ThreadPoolExecutor(2) as pool:
        later = pool.submit(announced_store)
        assert announced.wait(5)
        first = pool.submit(committer.submit, _insert("a"))
        time.sleep(0.1)
        assert not first.done()  # its lead waits for the announced store
        release.set()
        assert (first.result(10), later.result(10)) == ("a", "b")
    assert transactions == [1]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 2


def test_a_lone_submission_does_not_wait(engine) -> None:
    transactions: list[int] = []
    committer = _committer(engine, transactions, linger=30)
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(committer.submit, _insert("a")).result(10) == "a"
    assert transactions == [1]


def test_an_announcement_withdrawn_releases_the_lead(engine) -> None:
    """A store announced, then refused before it reaches the index (a file that is not
    DICOM, say), does not keep the lead waiting out its linger."""
    transactions: list[int] = []
    committer = _committer(engine, transactions, linger=30)
    announced, withdraw = threading.Event(), threading.Event()

    def refused_store() -> None:
        with committer.coming():
            announced.set()
            withdraw.wait(5)

    with ThreadPoolExecutor(2) as pool:
        refused = pool.submit(refused_store)
        assert announced.wait(5)
        lead = pool.submit(committer.submit, _insert("a"))
        time.sleep(0.1)
        assert not lead.done()  # waiting for the announced store
        withdraw.set()
        assert lead.result(10) == "a"  # well before its 30 s linger
        refused.result(10)
    assert transactions == [1]


def test_a_lead_waits_no_longer_than_its_linger(engine) -> None:
    transactions: list[int] = []
    committer = _committer(engine, transactions, linger=0.05)
    with committer.coming(), ThreadPoolExecutor(1) as pool:  # announced, never made
        assert pool.submit(committer.submit, _insert("a")).result(10) == "a"
    assert transactions == [1]
