"""The QIDO-RS benchmark: ``python -m bench qido --help`` (from the repository root).

1. An index of 100,000 studies / 1,000,000 instances (bench/qido_data.py) is built once
   into ``bench/work/`` (SQLite) or a database kept on the PostgreSQL server
   (``--postgres``), straight through bulk SQL, and reused by later runs.
2. Hounsfield serves it (``hounsfield serve``, its default workers); Orthanc (Debian
   orthanc + orthanc-dicomweb, our own process on loopback) is loaded with the first
   studies of the same data through its REST API for at most ``--orthanc-seconds``.
3. Typical viewer queries run one at a time (one keep-alive connection), ``--requests``
   of each with rotating values after a warm-up; every answer is checked (status, number
   of results, UIDs where known). p50 and p95 of the client-side latency are printed,
   with Hounsfield / Orthanc ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench import postgres, qido_data, servers
from bench.load import HttpRequest, drive
from bench.measurement import percentile
from bench.report import machine

WORK_DIR = Path(__file__).resolve().parent / "work"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
TIME_LIMIT = 300.0


@dataclass(frozen=True)
class Query:
    """One kind of viewer query: a request per variant and the number of results due."""

    name: str
    requests: list[HttpRequest]


@dataclass
class Figures:
    server: str
    query: str
    p50: float | None = None
    p95: float | None = None
    errors: list[str] = field(default_factory=list)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench qido",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=100_000)
    parser.add_argument("--instances", type=int, default=1_000_000)
    parser.add_argument("--postgres", action="store_true",
                        help="Hounsfield on PostgreSQL (database kept between runs)")
    parser.add_argument("--requests", type=int, default=40, help="timed requests per query")
    parser.add_argument("--servers", default="hounsfield,orthanc")
    parser.add_argument("--orthanc-studies", type=int, default=3000,
                        help="studies to load into Orthanc at most")
    parser.add_argument("--orthanc-seconds", type=float, default=180.0,
                        help="time allowed for loading Orthanc")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR)
    return parser.parse_args(argv)


# -- the queries -------------------------------------------------------------------------


def queries(root: str, data: qido_data.Archive, studies: int, count: int,
            paging_offset: int) -> list[Query]:
    """The viewer queries, on the first `studies` studies of `data`."""
    plans = data.studies[:studies]
    variants = itertools.count()
    made = []
    for name, build in _QUERY_BUILDERS:
        made.append(Query(name, [build(root, plans, next(variants) + i, paging_offset)
                                 for i in range(count)]))
    return made


def _study_list(root: str, params: str, expected: int) -> HttpRequest:
    return HttpRequest("GET", f"{root}/studies?{params}",
                       headers={"Accept": "application/dicom+json"}, expected=expected)


def _by_name(root: str, plans: list, i: int, _: int) -> HttpRequest:
    prefixes = sorted({p.patient.name.upper()[:3] for p in plans})
    prefix = prefixes[(i * 7) % len(prefixes)]
    matches = sum(p.patient.name.upper().startswith(prefix) for p in plans)
    return _study_list(root, f"PatientName={prefix}*&limit=100", min(100, matches))


def _by_patient_id(root: str, plans: list, i: int, _: int) -> HttpRequest:
    patient = plans[(i * 7919) % len(plans)].patient
    matches = sum(p.patient.pk == patient.pk for p in plans)
    return _study_list(root, f"PatientID={patient.patient_id}&limit=100", matches)


def _by_date(root: str, plans: list, i: int, _: int) -> HttpRequest:
    year = 2006 + i % 20
    matches = sum(p.date.startswith(str(year)) for p in plans)
    return _study_list(root, f"StudyDate={year}0101-{year}1231&limit=100", min(100, matches))


def _by_modality(root: str, plans: list, i: int, _: int) -> HttpRequest:
    modality = ("CT", "MR", "US", "CR", "MG", "PT", "XA", "NM", "DX", "RF")[i % 10]
    matches = sum(any(s.modality == modality for s in p.series) for p in plans)
    return _study_list(root, f"ModalitiesInStudy={modality}&limit=100", min(100, matches))


def _by_accession(root: str, plans: list, i: int, _: int) -> HttpRequest:
    return _study_list(root, f"AccessionNumber={plans[(i * 104729) % len(plans)].accession}",
                       1)


def _paging(root: str, plans: list, i: int, offset: int) -> HttpRequest:
    start = offset + (i % 5) * 100
    return _study_list(root, f"limit=100&offset={start}", max(0, min(100, len(plans) - start)))


def _series_of_study(root: str, plans: list, i: int, _: int) -> HttpRequest:
    study = plans[(i * 7919) % len(plans)]
    return HttpRequest("GET", f"{root}/studies/{study.uid}/series",
                       headers={"Accept": "application/dicom+json"}, expected=len(study.series))


def _instances_of_series(root: str, plans: list, i: int, _: int) -> HttpRequest:
    hundreds = [(p, s) for p in plans for s in p.series if s.instances == 100 and s.fixed]
    study, series = hundreds[i % len(hundreds)]
    return HttpRequest("GET", f"{root}/studies/{study.uid}/series/"
                       f"{study.series_uid(series.number)}/instances",
                       headers={"Accept": "application/dicom+json"}, expected=100)


def _include_all(root: str, plans: list, i: int, _: int) -> HttpRequest:
    year = 2006 + i % 20
    matches = sum(p.date.startswith(f"{year}03") for p in plans)
    return _study_list(root, f"StudyDate={year}0301-{year}0331&includefield=all&limit=100",
                       min(100, matches))


_QUERY_BUILDERS: list[tuple[str, Callable]] = [
    ("PatientName prefix*", _by_name),
    ("PatientID", _by_patient_id),
    ("StudyDate 1 year", _by_date),
    ("ModalitiesInStudy", _by_modality),
    ("AccessionNumber", _by_accession),
    ("paging offset", _paging),
    ("series of a study", _series_of_study),
    ("instances of a series (100)", _instances_of_series),
    ("includefield=all (1 month)", _include_all),
]


def check(request: HttpRequest, status: int, body: bytes) -> str | None:
    expected = request.expected
    if expected == 0:
        return None if status in (200, 204) and (status == 204 or json.loads(body) == []) \
            else f"HTTP {status}, expected no match"
    if status != 200:
        return f"HTTP {status}: {body[:120]!r}"
    try:
        answer = json.loads(body)
    except ValueError as error:
        return f"not JSON: {error}"
    if not isinstance(answer, list) or len(answer) != expected:
        return f"{len(answer) if isinstance(answer, list) else '?'} results, expected {expected}"
    return None


def measure(server: servers.RunningServer, query: Query) -> Figures:
    warm = drive(server.host, server.port, query.requests[:3], 1, check, TIME_LIMIT)
    outcome = drive(server.host, server.port, query.requests, 1, check, TIME_LIMIT)
    figures = Figures(server.name, query.name)
    problems = [e.problem for e in warm.exchanges + outcome.exchanges if e.problem]
    figures.errors = sorted(set(problems))[:3]
    latencies = sorted(e.seconds * 1000 for e in outcome.exchanges if e.problem is None)
    figures.p50, figures.p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    return figures


# -- Hounsfield on the prepared index ------------------------------------------------------


class PreparedHounsfield(servers.Hounsfield):
    """`hounsfield serve` on a data folder (and database) prepared beforehand."""

    def __init__(self, data_dir: Path, database_url: str = "") -> None:
        super().__init__()
        self.data_dir, self.database_url = data_dir, database_url

    @contextlib.contextmanager
    def launch(self, folder: Path, port: int) -> Iterator[servers.Launch]:
        argv = [*servers._hounsfield_command(), "serve", "--host", "127.0.0.1", "--port",
                str(port), "--data", str(self.data_dir)]
        env = {"HOUNSFIELD_DATABASE_URL": self.database_url} if self.database_url else {}
        yield servers.Launch(argv, "/health", f"/aets/{servers.HOUNSFIELD_AET}/rs", env)


def prepared_index(args: argparse.Namespace, data: qido_data.Archive) -> tuple[Path, str]:
    """The data folder (and database URL) holding the generated index, built if new."""
    from sqlalchemy import text

    from hounsfield.archive.archive import Archive
    from hounsfield.config import load_settings

    name = f"qido-{args.studies}-{args.instances}"
    data_dir = WORK_DIR / name
    url = _postgres_database(name.replace("-", "_")) if args.postgres else ""
    settings = load_settings(overrides={"data_dir": data_dir, "database_url": url}, environ={})
    archive = Archive.open(settings)
    try:
        with archive.engine.connect() as conn:
            have = conn.execute(text("SELECT count(*) FROM instance")).scalar_one()
        if have != args.instances:
            if have:
                raise SystemExit(f"{data_dir} / {url or 'SQLite'} holds {have} instances; "
                                 "remove it to rebuild")
            _progress(f"building the index: {args.studies:,} studies, "
                      f"{args.instances:,} instances ...")
            qido_data.fill_index(archive.engine, data, _progress)
    finally:
        archive.close()
    return data_dir, url


def _postgres_database(name: str) -> str:
    with contextlib.suppress(Exception):
        postgres._execute(f'CREATE DATABASE "hounsfield_bench_{name}"')
    return f"postgresql+psycopg://{postgres.SERVER_HOST}/hounsfield_bench_{name}"


# -- Orthanc loaded through its REST API ---------------------------------------------------


def load_orthanc(server: servers.RunningServer, data: qido_data.Archive, studies: int,
                 seconds: float) -> int:
    """POST the first studies' instances to /instances; return the studies fully loaded."""
    deadline = time.monotonic() + seconds
    loaded = 0
    for index in range(studies):
        if time.monotonic() > deadline:
            break
        bodies = list(qido_data.orthanc_datasets(qido_data.Archive([], [data.studies[index]]),
                                                 1))
        _post_all(server, bodies)
        loaded = index + 1
        if loaded % 250 == 0:
            _progress(f"  Orthanc: {loaded} studies loaded")
    return loaded


