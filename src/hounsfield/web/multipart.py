"""Streaming reader of `multipart/related` request bodies (RFC 2046 §5.1, RFC 2387).

STOW-RS (PS3.18 §10.5) bodies can be many gigabytes, so they are parsed as they arrive:
`MultipartSpooler` takes chunks, finds delimiters with `bytes.find`, and writes every byte
that cannot be part of a delimiter straight to the current part's spool file. Between chunks
it keeps only a short tail (a possible partial delimiter) or the part headers being read.

Grammar, RFC 2046 §5.1.1: a delimiter is CRLF "--" boundary; the first one may open the
body without the CRLF. It is a delimiter only when followed by "--" (the close delimiter)
or by optional spaces/tabs (transport padding) and CRLF. The preamble and epilogue are
ignored. Liberty taken: a bare LF may end the boundary line and the part header lines.

`spool_multipart` drives a spooler from an ASGI body stream, enforcing the size limits and
undoing a gzip or deflate Content-Encoding on the way.
"""

from __future__ import annotations

import enum
import os
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import anyio.lowlevel

from hounsfield.errors import (
    BadRequestError,
    PayloadTooLargeError,
)
from hounsfield.web.content_coding import Inflater, inflater_for
from hounsfield.web.media_types import MediaType, parse_media_type

_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 token
_PADDING = re.compile(rb"[ \t]*")  # transport padding, RFC 2046 §5.1.1
_MAX_BOUNDARY = 70  # RFC 2046 §5.1.1
_WRITE_BUFFER = 256 * 1024
_PIECE = 1024 * 1024  # fed to the spooler between two event-loop checkpoints


@dataclass
class Part:
    """One body part: its headers and where its body was spooled."""

    headers: dict[str, str]  # lower-case names, last wins
    media_type: MediaType | None  # parsed Content-Type, None when absent
    content_location: str | None
    content_id: str | None
    path: Path  # spooled body file
    size: int


class _State(enum.Enum):
    PREAMBLE = enum.auto()
    HEADERS = enum.auto()
    BODY = enum.auto()
    EPILOGUE = enum.auto()
    FAILED = enum.auto()


class _After(enum.Enum):
    """What follows a `CRLF--boundary` match."""

    PART = enum.auto()  # padding and a line end: a body part follows
    CLOSE = enum.auto()  # "--": the close delimiter
    DATA = enum.auto()  # anything else: the match was data, not a delimiter
    MORE = enum.auto()  # the buffer ends before this can be told


