"""Several server processes behind one listening socket, each connection handed to the
worker with the fewest open connections.

With one socket shared by the workers, the worker that wakes first accepts every
connection waiting (an event loop accepts in batches): a client that opens four
connections at once often gets one worker for three of them while the other idles.
SO_REUSEPORT spreads connections by a hash of their addresses, which for a handful of
connections is no better (four connections over two workers split 2:2 only 3 times in
8). Here the supervisor accepts, and passes each connection's descriptor (SCM_RIGHTS
over a Unix socket pair) to the worker with the fewest open connections; a worker says
over the same pair when a connection closes. Requests never pass through the
supervisor: it only accepts.

The supervisor restarts a worker that dies, and on SIGINT or SIGTERM stops accepting
and asks every worker to finish its requests and stop.

Workers are fresh interpreters started with `subprocess` and given their end of the
pair, and nothing else: multiprocessing's "spawn" would start a resource tracker
process too (15 MB that serves no purpose here), "fork" would copy the supervisor.
"""

from __future__ import annotations

import logging
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("hounsfield.workers")

RESTART_PAUSE = 1.0  # seconds between restarts of a worker that keeps dying
STOP_GRACE = 30.0  # seconds a worker has to finish its requests on shutdown
CLOSED = b"c"  # worker -> supervisor: one connection closed
HANDED = b"h"  # supervisor -> worker: one connection (its descriptor attached)


def available() -> bool:
    """Can descriptors be passed between processes here (POSIX SCM_RIGHTS)?"""
    return os.name == "posix" and hasattr(socket, "send_fds")


def listening_socket(host: str, port: int, backlog: int = 2048) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


def receive_connections(channel: socket.socket) -> tuple[list[socket.socket], bool]:
    """In a worker: the connections handed over the channel so far (non-blocking), and
    False once the supervisor has gone."""
    connections: list[socket.socket] = []
    while True:
        try:
            message, fds, _flags, _address = socket.recv_fds(channel, 16, 16)
        except (BlockingIOError, InterruptedError):
            return connections, True
        if not message and not fds:
            return connections, False
        connections += [socket.socket(fileno=fd) for fd in fds]


@dataclass
class _Worker:
    process: Any
    channel: socket.socket  # the supervisor's end of the worker's socket pair
    open: int = 0
    handed: int = field(default=0)


def start_python(target: Callable[..., Any], channel: socket.socket | None = None
                 ) -> subprocess.Popen:
    """Run `target()`, or `target(channel)` given a socket, in a new interpreter that
    inherits this one's environment and import path (so `target` imports there) and,
    of this process's descriptors, the channel's only."""
    call = "target()" if channel is None else f"target(socket.socket(fileno={channel.fileno()}))"
    code = ("import importlib, socket; "
            f"target = importlib.import_module({target.__module__!r}); "
            f"[target := getattr(target, name) for name in {target.__qualname__!r}.split('.')]; "
            f"raise SystemExit({call})")
    path = os.pathsep.join(entry for entry in sys.path if entry)
    fds = [] if channel is None else [channel.fileno()]
    return subprocess.Popen([sys.executable, "-c", code], pass_fds=fds,
                            env={**os.environ, "PYTHONPATH": path})


class _WorkerProcess:
    """A worker: `target(channel)` in a new interpreter (`start_python`)."""

    def __init__(self, target: Callable[[socket.socket], Any], channel: socket.socket):
        self._popen = start_python(target, channel)
        self.pid = self._popen.pid

    def is_alive(self) -> bool:
        return self._popen.poll() is None

    @property
    def exitcode(self) -> int | None:
        return self._popen.poll()

    def terminate(self) -> None:
        self._popen.terminate()

    def kill(self) -> None:
        self._popen.kill()

    def join(self, timeout: float | None = None) -> None:
        try:
            self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return


class Supervisor:
    """Runs `count` workers, each `target(channel)` in a process of its own, where
    `channel` is its end of a Unix socket pair on which connections arrive."""

    def __init__(self, target: Callable[[socket.socket], Any], host: str, port: int,
                 count: int):
        self.target = target
        self.host = host
        self.count = count
        self._listener = listening_socket(host, port)
        self.port = self._listener.getsockname()[1]
        self._workers: list[_Worker] = []
        self._stopping = threading.Event()
        self._selector = selectors.DefaultSelector()

    def run(self) -> int:
        """Serve until SIGINT or SIGTERM (or `stop`), keeping `count` workers alive."""
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: self._stopping.set())
        self._listener.setblocking(False)
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._workers = [self._start() for _ in range(self.count)]
        log.info("%d workers serving http://%s:%d", self.count, self.host, self.port)
        last_check = time.monotonic()
        while not self._stopping.is_set():
            for key, _ in self._selector.select(timeout=0.5):
                if key.fileobj is self._listener:
                    self._accept()
                else:
                    self._closed(key.data)
            if time.monotonic() - last_check >= 0.5:
                self._replace_dead_workers()
                last_check = time.monotonic()
        self._selector.unregister(self._listener)
        self._listener.close()
        self._stop_all()
        return 0

    def stop(self) -> None:
        self._stopping.set()

    def _start(self) -> _Worker:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        process = _WorkerProcess(self.target, theirs)
        theirs.close()
        mine.setblocking(False)
        worker = _Worker(process, mine)
        self._selector.register(mine, selectors.EVENT_READ, worker)
        return worker

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            with connection:
                self._hand(connection)

    def _hand(self, connection: socket.socket) -> None:
        """To the live worker with the fewest open connections; the connection is
        closed (the client sees a reset) only when no worker takes it."""
        for worker in sorted(self._workers, key=lambda w: (w.open, w.handed)):
            if not worker.process.is_alive():
                continue
            try:
                socket.send_fds(worker.channel, [HANDED], [connection.fileno()])
            except OSError:
                continue
            worker.open += 1
            worker.handed += 1
            return
        log.error("no worker could take a connection")

    def _closed(self, worker: _Worker) -> None:
        try:
            news = worker.channel.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            news = b""
        if not news:  # the worker is gone
            self._selector.unregister(worker.channel)
            worker.channel.close()
            worker.open = 1 << 30
            return
        worker.open = max(0, worker.open - news.count(CLOSED))

    def _replace_dead_workers(self) -> None:
        for index, worker in enumerate(self._workers):
            if worker.process.is_alive() or self._stopping.is_set():
                continue
            log.error("worker %s exited with code %s; starting another", worker.process.pid,
                      worker.process.exitcode)
            if worker.channel.fileno() >= 0:
                self._selector.unregister(worker.channel)
                worker.channel.close()
            if self._stopping.wait(RESTART_PAUSE):
                return
            self._workers[index] = self._start()

    def _stop_all(self) -> None:
        for worker in self._workers:
            if worker.process.is_alive():
                worker.process.terminate()  # SIGTERM: uvicorn finishes open requests
        for worker in self._workers:
            worker.process.join(STOP_GRACE)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            if worker.channel.fileno() >= 0:
                worker.channel.close()
