"""SIGKILL in the middle of a stream of STOW-RS requests loses no acknowledged instance,
and after the restart the index and the blob store agree exactly."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid

import httpx
import pytest
from helpers.dicom_files import ct_instance, part10_bytes

from .server import Server

pytestmark = pytest.mark.e2e


def _post(client: httpx.Client, rs: str, data: bytes) -> int:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode() + data
            + f"\r\n--{boundary}--\r\n".encode())
    return client.post(f"{rs}/studies", content=body, headers={
        "content-type": f'multipart/related; type="application/dicom"; boundary={boundary}'
    }).status_code


def _sender(rs: str, acknowledged: dict[str, bytes], lock: threading.Lock, seed: int,
            stop: threading.Event) -> None:
    with httpx.Client(timeout=10) as client:
        for i in range(2000):
            if stop.is_set():
                return
            ds = ct_instance(rows=64, columns=64, seed=seed * 10000 + i)
            data = part10_bytes(ds)
            try:
                status = _post(client, rs, data)
            except httpx.TransportError:
                return  # the server is gone
            if status == 200:
                with lock:
                    acknowledged[ds.SOPInstanceUID] = data


def test_sigkill_loses_no_acknowledged_instance(tmp_path) -> None:
    server = Server(tmp_path / "data").start()
    acknowledged: dict[str, bytes] = {}
    lock, stop = threading.Lock(), threading.Event()
    senders = [threading.Thread(target=_sender, args=(server.rs, acknowledged, lock, n, stop))
               for n in range(4)]
    for sender in senders:
        sender.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 60 and time.monotonic() < deadline:
        time.sleep(0.02)
    server.kill()  # mid-stream: requests are in flight on four connections
    stop.set()
    for sender in senders:
        sender.join(30)
    assert len(acknowledged) >= 60

    restarted = Server(tmp_path / "data").start()  # recovery runs before it serves
    try:
        data_dir = restarted.data_dir
        with sqlite3.connect(data_dir / "index.sqlite") as db:
            rows = dict(db.execute("SELECT sop_instance_uid, blob_key FROM instance"))
            counted = db.execute("SELECT sum(number_of_instances) FROM study").fetchone()[0]
        for sop, data in acknowledged.items():
            assert sop in rows, f"acknowledged instance {sop} is lost"
            assert (data_dir / "blobs" / rows[sop]).read_bytes() == data
        on_disk = {str(p.relative_to(data_dir / "blobs"))
                   for p in (data_dir / "blobs").rglob("*.dcm")}
        assert on_disk == set(rows.values()), "index and blob store disagree"
        assert counted == len(rows)
        assert list((data_dir / "journal").iterdir()) == []
        assert list((data_dir / "spool").iterdir()) == []
        with httpx.Client(timeout=10) as client:
            assert _post(client, restarted.rs, part10_bytes(ct_instance(seed=99))) == 200
    finally:
        restarted.stop()
