"""A wrong run config is a 422 that names the field; a limit is a 4xx that names the setting."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.support.runs import SMALL


def fields_of(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    return [error["field"] for error in response.json()["detail"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"bogus": 1}, "bogus"),
        ({"dataset": {"kind": "teacher", "colour": "red"}}, "dataset.colour"),
        ({"layers": [2, 0, 1]}, "layers.1"),
        ({"layers": [2, -3, 1]}, "layers.1"),
        ({"layers": [2]}, "layers"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"learning_rate": -0.5}, "learning_rate"),
        ({"dataset": {"kind": "teacher", "layers": [3, 4, 1]}}, "dataset.layers"),
        ({"dataset": {"kind": "teacher", "layers": [2, 4, 2]}}, "dataset.layers"),
        ({"activation": ["relu", "relu"]}, "activation"),
        ({"activation": "softplus"}, "activation"),
        ({"dataset": {"kind": "xor"}, "layers": [3, 4, 1]}, "layers"),
        ({"dataset": {"kind": "function"}}, "layers"),
        ({"dataset": {"kind": "function", "expr": "x +"}, "layers": [1, 4, 1]}, "dataset.expr"),
        ({"momentum": 1.5}, "momentum"),
        ({"dtype": "float16"}, "dtype"),
        ({"batch_size": 0}, "batch_size"),
        # Wrong JSON types are refused, not converted: true is not a layer of 1 neuron.
        ({"layers": [2, True, 1]}, "layers.1"),
        ({"bias": "yes"}, "bias"),
        ({"learning_rate": "0.5"}, "learning_rate"),
        ({"seed": "7"}, "seed"),
        ({"dataset": {"kind": "teacher", "samples": 200.5}}, "dataset.samples"),
    ],
)
def test_a_wrong_config_names_the_field(
    client: TestClient, change: dict[str, Any], field: str
) -> None:
    response = client.post("/api/runs", json=SMALL | change)
    assert field in fields_of(response)


@pytest.mark.parametrize(
    ("change", "needed"),
    [
        ({"dataset": {"kind": "teacher", "activation": "tanh"}}, "between 0 and 1"),
        ({"dataset": {"kind": "teacher", "noise": 0.5}}, "between 0 and 1"),
        (
            {
                "layers": [2, 4, 2],
                "dataset": {"kind": "teacher", "layers": [2, 3, 2], "activation": "linear"},
            },
            "of at least 0",
        ),
    ],
)
def test_cross_entropy_on_targets_without_a_minimum_names_the_loss(
    client: TestClient, change: dict[str, Any], needed: str
) -> None:
    response = client.post("/api/runs", json=SMALL | {"loss": "cross_entropy"} | change)
    assert fields_of(response) == ["loss"]
    assert f"cross_entropy needs targets {needed}" in response.json()["detail"][0]["msg"]
    assert client.get("/api/runs").json() == []  # nothing half-made is left behind


def test_cross_entropy_on_a_sigmoid_teacher_is_accepted(client: TestClient) -> None:
    config = SMALL | {"loss": "cross_entropy", "layers": [2, 4, 3]}
    config["dataset"] = {"kind": "teacher", "layers": [2, 5, 3], "activation": "sigmoid"}
    assert client.post("/api/runs", json=config).status_code == 201


def test_a_patch_to_a_null_learning_rate_is_refused_and_null_speed_is_not(
    client: TestClient,
) -> None:
    run_id = client.post("/api/runs", json=SMALL | {"speed": 10}).json()["id"]
    assert fields_of(client.patch(f"/api/runs/{run_id}", json={"learning_rate": None})) == [
        "learning_rate"
    ]
    patched = client.patch(f"/api/runs/{run_id}", json={"speed": None})
    assert patched.status_code == 200 and patched.json()["speed"] is None
    assert patched.json()["learning_rate"] == SMALL["learning_rate"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/step", {"count": True}, "count"),
        ("/step", {"count": "3"}, "count"),
        ("", {"learning_rate": "0.1"}, "learning_rate"),
        ("", {"speed": False}, "speed"),
    ],
)
def test_wrong_json_types_in_actions_are_refused(
    client: TestClient, path: str, body: dict[str, Any], field: str
) -> None:
    run_id = client.post("/api/runs", json=SMALL).json()["id"]
    method = client.post if path else client.patch
    assert field in fields_of(method(f"/api/runs/{run_id}{path}", json=body))
    assert client.get(f"/api/runs/{run_id}").json()["step"] == 0


def test_whole_numbers_are_accepted_for_real_fields(client: TestClient) -> None:
    config = SMALL | {"learning_rate": 1, "momentum": 0, "dataset": {"kind": "teacher", "noise": 0}}
    assert client.post("/api/runs", json=config).status_code == 201


def test_invalid_json_blames_the_body_not_a_character_offset(client: TestClient) -> None:
    response = client.post(
        "/api/runs", content=b'{"layers": [2,1', headers={"content-type": "application/json"}
    )
    assert fields_of(response) == ["body"]


def test_nan_in_the_body_is_a_422_not_a_500(client: TestClient) -> None:
    body = '{"layers": [2, 4, 1], "learning_rate": NaN}'
    response = client.post("/api/runs", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("change", "setting"),
    [
        ({"layers": [2, *([4] * 12), 1]}, "max_layers"),
        ({"layers": [2, 4096, 1]}, "max_neurons"),
        ({"layers": [2, 2048, 2048, 1024, 1]}, "max_parameters"),
        ({"dataset": {"kind": "teacher", "samples": 50_000}}, "max_samples"),
        # A tiny student with a huge teacher: the teacher is built and run too.
        ({"dataset": {"kind": "teacher", "layers": [2, *([2048] * 10), 1]}}, "max_parameters"),
    ],
)
def test_a_config_over_a_limit_names_the_setting(
    client: TestClient, change: dict[str, Any], setting: str
) -> None:
    response = client.post("/api/runs", json=SMALL | change)
    assert response.status_code == 422
    assert setting in response.json()["detail"][0]["msg"]
    assert f"BACKPROP_{setting.upper()}" in response.json()["detail"][0]["msg"]


def test_a_step_count_over_the_limit_names_it(client: TestClient) -> None:
    run_id = client.post("/api/runs", json=SMALL).json()["id"]
    response = client.post(f"/api/runs/{run_id}/step", json={"count": 100_001})
    assert response.status_code == 422
    assert "max_step_count" in response.json()["detail"][0]["msg"]
    assert client.get(f"/api/runs/{run_id}").json()["step"] == 0


def test_too_many_runs_training_is_a_429_naming_the_limit(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"max_training_runs": 1}))) as client:
        first = client.post("/api/runs", json=SMALL | {"start": "running"}).json()["id"]
        second = client.post("/api/runs", json=SMALL).json()["id"]
        response = client.post(f"/api/runs/{second}/resume")
        assert response.status_code == 429
        assert "max_training_runs" in response.json()["detail"]
        assert client.get(f"/api/runs/{first}").json()["status"] == "running"  # untouched
        client.post(f"/api/runs/{first}/pause")
        assert client.post(f"/api/runs/{second}/resume").json()["status"] == "running"
        client.post(f"/api/runs/{second}/pause")


def test_a_teacher_with_features_is_refused_naming_them(client: TestClient) -> None:
    """Features are functions of 1-D or 2-D points; a teacher's inputs are its own (was a 500)."""
    dataset = {"kind": "teacher", "layers": [1, 1], "features": ["x", "x^2"]}
    response = client.post("/api/runs", json={"layers": [1, 1], "dataset": dataset})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["field"] == "dataset.features"
