"""The Native DICOM Model XML (PS3.19 Annex A) and its conversion to and from the JSON model.

The JSON side is the DICOM JSON Model of PS3.18 Annex F, held as the dicts that pydicom's
`Dataset.to_json_dict()` produces and `Dataset.from_json()` accepts:
`{"00100010": {"vr": "PN", "Value": [{"Alphabetic": "Doe^John"}]}, ...}`.

Writing builds the document as a list of strings: it is several times faster than building
an lxml tree, and the escaping it needs is small (`escape_text`, `escape_attribute`).
Reading parses with lxml, never resolving entities, loading DTDs or using the network, and
turns every defect of the document into a `BadRequestError` that names the attribute.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.valuerep import VR

from hounsfield.errors import BadRequestError

if TYPE_CHECKING:
    from lxml import etree

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
ROOT = "NativeDicomModel"
# The namespace of the PS3.19 schema; dcm4chee and most peers write the model without one.
NAMESPACE = "http://dicom.nema.org/PS3.19/models/NativeDICOM"

PERSON_NAME_GROUPS = ("Alphabetic", "Ideographic", "Phonetic")
PERSON_NAME_COMPONENTS = ("FamilyName", "GivenName", "MiddleName", "NamePrefix", "NameSuffix")
_COMPONENT_INDEX = {name: index for index, name in enumerate(PERSON_NAME_COMPONENTS)}

_INT_VRS = frozenset({"IS", "SL", "SS", "SV", "UL", "US", "UV", "US or SS"})
_FLOAT_VRS = frozenset({"DS", "FD", "FL"})
_KNOWN_VRS = frozenset(vr.value for vr in VR)
_PLAIN_VRS = frozenset(vr for vr in _KNOWN_VRS if len(vr) == 2)
_ODD_HEX = frozenset("13579BDFbdf")

_TAG = re.compile("[0-9A-Fa-f]{8}")
_INT = re.compile(r"\s*[+-]?[0-9]+\s*")
_FLOAT = re.compile(
    r"\s*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?|inf|infinity|nan)\s*", re.I
)

# XML 1.0 cannot carry C0 controls other than TAB, LF, CR, nor U+FFFE, U+FFFF and lone
# surrogates: those become U+FFFD. CR is written as a reference, else parsers turn it into LF.
_BAD_CHARS = "\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"
_TEXT_SPECIAL = re.compile(f"[&<>\r{_BAD_CHARS}]")
_ATTRIBUTE_SPECIAL = re.compile(f'[&<>"\t\n\r{_BAD_CHARS}]')
_ESCAPES = {
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
    "\t": "&#9;", "\n": "&#10;", "\r": "&#13;",
}  # fmt: skip


# ---------------------------------------------------------------- JSON model -> XML


def json_to_xml(dataset: dict[str, Any]) -> bytes:
    """Return the PS3.19 document of a JSON-model dataset, attributes in the dict's order."""
    parts = [XML_DECLARATION, f'<{ROOT} xml:space="preserve">']
    _write_dataset(dataset, parts)
    parts.append(f"</{ROOT}>")
    return "".join(parts).encode("utf-8")


def escape_text(text: str) -> str:
    if _TEXT_SPECIAL.search(text) is None:
        return text
    return _TEXT_SPECIAL.sub(_escape_match, text)


def escape_attribute(text: str) -> str:
    if _ATTRIBUTE_SPECIAL.search(text) is None:
        return text
    return _ATTRIBUTE_SPECIAL.sub(_escape_match, text)


def _escape_match(match: re.Match[str]) -> str:
    return _ESCAPES.get(match.group(), "\ufffd")


def _write_dataset(dataset: dict[str, Any], parts: list[str]) -> None:
    for tag, element in dataset.items():
        if not isinstance(element, dict) or not isinstance(element.get("vr"), str):
            raise BadRequestError(f"attribute {tag}: not a JSON model attribute with a vr")
        vr = str(element["vr"])
        parts.append(_start_tag(tag, vr, _private_creator(tag, dataset)))
        _write_content(tag, vr, element, parts)


