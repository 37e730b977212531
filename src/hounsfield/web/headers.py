"""Response headers every resource shares: Warning (RFC 7234 §5.5) and CORS."""

from __future__ import annotations

import re
from collections.abc import Iterable

WARN_AGENT = "hounsfield"
MAX_WARNINGS = 10

# As dcm4chee-arc-light answers, so browser viewers on another origin can use the API.
CORS_HEADERS = {
    "access-control-allow-origin": "*",
    "access-control-allow-credentials": "true",
    "access-control-allow-methods": "GET, POST, PUT, DELETE, OPTIONS, HEAD",
    "access-control-allow-headers": ("origin, content-type, accept, authorization, range, "
                                     "if-none-match, if-modified-since"),
    # what a script on another origin needs to read: caching, byte ranges, part URLs
    "access-control-expose-headers": ("content-type, content-length, warning, location, "
                                      "content-location, etag, last-modified, "
                                      "accept-ranges, content-range"),
    "access-control-max-age": "86400",
}


def warning_values(texts: Iterable[str]) -> list[str]:
    """`Warning: 299 hounsfield "text"` values, quotes escaped, at most MAX_WARNINGS."""
    values = []
    for text in list(texts)[:MAX_WARNINGS]:
        clean = " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"')
        clean = clean.encode("ascii", "replace").decode("ascii")  # header values are ASCII
        values.append(f'299 {WARN_AGENT} "{clean}"')
    return values


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def dicomweb_warning_values(service: str, texts: Iterable[str]) -> list[str]:
    """`Warning: 299 <service>: <text>` values, in the form PS3.18 §8.3.4 writes them
    (e.g. "There are 5 additional results that can be requested"); ASCII only, no
    control characters, at most MAX_WARNINGS."""
    values = []
    for text in list(texts)[:MAX_WARNINGS]:
        clean = _CONTROL.sub("?", f"299 {service}: {text}")
        values.append(clean.encode("ascii", "replace").decode("ascii"))
    return values
