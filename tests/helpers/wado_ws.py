"""WADO-WS messages for tests: request envelopes written as clients write them, and
MTOM responses taken apart (envelope, RegistryResponse, attachments by Content-ID)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

ENDPOINT = "/xdsi/ImagingDocumentSource"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
XDSB = "urn:ihe:iti:xds-b:2007"
WADO = "urn:dicom:wado:ws:2011"
XOP = "http://www.w3.org/2004/08/xop/include"
NS = {"soap": SOAP12, "wsa": WSA, "rs": RS, "xdsb": XDSB, "wado": WADO, "xop": XOP,
      "iherad": "urn:ihe:rad:xdsi-b:2009"}
RETRIEVE = "urn:ihe:rad:2009:RetrieveImagingDocumentSet"
RENDERED = "urn:dicom:wado:ws:2011:RetrieveRenderedImagingDocumentSet"
INFORMATION = "urn:wado:2011:RetrieveImagingDocumentSetInformation"
SAMPLE = Path(__file__).parents[1] / "api" / "samples" / "dcm4chee_wado_ws_rendered.txt"


def envelope(action: str, body: str, message_id: str = "urn:uuid:1234") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>'
            f'<s:Envelope xmlns:s="{SOAP12}"><s:Header xmlns:wsa="{WSA}">'
            f'<wsa:MessageID s:mustUnderstand="true">{message_id}</wsa:MessageID>'
            f'<wsa:Action s:mustUnderstand="true">{action}</wsa:Action></s:Header>'
            f"<s:Body>{body}</s:Body></s:Envelope>").encode()


def document_request(repository: str, document: str, extra: str = "",
                     element: str = "xdsb:DocumentRequest") -> str:
    return (f"<{element}><xdsb:RepositoryUniqueId>{repository}</xdsb:RepositoryUniqueId>"
            f"<xdsb:DocumentUniqueId>{document}</xdsb:DocumentUniqueId>{extra}</{element}>")


def study_request(prefix: str, study: str, series: str, documents: list[str]) -> str:
    return (f'<{prefix}:StudyRequest studyInstanceUID="{study}">'
            f'<{prefix}:SeriesRequest seriesInstanceUID="{series}">{"".join(documents)}'
            f"</{prefix}:SeriesRequest></{prefix}:StudyRequest>")


def retrieve_body(studies: list[str], syntaxes: list[str]) -> str:
    listed = "".join(f"<r:TransferSyntaxUID>{s}</r:TransferSyntaxUID>" for s in syntaxes)
    return (f'<r:RetrieveImagingDocumentSetRequest xmlns:r="urn:ihe:rad:xdsi-b:2009" '
            f'xmlns:xdsb="{XDSB}">{"".join(studies)}'
            f"<r:TransferSyntaxUIDList>{listed}</r:TransferSyntaxUIDList>"
            "</r:RetrieveImagingDocumentSetRequest>")


def wado_body(element: str, studies: list[str]) -> str:
    return (f'<wado:{element} xmlns:wado="{WADO}" xmlns:xdsb="{XDSB}">{"".join(studies)}'
            f"</wado:{element}>")


@dataclass
class Answer:
    root: etree._Element  # the Envelope
    attachments: dict[str, tuple[str, bytes]]  # Content-ID -> (Content-Type, bytes)

    @property
    def status(self) -> str:
        return self.root.xpath("//*[local-name()='RegistryResponse']/@status")[0].rsplit(
            ":", 1)[1]

    @property
    def errors(self) -> list[dict[str, str]]:
        return [dict(e.attrib) for e in self.root.iterfind(".//rs:RegistryError", NS)]

    @property
    def error_codes(self) -> list[str]:
        return [e["errorCode"] for e in self.errors]

    def documents(self) -> list[tuple[str, bytes]]:
        """(mimeType, bytes) of each returned document, in response order."""
        found = []
        for include in self.root.iterfind(".//xop:Include", NS):
            content_id = unquote(include.get("href")[4:])
            found.append(self.attachments[content_id])
        return found


def read_answer(content_type: str, body: bytes) -> Answer:
    boundary = re.search(r'boundary="([^"]+)"', content_type).group(1)
    pieces = body.split(b"--" + boundary.encode())
    assert pieces[-1].strip() == b"--"
    parts = []
    for piece in pieces[1:-1]:
        head, _, content = piece[2:].partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
        parts.append((headers, content[:-2]))  # the CRLF before the next delimiter
    root = etree.fromstring(parts[0][1])
    attachments = {h["Content-ID"].strip("<>"): (h["Content-Type"], c) for h, c in parts[1:]}
    return Answer(root, attachments)


def sample_request() -> tuple[str, str]:
    """(Content-Type, body) of the sample RetrieveRenderedImagingDocumentSet request."""
    text = SAMPLE.read_text()
    content_type = re.search(r"-H 'Content-Type: (.*?)'", text).group(1)
    body = re.search(r"--data-binary '(.*?)'\n", text, re.S).group(1)
    return content_type, body.replace("\n", "\r\n")


def sample_response_envelope() -> etree._Element:
    text = SAMPLE.read_text().split("Sample Response", 1)[1]
    xml = re.search(r"(<soap:Envelope.*</soap:Envelope>)", text, re.S).group(1)
    return etree.fromstring(xml.encode())


def shape(element: etree._Element) -> list[tuple[int, str]]:
    """Element names (with namespaces) in document order, with their depth."""
    return [(len(list(e.iterancestors())), e.tag) for e in element.iter()
            if isinstance(e.tag, str)]
