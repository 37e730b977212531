"""What a right WADO-RS (or nginx) answer is, and the check that compares.

Every request carries what its answer must be (``HttpRequest.expected``):

- ``Instances``: a multipart/related answer (PS3.18 §8.6.1.2) with exactly these
  instances, each a Part 10 file (``DICM`` at byte 128) of the stored size;
- ``Body``: exactly these bytes, as the whole body or as the one part of a multipart
  answer (an instance as stored, a frame as its stored JPEG tile);
- ``Items``: a DICOM JSON array of this many objects (series metadata);
- ``File``: the stored file of this size served as is (nginx).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bench.load import HttpRequest
from bench.sink import sop_instance_uids

PART10_MAGIC = slice(128, 132)
HEADER_END = b"\r\n\r\n"


@dataclass(frozen=True)
class Instances:
    sizes: dict[str, int]  # SOP Instance UID -> stored size
    status: int = 200


@dataclass(frozen=True)
class Body:
    data: bytes
    multipart: bool
    status: int = 200


@dataclass(frozen=True)
class Items:
    count: int
    status: int = 200


@dataclass(frozen=True)
class File:
    size: int
    status: int = 200


class MultipartError(ValueError):
    """The body is not a multipart/related body."""


def multipart_parts(body: bytes) -> list[memoryview]:
    """The part bodies of a multipart body, its boundary taken from its first line;
    views into `body`, not copies (a series is hundreds of MB: checking it must not cost
    more than receiving it)."""
    first = body.find(b"\r\n")
    delimiter = b"\r\n" + body[:first]
    if first < 3 or not body.startswith(b"--"):
        raise MultipartError(f"does not start with a boundary: {body[:60]!r}")
    view, parts, start = memoryview(body), [], first
    while True:
        head_end = body.find(HEADER_END, start)
        if head_end < 0:
            raise MultipartError("a part without a header block")
        end = body.find(delimiter, head_end)
        if end < 0:
            raise MultipartError("no closing boundary")
        parts.append(view[head_end + len(HEADER_END):end])
        start = end + len(delimiter)
        if body.startswith(b"--", start):
            return parts


def check(request: HttpRequest, status: int, body: bytes) -> str | None:
    """None when the answer is right; else what is wrong."""
    expected = request.expected
    if status != expected.status:
        return f"HTTP {status} (expected {expected.status}): {body[:120]!r}"
    try:
        if isinstance(expected, Instances):
            return _instances(expected, multipart_parts(body))
        if isinstance(expected, Body):
            return _body(expected, body)
        if isinstance(expected, Items):
            return _items(expected, body)
        if isinstance(expected, File):
            return _file(expected, body)
    except MultipartError as error:
        return f"not multipart: {error}"
    raise TypeError(f"unknown expectation {expected!r}")


def _instances(expected: Instances, parts: list[bytes]) -> str | None:
    if len(parts) != len(expected.sizes):
        return f"{len(parts)} parts, expected {len(expected.sizes)}"
    for part in parts:
        if part[PART10_MAGIC] != b"DICM":
            return "a part is not a Part 10 file"
        uids = sop_instance_uids(bytes(part[:1024]))
        if not uids or expected.sizes.get(uids[0]) != len(part):
            return f"part {uids[:1]} of {len(part)} bytes is not a stored instance"
    return None


def _body(expected: Body, body: bytes) -> str | None:
    if expected.multipart:
        parts = multipart_parts(body)
        if len(parts) != 1:
            return f"{len(parts)} parts, expected 1"
        body = parts[0]
    if body != expected.data:
        return f"not as stored: {len(body)} bytes, not the {len(expected.data)} stored"
    return None


def _items(expected: Items, body: bytes) -> str | None:
    try:
        answer = json.loads(body)
    except ValueError as error:
        return f"not JSON: {error}"
    if not isinstance(answer, list) or not all(isinstance(i, dict) for i in answer):
        return "not a DICOM JSON array of objects"
    if len(answer) != expected.count:
        return f"{len(answer)} instances, expected {expected.count}"
    return None


def _file(expected: File, body: bytes) -> str | None:
    if len(body) != expected.size or body[PART10_MAGIC] != b"DICM":
        return f"{len(body)} bytes, expected the {expected.size} of the stored file"
    return None
