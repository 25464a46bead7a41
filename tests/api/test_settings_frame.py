"""PATCH reaches every viewer: the `settings` frame, and the rate each update frame carries."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import numpy as np

from app.runs.frames import SettingsFrame, StatusFrame, UpdateFrame, build_frame, decode_binary
from app.runs.hub import Viewer
from tests.api.test_stream import create
from tests.support.runs import as_arrays, strict_json
from tests.support.server import LiveServer
from tests.support.stream import collect, next_update, open_stream


def next_of_type(ws: Any, kind: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        message = ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        frame: dict[str, Any] = (
            decode_binary(message) if isinstance(message, bytes) else strict_json(message)
        )
        if frame["type"] == kind:
            return frame


def test_a_patch_sends_a_settings_frame_to_every_viewer(live_server: LiveServer) -> None:
    run_id = create(live_server)
    url = f"{live_server.url}/api/runs/{run_id}"
    with open_stream(live_server, run_id) as (a, _), open_stream(live_server, run_id) as (b, _):
        assert httpx.patch(url, json={"learning_rate": 0.25}).status_code == 200
        expected = {"type": "settings", "learning_rate": 0.25, "speed": None, "step": 0}
        assert next_of_type(a, "settings") == expected
        assert next_of_type(b, "settings") == expected
        httpx.post(f"{url}/step", json={"count": 2})
        assert next_update(a)["step"] == 1
        assert httpx.patch(url, json={"speed": 20}).status_code == 200
        expected = {"type": "settings", "learning_rate": 0.25, "speed": 20, "step": 2}
        assert next_of_type(a, "settings") == expected
        assert next_of_type(b, "settings") == expected
    # A viewer that connects later finds both in the state frame's run.
    with open_stream(live_server, run_id) as (_, state):
        assert (state["run"]["learning_rate"], state["run"]["speed"]) == (0.25, 20)


def test_update_frames_say_the_rate_that_made_them(live_server: LiveServer) -> None:
    run_id = create(live_server)
    url = f"{live_server.url}/api/runs/{run_id}"
    with open_stream(live_server, run_id) as (ws, _), open_stream(live_server, run_id) as (raw, _):
        raw.send(json.dumps({"encoding": "binary"}))
        raw.send("not options")  # its notice comes back once the option is in force
        assert strict_json(raw.recv(timeout=10))["type"] == "error"
        httpx.post(f"{url}/step", json={"count": 1})
        first = next_update(ws)
        httpx.patch(url, json={"learning_rate": 0.25})
        httpx.post(f"{url}/step", json={"count": 1})
        second = next_update(ws)
        binary = [next_update(raw) for _ in range(2)]
    assert (first["step"], first["learning_rate"]) == (1, 0.5)
    assert (second["step"], second["learning_rate"]) == (2, 0.25)
    assert [f["learning_rate"] for f in binary] == [0.5, 0.25]
    # Without momentum the update shown is exactly w ← w − α·∂L/∂w with the frame's α.
    for before, after, gradient in zip(
        as_arrays(first["weights"]),
        as_arrays(second["weights"]),
        as_arrays(second["gradients"]),
        strict=True,
    ):
        np.testing.assert_allclose(after, before - 0.25 * gradient, rtol=1e-12, atol=1e-15)


def test_a_patch_while_running_reaches_viewers_and_later_frames(live_server: LiveServer) -> None:
    run_id = create(live_server)
    url = f"{live_server.url}/api/runs/{run_id}"
    with open_stream(live_server, run_id) as (ws, _):
        httpx.post(f"{url}/resume")
        frames = collect(ws, 0.5)
        assert httpx.patch(url, json={"learning_rate": 0.1}).status_code == 200
        frames += collect(ws, 0.5)
        httpx.post(f"{url}/pause")
        frames += collect(ws, 0.3)
    settings = [f for f in frames if f["type"] == "settings"]
    assert len(settings) == 1 and settings[0]["learning_rate"] == 0.1
    history = httpx.get(f"{url}/history").json()
    [(changed_at, rate)] = history["learning_rates"]
    assert rate == 0.1 and changed_at >= settings[0]["step"]
    updates = [f for f in frames if f["type"] == "update"]
    assert updates and updates[-1]["learning_rate"] == 0.1
    for frame in updates:
        assert frame["learning_rate"] == (0.1 if frame["step"] > changed_at else 0.5), frame["step"]


def test_a_settings_frame_never_pushes_out_an_update_frame() -> None:
    def update(step: int) -> UpdateFrame:
        return UpdateFrame(build_frame(step, 0.1, None, 0.5, False, {}, ["json"]))

    viewer = Viewer(30.0, "json", backlog=2)
    viewer.offer(update(1))
    viewer.offer(update(2))
    viewer.offer(SettingsFrame(0.3, None, 2))
    viewer.offer(SettingsFrame(0.2, 5.0, 2))  # replaces the one not yet sent
    assert [type(f).__name__ for f in viewer.pending] == [
        "UpdateFrame",
        "UpdateFrame",
        "SettingsFrame",
    ]
    settings = viewer.pending[-1]
    assert isinstance(settings, SettingsFrame)
    assert json.loads(settings.text()) == {
        "type": "settings",
        "learning_rate": 0.2,
        "speed": 5.0,
        "step": 2,
    }
    viewer.offer(StatusFrame("paused", 2, None))  # over the backlog: the oldest update goes
    steps = [f.step for f in viewer.pending if isinstance(f, UpdateFrame)]
    assert steps == [2] and settings in viewer.pending and len(viewer.pending) == 3
