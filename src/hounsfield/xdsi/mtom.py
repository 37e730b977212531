"""SOAP messages in MTOM/XOP packages (W3C XOP 1.0, SOAP 1.2 MTOM), both ways.

Requests come as `multipart/related; type="application/xop+xml"` (the root part, named
by the `start` parameter or else the first, holds the envelope as
`application/xop+xml; type="application/soap+xml"`; each `xop:Include` in it is replaced
by the base64 text of the part its `cid:` URL names) or as a plain
`application/soap+xml` envelope. Responses are always MTOM: the envelope, then one part
per document, each sent as binary with the Content-ID its `xop:Include` names.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.message import Message
from urllib.parse import quote, unquote

from lxml import etree

from hounsfield.errors import SoapFaultError
from hounsfield.xdsi.xml_input import parse_xml

XOP = "http://www.w3.org/2004/08/xop/include"
XOP_XML = "application/xop+xml"
SOAP_XML = "application/soap+xml"
ROOT_ID = "root.message@hounsfield"
_HEADER_END = re.compile(rb"\r?\n\r?\n")


@dataclass(frozen=True)
class MediaType:
    """A Content-Type: its lower-cased type and its parameters (names lower-cased)."""

    type: str
    params: dict[str, str]


def media_type(value: str | None) -> MediaType:
    message = Message()
    message["content-type"] = value or ""
    params = {name.lower(): str(v) for name, v in message.get_params()[1:]}
    return MediaType(message.get_content_type(), params)


def soap_envelope(content_type: str | None, body: bytes) -> etree._Element:
    """The envelope element of a request body, XOP includes resolved."""
    kind = media_type(content_type)
    if kind.type == SOAP_XML:
        return parse_xml(body)
    if kind.type == "text/xml":
        raise SoapFaultError("Content-Type text/xml is SOAP 1.1; this service speaks SOAP "
                             "1.2 (application/soap+xml)", "VersionMismatch")
    if kind.type != "multipart/related":
        raise SoapFaultError(f"Content-Type {kind.type!r} is neither application/soap+xml "
                             "nor multipart/related (MTOM/XOP)")
    parts = _parts(body, kind.params.get("boundary", ""))
    start = kind.params.get("start", "").strip().strip("<>")
    root = next((p for p in parts if p.content_id == start), None) if start else parts[0]
    if root is None:
        raise SoapFaultError(f"no part has the Content-ID <{start}> the start parameter names")
    if media_type(root.headers.get("content-type")).type not in (XOP_XML, SOAP_XML):
        raise SoapFaultError("the root part of the MTOM package is not application/xop+xml")
    envelope = parse_xml(root.body)
    _resolve_includes(envelope, {p.content_id: p.body for p in parts if p is not root})
    return envelope


@dataclass(frozen=True)
class _Part:
    headers: dict[str, str]
    body: bytes

    @property
    def content_id(self) -> str:
        return self.headers.get("content-id", "").strip().strip("<>")


def _parts(body: bytes, boundary: str) -> list[_Part]:
    """The parts of a multipart body (RFC 2046 §5.1.1; a bare LF is taken for CRLF)."""
    if not 0 < len(boundary) <= 70:
        raise SoapFaultError("the multipart/related Content-Type has no valid boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    pieces = re.split(rb"(?:^|\r?\n)" + re.escape(delimiter), body)
    if len(pieces) < 3 or not pieces[-1].startswith(b"--"):
        raise SoapFaultError("the multipart/related body does not end with its close "
                             "delimiter")
    return [_part(piece) for piece in pieces[1:-1]]


def _part(piece: bytes) -> _Part:
    piece = piece.split(b"\n", 1)[1] if b"\n" in piece else b""  # rest of boundary line
    match = _HEADER_END.search(b"\r\n" + piece)
    if match is None:
        raise SoapFaultError("a part of the multipart/related body has no header end")
    head, content = (b"\r\n" + piece)[:match.start()], (b"\r\n" + piece)[match.end():]
    headers = {}
    for line in head.decode("latin-1").splitlines():
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    if headers.get("content-transfer-encoding", "binary").lower() == "base64":
        content = base64.b64decode(content)
    return _Part(headers, content)


def _resolve_includes(envelope: etree._Element, attachments: dict[str, bytes]) -> None:
    for include in envelope.iter(f"{{{XOP}}}Include"):
        href = include.get("href", "")
        cid = unquote(href[4:]) if href.startswith("cid:") else None
        if cid not in attachments:
            raise SoapFaultError(f"xop:Include names {href[:100]!r}, which is no part of "
                                 "the message")
        parent = include.getparent()
        parent.remove(include)
        parent.text = base64.b64encode(attachments[cid]).decode()


# -- responses ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Attachment:
    """A document sent as a part of the response: its bytes come in `chunks`."""

    content_id: str
    content_type: str
    chunks: Iterable[bytes]


def new_content_id() -> str:
    """A Content-ID for an attachment, of the form dcm4chee-arc-light's responses use."""
    return f"{uuid.uuid4()}@urn:ihe:iti:xds-b:2007"


def include(content_id: str) -> etree._Element:
    """The xop:Include element that stands for the part `content_id` (RFC 2392 URL)."""
    element = etree.Element(f"{{{XOP}}}Include", nsmap={"xop": XOP})
    element.set("href", "cid:" + quote(content_id, safe="@-._~"))
    return element


class MtomPackage:
    """The multipart/related package of a response envelope and its attachments."""

    def __init__(self, envelope: bytes, attachments: list[Attachment]):
        self.boundary = f"uuid:{uuid.uuid4()}"
        self.envelope = envelope
        self.attachments = attachments

    @property
    def content_type(self) -> str:
        return (f'multipart/related; type="{XOP_XML}"; boundary="{self.boundary}"; '
                f'start="<{ROOT_ID}>"; start-info="{SOAP_XML}"')

    @property
    def in_memory(self) -> bool:
        """Are all its attachments bytes already made (rendered or transcoded), not
        stored files still to read?"""
        return all(isinstance(a.chunks, list | tuple) for a in self.attachments)

    def chunks(self) -> Iterator[bytes]:
        """The body, piece by piece (the attachments' own chunks passed through)."""
        yield (f"--{self.boundary}\r\nContent-Type: {XOP_XML}; charset=UTF-8; "
               f'type="{SOAP_XML}"\r\nContent-Transfer-Encoding: binary\r\n'
               f"Content-ID: <{ROOT_ID}>\r\n\r\n").encode() + self.envelope
        for attachment in self.attachments:
            yield (f"\r\n--{self.boundary}\r\nContent-Type: {attachment.content_type}\r\n"
                   "Content-Transfer-Encoding: binary\r\n"
                   f"Content-ID: <{attachment.content_id}>\r\n\r\n").encode()
            yield from attachment.chunks
        yield f"\r\n--{self.boundary}--\r\n".encode()
