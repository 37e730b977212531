"""Stored instances and frames in another transfer syntax than the one they were stored
in: read from the blob store, transcoded by `dicom.transcode` and `dicom.codecs`.

A frame of a file stored little endian and not deflated is read in place, from the frame
table, and decoded with the Image Pixel attributes of the stored DICOM JSON; any other
file (big endian, deflated, frames not located at store time) is read whole and its
frames decoded by pydicom. Callers run these in worker threads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from hounsfield.archive.retrieve import StoredInstance, Target
from hounsfield.dicom import codecs, transcode
from hounsfield.dicom.pixel_format import PixelFormat
from hounsfield.dicom.transfer_syntax import transfer_syntax

if TYPE_CHECKING:
    from hounsfield.archive.archive import Archive


def transcoded_instance(archive: Archive, stored: StoredInstance, target: str) -> bytes:
    """The stored Part 10 file as the same instance in `target`."""
    with archive.open_blob(stored.blob_key) as fp:
        return transcode.transcode(fp.read(), target)


def transcoded_frames(archive: Archive, stored: StoredInstance, numbers: list[int],
                      target: str) -> list[bytes]:
    """Frames `numbers` (from 1) of the stored instance, each encoded in `target`."""
    if stored.frames is None or not _read_in_place(stored.transfer_syntax_uid):
        with archive.open_blob(stored.blob_key) as fp:
            return transcode.frames(fp.read(), [n - 1 for n in numbers], target)
    layout = _pixel_format(archive, stored)
    data = archive.read_runs(stored.blob_key, [stored.frames[n - 1] for n in numbers])
    return [codecs.transcode_frame(frame, stored.transfer_syntax_uid, layout, target)
            for frame in data]


def _read_in_place(uid: str) -> bool:
    row = transfer_syntax(uid)
    return row is not None and row.little_endian and not row.deflated


def _pixel_format(archive: Archive, stored: StoredInstance) -> PixelFormat:
    [found] = archive.stored_instances(
        Target(stored.study, stored.series, stored.sop_instance), metadata=True)
    return PixelFormat.of_model(orjson.loads(found.metadata_json or b"{}"))
