"""A tiny FastAPI app wearing the security middleware, for the unit tests of this package."""

from __future__ import annotations

from fastapi import FastAPI, WebSocket
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, FiniteFloat

from app.api.errors import install_error_handlers
from app.security import BodyLimitMiddleware, SecurityMiddleware, SecurityPolicy

BASE_URL = "http://127.0.0.1:8000"
OWN_ORIGIN = BASE_URL
TOKEN = "s3cret-token-123"


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: int = Field(gt=0, le=1000)
    rate: FiniteFloat


def make_app(policy: SecurityPolicy | None = None, max_body_bytes: int = 1000) -> FastAPI:
    """Routes of each kind the real app has: API reads and writes, a page, health, a stream,
    and one that fails."""
    app = FastAPI()

    @app.post("/api/items", status_code=201)
    def create(item: Item) -> dict[str, int]:
        return {"size": item.size}

    @app.get("/api/items")
    def list_items() -> list[int]:
        return [1, 2]

    @app.delete("/api/items/{item_id}", status_code=204)
    def delete(item_id: int) -> None:
        return None

    @app.get("/api/fail")
    def fail() -> None:
        raise RuntimeError("an injected failure")

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        return "<html><body>page</body></html>"

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.websocket("/api/stream")
    async def stream(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({"subprotocols": websocket.scope["subprotocols"]})
        await websocket.close()

    app.add_middleware(BodyLimitMiddleware, max_body_bytes=max_body_bytes)
    app.add_middleware(SecurityMiddleware, policy=policy or SecurityPolicy())
    install_error_handlers(app)
    return app
