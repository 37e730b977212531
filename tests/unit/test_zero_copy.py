"""The `http.response.zerocopysend` extension of Hounsfield's uvicorn protocol, against a
real uvicorn server (uvloop, httptools) on a free loopback port, read by raw sockets and
httpx."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
import uvicorn

from hounsfield import zero_copy
from hounsfield.zero_copy import EXTENSION, ZeroCopyProtocol, in_page_cache, send_file

BIG = 48 << 20  # more than loopback's socket buffers hold


@contextlib.contextmanager
def _running(app, protocol=ZeroCopyProtocol) -> Iterator[str]:
    """A real uvicorn server (uvloop, httptools) of `app` on a free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, loop="uvloop",
                            http=protocol, lifespan="off", log_level="critical")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def payload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("zero-copy") / "payload.bin"
    path.write_bytes(os.urandom(BIG))
    return path


def _app(payload: Path, seen: list[dict]):
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        offset, count = int(query.get("offset", 0)), int(query.get("count", 1000))
        prefix = b"p" * int(query.get("prefix", 5))
        seen.append(dict(scope.get("extensions", {})))
        headers = [(b"content-type", b"application/octet-stream")]
        if "chunked" not in query:
            length = len(prefix) + count + 3
            headers.append((b"content-length", str(length).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": prefix, "more_body": True})
        with open(payload, "rb") as fp:
            await send({"type": EXTENSION, "file": fp, "offset": offset, "count": count,
                        "more_body": True})
        await send({"type": "http.response.body", "body": b"end", "more_body": False})
    return app


@pytest.fixture(scope="module")
def served(payload: Path) -> Iterator[tuple[str, list[dict]]]:
    seen: list[dict] = []
    with _running(_app(payload, seen)) as url:
        yield url, seen


def _expected(payload: Path, offset: int, count: int, prefix: int = 5) -> bytes:
    with open(payload, "rb") as fp:
        fp.seek(offset)
        return b"p" * prefix + fp.read(count) + b"end"


def test_the_extension_is_offered(served):
    url, seen = served
    httpx.get(url + "/?count=10")
    assert EXTENSION in seen[-1]


@pytest.mark.parametrize("cached", [True, False], ids=["on-the-loop", "in-a-thread"])
@pytest.mark.parametrize("count", [1, 1000, 3 << 20])
def test_span_goes_out_between_the_body_bytes(served, payload, monkeypatch, cached, count):
    url, _ = served
    if not cached:
        monkeypatch.setattr(zero_copy, "in_page_cache", lambda *_: False)
    answer = httpx.get(url + f"/?offset=7&count={count}")
    assert answer.status_code == 200
    assert answer.headers["content-length"] == str(count + 8)
    assert answer.content == _expected(payload, 7, count)


def test_span_in_a_chunked_body(served, payload):
    url, _ = served
    answer = httpx.get(url + "/?offset=3&count=70000&chunked=1")
    assert answer.headers["transfer-encoding"] == "chunked"
    assert answer.content == _expected(payload, 3, 70000)


def test_head_sends_no_span(served):
    url, _ = served
    with socket.create_connection(httpx.URL(url).netloc.decode().split(":")) as s:
        s.sendall(b"HEAD /?count=5000 HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /?count=10 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = _read_all(s)
    head, _, rest = answer.partition(b"\r\n\r\n")
    assert b"content-length: 5008" in head.lower()
    assert rest.startswith(b"HTTP/1.1 200"), "the HEAD answer carried a body"


def test_span_waits_for_the_bytes_buffered_before_it(served, payload):
    """32 MB of body bytes fill the socket and the transport's buffer; the span follows
    them, never overtakes them."""
    url, _ = served
    prefix = 32 << 20
    with socket.create_connection(httpx.URL(url).netloc.decode().split(":")) as s:
        s.sendall(f"GET /?count=2000000&offset=11&prefix={prefix} HTTP/1.1\r\n"
                  "Host: x\r\nConnection: close\r\n\r\n".encode())
        time.sleep(0.5)  # the server has long buffered what the socket does not take
        answer = _read_all(s)
    body = answer.partition(b"\r\n\r\n")[2]
    assert body == _expected(payload, 11, 2000000, prefix)


def test_a_stalled_client_frees_the_thread_and_still_gets_every_byte(served, payload,
                                                                     monkeypatch):
    url, _ = served
    monkeypatch.setattr(zero_copy, "STALL", 0.05)
    monkeypatch.setattr(zero_copy, "in_page_cache", lambda *_: False)
    returned: list[int] = []

    def spy(*args):
        returned.append(send_file(*args))
        return returned[-1]

    monkeypatch.setattr(zero_copy, "send_file", spy)
    with socket.create_connection(httpx.URL(url).netloc.decode().split(":")) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
        s.sendall(f"GET /?count={BIG - 1} HTTP/1.1\r\nHost: x\r\n"
                  "Connection: close\r\n\r\n".encode())
        time.sleep(0.5)
        answer = _read_all(s)
    assert returned and returned[0] < BIG - 1, "the thread waited for the stalled client"
    assert answer.partition(b"\r\n\r\n")[2] == _expected(payload, 0, BIG - 1)


def test_a_client_gone_mid_span_leaves_the_server_serving(served, payload):
    url, _ = served
    with socket.create_connection(httpx.URL(url).netloc.decode().split(":")) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")  # RST
        s.sendall(f"GET /?count={BIG} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        s.recv(1000)
    answer = httpx.get(url + "/?count=100")
    assert answer.content == _expected(payload, 0, 100)


def test_send_file_returns_short_when_nobody_reads(payload, monkeypatch):
    monkeypatch.setattr(zero_copy, "STALL", 0.05)
    a, b = socket.socketpair()
    with a, b, open(payload, "rb") as fp:
        a.setblocking(False)
        sent = send_file(a.fileno(), fp.fileno(), 0, BIG)
        assert 0 < sent < BIG


def test_send_file_refuses_a_span_past_the_end_of_the_file(payload):
    a, b = socket.socketpair()
    with a, b, open(payload, "rb") as fp:
        a.setblocking(False)
        with pytest.raises(EOFError):
            send_file(a.fileno(), fp.fileno(), BIG - 10, 20)


def test_send_file_fails_on_a_closed_peer(payload):
    a, b = socket.socketpair()
    b.close()
    with a, open(payload, "rb") as fp:
        a.setblocking(False)
        with pytest.raises(OSError):
            send_file(a.fileno(), fp.fileno(), 0, 1000)


def test_page_cache_probe(payload):
    with open(payload, "rb") as fp:
        fp.read(1 << 20)
        assert in_page_cache(fp.fileno(), 0, 1 << 20)  # just read: cached
        assert not in_page_cache(fp.fileno(), BIG - 1, 2)  # ends past the file


def _read_all(s: socket.socket) -> bytes:
    chunks = []
    while chunk := s.recv(1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


class _RecordingTransport:
    """The real transport, with every write recorded."""

    def __init__(self, transport, writes: list[bytes]):
        self._transport = transport
        self._writes = writes

    def write(self, data: bytes) -> None:
        self._writes.append(bytes(data))
        self._transport.write(data)

    def __getattr__(self, name: str):
        return getattr(self._transport, name)


def _head_app():
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        size = int(parse_qs(scope["query_string"].decode())["size"][0])
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(size).encode())]})
        if size == 13:  # the app fails after starting its answer
            raise RuntimeError("failed after the start")
        await send({"type": "http.response.body", "body": b"x" * size})
    return app


@pytest.fixture(scope="module")
def recorded() -> Iterator[tuple[str, list[bytes]]]:
    writes: list[bytes] = []

    class Recording(ZeroCopyProtocol):
        def connection_made(self, transport) -> None:  # type: ignore[override]
            super().connection_made(_RecordingTransport(transport, writes))

    with _running(_head_app(), Recording) as url:
        yield url, writes


def test_a_small_answer_goes_out_in_one_write(recorded):
    url, writes = recorded
    writes.clear()
    response = httpx.get(url + "/?size=100")
    assert response.status_code == 200 and response.content == b"x" * 100
    [write] = writes
    assert write.startswith(b"HTTP/1.1 200") and write.endswith(b"\r\n\r\n" + b"x" * 100)


def test_a_big_body_is_not_copied_behind_the_head(recorded):
    url, writes = recorded
    writes.clear()
    size = zero_copy.TOGETHER + 1
    response = httpx.get(url + f"/?size={size}")
    assert response.status_code == 200 and len(response.content) == size
    head, body = writes
    assert head.startswith(b"HTTP/1.1 200") and head.endswith(b"\r\n\r\n")
    assert body == b"x" * size


def test_an_app_failing_after_its_start_answers_500(recorded):
    url, _ = recorded
    response = httpx.get(url + "/?size=13")
    assert response.status_code == 500


def test_a_request_body_is_read_ahead_up_to_the_body_buffer() -> None:
    """An app slow to take the body gets it in chunks of up to BODY_BUFFER (and one
    socket read more), not uvicorn's 64 KiB, and every byte in order."""
    import asyncio

    chunks: list[int] = []
    received = bytearray()

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await asyncio.sleep(0.3)  # the body arrives meanwhile, as far as reading goes on
        more = True
        while more:
            message = await receive()
            chunks.append(len(message.get("body", b"")))
            received.extend(message.get("body", b""))
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    body = os.urandom(4 * zero_copy.BODY_BUFFER)
    with _running(app) as url:
        answer = httpx.post(url + "/", content=body, timeout=10)
    assert answer.status_code == 200 and bytes(received) == body
    assert chunks[0] > zero_copy.BODY_BUFFER  # read ahead until past the buffer
    assert max(chunks) <= zero_copy.BODY_BUFFER + (1 << 20)  # then reading paused
