"""Content-Encoding of request bodies: gzip and deflate, inflated with a cap."""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from hounsfield.errors import BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError

PIECE = 1 << 20  # inflate at most this much at a time


class Inflater:
    """Undo a gzip or deflate Content-Encoding, output capped at `limit` bytes."""

    def __init__(self, encoding: str, limit: int | None):
        self._encoding = encoding
        self._limit = limit
        self._inflated = 0
        self._head = b""
        self._zlib: zlib._Decompress | None = None

    def inflate(self, data: bytes) -> Iterator[bytes]:
        data = self._start(data)
        more = bool(data)
        while more:
            if self._zlib.eof:
                raise self._trailing_data()
            out, full = self._decompress(data)
            yield out
            data = self._zlib.unconsumed_tail
            # When the output filled all the room, more may be pending inside zlib.
            more = not self._zlib.eof and (bool(data) or full)
        if self._zlib is not None and self._zlib.unused_data:
            raise self._trailing_data()

    def finish(self) -> None:
        if self._head or (self._zlib is not None and not self._zlib.eof):
            raise BadRequestError(f"{self._encoding} body is truncated")

    def _start(self, data: bytes) -> bytes:
        if self._zlib is not None:
            return data
        self._head += data
        if len(self._head) < 2:
            return b""
        data, self._head = self._head, b""
        self._zlib = zlib.decompressobj(_wbits(self._encoding, data))
        return data

    def _decompress(self, data: bytes) -> tuple[bytes, bool]:
        room = PIECE if self._limit is None else min(PIECE, self._limit - self._inflated + 1)
        try:
            out = self._zlib.decompress(data, room)
        except zlib.error as error:
            raise BadRequestError(f"corrupt {self._encoding} body: {error}") from None
        self._inflated += len(out)
        if self._limit is not None and self._inflated > self._limit:
            raise PayloadTooLargeError(f"inflated body over {self._limit} bytes")
        return out, len(out) == room

    def _trailing_data(self) -> BadRequestError:
        return BadRequestError(f"data after the end of the {self._encoding} body")


def _wbits(encoding: str, head: bytes) -> int:
    if encoding == "gzip":
        return 16 + zlib.MAX_WBITS
    # "deflate" should be zlib-wrapped (RFC 9110 §8.4.1.2); some clients send raw deflate.
    zlib_header = head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0
    return zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS


def inflater_for(encoding: str | None, limit: int | None) -> Inflater | None:
    coding = (encoding or "identity").strip().lower()
    if coding == "identity":
        return None
    if coding in ("gzip", "x-gzip", "deflate"):
        return Inflater("deflate" if coding == "deflate" else "gzip", limit)
    raise UnsupportedMediaTypeError(f"unsupported Content-Encoding {encoding!r}")


GZIP_MIN_BYTES = 1024


def accepts_gzip(header: str | None) -> bool:
    """Does an Accept-Encoding header (RFC 9110 §12.5.3) allow gzip?"""
    weights = {}
    for item in (header or "").split(","):
        coding, _, params = item.strip().partition(";")
        weight = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                weight = float(value)
            except ValueError:
                weight = 0.0
        weights[coding.strip().lower()] = weight
    return weights.get("gzip", weights.get("x-gzip", weights.get("*", 0.0))) > 0


def gzip_body(body: bytes) -> bytes:
    """gzip at a level that keeps up with the index (level 1-9: 5)."""
    compressor = zlib.compressobj(5, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(body) + compressor.flush()
