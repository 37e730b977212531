"""Several workers behind one port: the supervisor hands each connection to the worker
with the fewest open connections."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from hounsfield import workers
from tests.e2e.server import Server

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not workers.available(), reason="needs SCM_RIGHTS (POSIX)")]


def _pid_server(channel: socket.socket) -> None:
    """A worker that answers each connection handed to it with its process id, keeps it
    open until the client closes it, then reports it closed."""
    while True:
        select.select([channel], [], [])
        channel.setblocking(False)
        connections, supervised = workers.receive_connections(channel)
        if not supervised:
            return
        for conn in connections:
            threading.Thread(target=_answer, args=(conn, channel), daemon=True).start()


def _answer(conn: socket.socket, channel: socket.socket) -> None:
    with conn:
        conn.setblocking(True)
        conn.sendall(str(os.getpid()).encode())
        conn.recv(1)  # until the client closes
    channel.send(workers.CLOSED)


def _ask_pid(port: int) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        return int(conn.recv(64))


@pytest.fixture
def supervisor():
    running = workers.Supervisor(_pid_server, "127.0.0.1", 0, 2)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    yield running
    running.stop()
    thread.join(60)


def _pids(port: int, count: int, timeout: float = 30) -> set[int]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return {_ask_pid(port) for _ in range(count)}
        except (OSError, ValueError):  # not up yet, or handed to a worker as it died
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_connections_are_spread_over_the_workers(supervisor) -> None:
    assert len(_pids(supervisor.port, 64)) == 2


def test_open_connections_are_balanced(supervisor) -> None:
    """Four connections opened at once, and kept open: two to each worker."""
    _pids(supervisor.port, 1)  # both workers up
    clients = [socket.create_connection(("127.0.0.1", supervisor.port), timeout=10)
               for _ in range(4)]
    try:
        pids = [int(c.recv(64)) for c in clients]
    finally:
        for client in clients:
            client.close()
    assert sorted(pids.count(p) for p in set(pids)) == [2, 2]


def test_a_worker_that_dies_is_replaced(supervisor) -> None:
    first = _pids(supervisor.port, 64)
    os.kill(first.pop(), signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = _pids(supervisor.port, 64)
        if len(now) == 2 and first < now:
            return
        time.sleep(0.2)
    raise AssertionError("the killed worker was not replaced")


def test_a_port_in_use_is_refused_at_start() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            workers.Supervisor(_pid_server, "127.0.0.1", taken.getsockname()[1], 2)


def test_serve_on_a_port_in_use_exits_with_a_message(tmp_path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = subprocess.run(
            [sys.executable, "-m", "hounsfield", "serve", "--workers", "2", "--port",
             str(taken.getsockname()[1]), "--data", str(tmp_path / "data")],
            capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "cannot listen on 127.0.0.1:" in done.stderr


def test_two_workers_serve_and_stop_on_sigterm(tmp_path) -> None:
    server = Server(tmp_path / "data", env={"HOUNSFIELD_WORKERS": "2"}).start()
    try:
        with httpx.Client() as client:
            statuses = {client.get(server.rs + "/studies").status_code for _ in range(20)}
        assert statuses == {204}  # an empty archive: no studies to match
    finally:
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(60) == 0
    with pytest.raises(httpx.TransportError):
        httpx.get(server.url + "/health", timeout=2)


def test_workers_stop_when_their_supervisor_is_killed(tmp_path) -> None:
    """A worker whose supervisor is gone finishes and exits: nothing is left serving."""
    server = Server(tmp_path / "data", env={"HOUNSFIELD_WORKERS": "2"}).start()
    assert server.process is not None
    supervisor = server.process.pid
    workers_of = subprocess.run(["pgrep", "-P", str(supervisor)],
                                capture_output=True, text=True).stdout.split()
    assert len(workers_of) == 2  # the workers, and no other process (no resource tracker)
    os.kill(supervisor, signal.SIGKILL)
    server.process.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        alive = [pid for pid in workers_of if _running(pid)]
        if not alive:
            return
        time.sleep(0.2)
    server.kill()
    raise AssertionError(f"workers {alive} outlived their supervisor")


def _running(pid: str) -> bool:
    """Is the process alive (not gone, not a zombie waiting for its parent)?"""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