@lru_cache(maxsize=4096)
def _start_tag(tag: str, vr: str, creator: str | None) -> str:
    """The unclosed `<DicomAttribute ...` start tag, cached: most tags recur in every dataset."""
    if _TAG.fullmatch(tag) is None:
        raise BadRequestError(f"attribute key {tag!r} is not a tag of 8 hex digits")
    if vr not in _KNOWN_VRS:
        raise BadRequestError(f"attribute {tag}: unknown VR {vr!r}")
    keyword = keyword_for_tag(int(tag, 16))
    keyword = f' keyword="{keyword}"' if keyword else ""
    creator = f' privateCreator="{escape_attribute(creator)}"' if creator else ""
    return f'<DicomAttribute{keyword} tag="{tag.upper()}" vr="{vr}"{creator}'


def _private_creator(tag: str, dataset: dict[str, Any]) -> str | None:
    """The Private Creator of a private data element (PS3.5 7.8.1), if the dataset has it."""
    if len(tag) != 8 or tag[3] not in _ODD_HEX or tag[4] == "0":
        return None
    creator = dataset.get(f"{tag[:4]}00{tag[4:6]}")
    values = creator.get("Value") if isinstance(creator, dict) else None
    return values[0] if values and isinstance(values[0], str) else None


def _write_content(tag: str, vr: str, element: dict[str, Any], parts: list[str]) -> None:
    if "BulkDataURI" in element:
        uri = escape_attribute(_string(tag, element["BulkDataURI"]))
        parts.append(f'><BulkData uri="{uri}"/></DicomAttribute>')
    elif "InlineBinary" in element:
        data = escape_text(_string(tag, element["InlineBinary"]))
        parts.append(f"><InlineBinary>{data}</InlineBinary></DicomAttribute>")
    elif element.get("Value"):
        parts.append(">")
        _VALUE_WRITERS.get(vr, _write_values)(tag, element["Value"], parts)
        parts.append("</DicomAttribute>")
    else:
        parts.append("/>")


def _write_values(tag: str, values: list[Any], parts: list[str]) -> None:
    for number, value in enumerate(values, 1):
        parts.append(f'<Value number="{number}">{_value_text(tag, value)}</Value>')


