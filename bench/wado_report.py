"""The WADO-RS report (retrieve, and rendered images): one table of every workload and
server, JSON in bench/results/.

Each workload has one headline figure, on which the ratios are taken: MB/s for series
and study retrieval, answers per second for wrk, the p50 latency for the others.
Ratios are Hounsfield's figure over Orthanc's and over nginx's (when nginx was
measured), from the shown rounds.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bench.measurement import OK, Measurement, representative
from bench.report import _git_commit, machine

MEGABYTES = {"series c1", "series c4", "study stream"}
PER_SECOND = {"frames wrk c8", "rendered CT wrk c8"}
SERVERS = ("hounsfield", "orthanc", "nginx")
CONSOLE_MIN_WIDTH = 160


def shown(measurements: list[Measurement]) -> dict[tuple[str, str], Measurement]:
    """The round to show per (workload, server), workloads in the order run."""
    groups: dict[tuple[str, str], list[Measurement]] = {}
    for m in measurements:
        groups.setdefault((m.configuration, m.server), []).append(m)
    workloads = list(dict.fromkeys(m.configuration for m in measurements))
    order = sorted(groups, key=lambda k: (workloads.index(k[0]), _server_rank(k[1])))
    return {key: representative(groups[key]) for key in order}


def _server_rank(server: str) -> int:
    return SERVERS.index(server) if server in SERVERS else len(SERVERS)


def peaks(measurements: list[Measurement]) -> dict[str, float]:
    """The highest RSS (MB) of each server's process tree over all measurements."""
    found: dict[str, float] = {}
    for m in measurements:
        if m.peak_rss_mb is not None:
            found[m.server] = max(found.get(m.server, 0.0), m.peak_rss_mb)
    return found


def headline(m: Measurement) -> float | None:
    if m.status != OK:
        return None
    if m.configuration in MEGABYTES:
        return m.megabytes_per_second
    if m.configuration in PER_SECOND:
        return m.units_per_second
    return m.latency_p50_ms


def _throughput(m: Measurement) -> str:
    if m.configuration in MEGABYTES:
        return _figure(m.megabytes_per_second) + " MB/s"
    return _figure(m.units_per_second) + " /s"


def _figure(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _ratio(by_key: dict, workload: str, other: str) -> str:
    mine, theirs = by_key.get((workload, "hounsfield")), by_key.get((workload, other))
    a, b = (headline(mine) if mine else None), (headline(theirs) if theirs else None)
    return "—" if a is None or not b else f"{a / b:.2f}"


def table(measurements: list[Measurement], title: str) -> Table:
    by_key = shown(measurements)
    others = [o for o in ("orthanc", "nginx") if any(m.server == o for m in measurements)]
    result = Table(title=title, caption_justify="left", caption=escape(
        "ratios on the headline figure (MB/s for series and study, /s for wrk: above 1 "
        "is faster; p50 for the others: below 1 is faster); CPU per request of the "
        "server's process tree"))
    ratios = [f"H/{'Orthanc' if o == 'orthanc' else o}" for o in others]
    for header in ("workload", "server", "throughput", "p50 ms", "p95 ms", "peak RSS MB",
                   "CPU ms/req", *ratios, "errors"):
        left = header in ("workload", "server", "errors")
        result.add_column(header, justify="left" if left else "right", no_wrap=True)
    for (workload, server), m in by_key.items():
        hounsfield = server == "hounsfield"
        cpu = m.cpu_seconds_per_unit
        result.add_row(
            workload, server, _throughput(m), _figure(m.latency_p50_ms),
            _figure(m.latency_p95_ms), _figure(m.peak_rss_mb, 0),
            _figure(None if cpu is None else cpu * 1000, 2),
            *(_ratio(by_key, workload, o) if hounsfield else "" for o in others),
            str(m.errors) if m.status == OK else escape(m.status),
            style=None if m.status == OK else "red")
    return result


def problems(measurements: list[Measurement]) -> list[str]:
    lines = []
    for m in measurements:
        if m.status != OK or m.detail:
            lines.append(f"{m.server} {m.configuration} round {m.round}: {m.status}")
            lines += [f"    {line}" for line in m.detail.splitlines() + m.error_samples]
    return lines


def show(measurements: list[Measurement], title: str) -> None:
    console = Console(width=max(Console().width, CONSOLE_MIN_WIDTH))
    console.print(table(measurements, title))
    console.print("peak RSS over the measurements: " + ", ".join(
        f"{server} {mb:,.0f} MB" for server, mb in peaks(measurements).items()))
    for line in problems(measurements):
        console.print(line, markup=False, highlight=False)


def save(folder: Path, started: float, args: object, versions: dict, extras: dict,
         measurements: list[Measurement], name: str = "wado") -> Path:
    """Append the run to ``folder/<date>-<name>.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{time.strftime('%Y-%m-%d', time.localtime(started))}-{name}.json"
    document = json.loads(path.read_text()) if path.exists() else {"runs": []}
    document["runs"].append({
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "seconds": round(time.time() - started, 1),
        "arguments": {k: str(v) for k, v in vars(args).items()},
        "machine": machine(), "git_commit": _git_commit(), "versions": versions,
        **extras, "peak_rss_mb": peaks(measurements),
        "measurements": [m.as_json() for m in measurements]})
    partial = path.with_suffix(".json.tmp")
    partial.write_text(json.dumps(document, indent=2) + "\n")
    partial.replace(path)
    return path