def _post_all(server: servers.RunningServer, bodies: list[bytes]) -> None:
    lock, pending = threading.Lock(), list(bodies)

    def worker() -> None:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=60)
        try:
            while True:
                with lock:
                    if not pending:
                        return
                    body = pending.pop()
                connection.request("POST", "/instances", body,
                                   {"Content-Type": "application/dicom"})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"Orthanc refused an instance: HTTP {response.status}")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# -- running and reporting -------------------------------------------------------------------


def run_hounsfield(args: argparse.Namespace, data: qido_data.Archive, root: Path
                   ) -> list[Figures]:
    data_dir, url = prepared_index(args, data)
    kind = PreparedHounsfield(data_dir, url)
    label = "hounsfield-pg" if url else "hounsfield"
    with servers.start(kind, root / label) as server:
        made = queries(server.dicomweb_path, data, args.studies, args.requests, 10_000)
        return [_named(measure(server, q), label) for q in made]


def run_hounsfield_small(args: argparse.Namespace, data: qido_data.Archive, studies: int,
                         root: Path) -> list[Figures]:
    """Hounsfield on an index of the same first `studies` studies Orthanc holds (SQLite,
    built in the run's temporary folder): the small index, query for query as Orthanc."""
    from hounsfield.archive.archive import Archive
    from hounsfield.config import load_settings

    chosen = data.studies[:studies]
    patients = list({id(s.patient): s.patient for s in chosen}.values())
    subset = qido_data.Archive(patients, chosen)
    data_dir = root / "hounsfield-small-index"
    archive = Archive.open(load_settings(overrides={"data_dir": data_dir}, environ={}))
    try:
        _progress(f"building a small index: {studies:,} studies ...")
        qido_data.fill_index(archive.engine, subset, lambda _text: None)
    finally:
        archive.close()
    label = "hounsfield-small"
    with servers.start(PreparedHounsfield(data_dir), root / label) as server:
        made = queries(server.dicomweb_path, subset, studies, args.requests, studies // 2)
        return [_named(measure(server, q), label) for q in made]


def run_orthanc(args: argparse.Namespace, data: qido_data.Archive, root: Path
                ) -> tuple[list[Figures], int]:
    with servers.start(servers.Orthanc(), root / "orthanc") as server:
        _progress(f"loading Orthanc (at most {args.orthanc_studies} studies, "
                  f"{args.orthanc_seconds:.0f} s) ...")
        loaded = load_orthanc(server, data, args.orthanc_studies, args.orthanc_seconds)
        _progress(f"  Orthanc holds {loaded} studies")
        made = queries(server.dicomweb_path, data, loaded, args.requests, loaded // 2)
        return [measure(server, q) for q in made], loaded


def _named(figures: Figures, name: str) -> Figures:
    figures.server = name
    return figures


def show(results: list[Figures], loaded: int | None, args: argparse.Namespace) -> None:
    console = Console(width=max(Console().width, 130))
    servers_run = list(dict.fromkeys(f.server for f in results))
    table = Table(title=f"QIDO-RS latency, ms (Hounsfield: {args.studies:,} studies / "
                        f"{args.instances:,} instances"
                        + (f"; hounsfield-small and Orthanc: the same {loaded:,} studies)"
                           if loaded else ")"))
    table.add_column("query")
    for server in servers_run:
        table.add_column(f"{server} p50 / p95", justify="right")
    if "orthanc" in servers_run and len(servers_run) > 1:
        table.add_column("p50 ratio vs Orthanc", justify="right")
    by_key = {(f.server, f.query): f for f in results}
    for name, _ in _QUERY_BUILDERS:
        row = [name]
        for server in servers_run:
            f = by_key.get((server, name))
            row.append("-" if f is None else _cell(f))
        if "orthanc" in servers_run and len(servers_run) > 1:
            row.append(_ratios(by_key, servers_run, name))
        table.add_row(*row)
    console.print(table)
    for f in results:
        for problem in f.errors:
            console.print(f"{f.server} {f.query}: {problem}", style="red", markup=False)


def _cell(f: Figures) -> str:
    if f.p50 is None:
        return "errors"
    return f"{f.p50:.1f} / {f.p95:.1f}" + (" !" if f.errors else "")


def _ratios(by_key: dict, servers_run: list[str], name: str) -> str:
    orthanc = by_key.get(("orthanc", name))
    parts = []
    for server in servers_run:
        mine = by_key.get((server, name))
        if server != "orthanc" and mine and orthanc and mine.p50 and orthanc.p50:
            parts.append(f"{mine.p50 / orthanc.p50:.3f}")
    return " / ".join(parts) or "-"


def save(results: list[Figures], loaded: int | None, args: argparse.Namespace,
         started: float) -> Path:
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / f"{time.strftime('%Y-%m-%d')}-qido.json"
    document = json.loads(path.read_text()) if path.exists() else {"runs": []}
    document["runs"].append({
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "arguments": {k: str(v) for k, v in vars(args).items()},
        "machine": machine(), "orthanc_studies": loaded,
        "figures": [vars(f) for f in results]})
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    import tempfile

    args = parse_args(argv)
    started = time.time()
    _progress(f"generating {args.studies:,} studies / {args.instances:,} instances ...")
    data = qido_data.generate(args.studies, args.instances)
    results: list[Figures] = []
    loaded = None
    with tempfile.TemporaryDirectory(prefix="hounsfield-qido-") as tmp:
        if "hounsfield" in args.servers:
            results += run_hounsfield(args, data, Path(tmp))
        if "orthanc" in args.servers:
            orthanc, loaded = run_orthanc(args, data, Path(tmp))
            if "hounsfield" in args.servers and loaded and not args.postgres:
                results += run_hounsfield_small(args, data, loaded, Path(tmp))
            results += orthanc
    show(results, loaded, args)
    _progress(f"saved {save(results, loaded, args, started)}")
    return 0 if all(not f.errors for f in results) else 1
