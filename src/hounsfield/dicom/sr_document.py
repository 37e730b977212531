"""A structured report's content tree as HTML or plain text (PS3.3 C.17.3 SR Document
Content Module; the rendered media types of PS3.18 Table 8.7.4-1 for SR: text/html,
text/plain).

Pure: the DICOM JSON model in, text out. The document title is the root's Concept Name;
a header gives the patient, the study and the completion and verification flags; then
each content item in tree order: a CONTAINER as a section with its children, every
other item as "concept name: value" (TEXT, CODE, NUM with its units, DATE, TIME,
DATETIME, PNAME, UIDREF, COMPOSITE/IMAGE/WAVEFORM references, SCOORD/SCOORD3D/TCOORD
coordinates), nested under the item it is related to.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Model = dict[str, Any]

SR_CLASS_PREFIX = "1.2.840.10008.5.1.4.1.1.88."  # PS3.4 B.5: the SR Storage classes
CONTENT_SEQUENCE = "0040A730"
_HEADER = (("Patient", "00100010"), ("Patient ID", "00100020"), ("Study date", "00080020"),
           ("Accession number", "00080050"), ("Completion", "0040A491"),
           ("Verification", "0040A493"))


def is_structured_report(sop_class: str) -> bool:
    return sop_class.strip("\0 ").startswith(SR_CLASS_PREFIX)


@dataclass(frozen=True)
class ContentItem:
    relationship: str
    value_type: str
    name: str
    value: str
    children: tuple[ContentItem, ...]


def content_tree(model: Model) -> tuple[str, tuple[ContentItem, ...]]:
    """The document title and the root's children."""
    return _concept_name(model) or "Structured Report", _children(model)


def to_html(model: Model) -> str:
    title, children = content_tree(model)
    lines = ["<!DOCTYPE html>", '<html><head><meta charset="utf-8">',
             f"<title>{_e(title)}</title></head><body>", f"<h1>{_e(title)}</h1>", "<dl>"]
    for label, value in _header(model):
        lines.append(f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>")
    lines.append("</dl>")
    lines += _html_items(children, 2)
    lines.append("</body></html>")
    return "\n".join(lines) + "\n"


def to_text(model: Model) -> str:
    title, children = content_tree(model)
    lines = [title, "=" * len(title)]
    lines += [f"{label}: {value}" for label, value in _header(model)]
    lines.append("")
    lines += _text_items(children, 0)
    return "\n".join(lines) + "\n"


def _html_items(items: tuple[ContentItem, ...], level: int) -> list[str]:
    lines: list[str] = []
    leaves = []
    for item in items:
        if item.value_type == "CONTAINER":
            if leaves:
                lines += _html_list(leaves, level)
                leaves = []
            heading = min(level, 6)
            lines += ["<section>", f"<h{heading}>{_e(item.name)}</h{heading}>",
                      *_html_items(item.children, level + 1), "</section>"]
        else:
            leaves.append(item)
    return lines + (_html_list(leaves, level) if leaves else [])


def _html_list(items: list[ContentItem], level: int) -> list[str]:
    lines = ["<ul>"]
    for item in items:
        text = f"<b>{_e(item.name)}</b>: {_e(item.value)}" if item.name else _e(item.value)
        nested = _html_items(item.children, level + 1) if item.children else []
        lines.append(f"<li>{text}{''.join(nested)}</li>")
    return lines + ["</ul>"]


def _text_items(items: tuple[ContentItem, ...], depth: int) -> list[str]:
    lines = []
    indent = "  " * depth
    for item in items:
        if item.value_type == "CONTAINER":
            lines += [f"{indent}{item.name}", f"{indent}{'-' * len(item.name)}"]
        else:
            lines.append(f"{indent}{item.name}: {item.value}" if item.name
                         else f"{indent}{item.value}")
        lines += _text_items(item.children, depth + 1)
    return lines


def _children(item: Model) -> tuple[ContentItem, ...]:
    return tuple(_content_item(child) for child in _items(item, CONTENT_SEQUENCE))


def _content_item(item: Model) -> ContentItem:
    value_type = _text(item, "0040A040").upper()
    return ContentItem(_text(item, "0040A010"), value_type, _concept_name(item),
                       _value(item, value_type), _children(item))


def _value(item: Model, value_type: str) -> str:
    """The value of a content item as text, by its Value Type (0040,A040)."""
    reader = _VALUES.get(value_type)
    return reader(item) if reader else ""


def _num(item: Model) -> str:
    [measured] = list(_items(item, "0040A300"))[:1] or [{}]
    number = _text(measured, "0040A30A")
    units = next(_items(measured, "004008EA"), {})
    unit = _text(units, "00080100") or _text(units, "00080104")
    return f"{number} {unit}".strip() if unit != "1" else number


def _code(item: Model) -> str:
    return _code_meaning(next(_items(item, "0040A168"), {}))


def _reference(item: Model) -> str:
    refs = [f"{_text(r, '00081150')} {_text(r, '00081155')}".strip()
            for r in _items(item, "00081199")]
    return "; ".join(refs)


def _coordinates(item: Model) -> str:
    kind = _text(item, "00700023")
    points = ", ".join(f"{v:g}" if isinstance(v, float) else str(v)
                       for v in _values(item, "00700022"))
    return f"{kind} ({points})" if kind else points


_VALUES = {
    "TEXT": lambda i: _text(i, "0040A160"),
    "CODE": _code,
    "NUM": _num,
    "DATE": lambda i: _text(i, "0040A121"),
    "TIME": lambda i: _text(i, "0040A122"),
    "DATETIME": lambda i: _text(i, "0040A120"),
    "PNAME": lambda i: _person(i, "0040A123"),
    "UIDREF": lambda i: _text(i, "0040A124"),
    "COMPOSITE": _reference, "IMAGE": _reference, "WAVEFORM": _reference,
    "SCOORD": _coordinates, "SCOORD3D": _coordinates,
    "TCOORD": lambda i: _text(i, "0040A132") or _text(i, "0040A130"),
}


def _header(model: Model) -> list[tuple[str, str]]:
    values = [(label, _person(model, tag) if tag == "00100010" else _text(model, tag))
              for label, tag in _HEADER]
    return [(label, value) for label, value in values if value]


def _concept_name(item: Model) -> str:
    return _code_meaning(next(_items(item, "0040A043"), {}))


def _code_meaning(code: Model) -> str:
    return _text(code, "00080104") or _text(code, "00080100")


def _items(item: Model, tag: str) -> Iterator[Model]:
    yield from (v for v in _values(item, tag) if isinstance(v, dict))


def _values(item: Model, tag: str) -> list[Any]:
    element = item.get(tag)
    return list(element.get("Value") or []) if isinstance(element, dict) else []


def _text(item: Model, tag: str) -> str:
    values = _values(item, tag)
    return "\\".join(str(v) for v in values if v is not None).strip()


def _person(item: Model, tag: str) -> str:
    values = _values(item, tag)
    name = values[0] if values else None
    alphabetic = name.get("Alphabetic", "") if isinstance(name, dict) else str(name or "")
    return " ".join(alphabetic.replace("^", " ").split())


def _e(text: str) -> str:
    return html.escape(text, quote=True)
