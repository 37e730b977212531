"""A ZIP archive (PKWARE APPNOTE 6.3) written on the fly, for a response body.

Python's `zipfile` writes to a stream it cannot seek by putting each entry's CRC-32 and
sizes in a data descriptor after the entry (general purpose bit 3), so every entry is
written in one pass, chunk by chunk, with the CRC computed as the bytes go by. Here it
writes into a sink whose bytes are taken out after each call: memory holds one chunk and
the central directory (about a hundred bytes per entry), whatever the archive's size.

Entries are STORED (DICOM files are mostly pixel data, already compressed or not worth
the CPU). An entry whose declared size is near 2 GiB or more gets ZIP64 sizes, and the
end records are ZIP64 when the archive passes 4 GiB or 65,535 entries (`zipfile` does
both). No I/O here: the caller reads the files and sends the bytes.
"""

from __future__ import annotations

import time
import zipfile
from typing import IO


class _Sink:
    """A write-only, unseekable file that keeps what was written until taken."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


class ZipStream:
    """Entries go in one at a time (`begin`, `write`..., `end`) or whole (`entry`); each
    call returns the archive bytes it produced; `close` returns the central directory."""

    def __init__(self, *, force_zip64: bool = False) -> None:
        self._sink = _Sink()
        self._zip = zipfile.ZipFile(self._sink, "w", zipfile.ZIP_STORED)  # type: ignore[arg-type]
        self._force_zip64 = force_zip64
        self._entry: IO[bytes] | None = None

    def begin(self, name: str, size: int, modified: float) -> bytes:
        """Start entry `name` of `size` bytes (to choose ZIP64 sizes) modified at
        `modified` (epoch seconds, written as UTC date and time)."""
        info = zipfile.ZipInfo(name, _date_time(modified))
        info.file_size = size
        info.external_attr = 0o644 << 16
        self._entry = self._zip.open(info, "w", force_zip64=self._force_zip64)
        return self._sink.take()

    def write(self, data: bytes) -> bytes:
        assert self._entry is not None, "write before begin"
        self._entry.write(data)
        return self._sink.take()

    def end(self) -> bytes:
        """End the entry: its data descriptor (CRC-32 and sizes)."""
        assert self._entry is not None, "end before begin"
        self._entry.close()
        self._entry = None
        return self._sink.take()

    def entry(self, name: str, data: bytes, modified: float) -> bytes:
        """A whole entry at once."""
        return self.begin(name, len(data), modified) + self.write(data) + self.end()

    def close(self) -> bytes:
        """The central directory and end records."""
        self._zip.close()
        return self._sink.take()


def _date_time(epoch: float) -> tuple[int, int, int, int, int, int]:
    """MS-DOS date and time fields start in 1980 (APPNOTE 4.4.6)."""
    year, month, day, hour, minute, second = time.gmtime(max(epoch, 315532800))[:6]
    return (year, month, day, hour, minute, second)
