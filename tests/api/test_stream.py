"""The stream against a real server: real uvicorn, a real WebSocket client, a real SQLite file."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import numpy as np
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from app.runs.frames import decode_binary
from tests.support.runs import SMALL, as_arrays, engine_for, strict_json
from tests.support.server import LiveServer
from tests.support.stream import collect, next_update, open_stream


def create(server: LiveServer, **overrides: Any) -> str:
    response = httpx.post(f"{server.url}/api/runs", json=SMALL | overrides)
    assert response.status_code == 201
    run_id: str = response.json()["id"]
    return run_id


def test_state_frame_has_the_run_weights_history_and_encodings(live_server: LiveServer) -> None:
    run_id = create(live_server)
    with open_stream(live_server, run_id) as (_ws, state):
        weights = httpx.get(f"{live_server.url}/api/runs/{run_id}/weights").json()
        assert state["run"]["id"] == run_id and state["run"]["step"] == 0
        assert state["weights"] == weights["weights"] and state["biases"] == weights["biases"]
        assert state["history"]["steps"] == [0]
        assert state["history"]["loss"] == [state["run"]["loss"]]
        assert state["encodings"] == ["json", "binary"]


def test_each_manual_step_sends_its_frame_equal_to_the_weights(live_server: LiveServer) -> None:
    run_id = create(live_server)
    with open_stream(live_server, run_id) as (ws, _):
        for step in (1, 2, 3):
            httpx.post(f"{live_server.url}/api/runs/{run_id}/step", json={"count": 1})
            frame = next_update(ws)
            weights = httpx.get(f"{live_server.url}/api/runs/{run_id}/weights").json()
            assert frame["step"] == step and weights["step"] == step
            assert frame["weights"] == weights["weights"]
            assert frame["biases"] == weights["biases"]
            assert frame["losses"] == [[step, frame["loss"]]]
            assert [len(d) for d in frame["deltas"]] == [4, 4, 1]
            assert [np.shape(g) for g in frame["gradients"]] == [(2, 4), (4, 4), (4, 1)]


def test_a_step_of_many_sends_every_steps_frame(live_server: LiveServer) -> None:
    run_id = create(live_server)
    with open_stream(live_server, run_id) as (ws, _):
        httpx.post(f"{live_server.url}/api/runs/{run_id}/step", json={"count": 20})
        steps = [next_update(ws)["step"] for _ in range(20)]
        assert steps == list(range(1, 21))


def test_a_running_viewer_gets_about_30_fps_and_every_loss(live_server: LiveServer) -> None:
    run_id = create(live_server)
    with open_stream(live_server, run_id) as (ws, state):
        started = time.monotonic()
        httpx.post(f"{live_server.url}/api/runs/{run_id}/resume")
        frames = collect(ws, 2.0)
        run = httpx.post(f"{live_server.url}/api/runs/{run_id}/pause").json()
        took = time.monotonic() - started  # the pause may take a while on a loaded machine
        frames += collect(ws, 0.5)
    updates = [f for f in frames if f["type"] == "update"]
    statuses = [f["status"] for f in frames if f["type"] == "status"]
    assert statuses == ["running", "paused"]
    # At most ~30 a second while it ran (+ the final frame), and not a trickle.
    assert 0.3 * 30 * 2.0 <= len(updates) <= 30 * took + 3, (len(updates), took)
    losses = [pair for f in updates for pair in f["losses"]]
    assert [step for step, _ in losses] == list(range(1, run["step"] + 1))  # no holes
    assert updates[-1]["step"] == run["step"]
    assert run["step"] > 5 * len(updates)  # frames were thinned, losses were not
    # Every step's loss: the CSV export (a plain /history of a long run is bounded).
    csv = httpx.get(f"{live_server.url}/api/runs/{run_id}/history?format=csv").text
    stored = [float(line.split(",")[1]) for line in csv.splitlines()[1:]]
    assert [loss for _, loss in losses] == stored[1:]
    assert state["history"]["steps"] == [0]


def test_two_viewers_see_the_same_frames(live_server: LiveServer) -> None:
    run_id = create(live_server)
    with open_stream(live_server, run_id) as (a, _), open_stream(live_server, run_id) as (b, _):
        httpx.post(f"{live_server.url}/api/runs/{run_id}/step", json={"count": 5})
        seen_a = [next_update(a) for _ in range(5)]
        seen_b = [next_update(b) for _ in range(5)]
    assert seen_a == seen_b
    assert [f["step"] for f in seen_a] == [1, 2, 3, 4, 5]


def test_binary_frames_decode_to_the_same_numbers(live_server: LiveServer) -> None:
    run_id = create(live_server)
    with (
        open_stream(live_server, run_id) as (as_json, _),
        open_stream(live_server, run_id) as (as_binary, _),
    ):
        as_binary.send(json.dumps({"encoding": "binary"}))
        # Messages are read in order: once the notice about this bad one is back, the option
        # before it is in force (a fixed sleep was not always enough on a loaded machine).
        as_binary.send("not options")
        assert strict_json(as_binary.recv(timeout=10))["type"] == "error"
        httpx.post(f"{live_server.url}/api/runs/{run_id}/step", json={"count": 2})
        for _ in range(2):
            raw = as_binary.recv(timeout=10)
            assert isinstance(raw, bytes)
            header_end = 4 + int.from_bytes(raw[:4], "little")
            payload_start = -(-header_end // 4) * 4  # padded to a multiple of 4 with zeros
            assert raw[header_end:payload_start] == b"\0" * (payload_start - header_end)
            assert (len(raw) - payload_start) % 4 == 0
            binary, text = decode_binary(raw), next_update(as_json)
            assert binary["step"] == text["step"] and binary["losses"] == text["losses"]
            for name in ("weights", "biases", "deltas", "gradients"):
                for x, y in zip(binary[name], as_arrays(text[name]), strict=True):
                    assert x.dtype == np.float32
                    np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-30)


def test_a_viewer_may_ask_for_another_frame_rate(live_server: LiveServer) -> None:
    run_id = create(live_server)
    with open_stream(live_server, run_id) as (ws, _):
        ws.send(json.dumps({"fps": 5}))
        ws.send("not options")  # its notice comes back once the option before it is in force
        assert strict_json(ws.recv(timeout=10))["type"] == "error"
        started = time.monotonic()
        httpx.post(f"{live_server.url}/api/runs/{run_id}/resume")
        frames = collect(ws, 2.0)
        httpx.post(f"{live_server.url}/api/runs/{run_id}/pause")
        took = time.monotonic() - started
    updates = len([f for f in frames if f["type"] == "update"])
    assert 0.5 * 5 * 2.0 <= updates <= 5 * took + 3, (updates, took)


def test_an_unknown_run_refuses_the_stream_with_a_404_saying_why(live_server: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{live_server.ws_url}/api/runs/nosuch/stream", open_timeout=10)
    response = refused.value.response
    assert response.status_code == 404  # not the bare 403 of a close before accept
    assert json.loads(response.body) == {"detail": "no run with id 'nosuch'"}


def test_a_regularized_runs_frames_carry_the_data_loss_beside_the_total(
    live_server: LiveServer,
) -> None:
    config = SMALL | {"regularization": {"kind": "l2", "rate": 0.01}}
    run_id = create(live_server, **config)
    with open_stream(live_server, run_id) as (ws, _):
        httpx.post(f"{live_server.url}/api/runs/{run_id}/step", json={"count": 3})
        frame = next_update(ws)
    engine = engine_for(config)
    for _ in range(frame["step"]):
        engine.update()
    assert frame["loss"] == engine.train_loss()
    assert frame["data_loss"] == engine.train_loss(data_only=True) < frame["loss"]
