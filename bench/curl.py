"""Throughput of large answers measured with curl (a C client, like wrk for frames).

A Python client reading a 131 MB multipart body costs as much CPU as the server sending
it, and more than reading the same bytes as 250 files: the client, not the server,
would set the figure. Each client is one curl process fetching its URLs one after
another on one connection (`-w` gives each answer's status, size and time); several
clients run at once. The answers' bytes are checked by the Python client beforehand.
"""

from __future__ import annotations

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

CURL = "curl"


@dataclass(frozen=True)
class Answer:
    status: int
    size: int
    seconds: float


@dataclass(frozen=True)
class CurlRun:
    answers: list[Answer]
    wall_seconds: float


def fetch(urls: list[str], headers: dict[str, str], timeout: float) -> list[Answer]:
    """GET each of `urls` on one connection, in order; its answers."""
    argv = [CURL, "-s", "--max-time", str(timeout)]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    for url in urls:
        argv += [url, "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}\\n"]
    out = subprocess.run(argv, capture_output=True, text=True, check=False).stdout
    answers = []
    for line in out.splitlines():
        status, size, seconds = line.split()
        answers.append(Answer(int(status), int(size), float(seconds)))
    return answers


def run(clients: list[list[str]], headers: dict[str, str], timeout: float) -> CurlRun:
    """All `clients` at once, each one curl process with its URL list."""
    started = time.perf_counter()
    with ThreadPoolExecutor(len(clients)) as pool:
        done = list(pool.map(lambda urls: fetch(urls, headers, timeout), clients))
    return CurlRun([a for answers in done for a in answers], time.perf_counter() - started)
