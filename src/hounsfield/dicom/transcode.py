"""Transcoding a stored Part 10 file to another transfer syntax, bytes in, bytes out.

To Explicit VR Little Endian only:
- from Implicit VR Little Endian and Deflated Explicit VR Little Endian (Pixel Data
  bytes pass unchanged);
- from Explicit VR Big Endian (values of OW, OF, OL, OD and OV are byte-swapped by their
  word size, which pydicom leaves to its caller; other values pydicom re-encodes);
- from the compressed transfer syntaxes pydicom can decode here (`DECODABLE`: RLE with
  its own decoder, JPEG baseline/extended and JPEG 2000 with Pillow), by pydicom's
  `decompress`: Pixel Data native, Photometric Interpretation RGB for YBR colour,
  Planar Configuration 0; a lossy source keeps Lossy Image Compression 01. The SOP
  Instance UID is kept: the object is the same, only its encoding changes.
Lossless sources give pixel-exact results. The File Meta Information gets the new
Transfer Syntax UID. The decoded instance is held in memory.
"""

from __future__ import annotations

import io

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.pixels import get_decoder
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian

from hounsfield.dicom.transfer_syntax import TRANSFER_SYNTAXES
from hounsfield.errors import NotAcceptableError

NATIVE = frozenset({"1.2.840.10008.1.2", "1.2.840.10008.1.2.1.99", str(ExplicitVRBigEndian)})


def _decodable(uid: str) -> bool:
    try:
        return get_decoder(uid).is_available
    except NotImplementedError:
        return False


DECODABLE = frozenset(uid for uid, row in TRANSFER_SYNTAXES.items()
                      if row.encapsulated and _decodable(uid))
SOURCES = NATIVE | DECODABLE
MAX_DECODED_BYTES = 512 << 20  # an instance is decoded in memory: larger ones are not
_WORD_SIZES = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}


def to_explicit_vr_little_endian(part10: bytes) -> bytes:
    """The same object in Explicit VR Little Endian (source: one of `SOURCES`); a file
    that cannot be decoded is NotAcceptableError (that representation cannot be made)."""
    try:
        dataset = pydicom.dcmread(io.BytesIO(part10), force=True)
        source = str(dataset.file_meta.TransferSyntaxUID)
        if source not in SOURCES:
            raise ValueError(f"no decoder for transfer syntax {source}")
        if source in DECODABLE:
            dataset.decompress(generate_instance_uid=False)
        dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        return _from_big_endian(dataset) if source == ExplicitVRBigEndian else _write(dataset)
    except Exception as exc:  # noqa: BLE001 - a stored file pydicom cannot rewrite
        raise NotAcceptableError(
            f"the stored instance cannot be transcoded to Explicit VR Little Endian: "
            f"{exc.__class__.__name__}: {str(exc)[:200]}") from exc


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
