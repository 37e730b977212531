"""Reading a DICOM Part 10 file once, at store time.

`read_part10` parses the header with pydicom (large values deferred, pixel data not
read) and then walks the pixel data element by hand to find where its value, and for
encapsulated transfer syntaxes every fragment, lies in the file. Nothing here opens a
path: it works on a binary file object the caller gives it.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import BinaryIO

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from hounsfield.dicom import status
from hounsfield.dicom.uid import is_valid_uid
from hounsfield.errors import InstanceRejectedError

DEFLATED = "1.2.840.10008.1.2.1.99"
PIXEL_DATA = 0x7FE00010
_PIXEL_TAGS = {0x7FE00008: "OF", 0x7FE00009: "OD", 0x7FE00010: "OW"}
_ITEM = 0xFFFEE000
_SEQUENCE_DELIMITER = 0xFFFEE0DD
_UNDEFINED = 0xFFFFFFFF
_LONG_LENGTH_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN",
                    b"UR", b"UT", b"UV"}


@dataclass(frozen=True)
class Fragment:
    """The value of one item of encapsulated pixel data: where it starts, how long."""

    offset: int
    length: int


@dataclass(frozen=True)
class PixelData:
    """Where the top-level pixel data element of a file lies.

    `length` is None for encapsulated (undefined length) pixel data, whose items are
    then listed: `offset_table` is the Basic Offset Table item, `fragments` the rest.
    """

    tag: int
    vr: str
    value_offset: int
    length: int | None
    offset_table: Fragment | None = None
    fragments: tuple[Fragment, ...] = ()

    @property
    def encapsulated(self) -> bool:
        return self.length is None


@dataclass(frozen=True)
class Part10:
    """A parsed Part 10 header: the data set without its pixel data, and where it is."""

    dataset: Dataset
    transfer_syntax_uid: str
    pixel_data: PixelData | None
    positions_known: bool  # False when the data set is deflated: offsets mean nothing
    file_size: int


def read_part10(fp: BinaryIO, *, defer_size: int = 4096) -> Part10:
    """Parse the Part 10 file `fp`; raise InstanceRejectedError if it is not one."""
    file_size = os.fstat(fp.fileno()).st_size
    dataset = _read_dataset(fp, defer_size)
    ts_uid = _transfer_syntax(dataset)
    positions_known = ts_uid != DEFLATED
    pixel_data = None
    if positions_known:
        syntax = pydicom.uid.UID(ts_uid)
        pixel_data = read_pixel_data(fp, syntax.is_little_endian, syntax.is_implicit_VR,
                                      file_size)
    _check_deferred_values(dataset, file_size)
    return Part10(dataset, ts_uid, pixel_data, positions_known, file_size)


def _read_dataset(fp: BinaryIO, defer_size: int) -> Dataset:
    head = fp.read(132)
    fp.seek(0)
    # A file that leaves out the preamble and "DICM" but starts with its File Meta
    # Information is accepted (several clients send such files) and stored as received.
    if head[128:132] != b"DICM" and head[:2] != b"\x02\x00":
        raise _cannot_understand("not a DICOM Part 10 file: no DICM prefix and no File Meta "
                                 "Information")
    try:
        return pydicom.dcmread(fp, stop_before_pixels=True, defer_size=defer_size, force=True)
    except InvalidDicomError as exc:
        raise _cannot_understand(f"not a DICOM Part 10 file: {exc}") from exc
    except (EOFError, OSError, ValueError, struct.error, KeyError, TypeError,
            NotImplementedError, IndexError, AttributeError) as exc:
        raise _cannot_understand(f"cannot parse the data set: {exc}") from exc


def _transfer_syntax(dataset: Dataset) -> str:
    meta = getattr(dataset, "file_meta", None)
    ts_uid = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
    if not ts_uid:
        raise _cannot_understand("the File Meta Information has no Transfer Syntax UID")
    if not is_valid_uid(ts_uid):
        raise _cannot_understand(f"Transfer Syntax UID {ts_uid!r} is not a valid UID")
    return ts_uid


def read_pixel_data(fp: BinaryIO, little: bool, implicit: bool,
                     file_size: int) -> PixelData | None:
    header_offset = fp.tell()
    if header_offset >= file_size:
        return None
    endian = "<" if little else ">"
    tag, vr, length = _element_header(fp, endian, implicit)
    if tag not in _PIXEL_TAGS:
        return None
    vr = vr or _PIXEL_TAGS[tag]
    value_offset = fp.tell()
    if length != _UNDEFINED:
        if value_offset + length > file_size:
            raise _cannot_understand(
                f"truncated file: pixel data needs {length} bytes, "
                f"{file_size - value_offset} present")
        return PixelData(tag, vr, value_offset, length)
    items = _read_items(fp, endian, file_size)
    if not items:
        raise _cannot_understand("encapsulated pixel data has no Basic Offset Table item")
    return PixelData(tag, vr, value_offset, None, items[0], tuple(items[1:]))


def _element_header(fp: BinaryIO, endian: str, implicit: bool) -> tuple[int, str | None, int]:
    raw = _read_exactly(fp, 8, "pixel data element header")
    group, element = struct.unpack(endian + "HH", raw[:4])
    tag = group << 16 | element
    if implicit:
        return tag, None, struct.unpack(endian + "L", raw[4:])[0]
    vr = raw[4:6]
    if vr in _LONG_LENGTH_VRS:
        length = struct.unpack(endian + "L", _read_exactly(fp, 4, "pixel data length"))[0]
    else:
        length = struct.unpack(endian + "H", raw[6:8])[0]
    return tag, vr.decode("ascii", "replace"), length


def _read_items(fp: BinaryIO, endian: str, file_size: int) -> list[Fragment]:
    """Walk the items of encapsulated pixel data up to its Sequence Delimitation Item."""
    items: list[Fragment] = []
    while True:
        raw = _read_exactly(fp, 8, "encapsulated pixel data item")
        group, element, length = struct.unpack(endian + "HHL", raw)
        tag = group << 16 | element
        if tag == _SEQUENCE_DELIMITER:
            return items
        if tag != _ITEM or length == _UNDEFINED:
            raise _cannot_understand(
                f"encapsulated pixel data: expected an item, found tag {tag:08X}")
        offset = fp.tell()
        if offset + length > file_size:
            raise _cannot_understand("truncated file: a pixel data fragment runs past the end")
        items.append(Fragment(offset, length))
        fp.seek(length, os.SEEK_CUR)


def _read_exactly(fp: BinaryIO, count: int, what: str) -> bytes:
    data = fp.read(count)
    if len(data) != count:
        raise _cannot_understand(f"truncated file: the {what} is cut short")
    return data


def _check_deferred_values(dataset: Dataset, file_size: int) -> None:
    """A deferred value beyond the end of the file means the file was truncated."""
    for tag in dataset.keys():  # noqa: SIM118 - iterating a Dataset converts elements
        raw = dataset.get_item(tag, keep_deferred=True)
        value_tell = getattr(raw, "value_tell", None)
        length = getattr(raw, "length", 0)
        if value_tell is not None and length != _UNDEFINED and value_tell + length > file_size:
            raise _cannot_understand(f"truncated file: the value of ({tag:08X}) runs past the end")


def _cannot_understand(message: str) -> InstanceRejectedError:
    return InstanceRejectedError(status.CANNOT_UNDERSTAND, message)


PREAMBLE = b"\0" * 128 + b"DICM"


def missing_preamble(head: bytes) -> bytes:
    """What goes in front of a stored file for it to be a Part 10 file (PS3.10 §7.1).

    Files are stored as received, and some senders leave out the 128-byte preamble and
    "DICM" (pydicom's dcmwrite does unless told otherwise); `head` is at least the first
    132 bytes of the stored file, or all of it."""
    return b"" if head[128:132] == b"DICM" else PREAMBLE
