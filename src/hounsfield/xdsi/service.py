"""The ImagingDocumentSource service: one SOAP request in, one MTOM response out.

`answer` reads the envelope (MTOM/XOP or plain), picks the operation by its Body
element and runs it against the archive. Whatever makes the message itself unusable
is a SoapFaultError, which the endpoint turns into a SOAP Fault; problems with single
documents are RegistryErrors inside a normal response. Runs in a worker thread.
"""

from __future__ import annotations

from hounsfield.archive.archive import Archive
from hounsfield.xdsi.information import retrieve_imaging_document_set_information
from hounsfield.xdsi.messages import Operation, read_request
from hounsfield.xdsi.mtom import MtomPackage, soap_envelope
from hounsfield.xdsi.rendering import retrieve_rendered_imaging_document_set
from hounsfield.xdsi.retrieval import retrieve_imaging_document_set
from hounsfield.xdsi.soap import read_envelope, response_envelope


def answer(archive: Archive, content_type: str | None, body: bytes, base_url: str
           ) -> MtomPackage:
    """The response package of a request; `base_url` is the WADO-RS root that BulkData
    URIs in metadata start with."""
    soap = read_envelope(soap_envelope(content_type, body))
    request = read_request(soap)
    if request.operation is Operation.RETRIEVE:
        content, attachments = retrieve_imaging_document_set(archive, request)
    elif request.operation is Operation.RENDERED:
        content, attachments = retrieve_rendered_imaging_document_set(archive, request)
    else:
        content, attachments = retrieve_imaging_document_set_information(archive, request,
                                                                         base_url)
    envelope = response_envelope(request.response_action, request.message_id, content)
    return MtomPackage(envelope, attachments)
