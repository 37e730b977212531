"""From a received Part 10 file to the InstanceRecord the index keeps (CPU work, no DB)."""

from __future__ import annotations

import mmap
import os
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from hounsfield.archive.content_digest import digest_of, digest_of_stream
from hounsfield.archive.record import InstanceRecord
from hounsfield.archive.retrieve import FRAGMENTS
from hounsfield.dicom import attributes, status
from hounsfield.dicom.element_reader import Header, NeedsFullParserError, read_header
from hounsfield.dicom.frames import Frame, ImageLayout, frame_table
from hounsfield.dicom.json_model import (
    InstanceJSON,
    header_json,
    header_uids,
    instance_json,
    instance_path,
)
from hounsfield.dicom.part10 import (
    PREAMBLE,
    PixelData,
    missing_preamble,
    read_part10,
    read_pixel_data,
)
from hounsfield.dicom.transfer_syntax import is_supported, transfer_syntax
from hounsfield.errors import HounsfieldError, InstanceRejectedError, StorageUnavailableError

_SMALLEST_FAST_FILE = 132  # preamble and prefix; anything shorter goes to pydicom
EXTENDED_OFFSET_TABLE = 0x7FE00001


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
    """The file is read through one memory map; a file object is opened only for
    pydicom (it cost seven more system calls per file)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        file_size = os.fstat(fd).st_size
        if file_size >= _SMALLEST_FAST_FILE:
            with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as buf:
                try:
                    record = _describe_fast(buf, file_size, bulk_data_threshold,
                                            expected_study)
                    return replace(record, preamble_missing=_preamble_missing(buf))
                except NeedsFullParserError:
                    pass  # an encoding only pydicom reads exactly: read it with it
        with open(fd, "rb", closefd=False) as fp:
            record = _describe_full(fp, bulk_data_threshold, expected_study)
            fp.seek(0)
            return replace(record, preamble_missing=_preamble_missing(fp.read(len(PREAMBLE))))
    finally:
        os.close(fd)


def _preamble_missing(head: bytes | mmap.mmap) -> bool:
    return bool(missing_preamble(head[: len(PREAMBLE)]))


def _describe_fast(buf: mmap.mmap, file_size: int, bulk_data_threshold: int,
                   expected_study: str | None) -> InstanceRecord:
    """Read the file with `element_reader` (raises NeedsFullParserError if it cannot);
    the pixel data's items and frames are read through the map as a file."""
    header = read_header(buf, file_size)
    buf.seek(header.pixel_offset)
    pixel = read_pixel_data(buf, header.little_endian, header.implicit_vr,  # type: ignore[arg-type]
                            file_size)
    uids = attributes.model_uids(header_uids(header, buf))
    if uids is None:
        raise NeedsFullParserError("missing or invalid UIDs")  # worded by the full path
    _check(header.transfer_syntax_uid, uids, expected_study)
    model = header_json(header, buf, pixel, threshold=bulk_data_threshold,
                        instance_url=instance_path(uids.study, uids.series, uids.sop_instance))
    layout = ImageLayout.of_model(model.model, _extended_offset_table(header, buf))
    frames = frame_table(buf, pixel, layout) if pixel is not None else None  # type: ignore[arg-type]
    return _record(uids, model, header.transfer_syntax_uid, layout.number_of_frames,
                   file_size, digest_of(buf), frames, pixel)


def _describe_full(fp: BinaryIO, bulk_data_threshold: int,
                   expected_study: str | None) -> InstanceRecord:
    """Read the file with pydicom."""
    part10 = read_part10(fp, defer_size=max(bulk_data_threshold, 256))
    uids = attributes.instance_uids(part10.dataset)
    _check(part10.transfer_syntax_uid, uids, expected_study)
    ds = part10.dataset
    model = instance_json(ds, part10.pixel_data,
                          instance_url=instance_path(uids.study, uids.series,
                                                     uids.sop_instance),
                          threshold=bulk_data_threshold,
                          positions_known=part10.positions_known)
    layout = ImageLayout.of_dataset(ds)
    frames = None
    pixel = part10.pixel_data if part10.positions_known else None
    if pixel is not None:
        frames = frame_table(fp, pixel, layout)
    return _record(uids, model, part10.transfer_syntax_uid, layout.number_of_frames,
                   part10.file_size, digest_of_stream(fp), frames, pixel)


def _record(uids: attributes.InstanceUIDs, model: InstanceJSON, transfer_syntax_uid: str,
            frame_count: int, file_size: int, digest: str,
            frames: list[Frame] | None, pixel: PixelData | None) -> InstanceRecord:
    return InstanceRecord(
        uids=uids,
        patient=attributes.level_values(model.model, attributes.PATIENT_COLUMNS),
        study=attributes.level_values(model.model, attributes.STUDY_COLUMNS),
        series=attributes.level_values(model.model, attributes.SERIES_COLUMNS),
        instance=attributes.level_values(model.model, attributes.INSTANCE_COLUMNS),
        transfer_syntax_uid=transfer_syntax_uid,
        number_of_frames=frame_count,
        size_bytes=file_size,
        digest=digest,
        metadata_json=model.metadata,
        frames_json=orjson.dumps(frames) if frames is not None else None,
        bulk_data_json=orjson.dumps(_with_fragments(model.bulk_data, pixel,
                                                     transfer_syntax_uid, frames)),
    )


def _with_fragments(bulk_data: dict[str, Any], pixel: PixelData | None,
                    transfer_syntax_uid: str, frames: list[Frame] | None) -> dict[str, Any]:
    """The bulk data table plus, for encapsulated pixel data of a video (or whose frames
    could not be located), the place of every fragment (key FRAGMENTS): a video's stream
    is all of them (PS3.5 §A.4.6-A.4.10). Images with a frame table go without: every
    request reads this table, and a slide has tens of thousands of fragments."""
    if pixel is None or not pixel.encapsulated or not pixel.fragments:
        return bulk_data
    row = transfer_syntax(transfer_syntax_uid)
    video = row is not None and row.media_type.startswith("video/")
    if frames is not None and not video:
        return bulk_data
    return {**bulk_data, FRAGMENTS: [(f.offset, f.length) for f in pixel.fragments]}


def _extended_offset_table(header: Header, buf: mmap.mmap) -> bytes | None:
    for element in reversed(header.elements):
        if element.tag == EXTENDED_OFFSET_TABLE:
            return buf[element.offset : element.offset + element.length]
        if element.tag < EXTENDED_OFFSET_TABLE:
            return None
    return None


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
