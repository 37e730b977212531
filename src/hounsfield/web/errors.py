"""The one place where errors become HTTP responses.

A HounsfieldError answers with its own status and a JSON body naming the problem
(`{"errorMessage": ...}`, as dcm4chee-arc-light does), plus a Warning header. Anything
else is a bug: a 500 with a generic text, and the traceback goes to the log.
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hounsfield.errors import HounsfieldError, RangeNotSatisfiableError
from hounsfield.web.headers import warning_values

log = logging.getLogger(__name__)


def error_response(status_code: int, message: str) -> Response:
    response = JSONResponse({"errorMessage": message}, status_code=status_code)
    for value in warning_values([message]):
        response.headers.append("warning", value)
    return response


async def hounsfield_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HounsfieldError)
    if exc.http_status >= 500:
        log.warning("%s %s: %s", request.method, request.url.path, exc.message)
    response = error_response(exc.http_status, exc.message)
    if isinstance(exc, RangeNotSatisfiableError):
        response.headers["content-range"] = f"bytes */{exc.length}"
    return response


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, str(exc.detail))


async def unexpected_error(request: Request, exc: Exception) -> Response:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal server error")


EXCEPTION_HANDLERS = {
    HounsfieldError: hounsfield_error,
    HTTPException: http_error,
    Exception: unexpected_error,
}
