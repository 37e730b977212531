"""Streaming a large study: does the server's memory grow with what it sends?

The whole study is asked as stored (one multipart answer) on one connection and read
in 1 MiB chunks that are counted and dropped, so the client holds none of it. The
server's process tree RSS is sampled every 100 ms meanwhile (process_tree.py); the
growth is the peak over the RSS just before the request.
"""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass

from bench.measurement import ERRORS, Measurement
from bench.process_tree import TreeSampler
from bench.wado_data import StoredFile
from bench.wado_workloads import INSTANCES_AS_STORED, Target

CHUNK = 1 << 20
READ_TIMEOUT_SECONDS = 300.0


@dataclass
class Streamed:
    status: int
    body_bytes: int
    parts: int


def stream(target: Target, files: list[StoredFile], sampler: TreeSampler,
           measurement: Measurement) -> dict:
    """Retrieve the study of ``files``; fill ``measurement``; return the RSS figures."""
    sampler.restart_peaks()
    baseline = sampler.current_rss()
    cpu, started = sampler.cpu_seconds(), time.perf_counter()
    try:
        got = _read(target, files[0])
    except (OSError, http.client.HTTPException) as error:
        got, problem = None, f"transport: {type(error).__name__}: {error}"
    seconds = time.perf_counter() - started
    sampler.sample()
    measurement.server_cpu_seconds = sampler.cpu_seconds() - cpu
    measurement.requests, measurement.units_sent = 1, 1
    measurement.wall_seconds = seconds
    measurement.peak_rss_mb, measurement.peak_pss_mb = sampler.peak_rss / 1e6, \
        sampler.peak_pss / 1e6
    total = sum(f.size for f in files)
    if got is not None:
        problem = _problem(got, len(files), total)
    if problem:
        measurement.status, measurement.errors = ERRORS, 1
        measurement.error_samples = [problem]
    else:
        measurement.units_ok, measurement.payload_bytes_ok = 1, total
        measurement.latency_p50_ms = measurement.latency_p95_ms = seconds * 1000
    growth = (sampler.peak_rss - baseline) / 1e6
    measurement.detail = f"RSS {baseline / 1e6:.0f} MB before, peak {sampler.peak_rss / 1e6:.0f} " \
                         f"MB: grew {growth:.0f} MB while streaming {total / 1e9:.2f} GB"
    return {"server": target.server.name, "rss_before_mb": baseline / 1e6,
            "rss_peak_mb": sampler.peak_rss / 1e6, "rss_growth_mb": growth,
            "study_bytes": total, "seconds": seconds, "right": not problem}


def _read(target: Target, first: StoredFile) -> Streamed:
    connection = http.client.HTTPConnection(target.server.host, target.server.port,
                                            timeout=READ_TIMEOUT_SECONDS)
    try:
        connection.request("GET", target.study_path(first),
                           headers={"Accept": INSTANCES_AS_STORED})
        response = connection.getresponse()
        return _count(response)
    except TimeoutError:
        raise TimeoutError(f"no data for {READ_TIMEOUT_SECONDS:.0f} s") from None
    finally:
        connection.close()


def _count(response: http.client.HTTPResponse) -> Streamed:
    """Bytes and parts of the answer, counted chunk by chunk (delimiters may straddle)."""
    head = response.read(CHUNK)
    delimiter = b"\r\n" + head[:head.find(b"\r\n")]
    total, parts, tail, chunk = 0, 0, b"\r\n", head
    while chunk:
        total += len(chunk)
        window = tail + chunk
        parts += window.count(delimiter)
        tail = window[-(len(delimiter) - 1):]
        chunk = response.read(CHUNK)
    return Streamed(response.status, total, parts - 1)  # the closing delimiter


def _problem(got: Streamed, instances: int, total: int) -> str | None:
    if got.status != 200:
        return f"HTTP {got.status}"
    if got.parts != instances or got.body_bytes < total:
        return f"{got.parts} parts / {got.body_bytes} bytes, expected {instances} " \
               f"instances of {total} bytes"
    return None
