"""The few-seconds cache of match counts that paging reuses."""

from __future__ import annotations

import time

from hounsfield.archive.count_cache import CountCache


def test_a_count_is_reused_until_it_expires() -> None:
    cache = CountCache(seconds=0.05)
    cache.put("q", 42)
    assert cache.get("q") == 42
    time.sleep(0.06)
    assert cache.get("q") is None


def test_the_oldest_counts_make_room() -> None:
    cache = CountCache(size=2)
    for key in ("a", "b", "c"):
        cache.put(key, 1)
    assert [cache.get(k) for k in ("a", "b", "c")] == [None, 1, 1]
