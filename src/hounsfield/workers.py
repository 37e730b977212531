"""Several server processes on one port, each with its own listening socket.

With one socket shared by all workers, the worker that wakes first accepts every
connection waiting (an event loop accepts in batches), so a client that opens eight
connections at once often gets one worker for all eight while the other idles. Here
each worker listens on its own socket with SO_REUSEPORT and the kernel spreads new
connections over them by a hash of the addresses (Linux).

The supervisor binds the address first without SO_REUSEPORT as a probe, so a port
already in use is an error at start, as with a single socket; it then keeps a bound,
non-listening SO_REUSEPORT socket of its own (so that port 0 resolves once, and the
address stays reserved while workers restart). It restarts a worker that dies, and on
SIGINT or SIGTERM asks every worker to finish its requests and stop.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("hounsfield.workers")

RESTART_PAUSE = 1.0  # seconds between restarts of a worker that keeps dying
STOP_GRACE = 30.0  # seconds a worker has to finish its requests on shutdown


def available() -> bool:
    """Are connections balanced over per-worker sockets here (Linux SO_REUSEPORT)?"""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """A socket bound with SO_REUSEPORT to host:port and listening (one per worker)."""
    sock = _reuse_port_socket(host, port)
    sock.listen(backlog)
    return sock


def _reuse_port_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _probe(host: str, port: int) -> None:
    """Raise OSError when host:port is taken (bound without SO_REUSEPORT, like a server
    with one socket would)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))


class Supervisor:
    """Runs `count` workers, each `target(host, port)` in a spawned process."""

    def __init__(self, target: Callable[[str, int], Any], host: str, port: int, count: int):
        self.target = target
        self.host = host
        self.count = count
        _probe(host, port)
        self._reserved = _reuse_port_socket(host, port)
        self.port = self._reserved.getsockname()[1]
        self._context = multiprocessing.get_context("spawn")
        self._workers: list[Any] = []
        self._stopping = threading.Event()

    def run(self) -> int:
        """Serve until SIGINT or SIGTERM (or `stop`), keeping `count` workers alive."""
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: self._stopping.set())
        self._workers = [self._start() for _ in range(self.count)]
        log.info("%d workers serving http://%s:%d", self.count, self.host, self.port)
        while not self._stopping.wait(0.5):
            self._replace_dead_workers()
        self._stop_all()
        self._reserved.close()
        return 0

    def stop(self) -> None:
        self._stopping.set()

    def _start(self) -> Any:
        process = self._context.Process(target=self.target, args=(self.host, self.port),
                                        daemon=False)
        process.start()
        return process

    def _replace_dead_workers(self) -> None:
        for index, process in enumerate(self._workers):
            if process.is_alive() or self._stopping.is_set():
                continue
            log.error("worker %s exited with code %s; starting another", process.pid,
                      process.exitcode)
            if self._stopping.wait(RESTART_PAUSE):
                return
            self._workers[index] = self._start()

    def _stop_all(self) -> None:
        for process in self._workers:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes open requests
        for process in self._workers:
            process.join(STOP_GRACE)
            if process.is_alive():
                process.kill()
                process.join()
