"""Transcoding a stored Part 10 file to another transfer syntax, bytes in, bytes out.

Only what needs no pixel codec, to Explicit VR Little Endian: from Implicit VR Little
Endian and Deflated Explicit VR Little Endian (Pixel Data bytes pass unchanged), and from
Explicit VR Big Endian (values of OW, OF, OL, OD and OV are byte-swapped by their word
size, which pydicom leaves to its caller; other values are decoded and re-encoded by
pydicom). The results are pixel-exact. The File Meta Information gets the new Transfer
Syntax UID.
"""

from __future__ import annotations

import io

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian

from hounsfield.errors import StorageUnavailableError

SOURCES = frozenset({"1.2.840.10008.1.2", "1.2.840.10008.1.2.1.99", str(ExplicitVRBigEndian)})
_WORD_SIZES = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}


def to_explicit_vr_little_endian(part10: bytes) -> bytes:
    """The same object in Explicit VR Little Endian (source: one of `SOURCES`)."""
    try:
        dataset = pydicom.dcmread(io.BytesIO(part10), force=True)
        big_endian = dataset.file_meta.TransferSyntaxUID == ExplicitVRBigEndian
        dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        return _from_big_endian(dataset) if big_endian else _write(dataset)
    except Exception as exc:  # noqa: BLE001 - a stored file pydicom cannot rewrite
        raise StorageUnavailableError(f"stored file cannot be transcoded: {exc}") from exc


def _write(dataset: Dataset) -> bytes:
    out = io.BytesIO()
    dataset.save_as(out, implicit_vr=False, little_endian=True, enforce_file_format=True)
    return out.getvalue()


def _from_big_endian(dataset: Dataset) -> bytes:
    for element in dataset.iterall():
        size = _WORD_SIZES.get(element.VR)
        if size and element.value:
            words = np.frombuffer(element.value, dtype=f">u{size}")
            element.value = words.astype(f"<u{size}").tobytes()
    dataset.preamble = dataset.preamble or b"\0" * 128
    out = io.BytesIO()
    # pydicom refuses to change byte order unless forced, and forcing excludes
    # enforce_file_format: the preamble and File Meta Information are kept as read.
    pydicom.dcmwrite(out, dataset, implicit_vr=False, little_endian=True,
                     force_encoding=True)
    return out.getvalue()
