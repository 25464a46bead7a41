"""The REST contract of runs (docs/architecture.md), against the app in-process."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.nn.arithmetic import current_arithmetic
from tests.support.runs import SMALL, as_arrays, engine_for, strict_json, wait_for_step
from tests.support.server import LiveServer


def create(client: TestClient, **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/runs", json=SMALL | overrides)
    assert response.status_code == 201, response.text
    run: dict[str, Any] = response.json()
    return run


def test_create_answers_the_run_at_step_zero_with_its_initial_loss(client: TestClient) -> None:
    run = create(client)
    engine = engine_for(SMALL)
    assert run["status"] == "paused" and run["step"] == 0
    assert run["loss"] == engine.train_loss()
    assert run["test_loss"] == engine.test_loss()
    assert run["config"]["activation"] == ["sigmoid"] * 3  # normalised to one per layer
    assert run["config"]["momentum"] == 0 and run["config"]["dtype"] == "float64"
    assert run["learning_rate"] == 0.5 and run["speed"] is None and run["message"] is None
    assert run["created_at"].endswith("Z")
    assert run["engines"] == [{"from_step": 0, "engine": current_arithmetic()}]
    assert run["busy"] is False
    listed = client.get("/api/runs").json()
    assert [r["id"] for r in listed] == [run["id"]]
    got = client.get(f"/api/runs/{run['id']}").json()
    assert run["metrics"] is None and set(got.pop("metrics")) == {"r2", "test_r2"}  # GET only
    assert got | {"metrics": None} == run


def test_step_makes_exactly_the_engines_updates(client: TestClient) -> None:
    run = create(client)
    engine = engine_for(SMALL)
    stepped = client.post(f"/api/runs/{run['id']}/step", json={"count": 3}).json()
    for _ in range(3):
        engine.update()
    assert stepped["step"] == 3 and stepped["status"] == "paused"
    assert stepped["loss"] == engine.train_loss()
    weights = client.get(f"/api/runs/{run['id']}/weights").json()
    assert weights["step"] == 3 and weights["exact"] is True
    for served, own in zip(as_arrays(weights["weights"]), engine.network.weights, strict=True):
        np.testing.assert_array_equal(served, own)
    for served, own in zip(as_arrays(weights["biases"]), engine.network.biases, strict=True):
        np.testing.assert_array_equal(served, own)


def test_step_without_a_body_makes_one_update(client: TestClient) -> None:
    run = create(client)
    assert client.post(f"/api/runs/{run['id']}/step").json()["step"] == 1


def test_history_has_one_loss_per_step(client: TestClient) -> None:
    run = create(client)
    engine = engine_for(SMALL)
    client.post(f"/api/runs/{run['id']}/step", json={"count": 25})
    expected = [engine.train_loss()]
    for _ in range(25):
        engine.update()
        expected.append(engine.train_loss())
    history = client.get(f"/api/runs/{run['id']}/history").json()
    assert history["steps"] == list(range(26))
    assert history["loss"] == expected
    assert (
        len(history["test_loss"]) == 26 and history["test_loss"][0] == engine_for(SMALL).test_loss()
    )


def test_reading_the_weights_leaves_the_history_whole(client: TestClient) -> None:
    run = create(client)
    client.post(f"/api/runs/{run['id']}/step", json={"count": 3})
    assert client.get(f"/api/runs/{run['id']}/weights").json()["step"] == 3
    assert client.get(f"/api/runs/{run['id']}/history").json()["steps"] == [0, 1, 2, 3]


def test_pause_resume_stop_and_delete(client: TestClient) -> None:
    run_id = create(client)["id"]
    resumed = client.post(f"/api/runs/{run_id}/resume").json()
    assert resumed["status"] == "running"
    wait_for_step(client, run_id, 50)
    paused = client.post(f"/api/runs/{run_id}/pause").json()
    assert paused["status"] == "paused" and paused["step"] >= 50
    assert client.get(f"/api/runs/{run_id}").json()["step"] == paused["step"]  # really stopped
    history = client.get(f"/api/runs/{run_id}/history").json()
    assert history["steps"] == list(range(paused["step"] + 1))
    stopped = client.post(f"/api/runs/{run_id}/stop").json()
    assert stopped["status"] == "stopped"
    assert client.post(f"/api/runs/{run_id}/resume").status_code == 409
    assert client.post(f"/api/runs/{run_id}/step").status_code == 409
    assert client.delete(f"/api/runs/{run_id}").status_code == 204
    assert client.get(f"/api/runs/{run_id}").status_code == 404
    assert client.get("/api/runs").json() == []


def test_stepping_a_running_run_is_a_conflict(client: TestClient) -> None:
    run_id = create(client, start="running")["id"]
    response = client.post(f"/api/runs/{run_id}/step", json={"count": 1})
    assert response.status_code == 409
    assert "running" in response.json()["detail"]
    client.post(f"/api/runs/{run_id}/pause")


def test_a_manual_step_in_progress_shows_as_busy(live_server: LiveServer) -> None:
    """The status stays paused during a manual step; `busy` says a worker has the run."""
    http = httpx.Client(base_url=live_server.url, timeout=30)
    run_id = http.post("/api/runs", json=SMALL).json()["id"]
    step = {"json": {"count": 50_000}}  # a few seconds of updates
    stepping = threading.Thread(target=http.post, args=(f"/api/runs/{run_id}/step",), kwargs=step)
    stepping.start()
    deadline = time.monotonic() + 10
    while not (seen := http.get(f"/api/runs/{run_id}").json())["busy"]:
        assert time.monotonic() < deadline, seen
        time.sleep(0.05)
    assert seen["status"] == "paused"
    assert http.post(f"/api/runs/{run_id}/step", json={"count": 1}).status_code == 409
    stepping.join(30)
    done = http.get(f"/api/runs/{run_id}").json()
    assert (done["busy"], done["step"], done["status"]) == (False, 50_000, "paused")


def test_two_rate_changes_before_one_update_leave_one_record(client: TestClient) -> None:
    run_id = create(client)["id"]
    client.post(f"/api/runs/{run_id}/step", json={"count": 2})
    for rate in (0.2, 0.3):
        assert client.patch(f"/api/runs/{run_id}", json={"learning_rate": rate}).status_code == 200
    assert client.get(f"/api/runs/{run_id}/history").json()["learning_rates"] == [[2, 0.3]]


def test_a_run_that_cannot_train_again_refuses_changes(client: TestClient) -> None:
    run_id = create(client)["id"]
    client.post(f"/api/runs/{run_id}/stop")
    response = client.patch(f"/api/runs/{run_id}", json={"learning_rate": 5.0})
    assert response.status_code == 409 and "it is stopped" in response.json()["detail"]
    assert client.get(f"/api/runs/{run_id}/history").json()["learning_rates"] == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("post", "/step"),
        ("post", "/resume"),
        ("post", "/pause"),
        ("post", "/stop"),
        ("get", "/weights"),
        ("get", "/dataset"),
        ("get", "/history"),
    ],
)
def test_an_unknown_run_is_404(client: TestClient, method: str, path: str) -> None:
    kwargs: dict[str, Any] = {"json": {}} if method == "patch" else {}
    response = client.request(method, f"/api/runs/nosuchrun{path}", **kwargs)
    assert response.status_code == 404
    assert "nosuchrun" in response.json()["detail"]


def test_max_steps_finishes_the_run(client: TestClient) -> None:
    run_id = create(client, max_steps=10)["id"]
    stepped = client.post(f"/api/runs/{run_id}/step", json={"count": 50}).json()
    assert stepped["status"] == "finished" and stepped["step"] == 10
    assert "max_steps" in stepped["message"]


def test_a_step_that_reaches_max_steps_exactly_finishes_the_run(client: TestClient) -> None:
    run_id = create(client, max_steps=10)["id"]
    stepped = client.post(f"/api/runs/{run_id}/step", json={"count": 10}).json()
    assert stepped["status"] == "finished" and stepped["step"] == 10
    assert client.post(f"/api/runs/{run_id}/step").status_code == 409
    refused = client.post(f"/api/runs/{run_id}/pause")
    assert refused.status_code == 409
    assert refused.json()["detail"] == f"cannot pause run {run_id}: it is finished"


def test_dataset_is_the_engines(client: TestClient) -> None:
    run_id = create(client)["id"]
    data = client.get(f"/api/runs/{run_id}/dataset").json()
    engine = engine_for(SMALL)
    np.testing.assert_array_equal(np.array(data["x_train"]), engine.data.x_train)
    np.testing.assert_array_equal(np.array(data["y_test"]), engine.data.y_test)
    assert len(data["x_train"]) + len(data["x_test"]) == 200


def test_weights_of_a_future_step_are_404_and_of_a_negative_one_422(client: TestClient) -> None:
    run_id = create(client)["id"]
    assert client.get(f"/api/runs/{run_id}/weights?step=1").status_code == 404
    assert client.get(f"/api/runs/{run_id}/weights?step=-1").status_code == 422


def test_a_diverging_run_is_diverged_and_no_json_holds_nan(client: TestClient) -> None:
    config = {"layers": [2, 8, 1], "activation": "linear", "learning_rate": 1e6}
    run_id = create(client, **config)["id"]
    run = client.post(f"/api/runs/{run_id}/step", json={"count": 50}).json()
    assert run["status"] == "diverged" and run["step"] < 50 and run["message"]
    for path in ("", "/weights", "/history"):
        strict_json(client.get(f"/api/runs/{run_id}{path}").content)
    assert client.post(f"/api/runs/{run_id}/step").status_code == 409


def test_openapi_documents_every_route(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/runs",
        "/api/runs/{run_id}",
        "/api/runs/{run_id}/step",
        "/api/runs/{run_id}/weights",
        "/api/runs/{run_id}/history",
        "/api/runs/{run_id}/dataset",
        "/api/descent",
        "/healthz",
    ):
        assert path in paths
    assert "WeightsOut" in str(paths["/api/runs/{run_id}/weights"])


def test_healthz(client: TestClient) -> None:
    answer = client.get("/healthz").json()
    assert answer["status"] == "ok"
    assert set(answer["loop_lag_ms"]) == {"p50", "p99", "max", "samples"}


def test_explain_shows_the_next_update_without_making_it(client: TestClient) -> None:
    run_id = create(client)["id"]
    client.post(f"/api/runs/{run_id}/step", json={"count": 2})
    explained = client.get(f"/api/runs/{run_id}/explain?sample=3").json()
    assert explained["step"] == 2 and explained["sample"] == 3
    assert client.get(f"/api/runs/{run_id}").json()["step"] == 2  # the run did not move
    stepped = client.post(f"/api/runs/{run_id}/step").json()
    after = client.get(f"/api/runs/{run_id}/weights").json()
    assert stepped["step"] == 3
    assert (
        explained["new_weights"] == after["weights"] and explained["new_biases"] == after["biases"]
    )
    response = client.get(f"/api/runs/{run_id}/explain?sample=100000")
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "sample"


def test_a_weight_set_by_hand_is_the_runs_weight_and_refusals_name_the_field(
    client: TestClient,
) -> None:
    run = create(client)
    url = f"/api/runs/{run['id']}/weights"
    answer = client.patch(url, json={"layer": 1, "from": 2, "to": 0, "value": 0.75})
    assert answer.status_code == 200, answer.text
    assert answer.json()["weights"][1][2][0] == 0.75
    assert client.get(url).json()["weights"][1][2][0] == 0.75
    bias = client.patch(url, json={"layer": 0, "bias": True, "to": 3, "value": -1.5})
    assert bias.status_code == 200 and bias.json()["biases"][0][3] == -1.5
    for body, field in (
        ({"layer": 5, "from": 0, "to": 0, "value": 1.0}, "layer"),
        ({"layer": 0, "from": 7, "to": 0, "value": 1.0}, "from"),
        ({"layer": 0, "to": 0, "value": 1.0}, "from"),  # a weight needs `from`
    ):
        refused = client.patch(url, json=body)
        assert refused.status_code == 422, body
        assert refused.json()["detail"][0]["field"] == field
    client.post(f"/api/runs/{run['id']}/resume")
    assert client.patch(url, json={"layer": 0, "from": 0, "to": 0, "value": 1.0}).status_code == 409
    client.post(f"/api/runs/{run['id']}/pause")
