"""Split a multipart/related response body into its parts, strictly (for assertions)."""

from __future__ import annotations

import re


def boundary_of(content_type: str) -> str:
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    assert match, content_type
    return match[1]


def split_parts(body: bytes, content_type: str) -> list[tuple[dict[str, str], bytes]]:
    """(headers with lower-case names, bytes) of every part; asserts the framing."""
    delimiter = b"--" + boundary_of(content_type).encode()
    assert body.startswith(delimiter + b"\r\n"), body[:80]
    assert body.endswith(b"\r\n" + delimiter + b"--\r\n"), body[-80:]
    inner = body[len(delimiter) + 2 : -(len(delimiter) + 6)]
    parts = []
    for chunk in inner.split(b"\r\n" + delimiter + b"\r\n"):
        head, _, data = chunk.partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
        parts.append(({k.lower(): v for k, v in headers.items()}, data))
    return parts
