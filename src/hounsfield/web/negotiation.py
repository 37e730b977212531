"""Choosing the response media type from the Accept header (PS3.18 §8.7)."""

from __future__ import annotations

from hounsfield.errors import NotAcceptableError
from hounsfield.web.media_types import parse_accept


def negotiate(accept: str | None, offers: dict[str, str]) -> str:
    """Pick from `offers` (acceptable media type -> the one produced), first as default.

    Ranges are tried in the client's order of preference; `*/*` and `type/*` match the
    first offer of that type. A range with q=0 is refused. No match: 406.
    """
    default = next(iter(offers.values()))
    if not accept or not accept.strip():
        return default
    for media_range in parse_accept(accept):
        if media_range.q <= 0:
            continue
        produced = _match(media_range.type, media_range.params, offers)
        if produced is not None:
            return produced
    raise NotAcceptableError(
        f"cannot produce any of {accept!r}; available: {', '.join(dict.fromkeys(offers))}")


def _match(media_type: str, params: dict[str, str], offers: dict[str, str]) -> str | None:
    if media_type == "*/*":
        return next(iter(offers.values()))
    if media_type.endswith("/*"):
        prefix = media_type[:-1]
        return next((v for k, v in offers.items() if k.startswith(prefix)), None)
    if media_type == "multipart/related":
        inner = params.get("type", "")
        return offers.get(f"multipart/related;type={inner}") if inner else None
    return offers.get(media_type)