class MultipartSpooler:
    """Incremental parser: feed() chunks as they arrive; each part body goes to a new file in
    spool_dir.

    On any error the spooler discards every file it wrote; `discard()` does the same for a
    caller that gives up for its own reasons (and after `finish()`, removes the parts' files).
    """

    def __init__(
        self,
        boundary: str,
        spool_dir: Path,
        *,
        max_parts: int = 10000,
        max_header_bytes: int = 16384,
    ):
        self._delimiter = b"\r\n--" + _boundary_bytes(boundary)
        self._spool_dir = Path(spool_dir)
        self._spool_prefix = os.path.join(spool_dir, secrets.token_hex(12))  # this body's
        self._max_parts = max_parts
        self._max_header_bytes = max_header_bytes
        # A virtual CRLF lets the first delimiter open the body like any other.
        self._tail = b"\r\n"
        self._header_scan = 0
        self._state = _State.PREAMBLE
        self._received = 0
        self._parts: list[Part] = []
        self._current: Part | None = None
        self._file: BinaryIO | None = None
        self._error: BadRequestError | None = None

    def feed(self, chunk: bytes) -> None:
        """Parse the next chunk of the body, writing part bodies to their files."""
        self._raise_if_failed()
        if not chunk or self._state is _State.EPILOGUE:
            return
        self._received += len(chunk)
        data = self._tail + chunk if self._tail else bytes(chunk)
        try:
            self._tail = data[self._consume(data) :]
        except BadRequestError as error:
            self._fail(error)
            raise
        except BaseException:
            self.discard()
            raise

    def finish(self) -> list[Part]:
        """End of body: return the parts, or raise `BadRequestError` if it was incomplete."""
        self._raise_if_failed()
        if self._state is not _State.EPILOGUE or not self._parts:
            error = BadRequestError(self._incomplete_reason())
            self._fail(error)
            raise error
        return list(self._parts)

    def discard(self) -> None:
        """Delete every spooled file; the spooler accepts no more input."""
        self._close_file()
        for part in [*self._parts, *([self._current] if self._current else [])]:
            part.path.unlink(missing_ok=True)
        self._parts, self._current = [], None
        self._state = _State.FAILED
        self._error = self._error or BadRequestError("multipart body was discarded")

    # -- the state machine: a step returns (position, wait); wait means "feed me more"

    def _consume(self, data: bytes) -> int:
        pos = 0
        while self._state is not _State.EPILOGUE:
            pos, wait = self._STEPS[self._state](self, data, pos)
            if wait:
                return pos
        return len(data)

    def _in_preamble(self, data: bytes, pos: int) -> tuple[int, bool]:
        found = data.find(self._delimiter, pos)
        if found == -1:
            return max(pos, self._keep_tail(data)), True
        return self._at_delimiter(data, found)

    def _in_headers(self, data: bytes, pos: int) -> tuple[int, bool]:
        end = _BLANK_LINE.search(data, pos + self._header_scan)
        if end is None:
            return self._await_headers(data, pos), True
        if end.end() - pos > self._max_header_bytes:
            raise self._headers_too_long()
        self._open_part(_parse_headers(data[pos : end.start()]))
        self._state = _State.BODY
        return end.end(), False

    def _in_body(self, data: bytes, pos: int) -> tuple[int, bool]:
        found = data.find(self._delimiter, pos)
        if found == -1:
            end = self._safe_end(data, pos)
            self._write(data, pos, end)
            return end, True
        self._write(data, pos, found)
        return self._at_delimiter(data, found)

    _STEPS = {
        _State.PREAMBLE: _in_preamble,
        _State.HEADERS: _in_headers,
        _State.BODY: _in_body,
    }

    def _at_delimiter(self, data: bytes, found: int) -> tuple[int, bool]:
        skip = found + len(self._delimiter)
        after, end = _after_delimiter(data, skip)
        if after is _After.DATA:
            self._write(data, found, skip)  # a no-op in the preamble
            return skip, False
        if after is _After.MORE:
            self._check_boundary_line(data, found)
            return found, True
        self._end_part()
        self._state = _State.EPILOGUE if after is _After.CLOSE else _State.HEADERS
        self._header_scan = 0
        return end, False

    def _keep_tail(self, data: bytes) -> int:
        return len(data) - len(self._delimiter) + 1

    def _safe_end(self, data: bytes, pos: int) -> int:
        """End of the bytes that cannot start a delimiter: up to the first CR in the tail."""
        start = max(pos, self._keep_tail(data))
        cr = data.find(b"\r", start)
        return len(data) if cr == -1 else cr

    def _check_boundary_line(self, data: bytes, found: int) -> None:
        if len(data) - found > len(self._delimiter) + self._max_header_bytes:
            raise BadRequestError("multipart boundary line is too long (endless padding)")

    def _await_headers(self, data: bytes, pos: int) -> int:
        if len(data) - pos >= self._max_header_bytes:
            raise self._headers_too_long()
        self._header_scan = max(0, len(data) - pos - 3)  # the blank line is at most 4 bytes
        return pos

    def _headers_too_long(self) -> BadRequestError:
        return BadRequestError(f"multipart part headers are over {self._max_header_bytes} bytes")

    # -- part files

    def _open_part(self, headers: dict[str, str]) -> None:
        if len(self._parts) >= self._max_parts:
            raise BadRequestError(f"multipart body has more than {self._max_parts} parts")
        media_type = _part_media_type(headers, len(self._parts) + 1)
        name = f"{self._spool_prefix}-{len(self._parts)}.part"  # O_EXCL: never another's
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        self._current = _new_part(headers, media_type, Path(name))
        self._file = os.fdopen(fd, "wb", buffering=_WRITE_BUFFER)

    def _write(self, data: bytes, start: int, end: int) -> None:
        if end > start and self._current is not None:
            self._file.write(memoryview(data)[start:end])
            self._current.size += end - start

    def _end_part(self) -> None:
        if self._current is not None:
            self._close_file()
            self._parts.append(self._current)
            self._current = None

    def _close_file(self) -> None:
        if self._file is not None:
            file, self._file = self._file, None
            file.close()

    # -- failure

    def _fail(self, error: BadRequestError) -> None:
        self._error = error
        self.discard()

    def _raise_if_failed(self) -> None:
        if self._state is _State.FAILED:
            raise self._error

    def _incomplete_reason(self) -> str:
        if self._received == 0:
            return "multipart body is empty"
        if self._state is _State.PREAMBLE and self._delimiter not in self._tail:
            return "multipart body has no boundary delimiter (wrong boundary?)"
        if self._state is _State.EPILOGUE:
            return "multipart body has no parts"
        return "multipart body is truncated: close delimiter missing"


