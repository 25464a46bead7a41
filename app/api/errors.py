"""Every error answer is JSON {"detail": ...}, and none echoes the input back.

FastAPI's own 422 handler includes the offending input, which breaks serialisation when it
holds NaN or Infinity (a 500 instead of a 422); this one keeps only where and what.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response

from app.api.responses import OrjsonResponse
from app.runs.errors import RunError
from app.security import describe_error
from app.store import StoreError


def _field(loc: tuple[int | str, ...], message: str) -> str:
    """("body", "dataset", "layers", 0) -> "dataset.layers.0", the field as the client wrote it.

    A check across fields (a model validator) reports at the body; its message starts with
    the field it blames ("dataset.layers: ..."), which is then the field.
    """
    # Union members appear in loc as tags such as "literal['a','b']"; the client never wrote them.
    parts = [str(p) for p in loc if p not in ("body", "query", "path") and "[" not in str(p)]
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
