"""RetrieveImagingDocumentSet (IHE RAD-69; PS3.18 2013 §6.4.1): the stored instances as
Part 10 documents, each an XOP attachment of a RetrieveDocumentSetResponse.

Each document goes in the first transfer syntax of the TransferSyntaxUIDList that
Hounsfield can produce for it: the one it is stored in, or one of `transcode.TARGETS`
made from a decodable source (as WADO-RS transcodes). None of them producible:
urn:dicom:wado:0006 when Hounsfield produces none of the listed syntaxes at all, else
urn:dicom:wado:0007. Without a list, documents go as stored. Documents sent as stored
are streamed from the blob store; transcoded ones are made before the response starts.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from hounsfield.archive.archive import Archive
from hounsfield.archive.retrieve import StoredInstance
from hounsfield.archive.transcoded import transcoded_instance
from hounsfield.dicom import transcode
from hounsfield.dicom.transfer_syntax import label
from hounsfield.xdsi.documents import each_document, find_document
from hounsfield.xdsi.messages import XDSB, DocumentRequest, Request
from hounsfield.xdsi.mtom import Attachment, include, new_content_id
from hounsfield.xdsi.registry import (
    FORMAT_NOT_PROVIDED,
    FORMAT_NOT_SUPPORTED,
    RS,
    DocumentError,
    registry_response,
)

DICOM = "application/dicom"
CHUNK = 1 << 20
_NAMESPACES = {None: XDSB, "rs": RS}


def retrieve_imaging_document_set(archive: Archive, request: Request
                                  ) -> tuple[etree._Element, list[Attachment]]:
    """The RetrieveDocumentSetResponse and its attachments."""
    syntaxes = request.texts("TransferSyntaxUIDList", "TransferSyntaxUID")

    def serve(document: DocumentRequest) -> Attachment:
        stored = find_document(archive, document)
        return _attachment(archive, stored, _syntax(stored, syntaxes))

    served, errors = each_document(request.documents, serve)
    response = etree.Element(f"{{{XDSB}}}RetrieveDocumentSetResponse", nsmap=_NAMESPACES)
    response.append(registry_response(f"{{{RS}}}RegistryResponse", len(served), errors))
    for document, attachment in served:
        response.append(document_response(document, attachment))
    return response, [attachment for _, attachment in served]


def document_response(document: DocumentRequest, attachment: Attachment) -> etree._Element:
    """A DocumentResponse of ITI-43: ids, mimeType and the Document as an XOP include."""
    element = etree.Element(f"{{{XDSB}}}DocumentResponse")
    if document.home_community is not None:
        etree.SubElement(element, f"{{{XDSB}}}HomeCommunityId").text = document.home_community
    etree.SubElement(element, f"{{{XDSB}}}RepositoryUniqueId").text = document.repository
    etree.SubElement(element, f"{{{XDSB}}}DocumentUniqueId").text = document.document
    etree.SubElement(element, f"{{{XDSB}}}mimeType").text = attachment.content_type
    etree.SubElement(element, f"{{{XDSB}}}Document").append(include(attachment.content_id))
    return element


def _syntax(stored: StoredInstance, wanted: list[str]) -> str:
    """The first of `wanted` this instance can be sent in (none listed: as stored)."""
    if not wanted:
        return stored.transfer_syntax_uid
    for uid in wanted:
        if uid == stored.transfer_syntax_uid or _why_not(stored, uid) is None:
            return uid
    if not any(uid in transcode.TARGETS for uid in wanted):
        raise DocumentError(FORMAT_NOT_SUPPORTED, f"Hounsfield produces none of the "
                            f"transfer syntaxes {', '.join(_names(wanted))}")
    raise DocumentError(FORMAT_NOT_PROVIDED, f"the instance, stored in "
                        f"{label(stored.transfer_syntax_uid)}, cannot be sent in "
                        f"{', '.join(_names(wanted))}: {_why_not(stored, wanted[0])}")


def _why_not(stored: StoredInstance, target: str) -> str | None:
    return transcode.cannot_transcode(
        stored.transfer_syntax_uid, target,
        may_decode=stored.decoded_size_bound <= transcode.MAX_DECODED_BYTES,
        bits_allocated=stored.bits_allocated)


def _names(uids: list[str]) -> list[str]:
    return [label(uid) for uid in uids[:5]] + ["..."] * (len(uids) > 5)


def _attachment(archive: Archive, stored: StoredInstance, syntax: str) -> Attachment:
    content_id = new_content_id()
    if syntax == stored.transfer_syntax_uid:
        return Attachment(content_id, DICOM, _stored_chunks(archive, stored.blob_key))
    return Attachment(content_id, DICOM, [transcoded_instance(archive, stored, syntax)])


def _stored_chunks(archive: Archive, key: str) -> Iterator[bytes]:
    """The stored file, read when the response is sent."""
    with archive.open_blob(key) as fp:
        while chunk := fp.read(CHUNK):
            yield chunk
