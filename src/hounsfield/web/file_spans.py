"""A streamed response whose body mixes bytes and spans of open files.

Where the server offers the ASGI `http.response.zerocopysend` extension, a span goes out
with `os.sendfile` (the bytes never enter Python); elsewhere (an in-process test client,
another server) it is read in worker threads and sent in chunks. Either way the response
closes each span's file once it is sent.
"""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterable
from dataclasses import dataclass
from typing import BinaryIO

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

ZERO_COPY = "http.response.zerocopysend"
CHUNK = 1 << 20


@dataclass(frozen=True)
class FileSpan:
    """`count` bytes of an open OS file from `offset` on; the response closes `file`."""
    file: BinaryIO
    offset: int
    count: int


def os_file(fp: BinaryIO) -> bool:
    """Whether `fp` is backed by an OS file descriptor that `os.sendfile` can read."""
    try:
        fp.fileno()
    except (io.UnsupportedOperation, AttributeError, OSError):
        return False
    return True


class SpanResponse(StreamingResponse):
    """A StreamingResponse over `bytes | FileSpan` items."""

    body_iterator: AsyncIterable[bytes | FileSpan]  # type: ignore[assignment]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.zero_copy = ZERO_COPY in scope.get("extensions", {})
        await super().__call__(scope, receive, send)

    async def stream_response(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers})
        async for item in self.body_iterator:
            if isinstance(item, FileSpan):
                await self._send_span(item, send)
            else:
                await send({"type": "http.response.body", "body": item, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _send_span(self, span: FileSpan, send: Send) -> None:
        try:
            if self.zero_copy:
                await send({"type": ZERO_COPY, "file": span.file, "offset": span.offset,
                            "count": span.count, "more_body": True})
                return
            offset, end = span.offset, span.offset + span.count
            fd = span.file.fileno()
            while offset < end:
                data = await anyio.to_thread.run_sync(os.pread, fd, min(CHUNK, end - offset),
                                                      offset)
                if not data:
                    raise EOFError(f"file ended {end - offset} bytes before the span")
                offset += len(data)
                await send({"type": "http.response.body", "body": data, "more_body": True})
        finally:
            span.file.close()
