"""Error answers that are always safe to serialise and never echo the client's input back.

FastAPI's default 422 handler returns each error's `input`; an input holding NaN or Infinity
then fails to serialise and the client gets a 500 instead of a 422. The handler here answers
`{"detail": [{"loc", "msg", "type"}]}` only, with bounded strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

MAX_MESSAGE_CHARS = 300
MAX_LOC_PART_CHARS = 100  # a loc part can be a client-chosen key, e.g. an unknown field's name


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on `app` (replacing FastAPI's default validation handler)."""
    app.add_exception_handler(RequestValidationError, validation_error_handler)


async def validation_error_handler(request: Request, exc: Exception) -> Response:
    """422 listing where and why the request is invalid; a body that is not JSON says so."""
    errors: Sequence[Any] = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [describe_error(e) for e in errors if isinstance(e, Mapping)]
    return JSONResponse(status_code=422, content={"detail": detail})


def describe_error(error: Mapping[str, Any]) -> dict[str, object]:
    """One pydantic error as `{"loc", "msg", "type"}`, with the input and its context left out."""
    kind = str(error.get("type", "value_error"))
    loc: list[str | int] = [_loc_part(p) for p in error.get("loc", ())]
    message = str(error.get("msg", "invalid value"))
    if kind == "json_invalid":
        # FastAPI's message is just "JSON decode error"; say what and where.
        reason = str(error.get("ctx", {}).get("error", "malformed JSON"))
        message = f"the request body is not valid JSON: {reason}"
        if loc and isinstance(loc[-1], int):
            message += f" at character {loc[-1]}"
    return {"loc": loc, "msg": message[:MAX_MESSAGE_CHARS], "type": kind[:MAX_LOC_PART_CHARS]}


def _loc_part(part: object) -> str | int:
    if isinstance(part, int) and not isinstance(part, bool):
        return part
    return str(part)[:MAX_LOC_PART_CHARS]
