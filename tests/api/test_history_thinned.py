"""GET /api/runs/{id}/history?points=N: at most N buckets of steps, each its min and max loss."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.support.runs import SMALL, strict_json, wait_for_step

POINTS = [1, 2, 7, 64, 1000, 2999, 3000, 3001, 4096]


def settings(tmp_path: Path, **changes: Any) -> Settings:
    allowed = ["127.0.0.1", "testserver"]  # TestClient's Host
    return Settings(db_path=tmp_path / "runs.db", allowed_hosts=allowed, **changes)


def create(client: TestClient, **overrides: Any) -> str:
    response = client.post("/api/runs", json=SMALL | overrides)
    assert response.status_code == 201, response.text
    run_id: str = response.json()["id"]
    return run_id


def step(client: TestClient, run_id: str, count: int) -> None:
    response = client.post(f"/api/runs/{run_id}/step", json={"count": count})
    assert response.status_code == 200, response.text


def thinned(client: TestClient, run_id: str, points: int) -> dict[str, Any]:
    response = client.get(f"/api/runs/{run_id}/history", params={"points": points})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = strict_json(response.content)
    return answer


def as_array(values: list[float | None]) -> npt.NDArray[np.float64]:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def expected(full: dict[str, Any], points: int) -> dict[str, Any]:
    """The buckets computed the plain way: numpy's min and max over each slice of the history."""
    steps = np.asarray(full["steps"])
    width = -(-(int(steps[-1]) - int(steps[0]) + 1) // points)
    bucket = (steps - steps[0]) // width
    out: dict[str, Any] = {"bucket_steps": width, "last_step": int(steps[-1]), "steps": []}
    arrays = {name: as_array(full[name]) for name in ("loss", "test_loss")}
    for name in arrays:
        out[f"{name}_min"], out[f"{name}_max"] = [], []
    for b in np.unique(bucket):
        members = bucket == b
        out["steps"].append(int(steps[0] + b * width))
        for name, array in arrays.items():
            values = array[members]
            values = values[np.isfinite(values)]
            out[f"{name}_min"].append(float(np.min(values)) if len(values) else None)
            out[f"{name}_max"].append(float(np.max(values)) if len(values) else None)
    return out


def assert_matches_the_full_history(client: TestClient, run_id: str) -> dict[str, Any]:
    full: dict[str, Any] = client.get(f"/api/runs/{run_id}/history").json()
    for points in POINTS:
        answer = thinned(client, run_id, points)
        want = expected(full, points)
        assert answer["points"] == points
        assert len(answer["steps"]) <= points
        for key, value in want.items():
            assert answer[key] == value, (points, key)
        assert answer["learning_rates"] == full["learning_rates"]
    return full


def test_buckets_hold_numpys_min_and_max_over_the_full_history(tmp_path: Path) -> None:
    # Until the explicit flush in check_against_numpy, the newest losses must be only in the
    # run's in-memory log, and the thinned answer must take them from there. The store's writer
    # waits its flush interval between batches unless a flush wakes it: after this flush it
    # waits an hour, so the last steps' losses cannot land before the test looks (with the
    # setting's 5 s at most, on a slow machine they could, just before the check).
    with TestClient(create_app(settings(tmp_path))) as client:
        store = client.app.state.manager.store  # type: ignore[attr-defined]
        store.flush_interval = 3600.0
        store.flush()
        check_against_numpy(client)


def check_against_numpy(client: TestClient) -> None:
    run_id = create(client)
    step(client, run_id, 1500)
    # A burst of a large learning rate: spikes that the buckets' max must keep.
    assert client.patch(f"/api/runs/{run_id}", json={"learning_rate": 200.0}).status_code == 200
    step(client, run_id, 3)
    assert client.patch(f"/api/runs/{run_id}", json={"learning_rate": 0.5}).status_code == 200
    step(client, run_id, 1497)
    manager = client.app.state.manager  # type: ignore[attr-defined]
    assert len(manager.store.history_arrays(run_id).steps) < 3001  # not all stored yet
    full = assert_matches_the_full_history(client, run_id)
    assert full["steps"] == list(range(3001))
    loss = as_array(full["loss"])
    assert np.nanmax(loss[1500:1510]) > 10 * np.nanmax(loss[1400:1500])  # there is a spike
    assert sum(v is not None for v in full["test_loss"]) > 100
    manager.store.flush()
    assert len(manager.store.history_arrays(run_id).steps) == 3001  # now all come from the store
    assert assert_matches_the_full_history(client, run_id) == full
    one = thinned(client, run_id, 1)
    assert one["steps"] == [0] and one["bucket_steps"] == 3001
    assert one["loss_max"] == [float(np.nanmax(loss))]
    assert one["loss_max"][0] > one["loss_min"][0]


def test_a_run_at_step_zero_is_one_bucket(client: TestClient) -> None:
    run_id = create(client)
    run = client.get(f"/api/runs/{run_id}").json()
    answer = thinned(client, run_id, 32)
    assert answer["steps"] == [0] and answer["last_step"] == 0 and answer["bucket_steps"] == 1
    assert answer["loss_min"] == answer["loss_max"] == [run["loss"]]
    assert answer["test_loss_min"] == [run["test_loss"]]


def test_a_running_run_answers_consistent_buckets(client: TestClient) -> None:
    run_id = create(client)
    client.post(f"/api/runs/{run_id}/resume")
    previous = -1
    try:
        for target in (200, 600, 1200):
            wait_for_step(client, run_id, target)
            answer = thinned(client, run_id, 50)
            last = answer["last_step"]
            assert last >= target and last >= previous
            previous = last
            width = answer["bucket_steps"]
            assert answer["steps"] == [k * width for k in range(len(answer["steps"]))]
            assert len(answer["steps"]) == -(-(last + 1) // width) <= 50
            for lo, hi in zip(answer["loss_min"], answer["loss_max"], strict=True):
                assert lo is not None and hi is not None and lo <= hi
    finally:
        client.post(f"/api/runs/{run_id}/pause")


def test_the_default_answer_of_a_short_run_holds_every_step(client: TestClient) -> None:
    run_id = create(client)
    step(client, run_id, 3)
    full = client.get(f"/api/runs/{run_id}/history").json()
    assert set(full) == {"steps", "loss", "test_loss", "learning_rates", "earlier"}
    assert full["steps"] == [0, 1, 2, 3] and full["earlier"] is None


def test_points_over_the_limit_is_a_422_naming_it(client: TestClient) -> None:
    run_id = create(client)
    response = client.get(f"/api/runs/{run_id}/history", params={"points": 4097})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["field"] == "points" and error["loc"] == ["query", "points"]
    assert "max_history_points=4096" in error["msg"]
    assert "BACKPROP_MAX_HISTORY_POINTS" in error["msg"]
    assert thinned(client, run_id, 4096)["steps"] == [0]


def test_the_limit_is_a_setting(tmp_path: Path) -> None:
    with TestClient(create_app(settings(tmp_path, max_history_points=300))) as client:
        run_id = create(client)
        assert client.get(f"/api/runs/{run_id}/history?points=300").status_code == 200
        response = client.get(f"/api/runs/{run_id}/history?points=301")
        assert response.status_code == 422
        (error,) = response.json()["detail"]
        assert error["field"] == "points" and "max_history_points=300" in error["msg"]


@pytest.mark.parametrize("points", ["0", "-3", "many", "1.5"])
def test_points_must_be_a_positive_integer(client: TestClient, points: str) -> None:
    run_id = create(client)
    response = client.get(f"/api/runs/{run_id}/history?points={points}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "points"


def test_a_missing_run_is_a_404(client: TestClient) -> None:
    assert client.get("/api/runs/nope/history?points=10").status_code == 404


def test_the_openapi_document_describes_both_answers(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/api/runs/{run_id}/history"]["get"]
    names = [p["name"] for p in operation["parameters"]]
    assert names == ["run_id", "points", "start", "end", "format"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    refs = {option["$ref"].rsplit("/", 1)[-1] for option in schema["anyOf"]}
    assert refs == {"BoundedHistoryOut", "ThinnedHistoryOut"}
