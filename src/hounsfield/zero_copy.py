"""The ASGI `http.response.zerocopysend` extension, for uvicorn's httptools protocol.

A message `{"type": "http.response.zerocopysend", "file": f, "offset": o, "count": n,
"more_body": b}` sends `n` bytes of the open file `f` from `o` on as part of the response
body. The bytes go from the page cache to the socket with `os.sendfile`, never through
Python: a stored series leaves the archive the way a static file
server sends it.

Rules that keep the byte stream right:
- the transport's own buffer is empty before a file is sent past it (bytes stay in
  order), and nothing else writes to the connection while the file is sent (the cycle
  awaits it);
- the thread writes to a duplicate of the socket's descriptor, so a connection closed
  meanwhile can never lead it to write into another connection that reused the number;
- a span in the page cache goes out on the event loop as far as the socket takes it at
  once (a thread hop costs more than the copy); the rest, and a span that would wait for
  the disk, is sent by a worker thread;
- a client that stops reading does not hold a thread: after `STALL` seconds without
  progress the rest of the span is read and written through the transport, whose flow
  control waits on the event loop.

Every response also gains this: the status line and headers wait for the first body
message and, when that body is small, go out with it in one write (one system call and
one TCP segment instead of two, for a small answer).

And every request: up to `BODY_BUFFER` bytes of its body are read from the socket before
reading pauses for the app to take them (uvicorn: 64 KiB), so that an upload reaches the
app in fewer, larger chunks: a STOW-RS instance of 526 KB takes two or three `receive`
calls instead of about nine (at 4 connections x 1 instance per request, 10-14% more
instances per second and 0.6 ms less CPU per instance; 1 MiB did no better and took
5 MB more memory). The memory is bounded by connections x `BODY_BUFFER`.
"""

from __future__ import annotations

import asyncio
import os
import select
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

EXTENSION = "http.response.zerocopysend"
STALL = 1.0  # seconds without progress before a span goes the slow way
CHUNK = 1 << 20
TOGETHER = 64 * 1024  # a first body up to this size goes out in one write with the head
BODY_BUFFER = 512 * 1024  # request body bytes read ahead of the app before reading pauses

_THREADS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="hounsfield-sendfile")


class ZeroCopyProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, offering `http.response.zerocopysend` to the app."""

    def on_headers_complete(self) -> None:
        before = self.cycle
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is None or cycle is before:  # upgraded: no HTTP cycle was made
            return
        cycle.scope.setdefault("extensions", {})[EXTENSION] = {}  # type: ignore[union-attr]
        # run_asgi looks `send` up when the task first runs, after this returns
        cycle.send = _ZeroCopySend(cycle)  # type: ignore[method-assign]

    def on_body(self, body: bytes) -> None:
        """uvicorn's, with `BODY_BUFFER` as the point where reading pauses."""
        cycle = self.cycle
        if (self.parser.should_upgrade() and self._should_upgrade()) \
                or cycle.response_complete:
            return
        cycle.body += body
        if len(cycle.body) > BODY_BUFFER:
            self.flow.pause_reading()
        cycle.message_event.set()


