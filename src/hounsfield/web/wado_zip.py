"""WADO-RS instances as one `application/zip` body (PS3.18 §8.7.3, Supplement 211),
optionally with a DICOMDIR (the `dicomdir=true` query parameter of dcm4chee-arc-light).

Each instance is a Part 10 file named by its File ID (`dicom.file_set`:
`DICOM/{study}/{series}/{instance}`, 8 hexadecimal digits each), in the transfer
syntax the negotiation chose for it, exactly as a multipart part would carry it. The
archive is written while the files are read, one chunk at a time in worker threads
(`zip_stream`); an instance to transcode is read whole, as for multipart. The DICOMDIR,
first in the archive, is made from the precomputed JSON metadata (`dicom.dicomdir`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import BinaryIO

import anyio
import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from hounsfield.archive.archive import Archive
from hounsfield.archive.retrieve import StoredInstance, Target
from hounsfield.archive.transcoded import transcoded_instance
from hounsfield.dicom.dicomdir import DirectoryEntry, dicomdir
from hounsfield.dicom.file_set import file_ids
from hounsfield.dicom.part10 import missing_preamble
from hounsfield.errors import BadRequestError
from hounsfield.web.conditional import Validators
from hounsfield.web.wado_response import CHUNK, open_stored
from hounsfield.web.zip_stream import ZipStream

ZIP = "application/zip"
DICOMDIR = "DICOMDIR"


def dicomdir_wanted(request: Request) -> bool:
    """The `dicomdir` query parameter of dcm4chee-arc-light: true or false."""
    value = request.query_params.get("dicomdir", "false").lower()
    if value not in ("true", "false"):
        raise BadRequestError(f"dicomdir={value[:20]!r}: expected true or false")
    return value == "true"


def zip_response(archive: Archive, found: list[StoredInstance], syntaxes: list[str],
                 current: Validators, *, target: Target, with_dicomdir: bool,
                 head_only: bool) -> Response:
    headers = {**current.headers,
               "content-disposition": f'attachment; filename="{_file_name(target)}"'}
    body = _empty() if head_only else _archive(archive, found, syntaxes, current,
                                               with_dicomdir)
    return StreamingResponse(body, headers=headers, media_type=ZIP)


def _file_name(target: Target) -> str:
    return f"{target.sop_instance or target.series or target.study}.zip"


async def _empty() -> AsyncIterator[bytes]:
    return
    yield b""  # pragma: no cover - makes this an async generator


async def _archive(archive: Archive, found: list[StoredInstance], syntaxes: list[str],
                   current: Validators, with_dicomdir: bool) -> AsyncIterator[bytes]:
    stream = ZipStream()
    ids = file_ids((i.study, i.series, i.sop_instance) for i in found)
    if with_dicomdir:
        directory = await anyio.to_thread.run_sync(
            lambda: _dicomdir(found, syntaxes, ids, current.token))
        yield stream.entry(DICOMDIR, directory, current.last_modified)
    for item, syntax, file_id in zip(found, syntaxes, ids, strict=True):
        name = "/".join(file_id)
        if syntax != item.transfer_syntax_uid:
            data = await anyio.to_thread.run_sync(
                lambda i=item, s=syntax: transcoded_instance(archive, i, s))
            yield await anyio.to_thread.run_sync(stream.entry, name, data, item.created_at)
            continue
        async for chunk in _stored_entry(archive, stream, item, name):
            yield chunk
    yield stream.close()


async def _stored_entry(archive: Archive, stream: ZipStream, item: StoredInstance,
                        name: str) -> AsyncIterator[bytes]:
    """One stored file as an entry (preamble added where missing), chunk by chunk."""
    fp, first = await open_stored(archive, item)
    try:
        head = missing_preamble(first) + first
        yield stream.begin(name, item.size_bytes + len(head) - len(first), item.created_at)
        yield await anyio.to_thread.run_sync(stream.write, head)
        while fp is not None and (
                chunk := await anyio.to_thread.run_sync(_next_chunk, fp, stream)) is not None:
            yield chunk
    finally:
        if fp is not None:
            fp.close()
    yield stream.end()


def _next_chunk(fp: BinaryIO, stream: ZipStream) -> bytes | None:
    """The archive bytes of the file's next chunk; None at its end."""
    data = fp.read(CHUNK)
    return stream.write(data) if data else None


def _dicomdir(found: list[StoredInstance], syntaxes: list[str], ids: list[tuple[str, ...]],
              token: str) -> bytes:
    entries = [DirectoryEntry(file_id, i.sop_class, i.sop_instance, syntax,
                              orjson.loads(i.metadata_json or b"{}"))
               for i, syntax, file_id in zip(found, syntaxes, ids, strict=True)]
    # the File-set UID follows from the ETag: the same archive has the same bytes
    return dicomdir(entries, f"2.25.{int(token, 16)}")
