"""JSON answers through orjson: fast for big arrays, and NaN or ±Infinity become null."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from app.runs.frames import dumps


class OrjsonResponse(JSONResponse):
    """The app's default response class; also used to answer big arrays without validation."""

    def render(self, content: Any) -> bytes:
        return dumps(content)
