"""Frame tables: compact arrays that give each frame's runs; an LRU bounded in frames."""

import pytest

from hounsfield.archive.frame_tables import FrameTable, FrameTableCache


def test_a_frame_table_gives_each_frames_runs() -> None:
    table = FrameTable([[[100, 10]], [[120, 5], [133, 7]], [[150, 20]]])
    assert len(table) == 3
    assert table[0] == ((100, 10),)
    assert table[1] == ((120, 5), (133, 7))
    assert table[2] == ((150, 20),)
    assert table[-1] == ((150, 20),) and table[-2] == ((120, 5), (133, 7))
    assert list(table) == [((100, 10),), ((120, 5), (133, 7)), ((150, 20),)]
    assert table[1:] == [((120, 5), (133, 7)), ((150, 20),)]
    assert table.size == 5  # a frame each, and each run of the split frame


def test_a_frame_table_index_outside_raises_index_error() -> None:
    with pytest.raises(IndexError):
        FrameTable([[[0, 1]]])[1]


def test_offsets_beyond_4_gib_are_kept() -> None:
    assert FrameTable([[[5 << 32, 1 << 31]]])[0] == ((5 << 32, 1 << 31),)


def test_the_cache_drops_the_least_recently_used_tables_beyond_its_capacity() -> None:
    cache = FrameTableCache(capacity=5)
    a, b, c = (FrameTable([[[i, 1]]] * 2) for i in range(3))
    cache.put("a", a)
    cache.put("b", b)
    assert cache.get("a") is a  # a is now the most recently used
    cache.put("c", c)  # 6 frames > 5: b goes
    assert cache.get("b") is None
    assert cache.get("a") is a and cache.get("c") is c


def test_the_cache_does_not_keep_a_table_larger_than_its_capacity() -> None:
    cache = FrameTableCache(capacity=1)
    cache.put("big", FrameTable([[[0, 1]], [[1, 1]]]))
    assert cache.get("big") is None


def test_putting_a_key_again_replaces_it_and_its_size() -> None:
    cache = FrameTableCache(capacity=3)
    cache.put("a", FrameTable([[[0, 1]]] * 3))
    cache.put("a", FrameTable([[[0, 1]]]))
    cache.put("b", FrameTable([[[0, 1]]] * 2))
    assert cache.get("a") is not None and cache.get("b") is not None
