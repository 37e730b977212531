"""The servers of the WADO-RS benchmark, loaded once with the same files.

- Hounsfield: the files are stored with ``hounsfield import`` (the archive's store
  path, as STOW-RS uses) before ``hounsfield serve`` starts on the same data folder.
- Orthanc: started as for STOW-RS, then loaded through its REST API
  (``POST /instances``, one file a request, two connections).
- nginx (Debian nginx-light or nginx): our own process and configuration, serving the
  folder of the very files Hounsfield stored, as the line for what the machine can do.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

from bench import servers
from bench.wado_data import StoredFile

NGINX_BINARY = Path("/usr/sbin/nginx")
ORTHANC_CONNECTIONS = 2

NGINX_CONFIG = """\
daemon off;
master_process on;
worker_processes 2;
user {user};
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    types {{ }}
    default_type application/dicom;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location = /health {{ return 200 "ok"; }}
    }}
}}
"""


class ImportedHounsfield(servers.Hounsfield):
    """``hounsfield serve`` on a data folder filled by ``hounsfield import`` first."""

    def __init__(self, files: list[Path], use_postgres: bool = False,
                 workers: int | None = None) -> None:
        super().__init__(use_postgres, workers)
        self.files = files
        self.data_dir: Path | None = None

    @contextlib.contextmanager
    def launch(self, folder: Path, port: int) -> Iterator[servers.Launch]:
        with super().launch(folder, port) as launch:
            self.data_dir = folder / "data"
            self._import(launch.env, folder / "import.log")
            yield launch

    def _import(self, env: dict[str, str], log_path: Path) -> None:
        argv = [*servers._hounsfield_command(), "import", "--data", str(self.data_dir),
                "--jobs", str(os.cpu_count() or 1), *map(str, self.files)]
        with open(log_path, "wb") as log:
            done = subprocess.run(argv, env={**os.environ, **env}, stdout=log,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise servers.ServerStartError(
                f"hounsfield import exited with {done.returncode}\n"
                + servers.log_tail(log_path))

    @property
    def blob_dir(self) -> Path:
        assert self.data_dir is not None, "not launched"
        return self.data_dir / "blobs"


def blob_paths(blob_dir: Path) -> dict[str, str]:
    """SOP Instance UID -> URL path of its stored file below ``blob_dir``.

    Blob keys are ``{study}/{series}/{sop instance}.{digest}.dcm`` (archive/blobs/base.py).
    """
    found = {}
    for path in blob_dir.glob("*/*/*.dcm"):
        sop_instance = path.name.rsplit(".", 2)[0]
        found[sop_instance] = "/" + path.relative_to(blob_dir).as_posix()
    return found


class Nginx:
    """nginx serving a folder statically: one file per request, Range supported."""

    name = "nginx"

    def __init__(self, root: Path) -> None:
        self.root = root

    def version(self) -> str:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            done = subprocess.run([str(NGINX_BINARY), "-v"], capture_output=True, text=True,
                                  timeout=10)
            return done.stderr.strip()
        return "unknown"

    @contextlib.contextmanager
    def launch(self, folder: Path, port: int) -> Iterator[servers.Launch]:
        ensure_installed("nginx-light", NGINX_BINARY)
        config = folder / "nginx.conf"
        config.write_text(NGINX_CONFIG.format(folder=folder, port=port, root=self.root,
                                              user=_user()))
        argv = [str(NGINX_BINARY), "-p", str(folder), "-c", str(config),
                "-e", str(folder / "error.log")]
        yield servers.Launch(argv, "/health", "")


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def ensure_installed(package: str, binary: Path) -> None:
    """apt-get install ``package`` when ``binary`` is absent (as for Orthanc)."""
    if binary.exists():
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt = ["apt-get", "-y", "-q"]
    subprocess.run([*apt, "install", "--no-install-recommends", package], check=True, env=env)
    if package.startswith("nginx"):  # the package starts the system service: not ours
        subprocess.run(["service", "nginx", "stop"], check=False, env=env)


def load_orthanc(server: servers.RunningServer, files: list[StoredFile]) -> list[str]:
    """POST every file to Orthanc's /instances; the reasons of the files it refused."""
    pending, refused, lock = list(reversed(files)), [], threading.Lock()

    def worker() -> None:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=120)
        try:
            while True:
                with lock:
                    if not pending:
                        return
                    file = pending.pop()
                connection.request("POST", "/instances", file.path.read_bytes(),
                                   {"Content-Type": "application/dicom"})
                response = connection.getresponse()
                answer = response.read()
                if response.status != 200:
                    with lock:
                        refused.append(f"{file.path.name}: HTTP {response.status} "
                                       f"{answer[:100]!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(ORTHANC_CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return refused


