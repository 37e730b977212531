"""`hounsfield import`: store folders, files and zip files through the archive's store path.

Each file (or zip member) is copied into the spool folder and handed to
`Archive.store_file`, exactly as a STOW-RS part is. Work is spread over processes, each
with its own Archive; a progress bar shows the files done; a summary counts stored,
already present and failed (with reasons); the exit code is 1 if anything failed.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import warnings
import zipfile
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from hounsfield.archive.archive import Archive
from hounsfield.archive.record import Disposition
from hounsfield.config import Settings


@dataclass(frozen=True)
class Source:
    """One file to import: a path, or a member of a zip file."""

    path: Path
    member: str | None = None

    def __str__(self) -> str:
        return f"{self.path}!{self.member}" if self.member else str(self.path)


@dataclass(frozen=True)
class Result:
    source: str
    disposition: str
    reason: str | None = None


def find_sources(paths: list[Path]) -> Iterator[Source]:
    """Every file below `paths`; zip files contribute their members."""
    for path in paths:
        if path.is_dir():
            for root, _, names in os.walk(path):
                for name in sorted(names):
                    yield from _sources_of(Path(root) / name)
        else:
            yield from _sources_of(path)


def _sources_of(path: Path) -> Iterator[Source]:
    if path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.is_dir():
                    yield Source(path, info.filename)
    else:
        yield Source(path)


_archive: Archive | None = None


def _open_worker(settings: Settings) -> None:
    global _archive
    warnings.filterwarnings("ignore", module="pydicom")
    logging.getLogger("pydicom").setLevel(logging.ERROR)
    _archive = Archive.open(settings, migrate_schema=False)


def store_source(source: Source) -> Result:
    """Copy one source into the spool folder and store it (runs in a worker process)."""
    assert _archive is not None
    try:
        spooled = _spool(source, _archive.blobs.spool_dir)
    except (OSError, zipfile.BadZipFile) as exc:
        return Result(str(source), Disposition.FAILED.value, f"cannot read: {exc}")
    outcome = _archive.store_file(spooled, look_first=True)  # a folder may be imported again
    reason = None
    if outcome.failure_reason is not None:
        reason = f"{outcome.failure_reason:04X}H {outcome.message}"
    return Result(str(source), outcome.disposition.value, reason)


def _spool(source: Source, spool_dir: Path) -> Path:
    fd, name = tempfile.mkstemp(dir=spool_dir, suffix=".import")
    with open(fd, "wb") as target:
        if source.member is None:
            with open(source.path, "rb") as f:
                shutil.copyfileobj(f, target, 1 << 20)
        else:
            with zipfile.ZipFile(source.path) as archive, archive.open(source.member) as f:
                shutil.copyfileobj(f, target, 1 << 20)
    return Path(name)


def import_paths(settings: Settings, paths: list[Path], *, jobs: int,
                 console: Console | None = None) -> int:
    """Import everything below `paths`; print a summary; return the exit code."""
    console = console or Console(stderr=True)
    missing = [p for p in paths if not p.exists()]
    for path in missing:
        console.print(f"[red]no such file or folder: {path}")
    Archive.open(settings).close()  # create or migrate the index once, up front
    sources = list(find_sources([p for p in paths if p.exists()]))
    results = _run(settings, sources, jobs, console)
    _summary(results, console)
    failed = missing or any(r.disposition == Disposition.FAILED.value for r in results)
    return 1 if failed else 0


def _run(settings: Settings, sources: list[Source], jobs: int, console: Console
         ) -> list[Result]:
    results: list[Result] = []
    columns = ("[progress.description]{task.description}", BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress, \
            ProcessPoolExecutor(jobs, initializer=_open_worker, initargs=(settings,)) as pool:
        task = progress.add_task("importing", total=len(sources))
        for result in pool.map(store_source, sources, chunksize=4):
            results.append(result)
            progress.advance(task)
    return results


def _summary(results: list[Result], console: Console) -> None:
    counts = Counter(r.disposition for r in results)
    table = Table(title="import summary")
    table.add_column("result")
    table.add_column("files", justify="right")
    for disposition in Disposition:
        table.add_row(disposition.value, str(counts.get(disposition.value, 0)))
    console.print(table)
    for result in results:
        if result.reason:
            console.print(f"[red]failed[/red] {result.source}: {result.reason}",
                          soft_wrap=True, highlight=False)
