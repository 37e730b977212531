"""MTOM/XOP packages (W3C XOP 1.0): requests taken apart, responses put together."""

from __future__ import annotations

import base64

import pytest
from lxml import etree

from hounsfield.errors import SoapFaultError
from hounsfield.xdsi.mtom import Attachment, MtomPackage, include, soap_envelope

ENVELOPE = (b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
            b'<Data><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" '
            b'href="cid:part%402"/></Data></s:Body></s:Envelope>')
TYPE = ('multipart/related; boundary="b"; type="application/xop+xml"; '
        'start="<root@1>"; start-info="application/soap+xml"')


def package(*parts: tuple[str, bytes]) -> bytes:
    return b"".join(f"--b\r\nContent-ID: <{cid}>\r\nContent-Type: application/xop+xml; "
                    f'type="application/soap+xml"\r\n\r\n'.encode() + body + b"\r\n"
                    for cid, body in parts) + b"--b--\r\n"


def test_the_root_part_is_the_start_and_includes_are_resolved() -> None:
    binary = bytes(range(256)) + b"\r\n--c"
    envelope = soap_envelope(TYPE, package(("part@2", binary), ("root@1", ENVELOPE)))
    assert base64.b64decode(envelope.findtext(".//Data")) == binary


def test_without_start_the_first_part_is_the_root() -> None:
    envelope = soap_envelope('multipart/related; boundary=b; type="application/xop+xml"',
                             package(("root@1", ENVELOPE), ("part@2", b"x")))
    assert envelope.findtext(".//Data") == base64.b64encode(b"x").decode()


@pytest.mark.parametrize(("body", "content_type", "words"), [
    (package(("root@1", ENVELOPE)), TYPE, "no part of the message"),
    (package(("other@1", ENVELOPE)), TYPE, "no part has the Content-ID"),
    (b"--b\r\n\r\n<x/>", TYPE, "close delimiter"),
    (b"", "multipart/related", "no valid boundary"),
])
def test_broken_packages_are_sender_faults(body: bytes, content_type: str, words: str) -> None:
    with pytest.raises(SoapFaultError, match=words) as caught:
        soap_envelope(content_type, body)
    assert caught.value.code == "Sender" and caught.value.http_status == 400


def test_a_response_package_names_its_parts() -> None:
    document = include("abc@urn:ihe:iti:xds-b:2007")
    assert document.get("href") == "cid:abc@urn%3Aihe%3Aiti%3Axds-b%3A2007"
    made = MtomPackage(b"<Envelope/>", [Attachment("abc@x", "image/png", [b"\x89PNG", b"!"])])
    body = b"".join(made.chunks())
    assert made.content_type.startswith('multipart/related; type="application/xop+xml"; '
                                        f'boundary="{made.boundary}"; start="<')
    parts = body.split(f"--{made.boundary}".encode())
    assert parts[0] == b"" and parts[-1] == b"--\r\n"
    assert parts[1].endswith(b"\r\n\r\n<Envelope/>\r\n")
    assert b"Content-ID: <abc@x>\r\n\r\n\x89PNG!\r\n" in parts[2]
    assert etree.fromstring(parts[1].split(b"\r\n\r\n", 1)[1]).tag == "Envelope"
