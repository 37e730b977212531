"""The DICOM JSON model (PS3.18 Annex F) of a stored instance, computed once at store time.

Binary values (OB, OD, OF, OL, OV, OW, UN) longer than a threshold are not inlined: the
attribute gets a BulkDataURI instead, and their place in the file is recorded so that a
bulk data retrieve is one positioned read. BulkDataURIs are stored relative to the
DICOMweb base URL (`/studies/{study}/series/{series}/instances/{sop}/bulkdata/...`); a
response splices the request's base in front with `with_base_url`, a byte replace, since
the key `"BulkDataURI":"` can appear unescaped only where this module put it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from pydicom import datadict
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset

from hounsfield.dicom.element_reader import Element, Header, NeedsFullParserError
from hounsfield.dicom.json_values import CODECS, json_value
from hounsfield.dicom.part10 import PixelData

BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
_BULK_KEY = b'"BulkDataURI":"'


@dataclass
class InstanceJSON:
    """The JSON metadata of one instance and where its bulk data lies in the file."""

    metadata: bytes  # orjson of the JSON model, BulkDataURIs relative to the rs base
    model: dict[str, Any] = field(default_factory=dict)  # the same, as a dict
    bulk_data: dict[str, tuple[int, int]] = field(default_factory=dict)  # path -> run


def instance_path(study: str, series: str, sop: str) -> str:
    """The URL path of an instance below the DICOMweb base."""
    return f"/studies/{study}/series/{series}/instances/{sop}"


def instance_json(dataset: Dataset, pixel: PixelData | None, *, instance_url: str,
                  threshold: int, positions_known: bool) -> InstanceJSON:
    """Build the JSON model of `dataset` (read with its pixel data left out)."""
    walker = _Walker(instance_url, threshold, positions_known)
    model = walker.dataset(dataset, (), 0, "latin-1")
    if pixel is not None:
        model[f"{pixel.tag:08X}"] = {"vr": pixel.vr, "BulkDataURI": instance_url + "/pixeldata"}
        if positions_known and pixel.length is not None:
            walker.bulk["pixeldata"] = (pixel.value_offset, pixel.length)
    return InstanceJSON(orjson.dumps(model), model, walker.bulk)


def header_json(header: Header, buf: bytes | memoryview, pixel: PixelData | None, *,
                instance_url: str, threshold: int) -> InstanceJSON:
    """The same model as `instance_json`, built from elements read by `element_reader`.

    Raises NeedsFullParserError for a value only pydicom can render."""
    walker = _ElementWalker(buf, header.little_endian, instance_url, threshold)
    model = walker.data_set(header.elements, "", "latin-1")
    if pixel is not None:
        model[f"{pixel.tag:08X}"] = {"vr": pixel.vr, "BulkDataURI": instance_url + "/pixeldata"}
        if pixel.length is not None:
            walker.bulk["pixeldata"] = (pixel.value_offset, pixel.length)
    return InstanceJSON(orjson.dumps(model), model, walker.bulk)


_UID_TAGS = frozenset({0x00080016, 0x00080018, 0x0020000D, 0x0020000E})


def header_uids(header: Header, buf: bytes | memoryview) -> dict[str, Any]:
    """The JSON model of just the four identifying UIDs of `header`'s data set."""
    return {f"{e.tag:08X}": json_value("UI", bytes(buf[e.offset : e.offset + e.length]),
                                       header.little_endian, None)
            for e in header.elements if e.tag in _UID_TAGS and e.vr == "UI"}


def with_base_url(metadata: bytes, base_url: bytes) -> bytes:
    """Splice the request's DICOMweb base URL in front of every stored BulkDataURI."""
    return metadata.replace(_BULK_KEY, _BULK_KEY + base_url)


class _Walker:
    def __init__(self, instance_url: str, threshold: int, positions_known: bool):
        self.instance_url = instance_url
        self.threshold = threshold
        self.positions_known = positions_known
        self.bulk: dict[str, tuple[int, int]] = {}

    def dataset(self, ds: Dataset, path: tuple[str, ...], base: int,
                codec: str | None) -> dict[str, Any]:
        """The JSON model of `ds`; its raw value positions count from file offset `base`.

        `codec` decodes its text (None: leave text to pydicom), inherited by items."""
        model: dict[str, Any] = {}
        for tag in ds.keys():  # noqa: SIM118 - iterating a Dataset converts elements
            if tag.element == 0:
                continue  # group lengths are not part of the JSON model
            raw = ds.get_item(tag, keep_deferred=True)
            if tag == 0x00080005:
                codec = _codec(ds)
            key = f"{tag:08X}"
            model[key] = self.element(ds, raw, path + (key,), base, codec)
        return model

    def element(self, ds: Dataset, raw: DataElement | RawDataElement,
                path: tuple[str, ...], base: int, codec: str | None) -> dict[str, Any]:
        vr = _vr_of(raw)
        if vr == "SQ":
            return self.sequence(ds, raw, path, base, codec)
        if vr in BINARY_VRS and _length_of(raw) > self.threshold:
            return self.bulk_element(raw, vr, path, base)
        if isinstance(raw, RawDataElement) and raw.value is not None and _exact_vr(raw):
            fast = json_value(vr, raw.value, raw.is_little_endian, codec)
            if fast is not None:
                return fast
        elem = ds[raw.tag] if isinstance(raw, RawDataElement) else raw
        return elem.to_json_dict(None, bulk_data_threshold=1 << 62)

    def sequence(self, ds: Dataset, raw: DataElement | RawDataElement,
                 path: tuple[str, ...], base: int, codec: str | None) -> dict[str, Any]:
        # pydicom parses a defined-length sequence from its value bytes, so positions
        # inside count from that value's start; an undefined-length one is read in place.
        if isinstance(raw, RawDataElement):
            base += raw.value_tell
        elem = ds[raw.tag]
        items = [self.dataset(item, path + (str(i),), base, codec)
                 for i, item in enumerate(elem.value)]
        return {"vr": "SQ", "Value": items} if items else {"vr": "SQ"}

    def bulk_element(self, raw: DataElement | RawDataElement, vr: str,
                     path: tuple[str, ...], base: int) -> dict[str, Any]:
        sub = "/".join(path)
        value_tell = getattr(raw, "value_tell", None)
        if self.positions_known and value_tell is not None:
            self.bulk[sub] = (base + value_tell, _length_of(raw))
        return {"vr": vr, "BulkDataURI": f"{self.instance_url}/bulkdata/{sub}"}


