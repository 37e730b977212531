"""The request messages of WADO-WS, read from the Body of a SOAP envelope.

Operations are told apart by the Body element, and its wsa:Action must agree:
- RetrieveImagingDocumentSet (IHE RAD-69; PS3.18 2013 §6.4.1),
- RetrieveRenderedImagingDocumentSet (§6.4.2; the request element in
  `urn:dicom:wado:ws:2011`, its action in that namespace or in the
  `urn:dicom:ws:wado:2011` spelling of dcm4chee-arc-light's sample, which is also taken
  as the element's namespace),
- RetrieveImagingDocumentSetInformation (§6.4.3, the metadata; `...Metadata...` is
  taken as another name of it).
Every request names its documents as StudyRequest/SeriesRequest/DocumentRequest (for
rendering RenderedDocumentRequest); elements below the request element are matched by
local name. Missing structure is a Sender fault; the values (UIDs, rendering
parameters) are checked per document later, each failure a RegistryError.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from lxml import etree

from hounsfield.errors import SoapFaultError
from hounsfield.xdsi.soap import SoapRequest

IHE_RAD = "urn:ihe:rad:xdsi-b:2009"
XDSB = "urn:ihe:iti:xds-b:2007"
WADO = "urn:dicom:wado:ws:2011"
WADO_DEPRECATED = "urn:dicom:ws:wado:2011"
MAX_DOCUMENTS = 10_000


class Operation(enum.Enum):
    RETRIEVE = "RetrieveImagingDocumentSet"
    RENDERED = "RetrieveRenderedImagingDocumentSet"
    INFORMATION = "RetrieveImagingDocumentSetInformation"


_ELEMENTS = {
    (IHE_RAD, "RetrieveImagingDocumentSetRequest"): Operation.RETRIEVE,
    **{(ns, "RetrieveRenderedImagingDocumentSetRequest"): Operation.RENDERED
       for ns in (WADO, WADO_DEPRECATED)},
    **{(ns, f"RetrieveImagingDocumentSet{name}Request"): Operation.INFORMATION
       for ns in (WADO, WADO_DEPRECATED) for name in ("Information", "Metadata")},
}
ACTIONS = {  # request action -> response action
    Operation.RETRIEVE: {"urn:ihe:rad:2009:RetrieveImagingDocumentSet":
                         "urn:ihe:iti:2007:RetrieveDocumentSetResponse"},
    Operation.RENDERED: {f"{ns}:RetrieveRenderedImagingDocumentSet":
                         f"{ns}:RetrieveRenderedImagingDocumentSetResponse"
                         for ns in (WADO, WADO_DEPRECATED)},
    Operation.INFORMATION: {
        f"{ns}:RetrieveImagingDocumentSet{name}": f"{ns}:RetrieveImagingDocumentSet{name}Response"
        for ns in ("urn:wado:2011", WADO) for name in ("Information", "Metadata")},
}


@dataclass(frozen=True)
class DocumentRequest:
    """One document of a request; `element` keeps its parameters (rendering, XPath)."""

    study: str
    series: str
    repository: str
    document: str
    home_community: str | None
    element: etree._Element = field(compare=False, repr=False)

    def parameter(self, name: str) -> str | None:
        """The text of the child element `name` (local name), stripped; None if absent."""
        found = child(self.element, name)
        return None if found is None else (found.text or "").strip()


@dataclass(frozen=True)
class Request:
    operation: Operation
    response_action: str
    message_id: str | None
    documents: list[DocumentRequest]
    element: etree._Element = field(repr=False)
    name: str = ""  # the local name of the request element

    def texts(self, *path: str) -> list[str]:
        """The texts of the elements at `path` (local names) below the request element."""
        elements = [self.element]
        for name in path:
            elements = [c for e in elements for c in children(e, name)]
        return [(e.text or "").strip() for e in elements]


def read_request(soap: SoapRequest) -> Request:
    qname = etree.QName(soap.body)
    operation = _ELEMENTS.get((qname.namespace, qname.localname))
    if operation is None:
        raise SoapFaultError(f"the Body element {{{qname.namespace}}}{qname.localname} is no "
                             "operation of the ImagingDocumentSource service")
    actions = ACTIONS[operation]
    if soap.action is not None and soap.action not in actions:
        raise SoapFaultError(f"wsa:Action {soap.action[:200]!r} does not match the Body "
                             f"element {qname.localname}; expected one of "
                             f"{', '.join(actions)}")
    response_action = actions.get(soap.action or "", next(iter(actions.values())))
    leaf = "RenderedDocumentRequest" if operation is Operation.RENDERED else "DocumentRequest"
    return Request(operation, response_action, soap.message_id,
                   _documents(soap.body, leaf), soap.body, qname.localname)


def _documents(request: etree._Element, leaf: str) -> list[DocumentRequest]:
    documents = []
    for study in children(request, "StudyRequest"):
        for series in children(study, "SeriesRequest"):
            for document in children(series, leaf):
                documents.append(DocumentRequest(
                    _attribute(study, "studyInstanceUID"),
                    _attribute(series, "seriesInstanceUID"),
                    _required_text(document, "RepositoryUniqueId"),
                    _required_text(document, "DocumentUniqueId"),
                    _text(child(document, "HomeCommunityId")), document))
                if len(documents) > MAX_DOCUMENTS:
                    raise SoapFaultError(f"more than {MAX_DOCUMENTS} documents in one request")
    if not documents:
        raise SoapFaultError(f"the request names no document (StudyRequest/SeriesRequest/"
                             f"{leaf})")
    return documents


def children(element: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in element if isinstance(c.tag, str) and etree.QName(c).localname == name]


def child(element: etree._Element, name: str) -> etree._Element | None:
    found = children(element, name)
    if len(found) > 1:
        raise SoapFaultError(f"<{name}> appears {len(found)} times in one "
                             f"<{etree.QName(element).localname}>")
    return found[0] if found else None


def _attribute(element: etree._Element, name: str) -> str:
    value = element.get(name)
    if value is None:
        raise SoapFaultError(f"<{etree.QName(element).localname}> has no {name} attribute")
    return value.strip()


def _required_text(element: etree._Element, name: str) -> str:
    found = child(element, name)
    if found is None:
        raise SoapFaultError(f"<{etree.QName(element).localname}> has no <{name}>")
    return (found.text or "").strip()


def _text(element: etree._Element | None) -> str | None:
    return None if element is None else (element.text or "").strip()
