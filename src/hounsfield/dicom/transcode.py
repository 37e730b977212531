"""Transcoding a stored Part 10 file to another transfer syntax, bytes in, bytes out.

Only what needs no pixel codec: Implicit VR Little Endian and Deflated Explicit VR Little
Endian to Explicit VR Little Endian. Pixel Data bytes pass unchanged (all three are
little endian), so the result is pixel-exact. The File Meta Information gets the new
Transfer Syntax UID; its group length is recomputed by pydicom.
"""

from __future__ import annotations

import io

import pydicom
from pydicom.uid import ExplicitVRLittleEndian

from hounsfield.errors import StorageUnavailableError


def to_explicit_vr_little_endian(part10: bytes) -> bytes:
    """The same object in Explicit VR Little Endian (source: a little-endian native or
    deflated transfer syntax)."""
    try:
        dataset = pydicom.dcmread(io.BytesIO(part10), force=True)
    except Exception as exc:  # noqa: BLE001 - a stored file pydicom cannot read
        raise StorageUnavailableError(f"stored file cannot be transcoded: {exc}") from exc
    dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    out = io.BytesIO()
    dataset.save_as(out, implicit_vr=False, little_endian=True, enforce_file_format=True)
    return out.getvalue()
