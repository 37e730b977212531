"""File IDs of the instances of a DICOM File-set (PS3.10 §8.2, §8.5).

A File ID is at most 8 components, each of 1 to 8 characters from the uppercase
letters, the digits and `_`. Instances go to `DICOM/{study}/{series}/{instance}`, each
UID given as the 8 uppercase hexadecimal digits of a 32-bit hash of it (the layout of
dcm4chee-arc-light's default ZIP entry names), so that the same instance has the same
name in every archive. Two UIDs that hash alike under the same parent take the next
free value, in the order the instances come.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ROOT = "DICOM"
_COMPONENT = re.compile(r"[A-Z0-9_]{1,8}")


def uid_hash(uid: str) -> int:
    """A 32-bit hash of a UID (the polynomial string hash of Java, base 31)."""
    value = 0
    for char in uid:
        value = (31 * value + ord(char)) & 0xFFFFFFFF
    return value


def file_ids(instances: Iterable[tuple[str, str, str]]) -> list[tuple[str, ...]]:
    """The File ID of each (study, series, SOP instance) UID triple, in order."""
    names: dict[tuple[str, ...], dict[str, str]] = {}  # parent -> UID -> component
    ids = []
    for uids in instances:
        path: tuple[str, ...] = (ROOT,)
        for uid in uids:
            path += (_component(names.setdefault(path, {}), uid),)
        ids.append(path)
    return ids


def _component(siblings: dict[str, str], uid: str) -> str:
    if uid in siblings:
        return siblings[uid]
    taken = set(siblings.values())
    value = uid_hash(uid)
    while (name := f"{value:08X}") in taken:
        value = (value + 1) & 0xFFFFFFFF
    siblings[uid] = name
    return name


def is_file_id(components: tuple[str, ...]) -> bool:
    """Does `components` follow the File ID rules of PS3.10 §8.2?"""
    return 1 <= len(components) <= 8 and all(_COMPONENT.fullmatch(c) for c in components)
