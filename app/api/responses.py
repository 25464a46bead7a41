"""JSON answers through orjson: fast for big arrays, and NaN or ±Infinity become null."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi.responses import JSONResponse, Response

from app.json_out import dumps


class OrjsonResponse(JSONResponse):
    """The app's default response class; also used to answer big arrays without validation."""

    def render(self, content: Any) -> bytes:
        return dumps(content)


async def big_json(content: Any) -> Response:
    """An answer of big arrays, serialised off the event loop (a 4M-weight net takes longer
    than the loop may stall), and not validated (millions of floats would take seconds)."""
    body = await asyncio.to_thread(dumps, content)
    return Response(body, media_type="application/json")
