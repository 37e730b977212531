"""The HTTP load driver shared by every workload.

Requests are built before the clock starts. ``concurrency`` threads, each with one
keep-alive ``http.client`` connection, take the next request from a shared counter
until all are sent or the deadline passes. Sockets release the GIL while sending
and receiving, so a few threads are enough to keep a server busy; ``bench.sink``
measures how far they go on their own.

Every answer goes through the workload's check: an answer that is not right counts
as an error, never as work done.
"""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

REQUEST_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    units: int = 1  # instances (or frames, or studies) this request moves
    payload_bytes: int = 0  # DICOM bytes it moves, for MB/s
    expected: object = None  # what the check compares the answer with
    content_type: str | None = None  # the answer's media type, when it must be one
    # sent right after, on the same connection, as part of the same exchange (nginx
    # fetching a series file by file): the exchange's time covers them all
    follow: tuple[HttpRequest, ...] = ()


@dataclass(frozen=True)
class Exchange:
    request: HttpRequest
    seconds: float
    status: int | None
    problem: str | None  # None when the answer is right


Check = Callable[[HttpRequest, int, bytes], "str | None"]


@dataclass
class LoadOutcome:
    exchanges: list[Exchange]
    not_sent: list[HttpRequest]
    wall_seconds: float
    client_cpu_seconds: float


class _Drive:
    def __init__(
        self, host: str, port: int, requests: Sequence[HttpRequest], check: Check, deadline: float
    ) -> None:
        self.host, self.port = host, port
        self.requests, self.check, self.deadline = requests, check, deadline
        self.exchanges: list[Exchange | None] = [None] * len(requests)
        self._next = itertools.count()
        self._lock = threading.Lock()

    def _take(self) -> int | None:
        with self._lock:
            index = next(self._next)
        if index >= len(self.requests) or time.monotonic() > self.deadline:
            return None
        return index

    def worker(self) -> None:
        connection = http.client.HTTPConnection(
            self.host, self.port, timeout=REQUEST_TIMEOUT_SECONDS
        )
        try:
            while (index := self._take()) is not None:
                self.exchanges[index] = self._exchange(connection, self.requests[index])
        finally:
            connection.close()

    def _exchange(self, connection: http.client.HTTPConnection, request: HttpRequest) -> Exchange:
        if not request.follow:
            return self._single(connection, request)
        seconds = 0.0
        for one in (request, *request.follow):
            done = self._single(connection, one)
            seconds += done.seconds
            if done.problem:
                break
        return Exchange(request, seconds, done.status, done.problem)

    def _single(self, connection: http.client.HTTPConnection, request: HttpRequest) -> Exchange:
        return exchange(connection, request, self.check)


def exchange(connection: http.client.HTTPConnection, request: HttpRequest,
             check: Check) -> Exchange:
    """Send one request, read its whole answer, check it; a transport error closes
    the connection (the next request opens a new one)."""
    started = time.perf_counter()
    try:
        connection.request(request.method, request.path, request.body, request.headers)
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        return Exchange(request, time.perf_counter() - started, None,
                        f"transport: {type(error).__name__}: {error}")
    seconds = time.perf_counter() - started
    problem = check(request, response.status, body)
    if problem is None and request.content_type:
        problem = media_type_problem(request.content_type, response.getheader("Content-Type"))
    return Exchange(request, seconds, response.status, problem)


def media_type_problem(expected: str, given: str | None) -> str | None:
    """None when ``given`` (a Content-Type header) is the media type ``expected``,
    parameters aside (RFC 9110 §8.3.1: type and subtype are case-insensitive)."""
    media_type = (given or "").split(";", 1)[0].strip().lower()
    if media_type != expected.lower():
        return f"Content-Type {given!r}, expected {expected}"
    return None


def drive(
    host: str,
    port: int,
    requests: Sequence[HttpRequest],
    concurrency: int,
    check: Check,
    time_limit: float,
) -> LoadOutcome:
    """Send ``requests`` with ``concurrency`` connections; stop taking new ones at the limit."""
    run = _Drive(host, port, requests, check, time.monotonic() + time_limit)
    threads = [
        threading.Thread(target=run.worker, name=f"client-{n}", daemon=True)
        for n in range(concurrency)
    ]
    cpu, started = time.process_time(), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    done = [exchange for exchange in run.exchanges if exchange is not None]
    not_sent = [
        request
        for request, exchange in zip(requests, run.exchanges, strict=True)
        if exchange is None
    ]
    return LoadOutcome(done, not_sent, wall, cpu)
