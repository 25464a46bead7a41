"""`SecurityMiddleware`: the pure ASGI gate in front of the app (HTTP and WebSocket)."""

from __future__ import annotations

import json
import logging

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.security.checks import BEARER_SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX, Answer, decide
from app.security.policy import SecurityPolicy

Headers = list[tuple[bytes, bytes]]

# uvicorn's own logger for failures in the app: the server's log handlers and filters apply.
log = logging.getLogger("uvicorn.error")
INTERNAL_ERROR = Answer(500, "internal server error")


def security_headers(policy: SecurityPolicy) -> Headers:
    """Headers every answer carries; a route may set its own value for any of them."""
    pairs = {
        "content-security-policy": policy.content_security_policy,
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
    }
    return [(k.encode(), v.encode()) for k, v in pairs.items()]


class SecurityMiddleware:
    """Refuses what the policy forbids before the app sees it; adds security headers to the rest.

    Order of checks: Host header (400), Origin of WebSocket handshakes and state-changing requests
    (403), form content types on the API (415), token (401). A refused WebSocket handshake gets
    its HTTP status before accept when the server supports the denial-response extension, and a
    plain close (HTTP 403) otherwise.
    """

    def __init__(self, app: ASGIApp, policy: SecurityPolicy) -> None:
        self.app = app
        self.policy = policy
        self.headers = security_headers(policy)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        send = self._adding_headers(send)
        answer = decide(HTTPConnection(scope), self.policy)
        if answer is not None and scope["type"] == "http":
            await send_answer(send, answer, "http.response")
        elif answer is not None:
            await deny_websocket(scope, receive, send, answer)
        else:
            if scope["type"] == "websocket":
                scope, send = hide_token_subprotocols(scope, send)
                await self.app(scope, receive, send)
            else:
                await answer_failures(self.app, scope, receive, send)

    def _adding_headers(self, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.http.response.start"):
                headers: Headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in self.headers if h[0] not in present]
                message = {**message, "headers": headers}
            await send(message)

        return wrapped


async def answer_failures(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Run `app`; if it fails before answering, log the failure and answer a JSON 500 here.

    Starlette's own 500 comes from its outermost layer, outside this middleware, so it would
    carry none of the security headers; and raising on to uvicorn would close a keep-alive
    connection for a failure the client can simply be told about.
    """
    started = False

    async def tracking(message: Message) -> None:
        nonlocal started
        started = started or message["type"] == "http.response.start"
        await send(message)

    try:
        await app(scope, receive, tracking)
    except Exception:
        if started:
            raise  # half an answer is out: only closing the connection can tell the client
        log.exception("Exception in ASGI application")
        await send_answer(send, INTERNAL_ERROR, "http.response")


async def send_answer(send: Send, answer: Answer, prefix: str) -> None:
    """Send `answer` as a JSON `{"detail": ...}` response (`prefix` picks HTTP or WS denial)."""
    body = json.dumps({"detail": answer.detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in answer.headers]
    await send({"type": f"{prefix}.start", "status": answer.status, "headers": headers})
    await send({"type": f"{prefix}.body", "body": body})


async def deny_websocket(scope: Scope, receive: Receive, send: Send, answer: Answer) -> None:
    """Refuse a handshake before accept: the client gets an HTTP error, never a socket."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return  # the client left already
    if "websocket.http.response" in scope.get("extensions", {}):
        await send_answer(send, answer, "websocket.http.response")
    else:
        await send({"type": "websocket.close", "code": 1008})


def hide_token_subprotocols(scope: Scope, send: Send) -> tuple[Scope, Send]:
    """Keep `bearer.<token>` subprotocols from the app, and agree to `bearer` if it was offered.

    A client may offer `["bearer", "bearer.<token>"]`: the server then selects `bearer`, never
    echoing the token. Offering only `bearer.<token>` works too (no subprotocol is selected).
    """
    offered: list[str] = list(scope.get("subprotocols", []))
    visible = [p for p in offered if not p.startswith(TOKEN_SUBPROTOCOL_PREFIX)]
    wants_bearer = BEARER_SUBPROTOCOL in visible
    visible = [p for p in visible if p != BEARER_SUBPROTOCOL]

    async def selecting_bearer(message: Message) -> None:
        choose = wants_bearer and not message.get("subprotocol")
        if message["type"] == "websocket.accept" and choose:
            message = {**message, "subprotocol": BEARER_SUBPROTOCOL}
        await send(message)

    return {**scope, "subprotocols": visible}, selecting_bearer
