"""The allocator's thresholds are set on glibc (Linux), and a no-op elsewhere."""

import sys

import pytest

from hounsfield import allocator


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_thresholds_are_set_on_glibc() -> None:
    assert allocator.keep_large_buffers() is True


def test_other_platforms_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(allocator.sys, "platform", "darwin")
    assert allocator.keep_large_buffers() is False
