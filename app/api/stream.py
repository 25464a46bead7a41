"""The stream of one run: a state frame on connect, then update, status and settings frames.

Two tasks per viewer: one sends what the hub queued for it (at most its frame rate while the
run trains freely, every frame after a manual step), the other reads the client's options
({"fps": n, "encoding": "json" | "binary"}) and notices when it leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, WebSocket
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.api.deps import AppSettings, Manager
from app.api.responses import OrjsonResponse
from app.api.runs import run_out
from app.json_out import dumps
from app.runs.errors import RunNotFound
from app.runs.frames import ENCODINGS, UpdateFrame
from app.runs.hub import Viewer
from app.runs.limits import over_limit
from app.runs.manager import RunManager
from app.runs.run import Run
from app.settings import Settings

router = APIRouter(tags=["stream"])

CLOSE_NOT_FOUND = 4404
CLOSE_TRY_AGAIN = 1013  # over max_viewers


class ViewerOptions(BaseModel):
    """What a viewer may ask for in a text message (its first, usually)."""

    model_config = ConfigDict(extra="forbid")

    fps: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    encoding: Literal["json", "binary"] | None = None


@router.websocket("/api/runs/{run_id}/stream")
async def stream(
    websocket: WebSocket, run_id: str, manager: Manager, settings: AppSettings
) -> None:
    # Host, Origin and token were checked before this (app.security.SecurityMiddleware).
    run = manager.runs.get(run_id)
    if run is None:
        await refuse(websocket, 404, f"no run with id {run_id!r}", CLOSE_NOT_FOUND)
        return
    if len(run.hub.viewers) >= settings.max_viewers:
        count = len(run.hub.viewers) + 1
        limit = over_limit("viewers", count, "max_viewers", settings)
        await refuse(websocket, 429, limit, CLOSE_TRY_AGAIN)
        return
    viewer = Viewer(
        settings.default_fps, "json", settings.step_frame_backlog, settings.viewer_backlog_bytes
    )
    # Counted before the handshake's await, so viewers connecting at once cannot all pass
    # max_viewers; and before the state frame, so no frame after it is missed.
    run.hub.add(viewer)
    try:
        await websocket.accept()
        try:
            state = await state_frame(manager, run, viewer)
        except RunNotFound as error:  # deleted meanwhile
            await websocket.close(CLOSE_NOT_FOUND, str(error)[:120])
            return
        await websocket.send_text(state)
        await _serve(websocket, run, viewer, settings)
    finally:
        run.hub.remove(viewer)


async def refuse(websocket: WebSocket, status: int, detail: str, close_code: int) -> None:
    """Refuse before accept with an HTTP answer whose body says why.

    A close before accept reaches the client as a bare 403; the denial-response extension
    (uvicorn, TestClient) lets the status and the reason through. Without it, `close_code`.
    """
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(OrjsonResponse({"detail": detail}, status))
    else:
        await websocket.close(close_code, detail[:120])


async def state_frame(manager: RunManager, run: Run, viewer: Viewer) -> str:
    """The run, its weights now and its history (bounded: app/runs/manager.recent_history),
    consistent at one step."""
    parameters = await manager.current(run)
    history = await manager.recent_history(run, up_to=parameters.step)
    viewer.last_step = parameters.step
    frame: dict[str, Any] = {
        "type": "state",
        "run": run_out(run).model_dump(mode="json"),
        "step": parameters.step,
        "weights": parameters.weights,
        "biases": parameters.biases,
        "history": history,
        "encodings": list(ENCODINGS),
    }
    # Off the loop: a big net's weights take longer to serialise than the loop may stall.
    text = await asyncio.to_thread(dumps, frame)
    return text.decode()


async def _serve(websocket: WebSocket, run: Run, viewer: Viewer, settings: Settings) -> None:
    sender = asyncio.create_task(_send_frames(websocket, run, viewer, settings))
    receiver = asyncio.create_task(_read_options(websocket, run, viewer, settings))
    done, pending = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    for task in done:
        error = task.exception()
        if error is not None and not _is_disconnect(error):
            raise error
    if run.hub.closed:
        with contextlib.suppress(Exception):
            await websocket.close(CLOSE_NOT_FOUND, "run deleted")


def _is_disconnect(error: BaseException) -> bool:
    # Starlette raises WebSocketDisconnect; the server may raise its own on a dead socket.
    return type(error).__name__ in ("WebSocketDisconnect", "ClientDisconnected") or isinstance(
        error, (OSError, RuntimeError, TimeoutError)
    )


async def _send_frames(websocket: WebSocket, run: Run, viewer: Viewer, settings: Settings) -> None:
    loop = asyncio.get_running_loop()
    next_live = 0.0
    while not run.hub.closed:
        if viewer.notices:
            await websocket.send_text(viewer.notices.pop(0))
            continue
        if not viewer.pending:
            viewer.wakeup.clear()
            await viewer.wakeup.wait()
            continue
        frame, period = viewer.pending[0], 1.0 / viewer.fps
        # A live frame may go a quarter period early: frames come at the rate of the hub's
        # fastest viewer, and waiting out their phase jitter would add up to a period of lag.
        if frame.live and (wait := next_live - 0.25 * period - loop.time()) > 0:
            await asyncio.sleep(wait)  # meanwhile a newer live frame may replace this one
            continue
        viewer.pending.popleft()
        if isinstance(frame, UpdateFrame):
            if frame.step <= viewer.last_step:
                continue  # already covered by the state frame
            built = frame.message(viewer.encoding, run.recent, viewer.last_step)
            if built is None:
                continue  # made before the viewer chose its encoding: the next one will do
            message = built
            viewer.last_step = frame.step
            if frame.live:
                # Keep to the schedule, so that early frames never add up to more than fps.
                next_live = max(next_live, loop.time()) + period
        else:
            message = frame.text()
        # asyncio.timeout, not wait_for: no task per send (one per viewer per frame).
        async with asyncio.timeout(settings.send_timeout):
            await _send(websocket, message)


async def _send(websocket: WebSocket, message: str | bytes) -> None:
    if isinstance(message, bytes):
        await websocket.send_bytes(message)
    else:
        await websocket.send_text(message)


async def _read_options(websocket: WebSocket, run: Run, viewer: Viewer, settings: Settings) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        data = message.get("text") or message.get("bytes") or ""
        size = len(data.encode() if isinstance(data, str) else data)
        if size > settings.max_client_message_bytes:
            reason = over_limit("message bytes", size, "max_client_message_bytes", settings)
            await websocket.close(1009, reason[:120])
            return
        _apply_options(data, run, viewer, settings)


def _apply_options(data: str | bytes, run: Run, viewer: Viewer, settings: Settings) -> None:
    try:
        options = ViewerOptions.model_validate(orjson.loads(data))
    except (orjson.JSONDecodeError, ValidationError) as error:
        viewer.notify(f"ignored a message that is not valid options: {error}".splitlines()[0])
        return
    if options.fps is not None:
        if options.fps > settings.max_fps:
            viewer.notify(over_limit("fps", options.fps, "max_fps", settings) + "; using max_fps")
        viewer.fps = min(options.fps, settings.max_fps)
    if options.encoding is not None:
        viewer.encoding = options.encoding
    run.hub.refresh()
