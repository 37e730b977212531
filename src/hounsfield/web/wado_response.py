"""WADO-RS response bodies (PS3.18 §8.6, §10.4.3): stored files streamed as parts,
frames and bulk data as parts or one body with byte ranges.

Files go out in chunks read in worker threads, one file open at a time, so a study of
any size is streamed with bounded memory; an instance to transcode is read whole (one
instance, not the study). The multipart boundary is the ETag's token: the same bytes
each time for the same representation.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import BinaryIO

import anyio
from starlette.responses import Response, StreamingResponse

from hounsfield.archive.archive import Archive
from hounsfield.archive.retrieve import StoredInstance
from hounsfield.archive.transcoded import transcoded_instance
from hounsfield.dicom.part10 import PREAMBLE, missing_preamble
from hounsfield.errors import RangeNotSatisfiableError
from hounsfield.web.file_spans import FileSpan, SpanResponse, os_file
from hounsfield.web.wado_negotiation import DICOM

CHUNK = 1 << 20
WHOLE = 8 << 20  # a stored file up to this size is read in one go


@dataclass(frozen=True)
class OutgoingInstance:
    stored: StoredInstance
    transfer_syntax: str
    location: str  # its Retrieve URL, the part's Content-Location
    prefetched: bytes | None = None  # the whole stored file, when already read

    @property
    def as_stored(self) -> bool:
        return self.transfer_syntax == self.stored.transfer_syntax_uid

    @property
    def content_type(self) -> str:
        return f"{DICOM}; transfer-syntax={self.transfer_syntax}"


def multipart_type(inner: str, boundary: str, transfer_syntax: str | None = None) -> str:
    syntax = f"; transfer-syntax={transfer_syntax}" if transfer_syntax else ""
    return f'multipart/related; type="{inner}"{syntax}; boundary={boundary}'


def _part_head(boundary: str, item: OutgoingInstance, length: int) -> bytes:
    return (f"--{boundary}\r\nContent-Type: {item.content_type}\r\n"
            f"Content-Location: {item.location}\r\nContent-Length: {length}\r\n\r\n").encode()


def instances_multipart(archive: Archive, outgoing: list[OutgoingInstance], boundary: str,
                        headers: dict[str, str], head_only: bool) -> Response:
    syntaxes = {o.transfer_syntax for o in outgoing}
    media_type = multipart_type(DICOM, boundary, syntaxes.pop() if len(syntaxes) == 1 else None)
    body = _empty() if head_only else _instance_parts(archive, outgoing, boundary)
    if (length := _multipart_length(outgoing, boundary)) is not None:
        headers = {**headers, "content-length": str(length)}  # not chunked then
    return SpanResponse(body, headers=headers, media_type=media_type)


def _multipart_length(outgoing: list[OutgoingInstance], boundary: str) -> int | None:
    """The length of the multipart body when every file goes out as stored and its
    served size is known (from the index, or from its bytes already read)."""
    total = len(f"--{boundary}--\r\n") + 2 * len(outgoing)  # CRLF after each part
    for item in outgoing:
        size = _served_size(item)
        if size is None or not item.as_stored:
            return None
        total += len(_part_head(boundary, item, size)) + size
    return total


def _served_size(item: OutgoingInstance) -> int | None:
    if item.prefetched is not None:
        return len(item.prefetched) + len(missing_preamble(item.prefetched))
    return item.stored.served_size


async def instance_single(archive: Archive, outgoing: OutgoingInstance,
                          headers: dict[str, str], head_only: bool) -> Response:
    """One instance as `application/dicom`; as stored, its length is known up front."""
    if not outgoing.as_stored:
        data = await anyio.to_thread.run_sync(
            lambda: transcoded_instance(archive, outgoing.stored, outgoing.transfer_syntax))
        body = b"" if head_only else data
        return Response(body, headers={**headers, "content-length": str(len(data))},
                        media_type=outgoing.content_type)
    if (span := _whole_file_span(archive, outgoing)) is not None:
        if head_only:
            span.file.close()
        body = _empty() if head_only else _items(_added_preamble(outgoing), span)
        return SpanResponse(body, media_type=outgoing.content_type, headers={
            **headers, "content-length": str(outgoing.stored.served_size)})
    fp, first = await _start(archive, outgoing)
    length = outgoing.stored.size_bytes + len(missing_preamble(first))
    if fp is None:  # read whole
        body = b"" if head_only else missing_preamble(first) + first
        return Response(body, headers={**headers, "content-length": str(length)},
                        media_type=outgoing.content_type)
    if head_only:
        fp.close()
    body = _empty() if head_only else _rest_of_file(fp, first)
    return StreamingResponse(body, headers={**headers, "content-length": str(length)},
                             media_type=outgoing.content_type)


async def _empty() -> AsyncIterator[bytes]:
    return
    yield b""  # pragma: no cover - makes this an async generator


async def _items(*items: bytes | FileSpan) -> AsyncIterator[bytes | FileSpan]:
    for item in items:
        if item:
            yield item


async def _instance_parts(archive: Archive, outgoing: list[OutgoingInstance],
                          boundary: str) -> AsyncIterator[bytes | FileSpan]:
    """The parts: each stored file as a span sent without reading it where it can be,
    else read in one go when it fits in a chunk (one worker-thread hop per instance);
    the small delimiters go with the next header."""
    tail = b""
    for item in outgoing:
        if not item.as_stored:
            data = await anyio.to_thread.run_sync(
                lambda i=item: transcoded_instance(archive, i.stored, i.transfer_syntax))
            yield tail + _part_head(boundary, item, len(data)) + data
            tail = b"\r\n"
            continue
        if (span := _whole_file_span(archive, item)) is not None:
            yield (tail + _part_head(boundary, item, item.stored.served_size or 0)
                   + _added_preamble(item))
            yield span
            tail = b"\r\n"
            continue
        fp, first = await _start(archive, item)
        length = item.stored.size_bytes + len(missing_preamble(first))
        yield tail + _part_head(boundary, item, length)
        async for chunk in _rest_of_file(fp, first):
            yield chunk
        tail = b"\r\n"
    yield tail + f"--{boundary}--\r\n".encode()


def _added_preamble(item: OutgoingInstance) -> bytes:
    """What goes before a stored file whose preamble the index records as missing."""
    return PREAMBLE if item.stored.preamble_missing else b""


def _whole_file_span(archive: Archive, item: OutgoingInstance) -> FileSpan | None:
    """The stored file as one span, to be sent without reading it, when it is an OS file
    and whether it has its preamble is known from the index (None otherwise).

    The file is opened on the event loop: a local open is a few microseconds, less than
    the thread hop that would carry it."""
    if item.prefetched is not None or item.stored.preamble_missing is None:
        return None
    fp = archive.open_blob(item.stored.blob_key)
    if not os_file(fp):
        fp.close()
        return None
    return FileSpan(fp, 0, item.stored.size_bytes)


def read_small_file(archive: Archive, stored: StoredInstance) -> bytes | None:
    """The whole stored file when it is read in one go (at most `WHOLE` bytes)."""
    if stored.size_bytes > WHOLE:
        return None
    with archive.open_blob(stored.blob_key) as fp:
        return fp.read()


async def _start(archive: Archive, item: OutgoingInstance) -> tuple[BinaryIO | None, bytes]:
    if item.prefetched is not None:
        return None, item.prefetched
    return await open_stored(archive, item.stored)


async def open_stored(archive: Archive, stored: StoredInstance
                      ) -> tuple[BinaryIO | None, bytes]:
    """The stored file's first chunk, and the open file when more is to come (None: the
    first chunk is the whole file, and the file is closed)."""
    return await anyio.to_thread.run_sync(_first_chunk, archive, stored)


def _first_chunk(archive: Archive, stored: StoredInstance) -> tuple[BinaryIO | None, bytes]:
    fp = archive.open_blob(stored.blob_key)
    try:
        first = fp.read(max(CHUNK, stored.size_bytes) if stored.size_bytes <= WHOLE
                        else CHUNK)
        if len(first) < CHUNK or len(first) >= stored.size_bytes:
            fp.close()
            return None, first
        return fp, first
    except BaseException:
        fp.close()
        raise


async def _rest_of_file(fp: BinaryIO | None, first: bytes) -> AsyncIterator[bytes]:
    """The file from its first chunk on (preamble added where missing), then closed."""
    try:
        yield missing_preamble(first) + first
        while fp is not None and (chunk := await anyio.to_thread.run_sync(fp.read, CHUNK)):
            yield chunk
    finally:
        if fp is not None:
            fp.close()


# -- frames and bulk data ----------------------------------------------------------------

def parts_multipart(parts: list[bytes], inner: str, content_type: str, boundary: str,
                    headers: dict[str, str], locations: list[str]) -> Response:
    """Frames or bulk data, one part each, with its Content-Location."""
    chunks = []
    for data, location in zip(parts, locations, strict=True):
        chunks.append(f"--{boundary}\r\nContent-Type: {content_type}\r\n"
                      f"Content-Location: {location}\r\n"
                      f"Content-Length: {len(data)}\r\n\r\n".encode())
        chunks += [data, b"\r\n"]
    chunks.append(f"--{boundary}--\r\n".encode())
    syntax = content_type.partition("transfer-syntax=")[2] or None
    return Response(b"".join(chunks), headers=headers,
                    media_type=multipart_type(inner, boundary, syntax))


def single_part(data: bytes, content_type: str, headers: dict[str, str]) -> Response:
    """One frame or bulk data element as the whole body."""
    return Response(data, headers=headers, media_type=content_type)


def byte_range(data: bytes, range_header: str | None) -> tuple[bytes, dict[str, str]]:
    """The bytes a `Range: bytes=...` header asks for (RFC 9110 §14) and the headers that
    say so: Content-Range when partial (the answer is then a 206)."""
    span = requested_range(range_header, len(data))
    if span is None:
        return data, {"accept-ranges": "bytes"}
    start, end = span
    return data[start:end], {"accept-ranges": "bytes",
                             "content-range": f"bytes {start}-{end - 1}/{len(data)}"}


_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*")


def requested_range(header: str | None, length: int) -> tuple[int, int] | None:
    """[start, end) of a single byte range; None to send everything (no header, or one
    Hounsfield ignores as RFC 9110 §14.2 allows: malformed, or several ranges)."""
    match = _RANGE.fullmatch(header) if header else None
    if match is None or match[1] == match[2] == "":
        return None
    first, last = match[1], match[2]
    if first == "":
        start, end = max(0, length - int(last)), length
    else:
        start = int(first)
        end = min(length, int(last) + 1) if last else length
        if last and int(last) < start:
            return None
    if start >= end:
        raise RangeNotSatisfiableError(f"range {header!r} is outside 0..{length - 1}", length)
    return start, end

