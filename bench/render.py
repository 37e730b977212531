"""The rendered-image benchmark: ``python -m bench render --help`` (from the repository root).

Hounsfield and Orthanc are started once and loaded with the WADO-RS benchmark's CT
series and whole-slide image, then measured in turns: CT instances rendered as JPEG
(as stored, and with a window), whole-slide frames rendered, CT thumbnails, rendered
CT at 8 connections with wrk, WADO-URI, and WADO-WS rendered (RAD-69's rendered
sibling, compared with the same server's WADO-RS rendered). Every answer is checked: status,
Content-Type, and an image that decodes to the expected size.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import data, wado, wado_data, wado_report, wrk
from bench import render_workloads as work
from bench.load import HttpRequest, drive
from bench.measurement import FAILED, OK, Measurement
from bench.wado_workloads import Target

BENCH_DIR = Path(__file__).resolve().parent
KINDS = ("hounsfield", "orthanc")
TIME_LIMIT = 60.0  # seconds per measurement before no new request is sent
WRK_CONNECTIONS = 8
WRK_WORKLOAD = "rendered CT wrk c8"


@dataclass(frozen=True)
class Plan:
    series: int  # CT instances loaded (the WADO-RS benchmark's retrieve series)
    requests: int  # per latency workload, drawn at random (seeded per round)
    wrk_seconds: float
    repeat: int


QUICK = Plan(60, 30, 3, 1)
FULL = Plan(250, 100, 10, 3)


def parse_args(argv: list[str]) -> argparse.Namespace:
    return wado.parse_retrieval_args(argv, "render", __doc__.splitlines()[0],
                                     "a series of 60, 30 requests a workload, one round")


def prepare(plan: Plan, folder: Path) -> wado.Files:
    """The WADO-RS benchmark's CT series (same UIDs) and slide; nothing else."""
    work_dir = BENCH_DIR / "work"
    cached = data.load_series(plan.series, work_dir)
    ct = wado_data.ct_files(cached, [wado.RETRIEVE_RUN], wado.RETRIEVE_RUN, folder,
                            plan.series)
    return wado.Files(ct, [], [], wado_data.load_slide(work_dir), [])


