"""The benchmark's report: rich tables on the terminal, JSON in ``bench/results/``.

The JSON file is named ``<date>-<hostname>.json`` and holds every run of that day on
that machine, appended in order.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bench.measurement import NOT_STARTED_EARLIER, OK, Measurement, representative

# Above this share of the client's own ceiling, a server figure may be the client's.
CLIENT_LIMIT_WARNING = 0.5
CONSOLE_MIN_WIDTH = 130  # the results table's width; rich assumes 80 when piped
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    args: object
    started: float
    finished: float
    kinds: list
    client: list[Measurement]
    measured: list[Measurement]

    def rounds(self) -> dict[tuple[str, str], list[Measurement]]:
        """Every round, by (configuration, server): configurations in order, sink first."""
        order = ["sink", *self.args.servers]
        groups: dict[tuple[str, str], list[Measurement]] = {}
        for m in sorted(self.client + self.measured, key=lambda m: order.index(m.server)):
            groups.setdefault((m.configuration, m.server), []).append(m)
        configurations = list(dict.fromkeys(m.configuration for m in self.client + self.measured))
        return dict(sorted(groups.items(), key=lambda item: configurations.index(item[0][0])))

    def shown(self) -> dict[tuple[str, str], Measurement]:
        return {key: representative(group) for key, group in self.rounds().items()}


def one_line(m: Measurement) -> str:
    if m.status != OK:
        first = (m.detail or "; ".join(m.error_samples)).splitlines()
        return f"{m.status}: {first[0] if first else ''}"
    return (
        f"{m.units_per_second:.1f} inst/s, {m.megabytes_per_second:.1f} MB/s, "
        f"p50 {m.latency_p50_ms:.1f} ms, RSS {m.peak_rss_mb:.0f} MB"
    )


def _figure(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _ms_per_unit(seconds: float | None, m: Measurement) -> float | None:
    return None if seconds is None or not m.units_ok else seconds * 1000 / m.units_ok


def _throughput(shown: Measurement, rounds: list[Measurement]) -> str:
    """Median inst/s, with the range over the rounds when there were several."""
    if shown.status != OK or len(rounds) == 1:
        return _figure(shown.units_per_second)
    values = [m.units_per_second or 0.0 for m in rounds]
    return f"{shown.units_per_second:,.1f} [{min(values):,.0f}–{max(values):,.0f}]"


def results_table(run: Run) -> Table:
    database = any(m.database_cpu_seconds is not None for m in run.measured)
    several = run.args.repeat > 1
    rounds = f", median of {run.args.repeat} rounds" if several else ""
    legend = "c = connections, x = instances per request"
    table = Table(
        caption_justify="left",
        title=f"STOW-RS: {run.args.instances} CT instances (512×512, 16 bit) per run{rounds}",
        caption=escape(legend + ("; inst/s [lowest–highest round]" if several else "")),
    )
    for header in (
        "config",
        "server",
        "inst/s",
        "MB/s",
        "p50 ms",
        "p95 ms",
        "peak RSS MB",
        "CPU ms/inst",
        *(["DB CPU ms/inst"] if database else []),
        "client CPU",
        "errors",
    ):
        table.add_column(header, justify="left" if header in ("config", "server") else "right")
    rounds_by_key = run.rounds()
    for key, m in run.shown().items():
        row = [
            m.configuration,
            "client→sink" if m.server == "sink" else m.server,
            escape(_throughput(m, rounds_by_key[key])),
            _figure(m.megabytes_per_second),
            _figure(m.latency_p50_ms),
            _figure(m.latency_p95_ms),
            _figure(m.peak_rss_mb, 0),
            _figure(_ms_per_unit(m.server_cpu_seconds, m), 2),
        ]
        if database:
            row.append(_figure(_ms_per_unit(m.database_cpu_seconds, m), 2))
        share = m.client_cpu_share
        row.append("—" if share is None else f"{share:.0%}")
        row.append(str(m.errors) if m.status == OK or m.errors else m.status)
        table.add_row(*row, style=None if m.status == OK else "red")
    return table


def _ratio(a: float | None, b: float | None) -> str:
    return "—" if a is None or b is None or b == 0 else f"{a / b:.2f}"


RATIOS = [("hounsfield", "orthanc"), ("hounsfield-postgres", "orthanc"),
          ("hounsfield-postgres", "hounsfield")]


def ratio_table(run: Run, numerator: str = "hounsfield", denominator: str = "orthanc") -> Table:
    table = Table(
        title=f"{numerator} / {denominator}",
        caption="inst/s: above 1 is faster; the others: below 1 is better",
    )
    for header in ("config", "inst/s", "p50 latency", "p95 latency", "peak RSS", "CPU/inst"):
        table.add_column(header, justify="left" if header == "config" else "right")
    by_key = run.shown()
    for config in dict.fromkeys(configuration for configuration, _ in by_key):
        top, bottom = by_key.get((config, numerator)), by_key.get((config, denominator))
        if not top or not bottom or top.status != OK or bottom.status != OK:
            table.add_row(config, *["—"] * 5)
            continue
        table.add_row(
            config,
            _ratio(top.units_per_second, bottom.units_per_second),
            _ratio(top.latency_p50_ms, bottom.latency_p50_ms),
            _ratio(top.latency_p95_ms, bottom.latency_p95_ms),
            _ratio(top.peak_rss_mb, bottom.peak_rss_mb),
            _ratio(top.cpu_seconds_per_unit, bottom.cpu_seconds_per_unit),
        )
    return table


def client_headroom(run: Run) -> list[str]:
    """Warnings where a server came close to what the client alone reached."""
    shown = run.shown().values()
    ceiling = {m.configuration: m.units_per_second for m in shown if m.server == "sink"}
    notes = []
    for m in (m for m in shown if m.server != "sink"):
        limit = ceiling.get(m.configuration)
        if m.status == OK and limit and m.units_per_second > CLIENT_LIMIT_WARNING * limit:
            notes.append(
                f"{m.server} {m.configuration}: {m.units_per_second:.0f} inst/s is "
                f"{m.units_per_second / limit:.0%} of the client's own ceiling "
                f"({limit:.0f} inst/s): the client may be part of the limit"
            )
    return notes


def problems(run: Run) -> list[str]:
    lines, skipped = [], Counter()
    for m in run.client + run.measured:
        if m.status == OK:
            continue
        if m.detail.startswith(NOT_STARTED_EARLIER):
            skipped[m.server] += 1
            continue
        lines.append(f"{m.server} {m.configuration} round {m.round}: {m.status}")
        lines += [f"    {line}" for line in m.detail.splitlines() + m.error_samples]
    lines += [
        f"{server}: {count} later measurement(s) not tried" for server, count in skipped.items()
    ]
    return lines


def show(run: Run, console: Console | None = None) -> None:
    console = console or Console(width=max(Console().width, CONSOLE_MIN_WIDTH))
    console.print(results_table(run))
    servers = {m.server for m in run.measured}
    for numerator, denominator in RATIOS:
        if {numerator, denominator} <= servers:
            console.print(ratio_table(run, numerator, denominator))
    for note in client_headroom(run):
        console.print(f"[yellow]note:[/] {note}")
    for line in problems(run):
        console.print(line, style="red", markup=False, highlight=False)


def machine() -> dict:
    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": round(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 1e9, 1),
        "python": platform.python_version(),
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
    }


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def _git_commit() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


def as_json(run: Run) -> dict:
    args = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(run.args).items()}
    return {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(run.started)),
        "seconds": round(run.finished - run.started, 1),
        "arguments": args,
        "machine": machine(),
        "git_commit": _git_commit(),
        "versions": {kind.name: kind.version() for kind in run.kinds},
        "client_alone": [m.as_json() for m in run.client],
        "measurements": [m.as_json() for m in run.measured],
    }


def save(run: Run, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    day = time.strftime("%Y-%m-%d", time.localtime(run.started))
    path = folder / f"{day}-{socket.gethostname()}.json"
    document = json.loads(path.read_text()) if path.exists() else {"runs": []}
    document["runs"].append(as_json(run))
    partial = path.with_suffix(".json.tmp")
    partial.write_text(json.dumps(document, indent=2) + "\n")
    partial.replace(path)
    return path
