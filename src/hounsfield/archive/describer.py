"""Describing received files in separate processes.

Describing a file (parsing it, building its JSON metadata, frame table and digest) is
pure Python work of about a millisecond and a half per CT image. In the server process
it would hold the interpreter lock that the event loop needs to receive the next
requests, and one process could use one core only. A small pool of processes does it
instead: the server hands over the spooled file's path and gets the InstanceRecord back,
so every core works whichever worker process the client's connections landed on.

With `processes=0` files are described in the calling thread (tests, the importer).
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from hounsfield.archive.instance_file import describe_file
from hounsfield.archive.record import InstanceRecord
from hounsfield.errors import StorageUnavailableError

log = logging.getLogger(__name__)


class Describer:
    def __init__(self, processes: int, bulk_data_threshold: int):
        self._processes = processes
        self._threshold = bulk_data_threshold
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None

    def describe(self, path: Path, *, expected_study: str | None = None) -> InstanceRecord:
        """The record of the file at `path` (InstanceRejectedError if it is not valid)."""
        if not self._processes:
            return describe_file(path, bulk_data_threshold=self._threshold,
                                 expected_study=expected_study)
        executor = self._pool()
        try:
            return executor.submit(describe_file, path, bulk_data_threshold=self._threshold,
                                   expected_study=expected_study).result()
        except BrokenProcessPool as exc:
            self._discard(executor)
            raise StorageUnavailableError("a describing process ended unexpectedly") from exc

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                # spawn: the server's threads and event loop must not be forked
                self._executor = ProcessPoolExecutor(
                    self._processes, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_quiet_pydicom)
            return self._executor

    def _discard(self, executor: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is executor:
                self._executor = None
        log.error("a describing process died; starting a new pool")
        executor.shutdown(wait=False, cancel_futures=True)


def _quiet_pydicom() -> None:
    """pydicom warns about every odd value it reads; the archive stores what it gets."""
    import warnings

    warnings.filterwarnings("ignore", module="pydicom")
    logging.getLogger("pydicom").setLevel(logging.ERROR)
