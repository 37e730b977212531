"""One server measured in one configuration: the figures the report prints and saves."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field

from bench.load import LoadOutcome

OK = "ok"
ERRORS = "errors"  # ran, but some answers were wrong: figures are not comparable
NOT_STARTED = "not started"
NOT_STARTED_EARLIER = "did not start earlier"  # detail of the rounds not tried after that
FAILED = "failed"  # the configuration raised before it could be measured


@dataclass
class Measurement:
    workload: str
    configuration: str
    server: str
    round: int = 1
    status: str = OK
    detail: str = ""
    requests: int = 0
    units_sent: int = 0
    units_ok: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0
    payload_bytes_ok: int = 0
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    peak_rss_mb: float | None = None
    peak_pss_mb: float | None = None
    server_cpu_seconds: float | None = None
    database_cpu_seconds: float | None = None
    client_cpu_seconds: float | None = None

    @property
    def units_per_second(self) -> float | None:
        return self.units_ok / self.wall_seconds if self.wall_seconds else None

    @property
    def megabytes_per_second(self) -> float | None:
        return self.payload_bytes_ok / 1e6 / self.wall_seconds if self.wall_seconds else None

    @property
    def cpu_seconds_per_unit(self) -> float | None:
        if self.server_cpu_seconds is None or not self.units_ok:
            return None
        return self.server_cpu_seconds / self.units_ok

    @property
    def client_cpu_share(self) -> float | None:
        """The client's CPU time over wall time: 1.0 is one core kept busy."""
        if self.client_cpu_seconds is None or not self.wall_seconds:
            return None
        return self.client_cpu_seconds / self.wall_seconds

    def as_json(self) -> dict:
        derived = {
            "client_cpu_share": self.client_cpu_share,
            "units_per_second": self.units_per_second,
            "megabytes_per_second": self.megabytes_per_second,
            "server_cpu_seconds_per_unit": self.cpu_seconds_per_unit,
        }
        return {**asdict(self), **derived}


def representative(rounds: list[Measurement]) -> Measurement:
    """The round to show: the first that went wrong, else the median by throughput."""
    wrong = [m for m in rounds if m.status != OK]
    if wrong:
        return wrong[0]
    ordered = sorted(rounds, key=lambda m: m.units_per_second or 0.0)
    return ordered[(len(ordered) - 1) // 2]


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def record_outcome(measurement: Measurement, outcome: LoadOutcome) -> None:
    """Fill the client-side figures; only right answers count as work done."""
    right = [exchange for exchange in outcome.exchanges if exchange.problem is None]
    problems = Counter(exchange.problem for exchange in outcome.exchanges if exchange.problem)
    if outcome.not_sent:
        problems[f"not sent before the time limit ({len(outcome.not_sent)} requests)"] += 1
    latencies = sorted(exchange.seconds * 1000 for exchange in right)
    measurement.requests = len(outcome.exchanges) + len(outcome.not_sent)
    measurement.units_sent = sum(exchange.request.units for exchange in outcome.exchanges)
    measurement.units_ok = sum(exchange.request.units for exchange in right)
    measurement.errors = measurement.requests - len(right)
    measurement.error_samples = [f"{count}x {text}" for text, count in problems.most_common(3)]
    measurement.wall_seconds = outcome.wall_seconds
    measurement.payload_bytes_ok = sum(exchange.request.payload_bytes for exchange in right)
    measurement.latency_p50_ms = percentile(latencies, 0.50)
    measurement.latency_p95_ms = percentile(latencies, 0.95)
    measurement.client_cpu_seconds = outcome.client_cpu_seconds
    if measurement.errors:
        measurement.status = ERRORS
