"""A pure ASGI guard: request bodies larger than the limit are refused with 413, whether the
client declares the size (Content-Length) or streams it."""
from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_BODY = {"message": "ข้อมูลใหญ่เกินไป / request body too large",
         "problems": [{"field": "body", "th": "ขนาดข้อมูลเกินกำหนด", "en": "the request body exceeds the limit"}]}


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = True
                if too_big:
                    await _refuse(send)
                    return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # Raised inside the route's body read: FastAPI passes HTTPException through.
                    raise HTTPException(413, "request body too large")
            return message

        await self.app(scope, limited, send)


async def _refuse(send: Send) -> None:
    body = json.dumps(_BODY, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
