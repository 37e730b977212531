"""ETag / Last-Modified validators and conditional GET (RFC 9110 §13)."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from hounsfield.web.conditional import not_modified, validators

CURRENT = validators(["abc", "def"], [1_700_000_000.5, 1_600_000_000.0], "dicom", "*")


def request(**headers: str) -> Request:
    raw = [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "headers": raw})


def test_validators_change_with_what_was_negotiated_and_stored() -> None:
    assert validators(["abc", "def"], [1_700_000_000.5, 1.0], "dicom", "*") == CURRENT
    assert CURRENT.etag != validators(["abc", "def"], [0.0], "dicom", "1.2.840.10008.1.2.1").etag
    assert CURRENT.etag != validators(["abc", "xyz"], [0.0], "dicom", "*").etag
    assert CURRENT.headers["last-modified"] == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert CURRENT.etag == f'"{CURRENT.token}"'


@pytest.mark.parametrize("headers, fresh", [
    ({}, False),
    ({"if_none_match": CURRENT.etag}, True),
    ({"if_none_match": f'"x", W/{CURRENT.etag}'}, True),
    ({"if_none_match": "*"}, True),
    ({"if_none_match": '"x"'}, False),
    ({"if_modified_since": "Tue, 14 Nov 2023 22:13:20 GMT"}, True),
    ({"if_modified_since": "Wed, 15 Nov 2023 00:00:00 GMT"}, True),
    ({"if_modified_since": "Tue, 14 Nov 2023 22:13:19 GMT"}, False),
    ({"if_modified_since": "yesterday"}, False),
    # If-None-Match wins over If-Modified-Since (RFC 9110 §13.1.3)
    ({"if_none_match": '"x"', "if_modified_since": "Wed, 15 Nov 2023 00:00:00 GMT"}, False),
])
def test_conditional_get(headers, fresh) -> None:
    answer = not_modified(request(**headers), CURRENT)
    if not fresh:
        assert answer is None
        return
    assert answer is not None and answer.status_code == 304
    assert answer.headers["etag"] == CURRENT.etag
