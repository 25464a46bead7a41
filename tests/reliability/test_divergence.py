"""Divergence (#3): a linear net at learning rate 1e6 overflows; the run says so, no NaN leaks."""

from __future__ import annotations

import json
import time

import httpx
from websockets.sync.client import connect

from tests.reliability.support import (
    SMALL_RUN,
    create_run,
    json_has_bare_non_finite,
    run_state,
)
from tests.support.server import LiveServer

EXPLOSIVE = {**SMALL_RUN, "activation": "linear", "learning_rate": 1e6}


def test_a_diverging_run_stops_as_diverged_and_says_so(
    shared_server: LiveServer, client: httpx.Client
) -> None:
    run_id = create_run(client, EXPLOSIVE)
    frames: list[str] = []
    with connect(f"{shared_server.ws_url}/api/runs/{run_id}/stream") as ws:
        frames.append(str(ws.recv(timeout=10)))
        assert client.post(f"/api/runs/{run_id}/resume").status_code == 200
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            frames.append(str(ws.recv(timeout=10)))
            frame = json.loads(frames[-1])
            if frame["type"] == "status" and frame["status"] == "diverged":
                break
    status = json.loads(frames[-1])
    assert status["type"] == "status" and status["status"] == "diverged", frames[-3:]
    assert status["step"] >= 1 and status["message"]
    assert not any(json_has_bare_non_finite(frame) for frame in frames)

    run = run_state(client, run_id)
    assert run["status"] == "diverged" and run["step"] == status["step"]
    assert run["message"]
    for path in ("", "/history", "/weights", "/weights?step=0", "/dataset"):
        response = client.get(f"/api/runs/{run_id}{path}")
        assert response.status_code == 200, (path, response.text)
        assert not json_has_bare_non_finite(response.content), path
    assert not json_has_bare_non_finite(client.get("/api/runs").content)


def test_stepping_into_divergence(client: httpx.Client) -> None:
    run_id = create_run(client, EXPLOSIVE)
    response = client.post(f"/api/runs/{run_id}/step", json={"count": 500})
    assert response.status_code == 200, response.text
    assert not json_has_bare_non_finite(response.content)
    stepped = response.json()
    assert stepped["status"] == "diverged" and 1 <= stepped["step"] < 500 and stepped["message"]
    state = run_state(client, run_id)
    # The step answers once it has ended; only GET carries the scores (none once diverged).
    assert state.pop("metrics") == {"r2": None, "test_r2": None} and stepped.pop("metrics") is None
    assert state == stepped
    history = client.get(f"/api/runs/{run_id}/history").json()
    assert history["steps"] == list(range(stepped["step"] + 1))
    # A diverged run cannot train on; the refusal is a clear 409.
    again = client.post(f"/api/runs/{run_id}/step", json={"count": 1})
    assert again.status_code == 409 and again.json()["detail"]


def test_the_server_carries_on(client: httpx.Client) -> None:
    run_id = create_run(client)
    response = client.post(f"/api/runs/{run_id}/step", json={"count": 10})
    assert response.status_code == 200 and response.json()["step"] == 10
