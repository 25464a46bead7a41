"""BodyLimitMiddleware: 413 naming the limit, decided without buffering the body."""

from __future__ import annotations

import asyncio
import json

from starlette.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from app.security import BodyLimitMiddleware
from tests.security.apps import BASE_URL, make_app


def test_declared_body_past_the_limit_is_refused_naming_it() -> None:
    client = TestClient(make_app(max_body_bytes=100), base_url=BASE_URL)
    response = client.post("/api/items", json={"size": 3, "rate": 0.5, "pad": "x" * 200})
    assert response.status_code == 413
    detail = response.json()["detail"]
    assert "100 bytes" in detail and "max_body_bytes" in detail
    assert response.headers["x-content-type-options"] == "nosniff"  # still wrapped


def test_body_at_the_limit_passes() -> None:
    body = json.dumps({"size": 3, "rate": 0.5}).encode()
    client = TestClient(make_app(max_body_bytes=len(body)), base_url=BASE_URL)
    headers = {"content-type": "application/json"}
    assert client.post("/api/items", content=body, headers=headers).status_code == 201


def test_malformed_content_length_is_a_400() -> None:
    sent = run_middleware([(b"content-length", b"12abc")], chunks=[b"{}"], limit=100)
    assert sent[0]["status"] == 400


class Recorder:
    """An app that reads the whole body and then answers 200, noting what it received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            self.messages.append(message)
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def run_middleware(
    headers: list[tuple[bytes, bytes]], chunks: list[bytes], limit: int, app: Recorder | None = None
) -> list[Message]:
    """Drive the middleware with a body in `chunks`; returns what it sent to the client."""
    sent: list[Message] = []
    pending = list(chunks)
    pulled = 0

    async def receive() -> Message:
        nonlocal pulled
        pulled += 1
        chunk = pending.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/items", "headers": headers}
    middleware = BodyLimitMiddleware(app or Recorder(), max_body_bytes=limit)
    asyncio.run(middleware(scope, receive, send))
    sent.append({"type": "test.pulled", "count": pulled})
    return sent


def test_chunked_body_is_cut_off_as_soon_as_it_passes_the_limit() -> None:
    app = Recorder()
    sent = run_middleware([], chunks=[b"x" * 300] * 10, limit=1000, app=app)
    assert sent[0]["status"] == 413
    assert b"1000 bytes" in sent[1]["body"]
    # The fourth chunk crossed the limit: nothing more was pulled from the client, the app
    # was told the client left, and the app's own 200 never reached the client.
    assert sent[-1] == {"type": "test.pulled", "count": 4}
    assert app.messages[-1] == {"type": "http.disconnect"}
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [413]


def test_chunked_body_within_the_limit_reaches_the_app() -> None:
    app = Recorder()
    sent = run_middleware([], chunks=[b"x" * 300] * 3, limit=1000, app=app)
    assert sent[0]["status"] == 200
    assert sum(len(m.get("body", b"")) for m in app.messages) == 900
