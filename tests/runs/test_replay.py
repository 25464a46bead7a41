"""weights?step=k is exact: a thinned-out step is recomputed, never approximated.

Against a real server (`python -m app serve`, tests/support/server.py) on its own SQLite file:
what is replayed is what that server's store kept, read back over HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest

from app.store import should_snapshot
from tests.support.runs import SMALL, as_arrays, engine_for
from tests.support.server import LiveServer

MINI_BATCH: dict[str, Any] = SMALL | {"batch_size": 16, "momentum": 0.9, "learning_rate": 0.2}


@pytest.fixture
def client(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        yield http


def weights_at(client: httpx.Client, run_id: str, step: int | None = None) -> dict[str, Any]:
    query = "" if step is None else f"?step={step}"
    answer: dict[str, Any] = client.get(f"/api/runs/{run_id}/weights{query}").json()
    return answer


def assert_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a["step"] == b["step"]
    for name in ("weights", "biases"):
        for x, y in zip(as_arrays(a[name]), as_arrays(b[name]), strict=True):
            np.testing.assert_array_equal(x, y)


def test_a_thinned_out_step_equals_an_identical_run_stepped_to_it(client: httpx.Client) -> None:
    k = 155
    assert not should_snapshot(k)
    long_run = client.post("/api/runs", json=MINI_BATCH).json()["id"]
    client.post(f"/api/runs/{long_run}/step", json={"count": 400})
    short_run = client.post("/api/runs", json=MINI_BATCH).json()["id"]
    client.post(f"/api/runs/{short_run}/step", json={"count": k})
    recomputed = weights_at(client, long_run, k)
    assert recomputed["exact"] is True  # replayed under the arithmetic that made it
    assert_same(recomputed, weights_at(client, short_run))
    assert_same(weights_at(client, long_run, 0), weights_at(client, short_run, 0))


def test_a_learning_rate_change_is_recorded_and_replayed_exactly(client: httpx.Client) -> None:
    run_id = client.post("/api/runs", json=SMALL).json()["id"]
    client.post(f"/api/runs/{run_id}/step", json={"count": 103})
    patched = client.patch(f"/api/runs/{run_id}", json={"learning_rate": 2.0}).json()
    assert patched["learning_rate"] == 2.0
    client.post(f"/api/runs/{run_id}/step", json={"count": 300})
    history = client.get(f"/api/runs/{run_id}/history").json()
    assert history["learning_rates"] == [[103, 2.0]]
    # The engine's own run with the same change at the same step.
    engine = engine_for(SMALL)
    for _ in range(103):
        engine.update()
    engine.learning_rate = 2.0
    for _ in range(154 - 103):
        engine.update()
    replayed = weights_at(client, run_id, 154)  # thinned out, after the change
    assert not should_snapshot(154)
    for served, own in zip(as_arrays(replayed["weights"]), engine.network.weights, strict=True):
        np.testing.assert_array_equal(served, own)


def test_patch_changes_the_rate_of_a_running_run_from_its_next_update(client: httpx.Client) -> None:
    run_id = client.post("/api/runs", json=SMALL | {"start": "running"}).json()["id"]
    client.patch(f"/api/runs/{run_id}", json={"learning_rate": 0.25})
    paused = client.post(f"/api/runs/{run_id}/pause").json()
    [(changed_at, rate)] = client.get(f"/api/runs/{run_id}/history").json()["learning_rates"]
    assert rate == 0.25 and 0 <= changed_at <= paused["step"]
    engine = engine_for(SMALL)
    for _ in range(changed_at):
        engine.update()
    engine.learning_rate = 0.25
    for _ in range(paused["step"] - changed_at):
        engine.update()
    served = weights_at(client, run_id)
    for x, y in zip(as_arrays(served["weights"]), engine.network.weights, strict=True):
        np.testing.assert_array_equal(x, y)


def test_speed_limits_updates_a_second(client: httpx.Client) -> None:
    run_id = client.post("/api/runs", json=SMALL | {"speed": 50}).json()["id"]
    started = time.monotonic()
    client.post(f"/api/runs/{run_id}/resume")
    time.sleep(1.0)
    step = client.post(f"/api/runs/{run_id}/pause").json()["step"]
    took = time.monotonic() - started
    # Never faster than the limit (+1: the first update goes at once); on a loaded machine
    # it may fall behind, but not to a standstill. Bounds scale with the time it really took.
    assert step <= 50 * took + 1, (step, took)
    assert step >= 0.3 * 50 * min(took, 1.0), (step, took)
    patched = client.patch(f"/api/runs/{run_id}", json={"speed": None}).json()
    assert patched["speed"] is None
