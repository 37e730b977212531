"""The WADO-WS endpoint `{context}/xdsi/ImagingDocumentSource` (PS3.18 2013 §6.4):
POST a SOAP 1.2 request (MTOM/XOP or plain), GET `?wsdl` for the service description.

The one place where WADO-WS errors become HTTP: a message that is no valid request is a
SOAP Fault with 400 (Sender, VersionMismatch, MustUnderstand: all the client's doing;
a message over 16 MiB: 413); an archive that cannot be read is a Receiver
fault with 503; anything unexpected a Receiver fault with a generic text (500) and a
logged traceback. Responses stream: stored documents are read as they are sent.
"""

from __future__ import annotations

import logging
from importlib import resources
from xml.sax.saxutils import quoteattr

import anyio
from starlette.concurrency import iterate_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from hounsfield.errors import HounsfieldError, PayloadTooLargeError, SoapFaultError
from hounsfield.xdsi.mtom import MtomPackage
from hounsfield.xdsi.service import answer
from hounsfield.xdsi.soap import fault_envelope

log = logging.getLogger(__name__)
PATH = "/xdsi/ImagingDocumentSource"
MAX_MESSAGE_BYTES = 16 << 20  # requests name documents; they carry none
SOAP_XML = "application/soap+xml; charset=utf-8"
_WSDL_LOCATION = '"http://localhost:8080/xdsi/ImagingDocumentSource"'


async def imaging_document_source(request: Request) -> Response:
    if request.method == "GET":
        return _description(request)
    services = request.app.state.services
    try:
        body = await _message(request)
        content_type, base_url = request.headers.get("content-type"), _rs_base_url(request)

        def respond() -> tuple[MtomPackage, bytes | None]:
            package = answer(services.archive, content_type, body, base_url)
            # made in memory (rendered, transcoded): one body, no thread hop per piece
            return package, b"".join(package.chunks()) if package.in_memory else None

        package, whole = await anyio.to_thread.run_sync(respond)
    except HounsfieldError as exc:
        return _fault(exc)
    except Exception as exc:  # noqa: BLE001 - a bug: logged, answered as a fault
        log.error("WADO-WS request failed", exc_info=exc)
        return _fault_response("Receiver", "internal server error", 500)
    if whole is not None:
        return Response(whole, media_type=package.content_type)
    return StreamingResponse(iterate_in_threadpool(package.chunks()),
                             media_type=package.content_type)


async def _message(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_MESSAGE_BYTES:
        raise PayloadTooLargeError(f"the message is larger than {MAX_MESSAGE_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_MESSAGE_BYTES:
            raise PayloadTooLargeError(f"the message is larger than {MAX_MESSAGE_BYTES} "
                                       "bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _fault(exc: HounsfieldError) -> Response:
    if isinstance(exc, SoapFaultError):
        return _fault_response(exc.code, exc.message, exc.http_status)
    code = "Sender" if exc.http_status < 500 else "Receiver"
    if code == "Receiver":
        log.warning("WADO-WS: %s", exc.message)
    return _fault_response(code, exc.message, exc.http_status)


def _fault_response(code: str, reason: str, status: int) -> Response:
    return Response(fault_envelope(code, reason, None), status_code=status,
                    media_type=SOAP_XML)


def _description(request: Request) -> Response:
    """The WSDL, its soap12:address the URL this request reached."""
    if "wsdl" not in {key.lower() for key in request.query_params}:
        return PlainTextResponse("POST SOAP 1.2 messages here; GET ?wsdl for the service "
                                 "description", status_code=400)
    wsdl = resources.files("hounsfield.xdsi").joinpath("ImagingDocumentSource.wsdl")
    location = quoteattr(f"{_root(request)}{_context(request)}{PATH}")
    text = wsdl.read_text(encoding="utf-8").replace(_WSDL_LOCATION, location)
    return Response(text, media_type="text/xml; charset=utf-8")


def _root(request: Request) -> str:
    configured = request.app.state.services.settings.public_base_url
    return configured or f"{request.url.scheme}://{request.url.netloc}"


def _context(request: Request) -> str:
    return request.app.state.services.settings.context_path


def _rs_base_url(request: Request) -> str:
    """The WADO-RS root of the first AE title: BulkData URIs of metadata point there."""
    settings = request.app.state.services.settings
    return f"{_root(request)}{settings.context_path}/aets/{settings.ae_titles[0]}/rs"
