"""Memory and CPU of a process and all its descendants, read from /proc (Linux).

RSS is summed over the tree, as ``ps`` would show it; shared pages of forked workers
count once per process there, so PSS (proportional set size, from smaps_rollup) is
sampled beside it. CPU time is utime + stime, plus the children's times the kernel
folds into a parent when it reaps them, so a worker that exited still counts.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (state is the first)."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def _parent_map() -> dict[int, int]:
    parents = {}
    for entry in os.scandir(PROC):
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields:
                parents[int(entry.name)] = int(fields[1])
    return parents


def tree(root: int) -> list[int]:
    """``root`` and every live descendant."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parent_map().items():
        children.setdefault(parent, []).append(pid)
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, []))
    return found


def cpu_seconds(pid: int) -> float:
    """utime + stime + reaped children's cutime + cstime of one process."""
    fields = _stat_fields(pid)
    if not fields:
        return 0.0
    # stat fields 14..17 (1-based, counting pid and comm): utime stime cutime cstime
    return sum(int(value) for value in fields[11:15]) / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    try:
        return int((PROC / str(pid) / "statm").read_text().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def pss_bytes(pid: int) -> int:
    try:
        for line in (PROC / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def tree_cpu_seconds(root: int) -> float:
    return sum(cpu_seconds(pid) for pid in tree(root))


def named_cpu_seconds(command: str) -> float:
    """CPU of every process whose command name is ``command`` (e.g. all postgres)."""
    total = 0.0
    for entry in os.scandir(PROC):
        if entry.name.isdigit() and _command(entry.name) == command:
            total += cpu_seconds(int(entry.name))
    return total


def _command(pid: str) -> str:
    try:
        return (PROC / pid / "comm").read_text().strip()
    except OSError:
        return ""


class TreeSampler:
    """Samples the tree's RSS every ``interval`` seconds and its PSS every
    ``pss_every`` samples, and keeps the peaks. The tree itself (a scan of every
    process on the machine) is looked up again every ``pss_every`` samples too: the
    sampler runs in the benchmark client, on the machine under test, and reading
    smaps_rollup (the kernel walks the page tables) for a server of three processes
    every 100 ms cost it 9 ms of CPU a time, a tenth of a core taken from that server."""

    def __init__(self, root: int, interval: float = 0.1, pss_every: int = 10) -> None:
        self.root = root
        self.interval = interval
        self.pss_every = pss_every
        self.peak_rss = 0
        self.peak_pss = 0
        self._pids: list[int] = []
        self._samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tree-sampler", daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.root)

    def restart_peaks(self) -> None:
        """Forget the peaks so far: the next ones are those of what follows."""
        self.peak_rss = self.peak_pss = 0
        self.sample(full=True)

    def current_rss(self) -> int:
        return sum(rss_bytes(pid) for pid in tree(self.root))

    def sample(self, full: bool = True) -> None:
        """RSS of the tree; with ``full``, the tree looked up again and PSS too."""
        if full or not self._pids:
            self._pids = tree(self.root)
        rss = [rss_bytes(pid) for pid in self._pids]
        if 0 in rss:  # a process went away (or came): look the tree up again
            self._pids = tree(self.root)
            rss = [rss_bytes(pid) for pid in self._pids]
        self.peak_rss = max(self.peak_rss, sum(rss))
        if full:
            self.peak_pss = max(self.peak_pss, sum(pss_bytes(pid) for pid in self._pids))

    def _loop(self) -> None:
        while True:
            self.sample(full=self._samples % self.pss_every == 0)
            self._samples += 1
            if self._stop.wait(self.interval):
                return
