"""Validators and conditional GET (RFC 9110 §8.8, §13): ETag, Last-Modified, 304.

A representation's ETag hashes the digests of the stored files it is made of and what
was negotiated (media types, transfer syntaxes, base URL), so it changes whenever its
bytes would; Last-Modified is when the newest of those files was stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime

from starlette.requests import Request
from starlette.responses import Response


@dataclass(frozen=True)
class Validators:
    etag: str  # quoted, strong
    last_modified: float  # epoch seconds

    @property
    def headers(self) -> dict[str, str]:
        return {"etag": self.etag,
                "last-modified": formatdate(int(self.last_modified), usegmt=True)}

    @property
    def token(self) -> str:
        """The ETag without quotes: also a multipart boundary that is the same each time."""
        return self.etag.strip('"')


def validators(digests: Iterable[str], times: Iterable[float], *variant: str) -> Validators:
    hasher = hashlib.sha256()
    for part in (*digests, *variant):
        hasher.update(part.encode())
        hasher.update(b"\0")
    return Validators(f'"{hasher.hexdigest()[:32]}"', max(times, default=0.0))


def not_modified(request: Request, current: Validators) -> Response | None:
    """A 304 when the client's copy is current, else None (If-None-Match wins)."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        fresh = _etag_matches(if_none_match, current.etag)
    else:
        fresh = _not_modified_since(request.headers.get("if-modified-since"), current)
    return Response(status_code=304, headers=current.headers) if fresh else None


def _etag_matches(header: str, etag: str) -> bool:
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)


def _not_modified_since(header: str | None, current: Validators) -> bool:
    if not header:
        return False
    try:
        since = parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return False  # an invalid date is ignored (RFC 9110 §13.1.3)
    return int(current.last_modified) <= since
