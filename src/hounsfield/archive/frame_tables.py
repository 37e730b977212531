"""Frame tables as WADO-RS reads them: compact, and kept per process once read.

The index holds each instance's frame table as JSON ([[offset, length], ...] per
frame). A whole-slide image has tens of thousands of frames and a viewer asks for them
one at a time, so parsing the table on every request would cost more than the read
itself. A table is turned once into two arrays (16 bytes a frame) and kept, keyed by
the blob key: a key names one immutable stored file (a replaced instance gets a new
key), so a kept table is never stale. The index is still asked on every request
whether the instance exists and which blob it has.
"""

from __future__ import annotations

import threading
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any, overload

Run = tuple[int, int]

_SPLIT = -1  # start of a frame that lies in several runs (kept aside)


class FrameTable(Sequence[tuple[Run, ...]]):
    """Each frame's runs, (offset, length) pairs in file order."""

    __slots__ = ("_lengths", "_split", "_starts")

    def __init__(self, frames: Iterable[Sequence[Sequence[int]]]):
        self._starts = array("q")
        self._lengths = array("q")
        self._split: dict[int, tuple[Run, ...]] = {}
        for index, frame in enumerate(frames):
            if len(frame) == 1:
                self._starts.append(int(frame[0][0]))
                self._lengths.append(int(frame[0][1]))
                continue
            self._split[index] = tuple((int(o), int(n)) for o, n in frame)
            self._starts.append(_SPLIT)
            self._lengths.append(_SPLIT)

    def __len__(self) -> int:
        return len(self._starts)

    @overload
    def __getitem__(self, index: int) -> tuple[Run, ...]: ...
    @overload
    def __getitem__(self, index: slice) -> list[tuple[Run, ...]]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        start = self._starts[index]
        if start == _SPLIT:
            return self._split[index % len(self)]
        return ((start, self._lengths[index]),)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    @property
    def size(self) -> int:
        """Its cost in the cache: one per frame, and one per run of a split frame."""
        return len(self) + sum(len(runs) for runs in self._split.values())


class FrameTableCache:
    """The most recently used frame tables, by blob key, up to `capacity` frames in all;
    safe to share between threads."""

    def __init__(self, capacity: int = 2_000_000):
        self.capacity = capacity
        self._tables: OrderedDict[str, FrameTable] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> FrameTable | None:
        with self._lock:
            table = self._tables.get(key)
            if table is not None:
                self._tables.move_to_end(key)
            return table

    def put(self, key: str, table: FrameTable) -> None:
        if table.size > self.capacity:
            return
        with self._lock:
            old = self._tables.pop(key, None)
            self._size += table.size - (old.size if old is not None else 0)
            self._tables[key] = table
            while self._size > self.capacity:
                _, dropped = self._tables.popitem(last=False)
                self._size -= dropped.size
