"""A few seconds' memory of how many matches a search has."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any


class CountCache:
    """Numbers of matches, kept a few seconds per query (whatever its page): paging
    through a large result counts its matches once, not on every page. The number of
    remaining results in the Warning may be that much behind new stores."""

    def __init__(self, seconds: float = 10.0, size: int = 256):
        self.seconds, self.size = seconds, size
        self._entries: OrderedDict[Any, tuple[float, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> int | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] < time.monotonic():
                return None
            return entry[1]

    def put(self, key: Any, total: int) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + self.seconds, total)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
