"""What the archive learns about an instance at store time, and what a store ends in."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from hounsfield.dicom.attributes import InstanceUIDs


@dataclass(frozen=True)
class InstanceRecord:
    """Everything the index keeps of one instance, computed once from its file."""

    uids: InstanceUIDs
    patient: dict[str, Any]
    study: dict[str, Any]
    series: dict[str, Any]
    instance: dict[str, Any]
    transfer_syntax_uid: str
    number_of_frames: int
    size_bytes: int
    digest: str
    metadata_json: bytes
    frames_json: bytes | None
    bulk_data_json: bytes
    preamble_missing: bool = False  # stored without preamble and "DICM": sent with them


class Disposition(Enum):
    STORED = "stored"
    ALREADY_STORED = "already stored"  # the same bytes were stored before
    REPLACED = "replaced"  # another object with this SOP Instance UID was replaced
    FAILED = "failed"


@dataclass(frozen=True)
class StoreOutcome:
    """The result of storing one instance (or of failing to)."""

    disposition: Disposition
    sop_class_uid: str | None = None
    sop_instance_uid: str | None = None
    study_instance_uid: str | None = None
    series_instance_uid: str | None = None
    failure_reason: int | None = None  # DICOM status code, see hounsfield.dicom.status
    message: str | None = None
    warnings: tuple[tuple[int, str], ...] = field(default=())  # (WarningReason, text)

    @property
    def stored(self) -> bool:
        return self.disposition is not Disposition.FAILED
