"""Run the benchmark suite: ``python -m bench --help`` (from the repository root).

Each (configuration, server) pair gets a server started afresh on a free loopback
port with an empty data folder, a warm-up that is checked but not timed, then the
timed workload. Servers alternate between configurations in ABBA order (H O, O H,
H O, ...) so that drift of the machine cancels out rather than favouring one.
"""

from __future__ import annotations

import argparse
import itertools
import signal
import sys
import tempfile
import time
from pathlib import Path

from bench import data, load, report, servers
from bench.measurement import (
    FAILED,
    NOT_STARTED,
    NOT_STARTED_EARLIER,
    Measurement,
    record_outcome,
)
from bench.process_tree import TreeSampler, named_cpu_seconds
from bench.stow import StowWorkload

BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / "work"
RESULTS_DIR = BENCH_DIR / "results"
QUICK_INSTANCES = 100
MAX_INSTANCES = 5000  # bodies are built in memory before the clock starts


class WarmUpError(Exception):
    """The warm-up got a wrong answer: the server cannot do the workload at all."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_INSTANCES} instances and a 60 s limit per configuration",
    )
    parser.add_argument(
        "--instances",
        type=int,
        help="instances stored per configuration (default 500, or 100 with --quick)",
    )
    parser.add_argument(
        "--servers",
        default="hounsfield,orthanc",
        help="comma-separated, from: " + ", ".join(servers.KINDS),
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="Hounsfield indexes into a fresh PostgreSQL database per start",
    )
    parser.add_argument(
        "--workers", type=int, help="Hounsfield's worker processes (default: its own default)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        help="rounds of every configuration; the table shows the median "
        "(default 3, or 1 with --quick)",
    )
    parser.add_argument(
        "--no-client-check",
        action="store_true",
        help="skip measuring the client alone against bench.sink",
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        help="seconds per configuration before no new request is sent "
        "(default 180, or 60 with --quick)",
    )
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="folder for the JSON")
    args = parser.parse_args(argv)
    args.instances = args.instances or (QUICK_INSTANCES if args.quick else 500)
    args.repeat = max(1, args.repeat or (1 if args.quick else 3))
    args.time_limit = args.time_limit or (60.0 if args.quick else 180.0)
    args.servers = [name.strip() for name in args.servers.split(",") if name.strip()]
    unknown = set(args.servers) - set(servers.KINDS)
    if unknown or not 0 < args.instances <= MAX_INSTANCES:
        parser.error(f"unknown server(s) {sorted(unknown)}" if unknown else "bad --instances")
    return args


def server_kinds(args: argparse.Namespace) -> list:
    make = {"hounsfield": lambda: servers.Hounsfield(args.postgres, args.workers),
            "hounsfield-postgres": lambda: servers.HounsfieldPostgres(True, args.workers)}
    return [make.get(name, servers.KINDS[name])() for name in args.servers]


class Bench:
    """Measures one workload on server kinds, one fresh server per measurement."""

    def __init__(
        self, workload: StowWorkload, root: Path, time_limit: float, use_postgres: bool
    ) -> None:
        self.workload, self.root, self.time_limit = workload, root, time_limit
        self.use_postgres = use_postgres
        self._runs = itertools.count(1)  # UID run numbers, so no two runs share a UID
        self._unavailable: dict[str, str] = {}

    def alternating(self, kinds: list, configurations: list, repeat: int) -> list[Measurement]:
        """Every configuration ``repeat`` times; the server order flips at each round."""
        measurements = []
        rounds = ((c, r) for c in configurations for r in range(1, repeat + 1))
        for index, (configuration, round_number) in enumerate(rounds):
            order = kinds if index % 2 == 0 else kinds[::-1]
            measurements += [self.measure(kind, configuration, round_number) for kind in order]
        return measurements

    def measure(self, kind, configuration, round_number: int = 1) -> Measurement:
        measurement = Measurement(self.workload.name, configuration.name, kind.name, round_number)
        runs = (next(self._runs), next(self._runs))
        if kind.name in self._unavailable:
            measurement.status = NOT_STARTED
            measurement.detail = f"{NOT_STARTED_EARLIER}: {self._unavailable[kind.name]}"
            return measurement
        _progress(f"{self.workload.name} {configuration.name}: {kind.name} ...")
        folder = self.root / f"{runs[1]:03d}-{kind.name}"
        self._measure_fresh(kind, configuration, folder, runs, measurement)
        _progress(f"  {report.one_line(measurement)}")
        return measurement

    def _measure_fresh(
        self, kind, configuration, folder: Path, runs: tuple[int, int], measurement: Measurement
    ) -> None:
        up = False
        try:
            with servers.start(kind, folder) as server, TreeSampler(server.pid) as sampler:
                up = True
                self._warm_up(server, configuration, runs[0])
                self._timed(server, sampler, configuration, runs[1], measurement)
        except Exception as error:  # reported, and the suite goes on
            measurement.status = FAILED if up else NOT_STARTED
            measurement.detail = f"{type(error).__name__}: {error}"
            if up:  # the server's last words usually say why
                measurement.detail += "\n" + servers.log_tail(folder / "server.log", 8)
            if not up:
                self._unavailable[kind.name] = measurement.detail.splitlines()[0]

    def _warm_up(self, server: servers.RunningServer, configuration, run: int) -> None:
        requests = self.workload.warm_up_requests(server, configuration, run)
        outcome = load.drive(
            server.host, server.port, requests, 1, self.workload.check, self.time_limit
        )
        problems = [exchange.problem for exchange in outcome.exchanges if exchange.problem]
        if problems or outcome.not_sent:
            raise WarmUpError(problems[0] if problems else "warm-up not finished in time")

    def _timed(
        self, server, sampler: TreeSampler, configuration, run: int, measurement: Measurement
    ) -> None:
        requests = self.workload.requests(server, configuration, run)
        database = (self.use_postgres and server.name == "hounsfield"
                    or server.name == "hounsfield-postgres")
        cpu, database_cpu = sampler.cpu_seconds(), named_cpu_seconds("postgres")
        outcome = load.drive(
            server.host,
            server.port,
            requests,
            configuration.concurrency,
            self.workload.check,
            self.time_limit,
        )
        measurement.server_cpu_seconds = sampler.cpu_seconds() - cpu
        if database:
            measurement.database_cpu_seconds = named_cpu_seconds("postgres") - database_cpu
        sampler.sample()
        measurement.peak_rss_mb = sampler.peak_rss / 1e6
        measurement.peak_pss_mb = sampler.peak_pss / 1e6
        record_outcome(measurement, outcome)


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _stop_on_signals() -> None:
    """Ctrl-C and SIGTERM unwind through every ``finally``, which stops the servers."""
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if inherited ignored
    signal.signal(signal.SIGTERM, _terminate)


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _stop_on_signals()
    try:
        return run_suite(args)
    except KeyboardInterrupt:
        _progress("interrupted; every server started was stopped")
        return 130


def run_suite(args: argparse.Namespace) -> int:
    started = time.time()
    _progress(f"preparing {args.instances} CT instances in {WORK_DIR} ...")
    series = data.load_series(args.instances, WORK_DIR)
    workload = StowWorkload(series, args.instances)
    configurations = workload.configurations()
    with tempfile.TemporaryDirectory(prefix="hounsfield-bench-") as root:
        bench = Bench(workload, Path(root), args.time_limit, args.postgres)
        client = (
            []
            if args.no_client_check
            else [bench.measure(servers.Sink(), configuration) for configuration in configurations]
        )
        measured = bench.alternating(server_kinds(args), configurations, args.repeat)
    run = report.Run(args, started, time.time(), server_kinds(args), client, measured)
    report.show(run)
    _progress(f"saved {report.save(run, args.results)}")
    return 0 if all(m.status == "ok" for m in client + measured) else 1


if __name__ == "__main__":
    sys.exit(main())
