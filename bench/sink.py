"""A null STOW-RS server: reads each request whole, stores nothing, answers success.

One thread per connection reads each body into a reused buffer with recv_into.

Running the benchmark client against it shows what the client alone can reach on
this machine; a server measured close to that figure is limited by the client.
The answer lists every SOP Instance UID found in the body's File Meta Information,
so the client checks it exactly as it checks a real server's.

    python -m bench.sink --port 8099
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import threading

# (0002,0003) Media Storage SOP Instance UID, Explicit VR Little Endian, VR UI
MEDIA_STORAGE_SOP_INSTANCE_UID = b"\x02\x00\x03\x00UI"
SOP_CLASS_UID = "1.2.840.10008.5.1.4.1.1.2"


def sop_instance_uids(body: bytes | bytearray, end: int | None = None) -> list[str]:
    """The UIDs of every (0002,0003) element in ``body[:end]``, in order."""
    marker = MEDIA_STORAGE_SOP_INSTANCE_UID
    uids, position = [], body.find(marker, 0, end)
    while position >= 0:
        start = position + len(marker) + 2
        length = int.from_bytes(body[start - 2 : start], "little")
        uids.append(body[start : start + length].rstrip(b"\0 ").decode("ascii"))
        position = body.find(marker, start + length, end)
    return uids


def stow_answer(uids: list[str]) -> bytes:
    items = [
        {
            "00081150": {"vr": "UI", "Value": [SOP_CLASS_UID]},
            "00081155": {"vr": "UI", "Value": [uid]},
        }
        for uid in uids
    ]
    return json.dumps({"00081199": {"vr": "SQ", "Value": items}}).encode()


def http_response(status: str, content_type: str, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


class _Connection:
    """One client connection: requests read whole into a reused buffer, in order."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.pending = b""
        self.buffer = bytearray()

    def _head(self) -> bytes | None:
        while b"\r\n\r\n" not in self.pending:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.pending += chunk
        head, _, self.pending = self.pending.partition(b"\r\n\r\n")
        return head

    def _read_body(self, length: int) -> None:
        if len(self.buffer) < length:
            self.buffer = bytearray(length)
        view = memoryview(self.buffer)[:length]
        filled = min(len(self.pending), length)
        view[:filled] = self.pending[:filled]
        self.pending = self.pending[filled:]
        while filled < length:
            received = self.sock.recv_into(view[filled:])
            if not received:
                raise ConnectionError("closed in the middle of a body")
            filled += received

    def answer(self) -> bytes | None:
        head = self._head()
        if head is None:
            return None
        method, target, headers = _request_line_and_headers(head)
        length = int(headers.get("content-length", "0"))
        self._read_body(length)
        if method == "GET" and target == "/health":
            return http_response("200 OK", "text/plain", b"ok")
        if method == "POST":
            uids = sop_instance_uids(self.buffer, length)
            return http_response("200 OK", "application/dicom+json", stow_answer(uids))
        return http_response("404 Not Found", "text/plain", b"not found")

    def serve(self) -> None:
        with self.sock:
            while (response := self.answer()) is not None:
                self.sock.sendall(response)


def _request_line_and_headers(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    fields = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
    return method, target, {name.strip().lower(): value.strip() for name, value in fields.items()}


def _serve_quietly(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        _Connection(sock).serve()


def serve(port: int) -> None:
    listener = socket.create_server(("127.0.0.1", port), backlog=64)
    while True:
        sock, _ = listener.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=_serve_quietly, args=(sock,), daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    serve(parser.parse_args().port)


if __name__ == "__main__":
    main()