def _codec(ds: Dataset) -> str | None:
    value = ds.get("SpecificCharacterSet") or ""
    if not isinstance(value, str):
        value = value[0] if len(value) == 1 else "multiple"
    return CODECS.get(value.strip())


def _exact_vr(raw: RawDataElement) -> bool:
    """The raw element says its VR, or the dictionary gives exactly one (not UN)."""
    if raw.VR:
        return raw.VR != "UN"
    try:
        return " or " not in datadict.dictionary_VR(raw.tag)
    except KeyError:
        return False


def _vr_of(raw: DataElement | RawDataElement) -> str:
    if raw.VR:
        return str(raw.VR)
    try:
        vr = datadict.dictionary_VR(raw.tag)
    except KeyError:
        return "UN"
    return "OW" if "OW" in vr else vr.split(" or ")[0]


def _length_of(raw: DataElement | RawDataElement) -> int:
    if isinstance(raw, RawDataElement):
        return raw.length if raw.length != 0xFFFFFFFF else len(raw.value or b"")
    value = raw.value
    return len(value) if isinstance(value, bytes | bytearray) else 0



class _ElementWalker:
    """Renders elements from their bytes; mirrors `_Walker` for what it accepts."""

    def __init__(self, buf: bytes | memoryview, little_endian: bool, instance_url: str,
                 threshold: int):
        self.buf = buf
        self.little_endian = little_endian
        self.bulk_url = instance_url + "/bulkdata/"
        self.threshold = threshold
        self.bulk: dict[str, tuple[int, int]] = {}

    def data_set(self, elements: tuple[Element, ...], path: str,
                 codec: str | None) -> dict[str, Any]:
        model: dict[str, Any] = {}
        for element in elements:
            tag = element.tag
            if not tag & 0xFFFF:
                continue  # group lengths are not part of the JSON model
            if tag == 0x00080005:
                codec = self.codec(element)
            key = f"{tag:08X}"
            model[key] = self.element(element, path + key, codec)
        return model

    def element(self, element: Element, path: str, codec: str | None) -> dict[str, Any]:
        vr = element.vr
        if element.items is not None:
            items = [self.data_set(item, f"{path}/{i}/", codec)
                     for i, item in enumerate(element.items)]
            return {"vr": "SQ", "Value": items} if items else {"vr": "SQ"}
        if " or " in vr:
            if "OW" not in vr or element.length <= self.threshold:
                raise NeedsFullParserError(f"ambiguous VR {vr}")
            vr = "OW"
        if vr in BINARY_VRS and element.length > self.threshold:
            self.bulk[path] = (element.offset, element.length)
            return {"vr": vr, "BulkDataURI": self.bulk_url + path}
        if vr == "UN":
            raise NeedsFullParserError("UN value")  # pydicom may know its VR
        value = bytes(self.buf[element.offset : element.offset + element.length])
        rendered = json_value(vr, value, self.little_endian, codec)
        if rendered is None:
            raise NeedsFullParserError(f"{vr} value")
        return rendered

    def codec(self, element: Element) -> str | None:
        raw = bytes(self.buf[element.offset : element.offset + element.length])
        values = raw.decode("latin-1").strip(" \0").split("\\")
        if len(values) != 1:
            return None
        return CODECS.get(values[0].strip())


def without_private(model: dict[str, Any]) -> dict[str, Any]:
    """The JSON model without private attributes (odd groups), in items too."""
    return {tag: _items_without_private(element) for tag, element in model.items()
            if int(tag[3], 16) % 2 == 0}


def _items_without_private(element: dict[str, Any]) -> dict[str, Any]:
    if element.get("vr") != "SQ" or "Value" not in element:
        return element
    return {**element, "Value": [without_private(item) for item in element["Value"]]}


# Study, Series and SOP Instance UID and SOP Class UID: what names a data set
IDENTIFYING_TAGS = frozenset({"0020000D", "0020000E", "00080018", "00080016"})


def only_attributes(model: dict[str, Any], tags: frozenset[str]) -> dict[str, Any]:
    """The JSON model with only the top-level attributes `tags` (upper-case hex)."""
    return {tag: element for tag, element in model.items() if tag in tags}
