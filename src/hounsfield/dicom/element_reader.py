"""A fast reader of the data elements of a Part 10 file, straight from its bytes.

Storing an instance needs each element's tag, VR and where its value lies, once. pydicom
builds a full Dataset for that, which costs several times more than walking the bytes
with `struct`. This reader walks them for the common encodings and raises
`NeedsFullParserError` for anything it does not handle exactly as pydicom would (deflated
data sets, VRs that only a private dictionary or the data set itself can resolve,
malformed or truncated encodings): the caller then reads the file with pydicom, which
also words the errors of malformed files.

Offsets are absolute file offsets; the buffer is the whole file (an mmap, typically), of
which only the header pages are touched. The walk stops before the top-level pixel data.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from pydicom import datadict

from hounsfield.dicom.transfer_syntax import transfer_syntax

PIXEL_TAGS = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})
_ITEM = 0xFFFEE000
_ITEM_END = 0xFFFEE00D
_SEQUENCE_END = 0xFFFEE0DD
_UNDEFINED = 0xFFFFFFFF
_META_GROUP = 0x0002
_TRANSFER_SYNTAX = 0x00020010
# PS3.5 Table 7.1-1: these VRs have a reserved field and a 32-bit length
_LONG_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR",
                       "UT", "UV"})
_SHORT_VRS = frozenset({"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO",
                        "LT", "PN", "SH", "SL", "SS", "ST", "TM", "UI", "UL", "US"})
_MAX_DEPTH = 16


class NeedsFullParserError(Exception):
    """The file uses an encoding this reader leaves to pydicom."""


class Element(NamedTuple):
    tag: int
    vr: str
    offset: int  # of the value, in the file
    length: int  # of the value (defined: items of sequences are parsed)
    items: tuple[tuple[Element, ...], ...] | None = None  # the items of an SQ


class Header(NamedTuple):
    """The data set of a Part 10 file without its File Meta Information."""

    transfer_syntax_uid: str
    little_endian: bool
    implicit_vr: bool
    elements: tuple[Element, ...]
    pixel_offset: int  # where the top-level pixel data element starts (or the file ends)


def read_header(buf: bytes | memoryview, file_size: int) -> Header:
    """Walk the File Meta Information and the data set up to the pixel data of `buf`."""
    start = _meta_start(buf)
    ts_uid, pos = _read_meta(buf, start, file_size)
    syntax = transfer_syntax(ts_uid)
    if syntax is None or syntax.deflated:
        raise NeedsFullParserError(f"transfer syntax {ts_uid}")
    reader = _Reader(buf, file_size, syntax.little_endian, not syntax.explicit_vr)
    elements, pixel_offset = reader.data_set(pos, file_size, top_level=True)
    return Header(ts_uid, syntax.little_endian, not syntax.explicit_vr, elements,
                  pixel_offset)


def _meta_start(buf: bytes | memoryview) -> int:
    if bytes(buf[128:132]) == b"DICM":
        return 132
    if bytes(buf[:2]) == b"\x02\x00":
        return 0
    raise NeedsFullParserError("no DICM prefix")


def _read_meta(buf: bytes | memoryview, pos: int, file_size: int) -> tuple[str, int]:
    """The Transfer Syntax UID and where the data set starts (group 0002 is explicit LE)."""
    reader = _Reader(buf, file_size, little_endian=True, implicit_vr=False)
    ts_uid = None
    while pos + 8 <= file_size and struct.unpack_from("<H", buf, pos)[0] == _META_GROUP:
        element, pos = reader.element(pos, file_size, depth=0)
        if element.tag == _TRANSFER_SYNTAX:
            ts_uid = bytes(buf[element.offset : element.offset + element.length])
    if not ts_uid:
        raise NeedsFullParserError("no Transfer Syntax UID")
    return ts_uid.rstrip(b"\0 ").decode("ascii", "replace"), pos


class _Reader:
    def __init__(self, buf: bytes | memoryview, file_size: int, little_endian: bool,
                 implicit_vr: bool):
        self.buf = buf
        self.file_size = file_size
        self.implicit_vr = implicit_vr
        endian = "<" if little_endian else ">"
        self.tag_and_length = struct.Struct(endian + "HHL").unpack_from
        self.tag_vr_short = struct.Struct(endian + "HH2sH").unpack_from
        self.long_length = struct.Struct(endian + "L").unpack_from
        self.tag = struct.Struct(endian + "HH").unpack_from

    def data_set(self, pos: int, end: int, *, top_level: bool = False, delimited: bool = False,
                 depth: int = 0) -> tuple[tuple[Element, ...], int]:
        """The elements from `pos` to `end`, or up to the top-level pixel data, or (for an
        item of undefined length, `delimited`) through its Item Delimitation Item."""
        elements = []
        last_tag = -1
        while pos < end:
            if top_level and self._tag_at(pos) in PIXEL_TAGS:
                break
            if delimited and pos + 8 <= end and self._tag_at(pos) == _ITEM_END:
                return tuple(elements), pos + 8
            element, pos = self.element(pos, end, depth)
            if element.tag <= last_tag:
                raise NeedsFullParserError("elements out of order")  # pydicom keeps the last
            last_tag = element.tag
            elements.append(element)
        if delimited:
            raise NeedsFullParserError("item without delimiter")
        return tuple(elements), pos

    def element(self, pos: int, end: int, depth: int) -> tuple[Element, int]:
        if pos + 8 > end:
            raise NeedsFullParserError("truncated element header")
        if self.implicit_vr:
            group, number, length = self.tag_and_length(self.buf, pos)
            tag = group << 16 | number
            vr = _implicit_vr(tag)
            pos += 8
        else:
            group, number, raw_vr, length = self.tag_vr_short(self.buf, pos)
            tag = group << 16 | number
            vr = raw_vr.decode("latin-1")
            if vr in _LONG_VRS:
                if pos + 12 > end:
                    raise NeedsFullParserError("truncated element header")
                length = self.long_length(self.buf, pos + 8)[0]
                pos += 12
            elif vr in _SHORT_VRS:
                pos += 8
            else:
                raise NeedsFullParserError(f"VR {raw_vr!r}")
        if vr == "SQ":
            return self.sequence(tag, pos, length, end, depth)
        if length == _UNDEFINED or pos + length > end:
            raise NeedsFullParserError("undefined or overlong value")
        return Element(tag, vr, pos, length), pos + length

    def sequence(self, tag: int, pos: int, length: int, end: int,
                 depth: int) -> tuple[Element, int]:
        if depth >= _MAX_DEPTH:
            raise NeedsFullParserError("sequences nested too deep")
        defined = length != _UNDEFINED
        stop = pos + length if defined else end
        if stop > end:
            raise NeedsFullParserError("overlong sequence")
        items = []
        start = pos
        while pos < stop:
            item_tag, item_length = self._item_header(pos, stop)
            pos += 8
            if item_tag == _SEQUENCE_END and not defined:
                return Element(tag, "SQ", start, pos - 8 - start, tuple(items)), pos
            if item_tag != _ITEM:
                raise NeedsFullParserError("not an item")
            item, pos = self.item(pos, item_length, stop, depth + 1)
            items.append(item)
        if not defined:
            raise NeedsFullParserError("sequence without delimiter")
        return Element(tag, "SQ", start, length, tuple(items)), pos

    def item(self, pos: int, length: int, end: int, depth: int
             ) -> tuple[tuple[Element, ...], int]:
        if length == _UNDEFINED:
            return self.data_set(pos, end, delimited=True, depth=depth)
        if pos + length > end:
            raise NeedsFullParserError("overlong item")
        return self.data_set(pos, pos + length, depth=depth)

    def _item_header(self, pos: int, end: int) -> tuple[int, int]:
        if pos + 8 > end:
            raise NeedsFullParserError("truncated item header")
        group, number, length = self.tag_and_length(self.buf, pos)
        return group << 16 | number, length

    def _tag_at(self, pos: int) -> int:
        if pos + 4 > self.file_size:
            raise NeedsFullParserError("truncated element header")
        group, number = self.tag(self.buf, pos)
        return group << 16 | number


_IMPLICIT_VRS: dict[int, str] = {}


def _implicit_vr(tag: int) -> str:
    """The dictionary VR of `tag`; ambiguous VRs resolve as the JSON model needs them."""
    vr = _IMPLICIT_VRS.get(tag)
    if vr is None:
        vr = _IMPLICIT_VRS[tag] = _dictionary_vr(tag)
    return vr


def _dictionary_vr(tag: int) -> str:
    """The VR of an implicit VR element: from the dictionary, as pydicom reads it.

    An ambiguous VR ("US or SS", "OB or OW") is returned as such: pydicom resolves it from
    other elements, so only a bulk value (which needs no conversion) does without it."""
    element = tag & 0xFFFF
    if element == 0:
        return "UL"  # group length
    if tag >> 16 & 1:
        if 0x10 <= element <= 0xFF:
            return "LO"  # private creator
        raise NeedsFullParserError("private element in implicit VR")
    try:
        return str(datadict.dictionary_VR(tag))
    except KeyError:
        raise NeedsFullParserError("unknown element in implicit VR") from None
