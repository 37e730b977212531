"""The WADO-RS benchmark: ``python -m bench wado --help`` (from the repository root).

Hounsfield, Orthanc and nginx (the machine's line: the same stored files, served
statically) are started once, loaded with the same files, and measured in turns:
series retrieve (MB/s, 1 and 4 connections), instance retrieve, series metadata,
random whole-slide frames (Python client, then wrk at 8 connections), frames asked as
image/jpeg, the pydicom-data files as stored, and (full run) the server's memory while
streaming a 2 GB study. Every answer is checked.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import curl, data, servers, wado_data, wado_report, wado_stream, wrk
from bench import wado_checks as checks
from bench import wado_workloads as work
from bench.load import Exchange, HttpRequest, LoadOutcome, drive, exchange
from bench.measurement import (
    FAILED,
    NOT_STARTED,
    OK,
    Measurement,
    percentile,
    record_outcome,
)
from bench.process_tree import TreeSampler
from bench.wado_servers import ImportedHounsfield, Nginx, blob_paths, load_orthanc

BENCH_DIR = Path(__file__).resolve().parent
KINDS = ("hounsfield", "orthanc", "nginx")
UNSUPPORTED = "not supported"  # every answer a 4xx refusal
TIMED_OUT = "timed out"
NO_ANSWER = "no answer within"
RETRIEVE_RUN, METADATA_RUN, STUDY_RUN = 11, 12, 13  # UID run segments (data.uid)
TIME_LIMIT = 120.0  # seconds per measurement before no new request is sent
WRK_CONNECTIONS = 8


@dataclass(frozen=True)
class Plan:
    retrieve: int  # instances of the series retrieved
    metadata: int  # instances of the series whose metadata is asked
    series_c1: int  # retrievals of the series on 1 connection
    series_c4: int  # ... on 4
    instances: int
    metadata_requests: int
    frames: int
    wrk_seconds: float
    jpeg_requests: int
    jpeg_timeout: float  # per request, and for all of them together
    repeat: int
    study: int  # instances of the streamed study (0: not measured)


QUICK = Plan(60, 120, 2, 4, 40, 10, 60, 3, 3, 10, 1, 0)
FULL = Plan(250, 500, 4, 8, 100, 20, 100, 10, 5, 45, 3, 4000)


def parse_args(argv: list[str]) -> argparse.Namespace:
    return parse_retrieval_args(argv, "wado", __doc__.splitlines()[0],
                                "small series, one round, no 2 GB study: about a minute")


def parse_retrieval_args(argv: list[str], name: str, description: str,
                         quick: str) -> argparse.Namespace:
    """The options of the retrieval benchmarks (wado, render), which share servers."""
    parser = argparse.ArgumentParser(prog=f"python -m bench {name}", description=description)
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--postgres", action="store_true",
                        help="Hounsfield indexes into a fresh PostgreSQL database")
    parser.add_argument("--servers", default=",".join(KINDS),
                        help="comma-separated, from: " + ", ".join(KINDS))
    parser.add_argument("--workers", type=int, help="Hounsfield's worker processes")
    parser.add_argument("--repeat", type=int, help="rounds (default 3, or 1 with --quick)")
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "results")
    args = parser.parse_args(argv)
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    if set(args.servers) - set(KINDS):
        parser.error(f"unknown server(s): {sorted(set(args.servers) - set(KINDS))}")
    return args


@dataclass(frozen=True)
class Files:
    retrieve: list[wado_data.StoredFile]
    metadata: list[wado_data.StoredFile]
    study: list[wado_data.StoredFile]
    slide: wado_data.Slide
    real: list[wado_data.StoredFile]

    def every(self) -> list[wado_data.StoredFile]:
        return [*self.retrieve, *self.metadata, *self.study, self.slide.file, *self.real]


def prepare(plan: Plan, folder: Path) -> Files:
    work_dir = BENCH_DIR / "work"
    cached = data.load_series(max(plan.retrieve, plan.metadata, min(plan.study, 500)),
                              work_dir)
    runs = [STUDY_RUN + n for n in range(-(-plan.study // 500))]
    return Files(
        wado_data.ct_files(cached, [RETRIEVE_RUN], RETRIEVE_RUN, folder, plan.retrieve),
        wado_data.ct_files(cached, [METADATA_RUN], METADATA_RUN, folder, plan.metadata),
        wado_data.ct_files(cached, runs, STUDY_RUN, folder, min(plan.study, 500))
        [:plan.study],
        wado_data.load_slide(work_dir), wado_data.pydicom_data_files())


class Suite:
    """The started servers, and each measurement on one of them."""

    def __init__(self, args: argparse.Namespace, plan: Plan, files: Files, root: Path):
        self.args, self.plan, self.files, self.root = args, plan, files, root
        self.targets: dict[str, tuple[work.Target, TreeSampler]] = {}
        self.measurements: list[Measurement] = []
        self.extras: dict = {"plan": vars(plan), "orthanc_refused": [], "study_stream": []}
        self.versions: dict[str, str] = {}

    # -- servers -------------------------------------------------------------------------

    def start(self, stack: contextlib.ExitStack) -> None:
        kinds = self.args.servers
        if "hounsfield" in kinds or "nginx" in kinds:
            paths = [self.root / "source", self.files.slide.file.path,
                     *(f.path for f in self.files.real)]
            hounsfield = ImportedHounsfield(paths, self.args.postgres, self.args.workers)
            _progress(f"storing {len(self.files.every())} files into Hounsfield ...")
            started = time.monotonic()
            if self._start(stack, hounsfield) and "nginx" in kinds:
                self._start(stack, Nginx(hounsfield.blob_dir))
            _progress(f"  stored and started in {time.monotonic() - started:.0f} s")
        if "orthanc" in kinds and self._start(stack, servers.Orthanc()):
            _progress(f"storing {len(self.files.every())} files into Orthanc ...")
            server, started = self.targets["orthanc"][0].server, time.monotonic()
            self.extras["orthanc_refused"] = load_orthanc(server, self.files.every())
            _progress(f"  stored in {time.monotonic() - started:.0f} s")

    def _start(self, stack: contextlib.ExitStack, kind) -> bool:
        self.versions[kind.name] = kind.version()
        try:
            server = stack.enter_context(servers.start(kind, self.root / kind.name, 600))
        except Exception as error:  # reported, and the others go on
            failed = Measurement("wado", "start", kind.name, status=NOT_STARTED,
                                 detail=f"{type(error).__name__}: {error}")
            self.measurements.append(failed)
            return False
        sampler = stack.enter_context(TreeSampler(server.pid))
        paths = blob_paths(kind.root) if isinstance(kind, Nginx) else None
        self.targets[kind.name] = (work.Target(server, paths), sampler)
        return True

    def measured(self) -> list[str]:
        return [k for k in KINDS if k in self.targets and k in self.args.servers]

    # -- rounds ----------------------------------------------------------------------------

    def run(self) -> None:
        index = 0
        for round_number in range(1, self.plan.repeat + 1):
            for name, measure in self._per_round():
                order = self.measured() if index % 2 == 0 else self.measured()[::-1]
                for kind in order:
                    self.measurements.append(measure(kind, name, round_number))
                index += 1
        for kind in self.measured():
            self.measurements += self._once(kind)
        for kind in self.measured():  # last: a timed-out request may keep a server busy
            if kind != "nginx":
                self.measurements += [self._jpeg(kind, name) for name in work.JPEG_ACCEPTS]

    def _per_round(self) -> list:
        p, f = self.plan, self.files
        return [
            ("series c1", lambda k, n, r: self._series(k, n, r, p.series_c1, 1)),
            ("series c4", lambda k, n, r: self._series(k, n, r, p.series_c4, 4)),
            ("instance", lambda k, n, r: self._drive(
                k, n, r, work.instance_retrieve(self._t(k), f.retrieve, p.instances, r), 1)),
            ("metadata", lambda k, n, r: None if k == "nginx" else self._drive(
                k, n, r, work.series_metadata(self._t(k), f.metadata, p.metadata_requests),
                1)),
            ("frame", lambda k, n, r: self._drive(
                k, n, r, work.random_frames(self._t(k), f.slide, p.frames, r), 1)),
            ("frames wrk c8", self._wrk),
        ]

    def _once(self, kind: str) -> list[Measurement]:
        made = [self._drive(kind, "real files", 1,
                            work.files_as_stored(self._t(kind), self.files.real), 1)]
        if kind != "nginx" and self.files.study:
            made.append(self._stream(kind))
        return made

    def _t(self, kind: str) -> work.Target:
        return self.targets[kind][0]

    # -- measurements --------------------------------------------------------------------

    def _drive(self, kind: str, name: str, round_number: int, requests: list[HttpRequest],
               concurrency: int) -> Measurement:
        target, sampler = self.targets[kind]
        m = Measurement("wado", name, kind, round_number)
        warm = drive(target.server.host, target.server.port, requests[:1], 1, checks.check,
                     TIME_LIMIT)
        with _reported(m):
            sampler.restart_peaks()
            cpu = sampler.cpu_seconds()
            outcome = drive(target.server.host, target.server.port, requests, concurrency,
                            checks.check, TIME_LIMIT)
            finish(m, sampler, cpu, outcome)
            if any(e.problem for e in warm.exchanges):
                m.detail = f"warm-up: {warm.exchanges[0].problem}"
        return m

    def _series(self, kind: str, name: str, round_number: int, count: int,
                clients: int) -> Measurement:
        """`count` retrievals of the series over `clients` connections, timed with curl
        (bench/curl.py); one retrieval first, checked part by part by the Python client."""
        target, sampler = self.targets[kind]
        files = self.files.retrieve
        checked = work.series_retrieve(target, files, 1)
        warm = drive(target.server.host, target.server.port, checked, 1, checks.check,
                     TIME_LIMIT)
        m = Measurement("wado", name, kind, round_number)
        with _reported(m):
            root = f"http://{target.server.host}:{target.server.port}"
            if target.is_static:
                one = [root + target.instance_path(f) for f in files]
                headers: dict[str, str] = {}
                expected = {sum(f.size for f in files)}
            else:
                one = [root + target.series_path(files[0])]
                headers = {"Accept": work.INSTANCES_AS_STORED}
                expected = set()
            per_client = [one * max(1, count // clients) for _ in range(clients)]
            sampler.restart_peaks()
            cpu = sampler.cpu_seconds()
            run = curl.run(per_client, headers, TIME_LIMIT)
            _curl_outcome(m, run, len(one), sum(f.size for f in files), expected)
            m.server_cpu_seconds = sampler.cpu_seconds() - cpu
            sampler.sample()
            m.peak_rss_mb = sampler.peak_rss / 1e6
            problem = next((e.problem for e in warm.exchanges if e.problem), None)
            if problem:
                m.status, m.errors = "errors", m.errors + 1
                m.error_samples.insert(0, f"checked retrieval: {problem}")
        return m

    def _wrk(self, kind: str, name: str, round_number: int) -> Measurement:
        target, sampler = self.targets[kind]
        m = Measurement("wado", name, kind, round_number)
        with _reported(m):
            script = self.root / f"frames-{kind}.lua"
            if not script.exists():
                slide = self.files.slide
                targets = [work.frame_target(target, slide, n)
                           for n in range(1, len(slide.tiles) + 1)]
                accept = "" if target.is_static else work.FRAMES_AS_STORED
                script.write_text(wrk.script(targets, accept, 206 if target.is_static else 200))
            wrk.measure(m, sampler, target.server.host, target.server.port, script,
                        WRK_CONNECTIONS, self.plan.wrk_seconds)
        return m

    def _jpeg(self, kind: str, name: str) -> Measurement:
        """Frames asked as image/jpeg: each request bounded by ``jpeg_timeout``, all of
        them too; a request that times out is reported as such and ends the series."""
        target, sampler = self.targets[kind]
        accept, multipart = work.JPEG_ACCEPTS[name]
        requests = [work.frame(target, self.files.slide, n, accept, multipart)
                    for n in (17, 1000, 1999, 3, 512, 1500, 64, 777, 1234, 42)]
        m = Measurement("wado", name, kind)
        deadline = time.monotonic() + self.plan.jpeg_timeout
        with _reported(m):
            sampler.restart_peaks()
            cpu, started = sampler.cpu_seconds(), time.perf_counter()
            exchanges = []
            for request in requests[:self.plan.jpeg_requests]:
                exchanges.append(_timed_exchange(target, request, self.plan.jpeg_timeout))
                if exchanges[-1].status is None or time.monotonic() > deadline:
                    break
            outcome = LoadOutcome(exchanges, [], time.perf_counter() - started, 0.0)
            finish(m, sampler, cpu, outcome)
        return m

    def _stream(self, kind: str) -> Measurement:
        target, sampler = self.targets[kind]
        m = Measurement("wado", "study stream", kind)
        _progress(f"wado study stream: {kind} ...")
        with _reported(m):
            self.extras["study_stream"].append(
                wado_stream.stream(target, self.files.study, sampler, m))
        return m


def _timed_exchange(target: work.Target, request: HttpRequest, timeout: float) -> Exchange:
    """One request on a connection of its own whose reads time out after ``timeout``."""
    connection = http.client.HTTPConnection(target.server.host, target.server.port,
                                            timeout=timeout)
    try:
        done = exchange(connection, request, checks.check)
    finally:
        connection.close()
    if done.status is None and "timed out" in (done.problem or ""):
        return Exchange(request, done.seconds, None, f"{NO_ANSWER} {timeout:.0f} s")
    return done


def finish(m: Measurement, sampler: TreeSampler, cpu: float, outcome: LoadOutcome) -> None:
    m.server_cpu_seconds = sampler.cpu_seconds() - cpu
    sampler.sample()
    m.peak_rss_mb, m.peak_pss_mb = sampler.peak_rss / 1e6, sampler.peak_pss / 1e6
    record_outcome(m, outcome)
    refused = all(" HTTP 4" in f" {s.split('x ', 1)[-1]}" for s in m.error_samples)
    if m.errors == m.requests and m.requests and refused:
        m.status = UNSUPPORTED
    if any(e.problem and e.problem.startswith(NO_ANSWER) for e in outcome.exchanges):
        m.status = TIMED_OUT


def _curl_outcome(m: Measurement, run: curl.CurlRun, per_series: int, payload: int,
                  exact: set[int]) -> None:
    """Fill `m` from curl's answers, a series being `per_series` answers in a row (its
    files, from nginx) of at least `payload` bytes (exactly, for files)."""
    series = [run.answers[i:i + per_series] for i in range(0, len(run.answers), per_series)]
    right = [s for s in series if all(a.status == 200 for a in s)
             and (sum(a.size for a in s) in exact if exact
                  else sum(a.size for a in s) >= payload)]
    m.requests = m.units_sent = len(series)
    m.units_ok = len(right)
    m.errors = len(series) - len(right)
    if m.errors:
        m.status = "errors"
        m.error_samples = [f"{m.errors} series with another status or size"]
    m.wall_seconds = run.wall_seconds
    m.payload_bytes_ok = payload * len(right)
    latencies = sorted(sum(a.seconds for a in s) * 1000 for s in right)
    m.latency_p50_ms = percentile(latencies, 0.50)
    m.latency_p95_ms = percentile(latencies, 0.95)


@contextlib.contextmanager
def _reported(m: Measurement):
    """An exception ends the measurement as failed, with its reason; the suite goes on."""
    try:
        yield
    except Exception as error:
        m.status, m.detail = FAILED, f"{type(error).__name__}: {error}"
    _progress(f"wado {m.configuration} {m.server}: {_summary(m)}")


def _summary(m: Measurement) -> str:
    if m.status != OK:
        return f"{m.status}: {(m.error_samples or [m.detail])[0]}"
    return (f"{m.units_per_second:,.1f}/s, {m.megabytes_per_second:,.1f} MB/s, "
            f"p50 {m.latency_p50_ms:.1f} ms")


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.repeat:
        plan = Plan(**{**vars(plan), "repeat": max(1, args.repeat)})
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="hounsfield-wado-") as tmp:
        _progress("preparing the WADO-RS data ...")
        suite = Suite(args, plan, prepare(plan, Path(tmp) / "source"), Path(tmp))
        with contextlib.ExitStack() as stack:
            suite.start(stack)
            suite.run()
    measured = [m for m in suite.measurements if m is not None]
    title = (f"WADO-RS: CT series of {plan.retrieve} (metadata: {plan.metadata}), "
             f"WSI of {len(suite.files.slide.tiles)} frames, {plan.repeat} round(s)")
    wado_report.show(measured, title)
    saved = wado_report.save(args.results, started, args, suite.versions, suite.extras,
                             measured)
    _progress(f"saved {saved}")
    return 0 if all(m.status == OK for m in measured) else 1
