"""Liveness and readiness."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from hounsfield.web.context import services


async def liveness(request: Request) -> JSONResponse:
    """GET /health: the process answers."""
    return JSONResponse({"status": "ok"})


async def readiness(request: Request) -> JSONResponse:
    """GET /health/ready: the index and the blob store answer (else 503)."""
    await run_in_threadpool(services(request).archive.check)
    return JSONResponse({"status": "ready", "index": "ok", "blobs": "ok"})
