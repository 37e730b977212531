"""Media types and Accept headers (RFC 9110 §8.3.1 Content-Type, §12.5.1 Accept).

`parse_media_type` reads a Content-Type header; `parse_accept` reads an Accept header into
media ranges ordered by preference. Parameter names are case-insensitive and come out
lower-case; values keep their case (a multipart boundary is case-sensitive) and come out
unquoted. Parsing follows the grammar, with two liberties seen in the wild: an unquoted
value may hold characters outside `token` (`boundary=----=_Part_1`), and empty
parameters (`text/plain;;charset=x`, a trailing `;`) are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hounsfield.errors import BadRequestError

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_OWS = r"[ \t]*"
_QUOTED = r'"((?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[^\x00-\x08\x0a-\x1f\x7f])*)"'
_TYPE = re.compile(rf"{_OWS}({_TOKEN})/({_TOKEN}){_OWS}")


def _param_pattern(unquoted: str) -> re.Pattern[str]:
    value = rf"(?:{_QUOTED}|({unquoted}))"
    return re.compile(rf";{_OWS}(?:({_TOKEN}){_OWS}={_OWS}{value})?{_OWS}")


# In a Content-Type only ';' ends an unquoted value; in an Accept list ',' ends it too.
_CONTENT_TYPE_PARAM = _param_pattern(r'[^;"\s]+')
_ACCEPT_PARAM = _param_pattern(r'[^;,"\s]+')
_LIST_GAP = re.compile(r"[ \t,]*")
_QVALUE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")
_NEEDS_ESCAPE = re.compile(r'(["\\])')
_IS_TOKEN = re.compile(_TOKEN)


@dataclass(frozen=True)
class MediaType:
    """A media type: lower-case `type/subtype` and parameters (lower-case names)."""

    type: str
    params: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.type + _render_params(self.params)

    def __hash__(self) -> int:
        return hash((self.type, tuple(sorted(self.params.items()))))


@dataclass(frozen=True)
class MediaRange:
    """One element of an Accept header: a media type that may use `*`, and its q weight."""

    type: str
    params: dict[str, str] = field(default_factory=dict)
    q: float = 1.0

    def __str__(self) -> str:
        weight = "" if self.q == 1.0 else f"; q={self.q:g}"
        return self.type + _render_params(self.params) + weight

    def __hash__(self) -> int:
        return hash((self.type, tuple(sorted(self.params.items())), self.q))

    @property
    def specificity(self) -> tuple[int, int]:
        """`*/*` < `type/*` < `type/subtype` < `type/subtype` with more parameters."""
        if self.type == "*/*":
            return (0, len(self.params))
        return (1 if self.type.endswith("/*") else 2, len(self.params))


def parse_media_type(header: str) -> MediaType:
    """Parse a Content-Type header value; raise `BadRequestError` if it is malformed."""
    type_, params, end = _parse_at(header, 0, _CONTENT_TYPE_PARAM)
    if end != len(header):
        raise _malformed(header)
    return MediaType(type_, params)


def parse_accept(header: str) -> list[MediaRange]:
    """Parse an Accept header value into media ranges, most preferred first.

    Ordered by q descending, then by specificity (RFC 9110 §12.5.1); ties keep the order
    the client wrote. An empty header gives an empty list.
    """
    ranges = []
    pos = _LIST_GAP.match(header, 0).end()
    while pos < len(header):
        type_, params, pos = _parse_at(header, pos, _ACCEPT_PARAM)
        if pos < len(header) and header[pos] != ",":
            raise _malformed(header)
        ranges.append(_media_range(type_, params, header))
        pos = _LIST_GAP.match(header, pos).end()
    return sorted(ranges, key=lambda r: (-r.q, *(-n for n in r.specificity)))


def _parse_at(text: str, pos: int, param: re.Pattern[str]) -> tuple[str, dict[str, str], int]:
    match = _TYPE.match(text, pos)
    if match is None:
        raise _malformed(text)
    params: dict[str, str] = {}
    pos = match.end()
    while (found := param.match(text, pos)) is not None:
        pos = found.end()
        name, quoted, plain = found.groups()
        if name is None:
            continue
        if name.lower() in params:
            raise BadRequestError(f"duplicate parameter {name.lower()!r} in {text!r}")
        params[name.lower()] = _unescape(quoted) if quoted is not None else plain
    return f"{match[1]}/{match[2]}".lower(), params, pos


def _media_range(type_: str, params: dict[str, str], header: str) -> MediaRange:
    if type_.startswith("*/") and type_ != "*/*":
        raise BadRequestError(f"invalid media range {type_!r} in Accept: {header!r}")
    weight = params.pop("q", "1")
    if _QVALUE.fullmatch(weight) is None:
        raise BadRequestError(f"invalid q value {weight!r} in Accept: {header!r}")
    return MediaRange(type_, params, float(weight))


def _unescape(quoted: str) -> str:
    return re.sub(r"\\(.)", r"\1", quoted, flags=re.DOTALL)


def _render_params(params: dict[str, str]) -> str:
    return "".join(f"; {name}={_quote(value)}" for name, value in params.items())


def _quote(value: str) -> str:
    if _IS_TOKEN.fullmatch(value):
        return value
    return '"' + _NEEDS_ESCAPE.sub(r"\\\1", value) + '"'


def _malformed(header: str) -> BadRequestError:
    return BadRequestError(f"malformed media type: {header!r}")
