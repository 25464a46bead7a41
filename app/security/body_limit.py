"""`BodyLimitMiddleware`: 413 for request bodies past a limit, counted as they arrive."""

from __future__ import annotations

import json
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(slots=True)
class _Exchange:
    """What one request has done so far: bytes received, response begun, refused."""

    received: int = 0
    started: bool = False
    refused: bool = False


class BodyLimitMiddleware:
    """Refuse a request body larger than `max_body_bytes` with a 413 that names the limit.

    A declared Content-Length past the limit is refused before any of the body is read. A body
    without one (chunked) is counted chunk by chunk as the app reads it; the moment it passes the
    limit the client gets the 413, the app is told the client left, and whatever the app answers
    after that is dropped. Nothing is buffered here, so memory stays at one chunk.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        setting_name: str = "max_body_bytes",
        setting_env: str | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.setting_name = setting_name
        self.setting_env = setting_env or setting_name  # what an operator sets it with

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = declared_length(scope)
        if declared == -1:
            await send_error(send, 400, "the Content-Length header is not a valid number")
        elif declared is not None and declared > self.max_body_bytes:
            await send_error(send, 413, self.too_large())
        else:
            await self._counting(scope, receive, send)

    def too_large(self) -> str:
        # Worded like every other limit: "above the limit max_layers=16 (setting BACKPROP_...)".
        return (
            f"request body too large: above the limit {self.setting_name}={self.max_body_bytes} "
            f"bytes (setting {self.setting_env})"
        )

    async def _counting(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = _Exchange()

        async def counting_receive() -> Message:
            if exchange.refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                exchange.received += len(message.get("body", b""))
                if exchange.received > self.max_body_bytes:
                    exchange.refused = True
                    if not exchange.started:
                        exchange.started = True
                        await send_error(send, 413, self.too_large())
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if exchange.refused:
                return  # the 413 has been sent; the app's own answer must not follow it
            if message["type"] == "http.response.start":
                exchange.started = True
            await send(message)

        await self.app(scope, counting_receive, guarded_send)


def declared_length(scope: Scope) -> int | None:
    """The Content-Length as an int, None if absent, -1 if malformed."""
    values = [v for k, v in scope.get("headers", []) if k.lower() == b"content-length"]
    if not values:
        return None
    text = values[0].strip()
    if len(values) > 1 or not text.isdigit() or len(text) > 18:
        return -1
    return int(text)


async def send_error(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
