"""The servers under test: how each is launched, and one way to start and stop them all.

Each start gets a free loopback port and a fresh data folder, runs in its own process
group (so stopping it stops its workers too), and is ready once its health URL
answers 200. The process tree is sampled from /proc for memory and CPU.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench import postgres

ORTHANC_BINARY = Path("/usr/sbin/Orthanc")
ORTHANC_DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
HOUNSFIELD_AET = "HOUNSFIELD"
STOP_GRACE_SECONDS = 10.0


class ServerStartError(Exception):
    """A server did not come up; the message ends with the tail of its log."""


@dataclass(frozen=True)
class Launch:
    """How to run one server process: argv, extra environment, health path."""

    argv: list[str]
    health_path: str
    dicomweb_path: str
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunningServer:
    name: str
    pid: int
    host: str
    port: int
    dicomweb_path: str
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}{self.dicomweb_path}"


def free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on 127.0.0.1 (held open together while chosen)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


class Hounsfield:
    name = "hounsfield"

    def __init__(self, use_postgres: bool = False, workers: int | None = None) -> None:
        self.use_postgres = use_postgres
        self.workers = workers

    def version(self) -> str:
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            return version("hounsfield")
        return "unknown"

    @contextlib.contextmanager
    def launch(self, folder: Path, port: int) -> Iterator[Launch]:
        argv = [*_hounsfield_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
        argv += ["--data", str(folder / "data")]
        if self.workers:
            argv += ["--workers", str(self.workers)]
        with contextlib.ExitStack() as stack:
            env = {}
            if self.use_postgres:
                env["HOUNSFIELD_DATABASE_URL"] = stack.enter_context(postgres.fresh_database())
            yield Launch(argv, "/health", f"/aets/{HOUNSFIELD_AET}/rs", env)


def _hounsfield_command() -> list[str]:
    """The ``hounsfield`` script of this interpreter's environment, else the module."""
    script = Path(sys.executable).with_name("hounsfield")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "hounsfield"]


class Orthanc:
    """Orthanc with its DICOMweb plugin, in a process and folders of our own.

    Orthanc 1.10 listens on every interface; RemoteAccessAllowed=false makes it refuse
    any client that is not on loopback.
    """

    name = "orthanc"

    def version(self) -> str:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            output = subprocess.run(
                [str(ORTHANC_BINARY), "--version"], capture_output=True, text=True, timeout=10
            ).stdout
            return output.splitlines()[0].strip()
        return "unknown"

    @contextlib.contextmanager
    def launch(self, folder: Path, port: int) -> Iterator[Launch]:
        ensure_orthanc_installed()
        config_path = folder / "orthanc.json"
        config_path.write_text(json.dumps(self.config(folder, port), indent=2))
        yield Launch([str(ORTHANC_BINARY), str(config_path)], "/system", "/dicom-web")

    @staticmethod
    def config(folder: Path, port: int) -> dict:
        dicom_port = port
        while dicom_port == port:  # the HTTP port is free again until Orthanc binds it
            (dicom_port,) = free_ports(1)
        return {
            "Name": "bench-orthanc",
            "HttpPort": port,
            "DicomPort": dicom_port,
            "StorageDirectory": str(folder / "storage"),
            "IndexDirectory": str(folder / "index"),
            "Plugins": [str(ORTHANC_DICOMWEB_PLUGIN)],
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
        }


def ensure_orthanc_installed() -> None:
    if ORTHANC_BINARY.exists() and ORTHANC_DICOMWEB_PLUGIN.exists():
        return
    apt = ["apt-get", "-y", "-q"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*apt, "update"], check=True, env=env)
    subprocess.run(
        [*apt, "install", "--no-install-recommends", "orthanc", "orthanc-dicomweb"],
        check=True,
        env=env,
    )


class Sink:
    """A null STOW-RS server (``bench/sink.py``): what the client alone can reach."""

    name = "sink"

    def version(self) -> str:
        return "bench"

    @contextlib.contextmanager
    def launch(self, folder: Path, port: int) -> Iterator[Launch]:
        argv = [sys.executable, "-m", "bench.sink", "--port", str(port)]
        repo_root = Path(__file__).resolve().parent.parent
        path = os.pathsep.join(filter(None, [str(repo_root), os.environ.get("PYTHONPATH")]))
        yield Launch(argv, "/health", "/sink", {"PYTHONPATH": path})


class HounsfieldPostgres(Hounsfield):
    """Hounsfield indexing into a fresh PostgreSQL database: beside ``hounsfield`` (on
    SQLite) in one run, the two are measured in the same hour of a noisy machine."""

    name = "hounsfield-postgres"

    def __init__(self, use_postgres: bool = True, workers: int | None = None) -> None:
        super().__init__(True, workers)


KINDS = {"hounsfield": Hounsfield, "hounsfield-postgres": HounsfieldPostgres,
         "orthanc": Orthanc, "sink": Sink}


@contextlib.contextmanager
def start(kind, folder: Path, ready_timeout: float = 60.0) -> Iterator[RunningServer]:
    """Run ``kind`` with data in ``folder`` until the block ends; always stopped."""
    folder.mkdir(parents=True, exist_ok=True)
    (port,) = free_ports(1)
    log_path = folder / "server.log"
    with kind.launch(folder, port) as launch, open(log_path, "wb") as log:
        process = _popen(launch, folder, log)
        try:
            _wait_ready(process, port, launch.health_path, ready_timeout, log_path)
            yield RunningServer(
                kind.name, process.pid, "127.0.0.1", port, launch.dicomweb_path, log_path
            )
        finally:
            stop(process)


def _popen(launch: Launch, folder: Path, log) -> subprocess.Popen:
    env = {**os.environ, **launch.env}
    return subprocess.Popen(
        launch.argv,
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_ready(process, port: int, path: str, timeout: float, log_path: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerStartError(f"exited with {process.returncode}\n{log_tail(log_path)}")
        if _answers_200(port, path):
            return
        time.sleep(0.1)
    raise ServerStartError(f"not ready after {timeout:.0f} s\n{log_tail(log_path)}")


def _answers_200(port: int, path: str) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the whole process group, SIGKILL if it lingers."""
    for sig, wait in ((signal.SIGTERM, STOP_GRACE_SECONDS), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(wait)
            _kill_group_leftovers(process.pid)
            return


def _kill_group_leftovers(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def log_tail(path: Path, lines: int = 15) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""
