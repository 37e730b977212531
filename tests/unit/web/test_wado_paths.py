"""Frame lists, bulk data paths and byte ranges of WADO-RS URLs and headers."""

from __future__ import annotations

import pytest

from hounsfield.errors import BadRequestError, NotFoundError, RangeNotSatisfiableError
from hounsfield.web.wado_paths import bulk_data_key, check_frame_numbers, frame_numbers
from hounsfield.web.wado_response import requested_range


@pytest.mark.parametrize("text, expected", [
    ("1", [1]), ("1,3,5", [1, 3, 5]), ("5,1", [5, 1]), ("2,2", [2, 2]), ("007", [7]),
])
def test_frame_lists(text, expected) -> None:
    assert frame_numbers(text) == expected
    check_frame_numbers(expected, 10, "1.2")


@pytest.mark.parametrize("text", ["", "a", "1,", ",1", "1,,2", "1 ,2", "-1", "1.5", "1;2",
                                  "1-3", "+1", "１"])
def test_malformed_frame_lists_are_400(text) -> None:
    with pytest.raises(BadRequestError, match="frame list"):
        frame_numbers(text)


@pytest.mark.parametrize("text", ["0", "11", "1,11", "9" * 40])
def test_frames_outside_the_instance_are_404(text) -> None:
    with pytest.raises(NotFoundError, match=r"outside 1\.\.10 of instance 1\.2"):
        check_frame_numbers(frame_numbers(text), 10, "1.2")


def test_too_many_frames_is_400() -> None:
    with pytest.raises(BadRequestError):
        frame_numbers(",".join(["1"] * 10_001))


@pytest.mark.parametrize("path, key", [
    ("00420011", "00420011"), ("7fe00010", "7FE00010"),
    ("00480105/0/00282000", "00480105/0/00282000"),
    ("00480105/12/00282000/", "00480105/12/00282000"),
])
def test_bulk_data_paths(path, key) -> None:
    assert bulk_data_key(path) == key


@pytest.mark.parametrize("path", ["", "0042001", "00420011/0", "00480105/x/00282000",
                                  "../../etc/passwd", "00420011//00420011"])
def test_malformed_bulk_data_paths_are_400(path) -> None:
    with pytest.raises(BadRequestError, match="bulk data path"):
        bulk_data_key(path)


@pytest.mark.parametrize("header, expected", [
    (None, None), ("bytes=0-9", (0, 10)), ("bytes=5-", (5, 100)), ("bytes=-10", (90, 100)),
    ("bytes=-1000", (0, 100)), ("bytes=90-1000", (90, 100)), ("bytes=0-0", (0, 1)),
    # ignored (RFC 9110 §14.2): malformed, unknown unit, several ranges, last < first
    ("bytes=", None), ("bytes=-", None), ("items=0-1", None), ("bytes=0-1,5-6", None),
    ("bytes=9-3", None), ("bytes=a-b", None),
])
def testrequested_ranges(header, expected) -> None:
    assert requested_range(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=100-200", "bytes=-0"])
def test_unsatisfiable_ranges_are_416(header) -> None:
    with pytest.raises(RangeNotSatisfiableError) as error:
        requested_range(header, 100)
    assert error.value.length == 100