def _value_text(tag: str, value: Any) -> str:
    """The text of one value: strings escaped, numbers as JSON writes them, null empty."""
    if isinstance(value, str):
        return escape_text(value)
    if isinstance(value, float):
        return float.__repr__(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__repr__(value)
    if value is None:
        return ""
    raise BadRequestError(f"attribute {tag}: value {value!r} is not a string or a number")


def _write_items(tag: str, items: list[Any], parts: list[str]) -> None:
    for number, item in enumerate(items, 1):
        parts.append(f'<Item number="{number}">')
        _write_dataset(item or {}, parts)
        parts.append("</Item>")


def _write_person_names(tag: str, values: list[Any], parts: list[str]) -> None:
    for number, value in enumerate(values, 1):
        groups = "".join(_person_name_group(tag, g, t) for g, t in _name_groups(tag, value))
        parts.append(f'<PersonName number="{number}">{groups}</PersonName>')


def _name_groups(tag: str, value: Any) -> list[tuple[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str):  # lenient: a bare string is the Alphabetic group
        return [("Alphabetic", value)]
    if not isinstance(value, dict):
        raise BadRequestError(f"attribute {tag}: person name {value!r} is not an object")
    return list(value.items())


def _person_name_group(tag: str, group: str, text: Any) -> str:
    if group not in PERSON_NAME_GROUPS or not isinstance(text, str | None):
        raise BadRequestError(f"attribute {tag}: bad person name group {group!r}: {text!r}")
    if not text:
        return f"<{group}/>"
    # At most five components; any further carets stay inside NameSuffix.
    components = zip(PERSON_NAME_COMPONENTS, text.split("^", 4), strict=False)
    inner = "".join(f"<{n}>{escape_text(c)}</{n}>" if c else f"<{n}/>" for n, c in components)
    return f"<{group}>{inner}</{group}>"


def _string(tag: str, value: Any) -> str:
    if not isinstance(value, str):
        raise BadRequestError(f"attribute {tag}: {value!r} is not a string")
    return value


_VALUE_WRITERS = {"SQ": _write_items, "PN": _write_person_names}


# ---------------------------------------------------------------- XML -> JSON model


def xml_to_json(xml: bytes) -> dict[str, Any]:
    """Return the JSON-model dataset of a PS3.19 document; `BadRequestError` if it is not one."""
    return _read_dataset(_parse(xml))


def _parse(xml: bytes) -> etree._Element:
    from lxml import etree  # only when XML is read: writing needs no lxml (saves ~4 MB)

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
        remove_comments=True, remove_pis=True,
    )  # fmt: skip
    try:
        root = etree.fromstring(xml, parser)
    except (etree.LxmlError, ValueError, TypeError) as exc:
        raise BadRequestError(f"malformed XML: {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise BadRequestError("XML with a DOCTYPE is not accepted (DTDs and entities are unsafe)")
    if root.tag == f"{{{NAMESPACE}}}{ROOT}":
        _drop_namespace(root)
    if root.tag != ROOT:
        raise BadRequestError(f"root element is <{root.tag}>, expected <{ROOT}>")
    return root


def _drop_namespace(root: etree._Element) -> None:
    for element in root.iter():
        element.tag = element.tag.rpartition("}")[2]


def _read_dataset(parent: etree._Element) -> dict[str, Any]:
    dataset: dict[str, Any] = {}
    for element in parent:
        if element.tag != "DicomAttribute":
            raise BadRequestError(f"<{element.tag}> found in <{parent.tag}>: not a DicomAttribute")
        tag = _read_tag(element)
        if tag in dataset:
            raise BadRequestError(f"attribute {tag} appears twice in the same dataset")
        dataset[tag] = _read_attribute(tag, element)
    return dataset


def _read_tag(element: etree._Element) -> str:
    tag = element.get("tag")
    if tag is None or _TAG.fullmatch(tag) is None:
        raise BadRequestError(f"DicomAttribute has a bad tag attribute {tag!r}: need 8 hex digits")
    return tag.upper()


def _read_attribute(tag: str, element: etree._Element) -> dict[str, Any]:
    vr = _read_vr(tag, element)
    if element.text and element.text.strip():
        raise BadRequestError(f"attribute {tag}: text outside of Value elements")
    if not len(element):
        return {"vr": vr, "Value": []} if vr == "SQ" else {"vr": vr}
    reader = _CONTENT_READERS.get(element[0].tag)
    if reader is None:
        raise BadRequestError(f"attribute {tag}: unexpected element <{element[0].tag}>")
    return {"vr": vr, **reader(tag, vr, element)}


def _read_vr(tag: str, element: etree._Element) -> str:
    vr = element.get("vr")
    if vr is None:
        return _dictionary_vr(tag)
    if vr not in _KNOWN_VRS:
        raise BadRequestError(f"attribute {tag}: unknown VR {vr!r}")
    return vr


def _dictionary_vr(tag: str) -> str:
    if tag[3] in _ODD_HEX and tag[4:6] == "00" and tag[6] != "0":
        return "LO"  # a Private Creator, PS3.5 7.8.1
    try:
        vr = dictionary_VR(int(tag, 16))
    except KeyError:
        vr = None
    if vr not in _PLAIN_VRS:
        raise BadRequestError(f"attribute {tag}: no vr attribute and no one VR in the dictionary")
    return vr


def _children(tag: str, element: etree._Element, name: str) -> etree._Element:
    for child in element:
        if child.tag != name:
            raise BadRequestError(f"attribute {tag}: <{child.tag}> mixed with <{name}>")
    return element


def _require_vr(tag: str, vr: str, wanted: bool, name: str) -> None:
    if not wanted:
        raise BadRequestError(f"attribute {tag}: <{name}> is not allowed for VR {vr}")


def _read_values(tag: str, vr: str, element: etree._Element) -> dict[str, Any]:
    _require_vr(tag, vr, vr not in ("SQ", "PN"), "Value")
    convert = _VALUE_READERS.get(vr, _read_string)
    values = _children(tag, element, "Value")
    return {"Value": [convert(tag, vr, _leaf_text(tag, value)) for value in values]}


def _leaf_text(tag: str, element: etree._Element) -> str | None:
    if len(element):
        raise BadRequestError(f"attribute {tag}: <{element.tag}> must hold text only")
    return element.text


def _read_string(tag: str, vr: str, text: str | None) -> str:
    return text or ""


def _read_uid(tag: str, vr: str, text: str | None) -> str:
    return text.strip() if text else ""


def _read_tag_value(tag: str, vr: str, text: str | None) -> str | None:
    if not text or not text.strip():
        return None
    if _TAG.fullmatch(text.strip()) is None:
        raise BadRequestError(f"attribute {tag} (AT): value {_short(text)!r} is not 8 hex digits")
    return text.strip().upper()


def _read_number(tag: str, vr: str, text: str | None) -> int | float | None:
    if not text or not text.strip():
        return None
    pattern, kind = (_INT, int) if vr in _INT_VRS else (_FLOAT, float)
    if pattern.fullmatch(text) is None:
        raise BadRequestError(f"attribute {tag} ({vr}): value {_short(text)!r} is not a number")
    return kind(text)


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "..."


def _read_person_names(tag: str, vr: str, element: etree._Element) -> dict[str, Any]:
    _require_vr(tag, vr, vr == "PN", "PersonName")
    return {"Value": [_read_person_name(tag, n) for n in _children(tag, element, "PersonName")]}


def _read_person_name(tag: str, element: etree._Element) -> dict[str, str] | None:
    if not len(element):
        return None
    name = {}
    for group in element:
        if group.tag not in PERSON_NAME_GROUPS:
            raise BadRequestError(f"attribute {tag}: <{group.tag}> is not a person name group")
        name[group.tag] = _read_name_group(tag, group)
    return name


def _read_name_group(tag: str, group: etree._Element) -> str:
    """Join the components with carets up to the last one present, keeping empty ones."""
    components: list[str | None] = [None] * len(PERSON_NAME_COMPONENTS)
    for component in group:
        index = _COMPONENT_INDEX.get(component.tag)
        if index is None:
            raise BadRequestError(f"attribute {tag}: <{component.tag}> is not a name component")
        components[index] = _leaf_text(tag, component) or ""
    while components and components[-1] is None:
        components.pop()
    return "^".join(c or "" for c in components)


def _read_items(tag: str, vr: str, element: etree._Element) -> dict[str, Any]:
    _require_vr(tag, vr, vr == "SQ", "Item")
    return {"Value": [_read_dataset(item) for item in _children(tag, element, "Item")]}


def _read_bulk_data(tag: str, vr: str, element: etree._Element) -> dict[str, Any]:
    _require_vr(tag, vr, vr != "SQ", "BulkData")
    bulk = _only_child(tag, element)
    uri = bulk.get("uri") or bulk.get("uuid")  # uuid: the PS3.19 form before uri existed
    if not uri:
        raise BadRequestError(f"attribute {tag}: <BulkData> without a uri attribute")
    return {"BulkDataURI": uri}


def _read_inline_binary(tag: str, vr: str, element: etree._Element) -> dict[str, Any]:
    _require_vr(tag, vr, vr != "SQ", "InlineBinary")
    text = _leaf_text(tag, _only_child(tag, element))
    return {"InlineBinary": text.strip() if text else ""}


def _only_child(tag: str, element: etree._Element) -> etree._Element:
    if len(element) != 1:
        raise BadRequestError(f"attribute {tag}: <{element[0].tag}> must be the only child")
    return element[0]


_VALUE_READERS = {
    **{vr: _read_number for vr in _INT_VRS | _FLOAT_VRS},
    "UI": _read_uid,
    "AT": _read_tag_value,
}
_CONTENT_READERS = {
    "Value": _read_values,
    "PersonName": _read_person_names,
    "Item": _read_items,
    "BulkData": _read_bulk_data,
    "InlineBinary": _read_inline_binary,
}
