"""RetrieveImagingDocumentSetInformation (PS3.18 2013 §6.4.3): the metadata of each
document as the Native DICOM Model of PS3.19, whole or selected by XPath.

The model comes from the DICOM JSON stored with each instance (no stored file is
opened); bulk data (Pixel Data among it) is left out as BulkData elements whose URIs
are the instance's WADO-RS bulk data URLs. Each wado:XPath of a DocumentRequest is
evaluated on the model (XPath 1.0, no namespace) and its result is one wado:XPathResponse:
the selected elements, or the text of a string, number or boolean result. Without an
XPath the one XPathResponse holds the whole NativeDicomModel. A FrameNumber is checked
against the object's frames and echoed.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
from lxml import etree

from hounsfield.archive.archive import Archive
from hounsfield.archive.retrieve import StoredInstance
from hounsfield.dicom.json_model import with_base_url
from hounsfield.dicom.xml_model import json_to_xml
from hounsfield.xdsi.documents import each_document, find_document
from hounsfield.xdsi.messages import WADO, XDSB, DocumentRequest, Request, children
from hounsfield.xdsi.mtom import Attachment
from hounsfield.xdsi.registry import (
    FRAME_OUT_OF_RANGE,
    INVALID_PARAMETER,
    RS,
    DocumentError,
    registry_response,
)
from hounsfield.xdsi.xml_input import parse_xml

MAX_XPATHS = 100
MAX_XPATH_LENGTH = 2000
_NAMESPACES = {"wado": WADO, "xdsb": XDSB, "rs": RS}  # no default: the model has none


def retrieve_imaging_document_set_information(archive: Archive, request: Request,
                                              base_url: str
                                              ) -> tuple[etree._Element, list[Attachment]]:
    def serve(document: DocumentRequest) -> list[Any]:
        stored = find_document(archive, document, metadata=True)
        frame_number(document, stored)
        model = _model(stored, base_url)
        return [_evaluate(model, x) for x in xpaths(document)] or [[model]]

    served, errors = each_document(request.documents, serve)
    name = request.name.replace("Request", "Response")
    response = etree.Element(f"{{{WADO}}}{name}", nsmap=_NAMESPACES)
    response.append(registry_response(f"{{{RS}}}RegistryResponse", len(served), errors))
    for document, results in served:
        response.append(_information_response(document, results))
    return response, []


def xpaths(document: DocumentRequest) -> list[str]:
    """The XPath expressions of a DocumentRequest (wado:XPath, in a wado:XPathList or not)."""
    found = children(document.element, "XPath") + [
        x for listed in children(document.element, "XPathList") for x in
        children(listed, "XPath")]
    if len(found) > MAX_XPATHS:
        raise DocumentError(INVALID_PARAMETER, f"more than {MAX_XPATHS} XPath expressions")
    return [(x.text or "").strip() for x in found]


def frame_number(document: DocumentRequest, stored: StoredInstance) -> int | None:
    """The FrameNumber of `document`, within the object's frames; None if absent."""
    text = document.parameter("FrameNumber")
    if text is None:
        return None
    if not text.isdigit() or len(text) > 9:
        raise DocumentError(INVALID_PARAMETER, f"FrameNumber {text[:40]!r} is not a positive "
                            "integer")
    frames = max(stored.number_of_frames, 1)
    if not 1 <= int(text) <= frames:
        raise DocumentError(FRAME_OUT_OF_RANGE, f"FrameNumber {int(text)} requested; the "
                            f"object has {frames} frame(s)")
    return int(text)


def _model(stored: StoredInstance, base_url: str) -> etree._Element:
    metadata = with_base_url(stored.metadata_json or b"{}", base_url.encode())
    return parse_xml(json_to_xml(orjson.loads(metadata)))


def _evaluate(model: etree._Element, expression: str) -> Any:
    if not expression or len(expression) > MAX_XPATH_LENGTH:
        raise DocumentError(INVALID_PARAMETER, f"XPath must have 1 to {MAX_XPATH_LENGTH} "
                            "characters")
    try:
        return model.getroottree().xpath(expression)
    except (etree.XPathError, ValueError) as exc:
        raise DocumentError(INVALID_PARAMETER,
                            f"XPath {expression[:200]!r} cannot be evaluated: {exc}") from None


def _information_response(document: DocumentRequest, results: list[Any]) -> etree._Element:
    element = etree.Element(f"{{{WADO}}}DocumentInformationResponse")
    if document.home_community is not None:
        etree.SubElement(element, f"{{{XDSB}}}HomeCommunityId").text = document.home_community
    etree.SubElement(element, f"{{{XDSB}}}DocumentUniqueId").text = document.document
    if (number := document.parameter("FrameNumber")) is not None:
        etree.SubElement(element, f"{{{WADO}}}FrameNumber").text = str(int(number))
    listed = etree.SubElement(element, f"{{{WADO}}}XPathResponseList")
    for result in results:
        _fill(etree.SubElement(listed, f"{{{WADO}}}XPathResponse"), result)
    return element


def _fill(target: etree._Element, result: Any) -> None:
    """An XPath result as content: elements copied, anything else as text."""
    items = result if isinstance(result, list) else [result]
    texts = []
    for item in items:
        if isinstance(item, etree._Element):
            target.append(copy.deepcopy(item))
        elif isinstance(item, bool):
            texts.append("true" if item else "false")
        elif isinstance(item, float) and item.is_integer():
            texts.append(str(int(item)))
        else:
            texts.append(str(item))
    if texts:
        target.text = "\\".join(texts)
