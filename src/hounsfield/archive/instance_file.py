"""From a received Part 10 file to the InstanceRecord the index keeps (CPU work, no DB)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson

from hounsfield.archive.record import InstanceRecord
from hounsfield.dicom import attributes, status
from hounsfield.dicom.frames import frame_table, number_of_frames
from hounsfield.dicom.json_model import instance_json, instance_path
from hounsfield.dicom.part10 import read_part10
from hounsfield.dicom.transfer_syntax import is_supported
from hounsfield.errors import HounsfieldError, InstanceRejectedError, StorageUnavailableError

_CHUNK = 1 << 20


def describe_file(path: Path, *, bulk_data_threshold: int,
                  expected_study: str | None = None) -> InstanceRecord:
    """Parse the file once and compute everything derived from it.

    The bytes come from a client: pydicom reads values lazily and refuses malformed ones
    with many kinds of exception, so any failure to interpret the file (other than our
    own, more precise errors) is the instance's failure C000H, never the server's."""
    try:
        return _describe(path, bulk_data_threshold, expected_study)
    except HounsfieldError:
        raise
    except OSError as exc:  # reading our own spool file: a storage problem
        raise StorageUnavailableError(f"cannot read the spooled file: {exc.strerror}") from exc
    except (Exception, RecursionError) as exc:  # noqa: BLE001
        raise InstanceRejectedError(status.CANNOT_UNDERSTAND,
                                    f"cannot parse the data set: {exc}") from exc


def _describe(path: Path, bulk_data_threshold: int,
              expected_study: str | None) -> InstanceRecord:
    with open(path, "rb") as fp:
        part10 = read_part10(fp, defer_size=max(bulk_data_threshold, 256))
        uids = attributes.instance_uids(part10.dataset)
        _check(part10.transfer_syntax_uid, uids, expected_study)
        ds = part10.dataset
        model = instance_json(ds, part10.pixel_data,
                              instance_url=instance_path(uids.study, uids.series,
                                                         uids.sop_instance),
                              threshold=bulk_data_threshold,
                              positions_known=part10.positions_known)
        frames = None
        if part10.pixel_data is not None and part10.positions_known:
            frames = frame_table(fp, part10.pixel_data, ds)
        digest = _sha256(fp)
    return InstanceRecord(
        uids=uids,
        patient=attributes.level_values(model.model, attributes.PATIENT_COLUMNS),
        study=attributes.level_values(model.model, attributes.STUDY_COLUMNS),
        series=attributes.level_values(model.model, attributes.SERIES_COLUMNS),
        instance=attributes.level_values(model.model, attributes.INSTANCE_COLUMNS),
        transfer_syntax_uid=part10.transfer_syntax_uid,
        number_of_frames=number_of_frames(ds),
        size_bytes=part10.file_size,
        digest=digest,
        metadata_json=model.metadata,
        frames_json=orjson.dumps(frames) if frames is not None else None,
        bulk_data_json=orjson.dumps(model.bulk_data),
    )


def _check(ts_uid: str, uids: attributes.InstanceUIDs, expected_study: str | None) -> None:
    if not is_supported(ts_uid):
        raise InstanceRejectedError(
            status.TRANSFER_SYNTAX_NOT_SUPPORTED, f"transfer syntax {ts_uid} is not supported",
            uids.sop_class, uids.sop_instance)
    if expected_study is not None and uids.study != expected_study:
        raise InstanceRejectedError(
            status.STUDY_INSTANCE_UID_MISMATCH,
            f"StudyInstanceUID {uids.study} does not match the study {expected_study} "
            "of the request URL", uids.sop_class, uids.sop_instance)


def _sha256(fp) -> str:  # type: ignore[no-untyped-def]
    fp.seek(0)
    digest = hashlib.sha256()
    while chunk := fp.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()
