"""The STOW-RS workload: Store Instances (PS3.18 §10.5) of the benchmark CT series.

Each request is ``POST {root}/studies`` with a ``multipart/related;
type="application/dicom"`` body of one or more Part 10 instances, and asks for a
DICOM JSON answer. An answer is right when its status is 200, its Referenced SOP
Sequence (0008,1199) lists exactly the SOP Instance UIDs sent, and it has no Failed
SOP Sequence (0008,1198) items (PS3.18 Table 10.5.3-1 lists these attributes).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from bench.data import Instance, Series
from bench.load import HttpRequest
from bench.servers import RunningServer

BOUNDARY = "hounsfield-bench-5f0c1d2e9a7b4c38"
CONTENT_TYPE = f'multipart/related; type="application/dicom"; boundary={BOUNDARY}'
ACCEPT = "application/dicom+json"
FAILED_SOP_SEQUENCE = "00081198"
REFERENCED_SOP_SEQUENCE = "00081199"
REFERENCED_SOP_INSTANCE_UID = "00081155"
WARM_UP_INSTANCES = 10


@dataclass(frozen=True)
class StowConfiguration:
    concurrency: int
    instances_per_request: int

    @property
    def name(self) -> str:
        return f"c{self.concurrency} x{self.instances_per_request}"

    @property
    def description(self) -> str:
        return (
            f"{self.concurrency} connection(s), "
            f"{self.instances_per_request} instance(s) per request"
        )


class StowWorkload:
    name = "stow"

    def __init__(self, series: Series, instances: int) -> None:
        self.series = series
        self.instances = instances

    def configurations(self) -> list[StowConfiguration]:
        return [
            StowConfiguration(concurrency, per_request)
            for concurrency in (1, 4)
            for per_request in (1, 10)
        ]

    def warm_up_requests(
        self, server: RunningServer, configuration: StowConfiguration, run: int
    ) -> list[HttpRequest]:
        count = min(WARM_UP_INSTANCES, self.instances)
        return store_requests(
            server, self.series.for_run(run, count), configuration.instances_per_request
        )

    def requests(
        self, server: RunningServer, configuration: StowConfiguration, run: int
    ) -> list[HttpRequest]:
        return store_requests(
            server, self.series.for_run(run, self.instances), configuration.instances_per_request
        )

    @staticmethod
    def check(request: HttpRequest, status: int, body: bytes) -> str | None:
        return check_store_answer(request.expected, status, body)


def multipart_related(instances: Sequence[Instance]) -> bytes:
    parts = []
    for instance in instances:
        parts += [
            f"--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n".encode(),
            instance.data,
            b"\r\n",
        ]
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


def store_requests(
    server: RunningServer, instances: Sequence[Instance], per_request: int
) -> list[HttpRequest]:
    path = f"{server.dicomweb_path}/studies"
    headers = {"Content-Type": CONTENT_TYPE, "Accept": ACCEPT}
    requests = []
    for start in range(0, len(instances), per_request):
        chunk = instances[start : start + per_request]
        requests.append(
            HttpRequest(
                "POST",
                path,
                multipart_related(chunk),
                headers,
                units=len(chunk),
                payload_bytes=sum(len(instance.data) for instance in chunk),
                expected=frozenset(instance.sop_instance_uid for instance in chunk),
            )
        )
    return requests


def check_store_answer(sent: frozenset[str], status: int, body: bytes) -> str | None:
    """None when the answer says every sent instance was stored; else what is wrong."""
    if status != 200:
        return f"HTTP {status}: {body[:120]!r}"
    try:
        answer = json.loads(body)
        failed = (answer.get(FAILED_SOP_SEQUENCE) or {}).get("Value") or []
        referenced = (answer.get(REFERENCED_SOP_SEQUENCE) or {}).get("Value") or []
        stored = {item[REFERENCED_SOP_INSTANCE_UID]["Value"][0] for item in referenced}
    except (ValueError, AttributeError, KeyError, IndexError, TypeError) as error:
        return f"malformed DICOM JSON answer: {type(error).__name__}: {error}"
    if failed:
        return f"FailedSOPSequence lists {len(failed)} instance(s)"
    if len(referenced) != len(sent) or stored != sent:
        return f"ReferencedSOPSequence lists {len(referenced)} of {len(sent)} sent, or others"
    return None
