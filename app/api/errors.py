"""Every error answer is JSON {"detail": ...}, and none echoes the input back.

FastAPI's own 422 handler includes the offending input, which breaks serialisation when it
holds NaN or Infinity (a 500 instead of a 422); this one keeps only where and what, with
bounded strings. A 503 names the database file but never where it lives.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response

from app.api.responses import OrjsonResponse
from app.runs.errors import RunError
from app.store import StoreError

MAX_MESSAGE_CHARS = 300
MAX_LOC_PART_CHARS = 100  # a loc part can be a client-chosen key, e.g. an unknown field's name


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


def _field(loc: tuple[int | str, ...], message: str) -> str:
    """("body", "dataset", "layers", 0) -> "dataset.layers.0", the field as the client wrote it.

    A check across fields (a model validator) reports at the body; its message starts with
    the field it blames ("dataset.layers: ..."), which is then the field.
    """
    # Union members appear in loc as tags such as "literal['a','b']"; the client never wrote them.
    parts = [
        str(p)[:MAX_LOC_PART_CHARS]
        for p in loc
        if p not in ("body", "query", "path") and "[" not in str(p)
    ]
    if not parts:
        blamed = message.removeprefix("Value error, ").split(":", 1)[0]
        if blamed.replace(".", "").replace("_", "").isalnum():
            return blamed
    return ".".join(parts) or "body"


def _error_field(error: dict[str, Any]) -> str:
    # Invalid JSON is located by a character offset ("body", 15): the field is the body.
    if error.get("type") == "json_invalid":
        return "body"
    return _field(tuple(error["loc"]), error["msg"])


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # describe_error bounds every string and spells out what is wrong with a non-JSON body.
    detail = [describe_error(error) | {"field": _error_field(error)} for error in exc.errors()]
    return OrjsonResponse({"detail": detail}, status_code=422)


async def run_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RunError)
    if exc.status_code >= 500:  # storage trouble: its reason may name files
        detail = without_paths(exc.detail, request.app.state.settings.db_path)
        return OrjsonResponse({"detail": detail}, status_code=exc.status_code)
    if exc.status_code != 422:
        return OrjsonResponse({"detail": exc.detail}, status_code=exc.status_code)
    # Shaped like a validation error, so clients handle every 422 the same way.
    field = exc.field or "body"
    loc = ["body", *field.split(".")] if exc.field else ["body"]
    error = {"loc": loc, "field": field, "msg": exc.detail}
    return OrjsonResponse({"detail": [error | {"type": "value_error"}]}, status_code=422)


# Two or more components from a slash: a file system path (an answer never needs one).
_PATH = re.compile(r"(?<![\w.])(?:/[^\s/:;,'\"()]+){2,}/?")


def without_paths(text: str, db_path: Path) -> str:
    """`text` with the database's path (which may hold spaces) and every other absolute path
    cut to its last component: a client learns which file (`runs.db`), never where it is."""
    for path in (db_path.resolve(), db_path):
        text = text.replace(str(path), path.name)
    return _PATH.sub(lambda found: found.group().rstrip("/").rsplit("/", 1)[-1], text)


async def store_error(request: Request, exc: Exception) -> Response:
    db_path: Path = request.app.state.settings.db_path
    detail = f"storage failed: {without_paths(str(exc), db_path)}"
    return OrjsonResponse({"detail": detail}, status_code=503)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(RunError, run_error)
    app.add_exception_handler(StoreError, store_error)
