"""Random-frame throughput measured with wrk (Debian package wrk).

A Lua script holds every target (path, and a Range header for nginx) and picks one
at random per request (seeded per thread); its ``response`` hook counts answers whose
status is not the expected one, and ``done`` prints one line the benchmark parses.
wrk reads every answer whole; only Python-side requests compare bytes.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.measurement import Measurement
from bench.process_tree import TreeSampler
from bench.wado_servers import ensure_installed

WRK_BINARY = Path("/usr/bin/wrk")
THREADS = 2

SCRIPT = """\
local targets = {
%(targets)s
}
local accept = %(accept)s
local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  wrong = 0
  math.randomseed(%(seed)d + id)
end
function request()
  local target = targets[math.random(1, #targets)]
  local headers = {}
  if accept ~= "" then headers["Accept"] = accept end
  if target[2] ~= "" then headers["Range"] = target[2] end
  return wrk.format("GET", target[1], headers)
end
function response(status, headers, body)
  if status ~= %(status)d then wrong = wrong + 1 end
end
function done(summary, latency, requests)
  local w = 0
  for _, t in ipairs(threads) do w = w + t:get("wrong") end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%%d wrong=%%d socket_errors=%%d duration_us=%%d p50_us=%%d p95_us=%%d\\n",
    summary.requests, w, e.connect + e.read + e.write + e.timeout, summary.duration,
    latency:percentile(50), latency:percentile(95)))
end
"""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    wrong: int  # answers with another status
    socket_errors: int
    seconds: float
    p50_ms: float
    p95_ms: float

    @property
    def right_per_second(self) -> float:
        return (self.requests - self.wrong) / self.seconds if self.seconds else 0.0


class WrkError(Exception):
    """wrk did not run, or printed no result line."""


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def script(targets: list[tuple[str, str]], accept: str, status: int, seed: int = 1) -> str:
    lines = ",\n".join(f"  {{{_lua_string(path)}, {_lua_string(byte_range)}}}"
                       for path, byte_range in targets)
    return SCRIPT % {"targets": lines, "accept": _lua_string(accept), "status": status,
                     "seed": seed}


def run(url: str, script_path: Path, connections: int, seconds: float) -> WrkResult:
    """wrk on ``url`` (scheme, host and port) for ``seconds`` with ``connections``."""
    ensure_installed("wrk", WRK_BINARY)
    argv = [str(WRK_BINARY), f"-t{THREADS}", f"-c{connections}", f"-d{seconds:.0f}s",
            "--timeout", "10s", "-s", str(script_path), url]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    match = re.search(r"BENCH (.*)", done.stdout)
    if done.returncode != 0 or not match:
        raise WrkError(f"wrk exited with {done.returncode}: {done.stderr.strip()[:200]}")
    values = dict(pair.split("=") for pair in match.group(1).split())
    return WrkResult(int(values["requests"]), int(values["wrong"]),
                     int(values["socket_errors"]), int(values["duration_us"]) / 1e6,
                     int(values["p50_us"]) / 1000, int(values["p95_us"]) / 1000)


def measure(m: Measurement, sampler: TreeSampler, host: str, port: int, script_path: Path,
            connections: int, seconds: float) -> None:
    """Run wrk against one server and fill `m` with its figures and the server's CPU and
    peak RSS as `sampler` saw them."""
    sampler.restart_peaks()
    cpu = sampler.cpu_seconds()
    result = run(f"http://{host}:{port}", script_path, connections, seconds)
    m.server_cpu_seconds = sampler.cpu_seconds() - cpu
    m.peak_rss_mb = sampler.peak_rss / 1e6
    m.requests = m.units_sent = result.requests
    m.units_ok = result.requests - result.wrong
    m.errors = result.wrong + result.socket_errors
    m.wall_seconds = result.seconds
    m.latency_p50_ms, m.latency_p95_ms = result.p50_ms, result.p95_ms
    if m.errors:
        m.status = "errors"
        m.error_samples = [f"{result.wrong} answers with another status, "
                           f"{result.socket_errors} socket errors"]