class Rendering:
    """The render workloads on servers already started and loaded (``wado.Suite``)."""

    def __init__(self, servers: wado.Suite, plan: Plan) -> None:
        self.servers, self.plan = servers, plan
        self.measurements: list[Measurement] = []
        self.ignored_window: dict[str, bool] = {}

    def kinds(self) -> list[str]:
        return [k for k in KINDS if k in self.servers.targets]

    def run(self) -> None:
        index = 0
        for round_number in range(1, self.plan.repeat + 1):
            for name, requests in self._workloads():
                order = self.kinds() if index % 2 == 0 else self.kinds()[::-1]
                for kind in order:
                    self.measurements.append(self._measure(kind, name, requests,
                                                           round_number))
                index += 1
        for kind in self.kinds():
            self.ignored_window[kind] = self._ignores_window(kind)

    def _workloads(self) -> list:
        files, slide, count = self.servers.files.retrieve, self.servers.files.slide, \
            self.plan.requests
        return [
            ("rendered CT", lambda t, r: work.rendered_instances(
                t, work.chosen(files, count, r))),
            ("rendered CT window", lambda t, r: work.windowed(
                t, work.chosen(files, count, r))),
            ("rendered WSI frame", lambda t, r: work.rendered_frames(t, slide, count, r)),
            ("thumbnail CT", lambda t, r: work.thumbnails(t, work.chosen(files, count, r))),
            (WRK_WORKLOAD, None),
            ("WADO-URI CT", lambda t, r: work.wado_uri(t, work.chosen(files, count, r))),
            ("WADO-WS rendered CT", lambda t, r: work.wado_ws(t, work.chosen(files, count, r))),
        ]

    def _measure(self, kind: str, name: str, requests, round_number: int) -> Measurement:
        if requests is None:
            return self._wrk(kind, round_number)
        target = self.servers.targets[kind][0]
        return self._drive(kind, name, round_number, requests(target, round_number))

    def _drive(self, kind: str, name: str, round_number: int,
               requests: list[HttpRequest]) -> Measurement:
        target, sampler = self.servers.targets[kind]
        host, port = target.server.host, target.server.port
        m = Measurement("render", name, kind, round_number)
        warm = drive(host, port, requests[:1], 1, work.check, TIME_LIMIT)
        with _reported(m):
            sampler.restart_peaks()
            cpu = sampler.cpu_seconds()
            outcome = drive(host, port, requests, 1, work.check, TIME_LIMIT)
            wado.finish(m, sampler, cpu, outcome)
            if m.status == OK and any(e.problem for e in warm.exchanges):
                m.detail = f"warm-up: {warm.exchanges[0].problem}"
        return m

    def _wrk(self, kind: str, round_number: int) -> Measurement:
        """Rendered CT instances at 8 connections: wrk's Lua picks one at random per
        request and counts answers whose status is not 200."""
        target, sampler = self.servers.targets[kind]
        m = Measurement("render", WRK_WORKLOAD, kind, round_number)
        with _reported(m):
            script = self.servers.root / f"rendered-{kind}.lua"
            if not script.exists():
                targets = work.wrk_targets(target, self.servers.files.retrieve)
                script.write_text(wrk.script(targets, work.JPEG, 200))
            wrk.measure(m, sampler, target.server.host, target.server.port, script,
                        WRK_CONNECTIONS, self.plan.wrk_seconds)
        return m

    def _ignores_window(self, kind: str) -> bool:
        """Whether the server gives the same bytes with ``window`` as without it."""
        target = self.servers.targets[kind][0]
        file = self.servers.files.retrieve[0]
        plain, = work.rendered_instances(target, [file])
        windowed, = work.windowed(target, [file])
        before = _body(target, plain)
        return before is not None and before == _body(target, windowed)

    def annotate(self) -> None:
        """Name, on the windowed rows, a server that ignored the window; on the WADO-WS
        rows, their p50 over the same server's WADO-RS rendered CT (issue 7's target:
        at most 1.5)."""
        for m in self.measurements:
            if (m.configuration == "rendered CT window" and m.status == OK
                    and self.ignored_window.get(m.server)):
                m.detail = f"ignores window={work.CT_WINDOW}: the same image as without it"
            if m.configuration == "WADO-WS rendered CT" and m.status == OK:
                ratio = self.wado_ws_ratio(m.server)
                if ratio is not None:
                    m.detail = f"p50 {ratio:.2f}x its WADO-RS rendered CT"

    def wado_ws_ratio(self, server: str) -> float | None:
        """Median p50 of WADO-WS rendered over that of WADO-RS rendered, one server."""
        def p50(name: str) -> list[float]:
            return [m.latency_p50_ms for m in self.measurements
                    if m.server == server and m.configuration == name and m.status == OK]
        ws, rs = p50("WADO-WS rendered CT"), p50("rendered CT")
        if not ws or not rs:
            return None
        return statistics.median(ws) / statistics.median(rs)


def _body(target: Target, request: HttpRequest) -> bytes | None:
    connection = http.client.HTTPConnection(target.server.host, target.server.port,
                                            timeout=TIME_LIMIT)
    try:
        connection.request("GET", request.path, headers=request.headers)
        response = connection.getresponse()
        body = response.read()
        return body if response.status == 200 else None
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


@contextlib.contextmanager
def _reported(m: Measurement):
    """An exception ends the measurement as failed, with its reason; the suite goes on."""
    try:
        yield
    except Exception as error:
        m.status, m.detail = FAILED, f"{type(error).__name__}: {error}"
    _progress(f"render {m.configuration} {m.server}: {_summary(m)}")


def _summary(m: Measurement) -> str:
    if m.status != OK:
        return f"{m.status}: {(m.error_samples or [m.detail])[0]}"
    return f"{m.units_per_second:,.1f}/s, p50 {m.latency_p50_ms:.1f} ms"


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.repeat:
        plan = Plan(**{**vars(plan), "repeat": max(1, args.repeat)})
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="hounsfield-render-") as tmp:
        _progress("preparing the rendered-image data ...")
        servers = wado.Suite(args, plan, prepare(plan, Path(tmp) / "source"), Path(tmp))
        rendering = Rendering(servers, plan)
        with contextlib.ExitStack() as stack:
            servers.start(stack)
            rendering.run()
    rendering.annotate()
    measured = servers.measurements + rendering.measurements
    title = (f"Rendered images: CT series of {plan.series}, WSI of "
             f"{len(servers.files.slide.tiles)} frames, {plan.requests} requests a "
             f"workload, {plan.repeat} round(s)")
    wado_report.show(measured, title)
    extras = {**servers.extras, "ignores_window": rendering.ignored_window}
    saved = wado_report.save(args.results, started, args, servers.versions, extras,
                             measured, "render")
    _progress(f"saved {saved}")
    return 0 if all(m.status == OK for m in measured) else 1
