"""CORS on every response, and the answer to preflight requests."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hounsfield.web.headers import CORS_HEADERS

_RAW = [(k.encode(), v.encode()) for k, v in CORS_HEADERS.items()]


class CORSMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            await send({"type": "http.response.start", "status": 204,
                        "headers": _RAW + [(b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + _RAW
            await send(message)

        await self.app(scope, receive, send_with_cors)
