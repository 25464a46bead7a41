"""JSON answers through orjson: fast for big arrays, and NaN or ±Infinity become null."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi.responses import JSONResponse, Response

from app.json_out import dumps
from app.nn.datasets import Dataset


class OrjsonResponse(JSONResponse):
    """The app's default response class; also used to answer big arrays without validation."""

    def render(self, content: Any) -> bytes:
        return dumps(content)


async def big_json(content: Any) -> Response:
    """An answer of big arrays, serialised off the event loop (a 4M-weight net takes longer
    than the loop may stall), and not validated (millions of floats would take seconds)."""
    body = await asyncio.to_thread(dumps, content)
    return Response(body, media_type="application/json")


def dataset_content(data: Dataset) -> dict[str, Any]:
    """A data set as GET /api/runs/{id}/dataset (and its preview) answer it: the rows as the
    network sees them, the raw points beside them where they differ, and for tables the shift
    and scale between (input = (raw − input_shift) / input_scale) and the class names."""
    names = ("x_train", "y_train", "x_test", "y_test")
    content: dict[str, Any] = dict(zip(names, data.arrays(), strict=True))
    return content | {
        "x_train_raw": data.x_train_raw,
        "x_test_raw": data.x_test_raw,
        "input_shift": data.input_shift,
        "input_scale": data.input_scale,
        "class_names": data.class_names,
    }
