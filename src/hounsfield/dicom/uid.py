"""UID validation (PS3.5 §9.1).

A UID is validated before it reaches a storage key, a path or a query: components of
digits separated by single dots, no leading zero in a multi-digit component, at most 64
characters. Such a string can never hold a path separator, "..", or a LIKE wildcard.
"""

from __future__ import annotations

import re

from hounsfield.errors import InvalidUIDError

MAX_UID_LENGTH = 64
_UID_GRAMMAR = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")


def is_valid_uid(value: object) -> bool:
    """True when `value` is a string that follows the UID grammar of PS3.5 §9.1."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_UID_LENGTH
        and _UID_GRAMMAR.fullmatch(value) is not None
    )


def validate_uid(value: object, name: str = "UID") -> str:
    """Return `value` if it is a valid UID, else raise InvalidUIDError naming `name`."""
    if not is_valid_uid(value):
        shown = repr(value)[:80]
        raise InvalidUIDError(f"{name} {shown} is not a valid UID (PS3.5 §9.1, max 64 chars)")
    return value  # type: ignore[return-value]