def _after_delimiter(data: bytes, at: int) -> tuple[_After, int]:
    """Classify the bytes after a `CRLF--boundary` at `at`; for PART, `end` is the line end."""
    if data.startswith(b"--", at):
        return _After.CLOSE, at + 2
    if at == len(data) - 1 and data[at] == 0x2D:  # a lone "-" so far
        return _After.MORE, at
    end = _PADDING.match(data, at).end()
    line_end = data[end : end + 2]
    if line_end in (b"", b"\r"):
        return _After.MORE, end
    if line_end.startswith(b"\n") or line_end == b"\r\n":
        return _After.PART, end
    return _After.DATA, end


def _boundary_bytes(boundary: str) -> bytes:
    """RFC 2046 §5.1.1: 1 to 70 characters, not ending in a space; printable ASCII here."""
    if not 0 < len(boundary) <= _MAX_BOUNDARY or boundary.endswith(" "):
        raise BadRequestError(f"invalid multipart boundary {boundary!r}: 1-70 characters")
    if not all(" " <= c <= "~" for c in boundary):
        raise BadRequestError(f"invalid multipart boundary {boundary!r}: not printable ASCII")
    return boundary.encode("ascii")


def _parse_headers(block: bytes) -> dict[str, str]:
    """Header lines (after the boundary line's own line end) to a dict, last name wins."""
    lines: list[str] = []
    for line in _decode(block).split("\n")[1:]:
        line = line.removesuffix("\r")
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += " " + line.strip()  # obsolete line folding
        else:
            lines.append(line)
    return dict(_header_field(line) for line in lines)


def _header_field(line: str) -> tuple[str, str]:
    name, colon, value = line.partition(":")
    if not colon or _HEADER_NAME.fullmatch(name) is None:
        raise BadRequestError(f"malformed multipart part header: {line[:100]!r}")
    return name.lower(), value.strip()


def _decode(block: bytes) -> str:
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError:
        return block.decode("latin-1")


def _part_media_type(headers: dict[str, str], number: int) -> MediaType | None:
    content_type = headers.get("content-type")
    if content_type is None:
        return None
    try:
        return parse_media_type(content_type)
    except BadRequestError as error:
        raise BadRequestError(f"multipart part {number}: {error.message}") from None


def _new_part(headers: dict[str, str], media_type: MediaType | None, path: Path) -> Part:
    return Part(
        headers=headers,
        media_type=media_type,
        content_location=headers.get("content-location"),
        content_id=headers.get("content-id"),
        path=path,
        size=0,
    )


# -- the driver


async def spool_multipart(
    chunks: AsyncIterator[bytes],
    boundary: str,
    spool_dir: Path,
    *,
    max_bytes: int,
    encoding: str | None = None,
    max_inflated_bytes: int | None = None,
) -> list[Part]:
    """Spool a multipart body arriving as `chunks`; each part's body goes to its own file.

    `max_bytes` caps the body as received, `max_inflated_bytes` the body after undoing
    `encoding` (the request's Content-Encoding). On any error, no spooled file remains.
    """
    inflater = inflater_for(encoding, max_inflated_bytes)
    spooler = MultipartSpooler(boundary, spool_dir)
    try:
        await _feed_all(chunks, spooler, inflater, max_bytes)
        return spooler.finish()
    except BaseException:
        spooler.discard()
        raise


async def _feed_all(
    chunks: AsyncIterator[bytes],
    spooler: MultipartSpooler,
    inflater: Inflater | None,
    max_bytes: int,
) -> None:
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        if received > max_bytes:
            raise PayloadTooLargeError(f"request body over {max_bytes} bytes")
        pieces = _pieces(chunk) if inflater is None else inflater.inflate(chunk)
        for index, piece in enumerate(pieces):
            if index:
                await anyio.lowlevel.checkpoint()  # let other tasks run inside a big chunk
            spooler.feed(piece)
    if inflater is not None:
        inflater.finish()


def _pieces(chunk: bytes) -> Iterator[bytes]:
    if len(chunk) <= _PIECE:
        yield chunk
        return
    view = memoryview(chunk)
    for start in range(0, len(chunk), _PIECE):
        yield view[start : start + _PIECE]
