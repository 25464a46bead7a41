"""A real WebSocket client of a run's stream, for tests against a real server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from websockets.sync.client import ClientConnection, connect

from app.runs.frames import decode_binary
from tests.support.runs import strict_json
from tests.support.server import LiveServer


@contextmanager
def open_stream(
    server: LiveServer, run_id: str
) -> Iterator[tuple[ClientConnection, dict[str, Any]]]:
    with connect(f"{server.ws_url}/api/runs/{run_id}/stream", max_size=None) as ws:
        state: dict[str, Any] = strict_json(ws.recv(timeout=10))
        assert state["type"] == "state"
        yield ws, state


def next_update(ws: ClientConnection, timeout: float = 10.0) -> dict[str, Any]:
    """The next update frame, skipping status frames."""
    while True:
        message = ws.recv(timeout=timeout)
        frame: dict[str, Any] = (
            decode_binary(message) if isinstance(message, bytes) else strict_json(message)
        )
        if frame["type"] == "update":
            return frame


def collect(ws: ClientConnection, seconds: float) -> list[dict[str, Any]]:
    frames, deadline = [], time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = ws.recv(timeout=left)
        except TimeoutError:
            break
        frames.append(
            decode_binary(message) if isinstance(message, bytes) else strict_json(message)
        )
    return frames