class _ZeroCopySend:
    """The cycle's `send`, with files sent by `os.sendfile`."""

    def __init__(self, cycle: RequestResponseCycle):
        self.cycle = cycle
        self.plain = type(cycle).send.__get__(cycle)
        self.start: Any = None  # the response start, held until the first body message

    async def __call__(self, message: Any) -> None:
        kind = message["type"]
        if kind == "http.response.start" and not self.cycle.response_started:
            self.start = message  # a later start (uvicorn's 500) replaces it
            return
        if self.start is not None:
            start, self.start = self.start, None
            if kind == "http.response.body" and len(message.get("body", b"")) <= TOGETHER:
                await self._send_together(start, message)
                return
            await self.plain(start)
        if kind != EXTENSION:
            await self.plain(message)
            return
        await self._send_file(message)

    async def _send_together(self, start: Any, body: Any) -> None:
        """Send the response start and the first body message in one transport write."""
        cycle = self.cycle
        transport = cycle.transport
        held = _HeldWrites(transport)
        cycle.transport = held  # type: ignore[assignment]
        try:
            await self.plain(start)
            await self.plain(body)
        finally:
            cycle.transport = transport
            held.release()

    async def _send_file(self, message: Any) -> None:
        cycle = self.cycle
        if cycle.disconnected:
            return
        if not cycle.response_started or cycle.response_complete:
            raise RuntimeError(f"Unexpected ASGI message '{EXTENSION}' outside a response body.")
        fd = message["file"].fileno()
        offset = message.get("offset") or 0
        count = message.get("count")
        if count is None:
            count = os.fstat(fd).st_size - offset
        if cycle.scope["method"] != "HEAD" and count:
            await self._send_span(fd, offset, count)
        more_body = message.get("more_body", False)
        if cycle.disconnected:
            return
        await self.plain({"type": "http.response.body", "body": b"", "more_body": more_body})

    async def _send_span(self, fd: int, offset: int, count: int) -> None:
        cycle = self.cycle
        if cycle.chunked_encoding:
            cycle.transport.write(b"%x\r\n" % count)
        elif count > cycle.expected_content_length:
            raise RuntimeError("Response content longer than Content-Length")
        else:
            cycle.expected_content_length -= count
        sent: int | None = 0
        if await self._drained():
            sent = self._send_now(fd, offset, count)
            if sent is not None and sent < count:
                more = await self._sendfile(fd, offset + sent, count - sent)
                sent = None if more is None else sent + more
        if sent is not None and sent < count and not cycle.disconnected:
            await self._write_slowly(fd, offset + sent, count - sent)
        if cycle.chunked_encoding and not cycle.disconnected:
            cycle.transport.write(b"\r\n")

    async def _drained(self) -> bool:
        """Wait until the transport has written out everything it holds; False when the
        connection went away meanwhile."""
        cycle = self.cycle
        transport = cycle.transport
        if transport.get_write_buffer_size():
            low, high = transport.get_write_buffer_limits()
            transport.set_write_buffer_limits(high=0, low=0)  # paused until empty
            try:
                while cycle.flow.write_paused and not cycle.disconnected:
                    await cycle.flow.drain()
            finally:
                if not transport.is_closing():
                    transport.set_write_buffer_limits(high=high, low=low)
        return not cycle.disconnected and not transport.is_closing()

    def _send_now(self, fd: int, offset: int, count: int) -> int | None:
        """What the socket takes at once, sent on the event loop when the span is in the
        page cache (so sendfile copies from memory and never waits for the disk); None
        when the connection failed (then closed)."""
        if not in_page_cache(fd, offset, count):
            return 0
        try:
            return os.sendfile(self.cycle.transport.get_extra_info("socket").fileno(), fd,
                               offset, count)
        except BlockingIOError:
            return 0
        except OSError:
            self.cycle.disconnected = True
            self.cycle.transport.close()
            return None

    async def _sendfile(self, fd: int, offset: int, count: int) -> int | None:
        """Bytes sent by the thread; None when the connection failed (then closed)."""
        cycle = self.cycle
        sock = cycle.transport.get_extra_info("socket")
        own = os.dup(sock.fileno())
        try:
            return await asyncio.get_running_loop().run_in_executor(
                _THREADS, send_file, own, fd, offset, count)
        except OSError:
            cycle.disconnected = True
            cycle.transport.close()
            return None
        finally:
            os.close(own)

    async def _write_slowly(self, fd: int, offset: int, count: int) -> None:
        """The rest of a span through the transport, for a client that reads slowly."""
        cycle = self.cycle
        loop = asyncio.get_running_loop()
        while count and not cycle.disconnected:
            data = await loop.run_in_executor(_THREADS, os.pread, fd, min(CHUNK, count),
                                              offset)
            if not data:
                raise EOFError(f"file ended {count} bytes before the span")
            cycle.transport.write(data)
            offset += len(data)
            count -= len(data)
            if cycle.flow.write_paused and not cycle.disconnected:
                await cycle.flow.drain()


class _HeldWrites:
    """A transport stand-in that keeps what is written until `release`, then writes it
    in one go; anything else goes to the real transport (closing releases first)."""

    def __init__(self, transport: Any):
        self._transport = transport
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> None:
        self._parts.append(data)

    def close(self) -> None:
        self.release()
        self._transport.close()

    def release(self) -> None:
        if self._parts:
            data, self._parts = b"".join(self._parts), []
            self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def in_page_cache(fd: int, offset: int, count: int) -> bool:
    """Whether the first and the last byte of the span can be read without waiting for
    the disk (a read with RWF_NOWAIT; False where the kernel cannot tell)."""
    probe = [bytearray(1)]
    try:
        return all(os.preadv(fd, probe, at, os.RWF_NOWAIT) == 1
                   for at in (offset, offset + count - 1))
    except (OSError, AttributeError):  # would block; not supported here
        return False


def send_file(sock: int, fd: int, offset: int, count: int) -> int:
    """Send `count` bytes of `fd` from `offset` to the non-blocking socket `sock`; the
    number sent, short when the socket accepted nothing for `stall` seconds. Raises
    OSError when the connection fails, EOFError when the file ends before the span."""
    poller = select.poll()
    poller.register(sock, select.POLLOUT)
    sent = 0
    while sent < count:
        try:
            n = os.sendfile(sock, fd, offset + sent, count - sent)
        except BlockingIOError:
            if not poller.poll(STALL * 1000):
                return sent
            continue
        if n == 0:
            raise EOFError(f"file ended {count - sent} bytes before the span")
        sent += n
    return sent
