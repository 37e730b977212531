"""Positioned reads of bulk data runs: byte ranges over fragments, bounded pieces."""

from __future__ import annotations

import io

import pytest

from hounsfield.archive.retrieve import clip_runs, run_chunks
from hounsfield.errors import StorageUnavailableError

FILE = bytes(range(256)) * 4
RUNS = ((8, 10), (30, 5), (100, 20))  # three fragments: 35 bytes in all
WHOLE = FILE[8:18] + FILE[30:35] + FILE[100:120]


@pytest.mark.parametrize("start, end", [(0, 35), (0, 1), (9, 11), (10, 15), (12, 30),
                                        (34, 35), (0, 0), (20, 20)])
def test_clipped_runs_hold_exactly_that_range(start: int, end: int) -> None:
    clipped = clip_runs(RUNS, start, end)
    assert b"".join(FILE[o:o + n] for o, n in clipped) == WHOLE[start:end]
    assert all(n > 0 for _, n in clipped)


@pytest.mark.parametrize("chunk", [1, 3, 7, 16, 35, 1000])
def test_pieces_are_at_most_a_chunk_and_join_to_the_runs(chunk: int) -> None:
    pieces = list(run_chunks(io.BytesIO(FILE), RUNS, chunk))
    assert b"".join(pieces) == WHOLE
    assert all(0 < len(p) <= chunk for p in pieces)
    assert all(len(p) == chunk for p in pieces[:-1])  # small runs are gathered


def test_a_file_shorter_than_its_runs_is_a_storage_error() -> None:
    with pytest.raises(StorageUnavailableError):
        list(run_chunks(io.BytesIO(FILE[:110]), RUNS, 64))
