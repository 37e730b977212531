"""Bulk data parts streamed from the stored files (PS3.18 §8.6 multipart, RFC 9110 §14).

Each part is read by positioned reads in worker threads, at most `CHUNK` bytes at a
time, one file open at a time: a study of any size goes out with bounded memory. The
lengths are known from the bulk data tables, so every answer has a Content-Length (and
each part its own), and a HEAD answers with the same headers without reading a file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import anyio
from starlette.responses import Response, StreamingResponse

from hounsfield.archive.archive import Archive
from hounsfield.archive.retrieve import clip_runs, run_chunks
from hounsfield.web.bulk_parts import BulkPart, OutgoingPart
from hounsfield.web.wado_response import CHUNK, multipart_type, requested_range


def multipart_parts(archive: Archive, outgoing: list[OutgoingPart], boundary: str,
                    headers: dict[str, str], head_only: bool) -> Response:
    """`multipart/related` of the parts, each with Content-Type, Content-Location and
    Content-Length; the root type is the first part's media type."""
    heads = [_part_head(boundary, o) for o in outgoing]
    closing = f"--{boundary}--\r\n".encode()
    length = sum(len(h) + o.part.length + 2 for h, o in zip(heads, outgoing, strict=True))
    content_types = {o.representation.content_type for o in outgoing}
    first = outgoing[0].representation
    syntax = first.transfer_syntax if len(content_types) == 1 else None
    body = _nothing() if head_only else _multipart_body(archive, outgoing, heads, closing)
    return StreamingResponse(
        body, media_type=multipart_type(first.media_type, boundary, syntax or None),
        headers={**headers, "content-length": str(length + len(closing))})


def single_part(archive: Archive, outgoing: OutgoingPart, headers: dict[str, str],
                head_only: bool) -> Response:
    """One part as the whole body."""
    body = _nothing() if head_only else _part_bytes(archive, outgoing.part)
    return StreamingResponse(
        body, headers={**headers, "content-length": str(outgoing.part.length)},
        media_type=outgoing.representation.content_type)


def with_range(outgoing: OutgoingPart, range_header: str | None
               ) -> tuple[OutgoingPart, dict[str, str]]:
    """The part cut to what a `Range: bytes=...` header asks for (RFC 9110 §14), and the
    headers saying so; raises RangeNotSatisfiableError (416)."""
    part = outgoing.part
    span = requested_range(range_header, part.length)
    if span is None:
        return outgoing, {"accept-ranges": "bytes"}
    start, end = span
    cut = replace(part, runs=clip_runs(part.runs, start, end))
    return replace(outgoing, part=cut), {
        "accept-ranges": "bytes", "content-range": f"bytes {start}-{end - 1}/{part.length}"}


def _part_head(boundary: str, outgoing: OutgoingPart) -> bytes:
    return (f"--{boundary}\r\nContent-Type: {outgoing.representation.content_type}\r\n"
            f"Content-Location: {outgoing.part.location}\r\n"
            f"Content-Length: {outgoing.part.length}\r\n\r\n").encode()


async def _multipart_body(archive: Archive, outgoing: list[OutgoingPart],
                          heads: list[bytes], closing: bytes) -> AsyncIterator[bytes]:
    for head, item in zip(heads, outgoing, strict=True):
        yield head
        async for chunk in _part_bytes(archive, item.part):
            yield chunk
        yield b"\r\n"
    yield closing


async def _part_bytes(archive: Archive, part: BulkPart) -> AsyncIterator[bytes]:
    if not part.runs:
        return
    fp = await anyio.to_thread.run_sync(archive.open_blob, part.blob_key)
    try:
        pieces = run_chunks(fp, part.runs, CHUNK)
        while (piece := await anyio.to_thread.run_sync(next, pieces, None)) is not None:
            yield piece
    finally:
        fp.close()


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""  # pragma: no cover - makes this an async generator
