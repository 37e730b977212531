"""SOAP 1.2 envelopes with WS-Addressing 1.0 headers, read and written.

A request must be a SOAP 1.2 Envelope (a SOAP 1.1 one is a VersionMismatch fault) with
one element in its Body; a header block marked mustUnderstand that is not WS-Addressing
is a MustUnderstand fault (SOAP 1.2 Part 1 §5.2.3). Responses carry the wsa:Action,
a new wsa:MessageID, wsa:To anonymous and wsa:RelatesTo the request's MessageID, in
the order of dcm4chee-arc-light's sample responses.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from lxml import etree

from hounsfield.errors import SoapFaultError

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
WSA = "http://www.w3.org/2005/08/addressing"
ANONYMOUS = f"{WSA}/anonymous"
FAULT_ACTION = f"{WSA}/soap/fault"
_TRUE = ("true", "1")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class SoapRequest:
    """What the service needs of a request envelope."""

    body: etree._Element  # the one element of the Body
    action: str | None
    message_id: str | None


def read_envelope(envelope: etree._Element) -> SoapRequest:
    if envelope.tag != f"{{{SOAP12}}}Envelope":
        spoken = "SOAP 1.1" if envelope.tag == f"{{{SOAP11}}}Envelope" else "not SOAP"
        raise SoapFaultError(f"the root element {_name(envelope)} is {spoken}; this service "
                             f"speaks SOAP 1.2 ({SOAP12})", "VersionMismatch")
    header = envelope.find(f"{{{SOAP12}}}Header")
    blocks = [] if header is None else [b for b in header if isinstance(b.tag, str)]
    _check_understood(blocks)  # headers first (SOAP 1.2 Part 1 §2.6)
    body = envelope.find(f"{{{SOAP12}}}Body")
    if body is None:
        raise SoapFaultError("the Envelope has no Body")
    elements = [child for child in body if isinstance(child.tag, str)]
    if len(elements) != 1:
        raise SoapFaultError(f"the Body holds {len(elements)} elements; one request is "
                             "expected")
    return SoapRequest(elements[0], _addressing(blocks, "Action"),
                       _addressing(blocks, "MessageID"))


def _check_understood(blocks: list[etree._Element]) -> None:
    for block in blocks:
        must = (block.get(f"{{{SOAP12}}}mustUnderstand") or "").strip()
        if must in _TRUE and etree.QName(block).namespace != WSA:
            raise SoapFaultError(f"header block {_name(block)} is marked mustUnderstand "
                                 "and is not understood", "MustUnderstand")


def _addressing(blocks: list[etree._Element], name: str) -> str | None:
    found = next((b for b in blocks if b.tag == f"{{{WSA}}}{name}"), None)
    return None if found is None else (found.text or "").strip()


def _name(element: etree._Element) -> str:
    return repr(str(element.tag)[:120])


def response_envelope(action: str, relates_to: str | None, content: etree._Element) -> bytes:
    """A response Envelope holding `content` in its Body."""
    envelope = etree.Element(f"{{{SOAP12}}}Envelope", nsmap={"soap": SOAP12})
    header = etree.SubElement(envelope, f"{{{SOAP12}}}Header")
    values = [("Action", action), ("MessageID", f"urn:uuid:{uuid.uuid4()}"),
              ("To", ANONYMOUS)] + [("RelatesTo", relates_to)] * bool(relates_to)
    for name, value in values:
        etree.SubElement(header, f"{{{WSA}}}{name}", nsmap={None: WSA}).text = value
    etree.SubElement(envelope, f"{{{SOAP12}}}Body").append(content)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def fault_envelope(code: str, reason: str, relates_to: str | None) -> bytes:
    """A SOAP 1.2 Fault (Part 1 §5.4) with `code` (Sender, Receiver, VersionMismatch,
    MustUnderstand) and the reason in English."""
    fault = etree.Element(f"{{{SOAP12}}}Fault", nsmap={"soap": SOAP12})
    value = etree.SubElement(etree.SubElement(fault, f"{{{SOAP12}}}Code"),
                             f"{{{SOAP12}}}Value")
    value.text = f"soap:{code}"
    text = etree.SubElement(etree.SubElement(fault, f"{{{SOAP12}}}Reason"),
                            f"{{{SOAP12}}}Text")
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    text.text = xml_text(reason)
    return response_envelope(FAULT_ACTION, relates_to, fault)


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 cannot hold (echoed client input may have
    them), each replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)
