"""Input features, K classes, the boundary data set and regularization through the API."""

from __future__ import annotations

from typing import Any, get_args

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.nn.datasets import FEATURES
from app.runs.config import FeatureName
from tests.support.runs import SMALL, as_arrays, engine_for

CHOSEN = ["x1", "x2", "x1*x2", "sin(x1)"]
WITH_FEATURES: dict[str, Any] = {
    "layers": [4, 5, 1],
    "dataset": {"kind": "circle", "features": CHOSEN},
}


def created(client: TestClient, config: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/runs", json=config)
    assert response.status_code == 201, response.text
    run: dict[str, Any] = response.json()
    return run


def refused(client: TestClient, config: dict[str, Any]) -> tuple[list[str], str]:
    response = client.post("/api/runs", json=config)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    return [error["field"] for error in detail], " ".join(error["msg"] for error in detail)


def test_the_dataset_gives_feature_inputs_and_the_raw_points_beside_them(
    client: TestClient,
) -> None:
    run_id = created(client, WITH_FEATURES)["id"]
    data = client.get(f"/api/runs/{run_id}/dataset").json()
    engine = engine_for(WITH_FEATURES)
    raw = np.array(data["x_train_raw"])
    np.testing.assert_array_equal(np.array(data["x_train"]), engine.data.x_train)
    np.testing.assert_array_equal(raw, engine.data.x_train_raw)
    x1, x2 = raw[:, 0], raw[:, 1]
    expected = np.column_stack([x1, x2, x1 * x2, np.sin(x1)])
    np.testing.assert_array_equal(np.array(data["x_train"]), expected)
    assert np.array(data["x_test_raw"]).shape == (40, 2)
    assert np.array(data["x_test"]).shape == (40, 4)


def test_without_features_the_raw_points_are_null(client: TestClient) -> None:
    run_id = created(client, SMALL | {"dataset": {"kind": "xor"}, "layers": [2, 3, 1]})["id"]
    data = client.get(f"/api/runs/{run_id}/dataset").json()
    assert data["x_train_raw"] is None and data["x_test_raw"] is None


def test_a_feature_run_steps_exactly_like_the_engine(client: TestClient) -> None:
    run = created(client, WITH_FEATURES)
    stepped = client.post(f"/api/runs/{run['id']}/step", json={"count": 4}).json()
    engine = engine_for(WITH_FEATURES)
    for _ in range(4):
        engine.update()
    assert stepped["loss"] == engine.train_loss()
    assert run["config"]["dataset"]["features"] == CHOSEN


@pytest.mark.parametrize(
    ("change", "field", "named"),
    [
        ({"layers": [3, 5, 1]}, "layers", "dataset.features names 4"),
        ({"dataset": {"kind": "circle", "features": ["x1", "x"]}}, "dataset.features", "'x'"),
        ({"dataset": {"kind": "circle", "features": ["x1", "x1"]}}, "dataset.features", "once"),
        ({"dataset": {"kind": "circle", "features": ["x3"]}}, "dataset.features.0", "x1"),
        ({"dataset": {"kind": "circle", "features": []}}, "dataset.features", "at least 1"),
        ({"dataset": {"kind": "teacher", "features": ["x1"]}}, "dataset.features", "teacher"),
    ],
)
def test_bad_features_are_a_422_naming_the_fields(
    client: TestClient, change: dict[str, Any], field: str, named: str
) -> None:
    fields, message = refused(client, WITH_FEATURES | change)
    assert field in fields and named in message


def test_one_dimensional_features(client: TestClient) -> None:
    config = {
        "layers": [3, 6, 1],
        "dataset": {"kind": "function", "features": ["x", "x^2", "sin(x)"]},
    }
    run_id = created(client, config)["id"]
    data = client.get(f"/api/runs/{run_id}/dataset").json()
    x = np.array(data["x_train_raw"])[:, 0]
    np.testing.assert_array_equal(np.array(data["x_train"]), np.column_stack([x, x**2, np.sin(x)]))


def test_three_classes_give_one_hot_targets_over_three_outputs(client: TestClient) -> None:
    config = {
        "layers": [2, 8, 3],
        "loss": "cross_entropy",
        "dataset": {"kind": "spiral", "classes": 3},
    }
    run_id = created(client, config)["id"]
    data = client.get(f"/api/runs/{run_id}/dataset").json()
    targets = np.array(data["y_train"] + data["y_test"])
    assert targets.shape == (200, 3)
    np.testing.assert_array_equal(targets.sum(axis=1), np.ones(200))
    explained = client.get(f"/api/runs/{run_id}/explain").json()
    assert explained["output_activation"] == "softmax"


@pytest.mark.parametrize(
    ("change", "field", "named"),
    [
        ({"layers": [2, 8, 1], "dataset": {"kind": "spiral", "classes": 3}}, "layers", "3 output"),
        ({"layers": [2, 8, 3], "dataset": {"kind": "xor", "classes": 3}}, "dataset.classes", "xor"),
        ({"dataset": {"kind": "teacher", "classes": 3}}, "dataset.classes", "teacher"),
        ({"dataset": {"kind": "spiral", "classes": 7}}, "dataset.classes", "6"),
        ({"dataset": {"kind": "spiral", "classes": 1}}, "dataset.classes", "2"),
    ],
)
def test_bad_classes_are_a_422_naming_the_fields(
    client: TestClient, change: dict[str, Any], field: str, named: str
) -> None:
    fields, message = refused(client, {"layers": [2, 8, 3]} | change)
    assert field in fields and named in message


def test_a_boundary_data_set_labels_points_above_the_curve(client: TestClient) -> None:
    config = {"layers": [2, 4, 1], "dataset": {"kind": "boundary", "expr": "x**2 - 0.5"}}
    run_id = created(client, config)["id"]
    data = client.get(f"/api/runs/{run_id}/dataset").json()
    x, y = np.array(data["x_train"]), np.array(data["y_train"])
    np.testing.assert_array_equal(y[:, 0], (x[:, 1] > x[:, 0] ** 2 - 0.5).astype(float))
    bad = {"layers": [2, 4, 1], "dataset": {"kind": "boundary", "expr": "x +"}}
    assert refused(client, bad)[0] == ["dataset.expr"]


@pytest.mark.parametrize("kind", ["l2", "l1"])
def test_a_regularized_run_reports_the_total_loss_and_explains_the_term(
    client: TestClient, kind: str
) -> None:
    config = SMALL | {"regularization": {"kind": kind, "rate": 0.01}}
    run = created(client, config)
    engine = engine_for(config)
    assert run["loss"] == engine.train_loss()  # the total, which training minimises
    assert run["loss"] > engine.train_loss(data_only=True)
    explained = client.get(f"/api/runs/{run['id']}/explain").json()
    assert explained["regularization"] == {"kind": kind, "rate": 0.01}
    assert explained["loss"] == pytest.approx(
        explained["data_loss"] + explained["regularization_loss"]
    )
    weights = as_arrays(explained["weights"])
    penalty = as_arrays(explained["regularization_gradients"])
    for w, term in zip(weights, penalty, strict=True):
        np.testing.assert_array_equal(term, 0.01 * w if kind == "l2" else 0.01 * np.sign(w))
    stepped = client.post(f"/api/runs/{run['id']}/step").json()
    engine.update()
    assert stepped["loss"] == engine.train_loss()
    after = as_arrays(client.get(f"/api/runs/{run['id']}/weights").json()["weights"])
    np.testing.assert_array_equal(after[0], as_arrays(explained["new_weights"])[0])


@pytest.mark.parametrize(
    ("regularization", "field"),
    [
        ({"kind": "l3", "rate": 0.1}, "regularization.kind"),
        ({"kind": "l2", "rate": -0.1}, "regularization.rate"),
        ({"kind": "l2"}, "regularization.rate"),
        ({"kind": "l1", "rate": 0.1, "on": "biases"}, "regularization.on"),
    ],
)
def test_bad_regularization_is_a_422_naming_the_field(
    client: TestClient, regularization: dict[str, Any], field: str
) -> None:
    assert field in refused(client, SMALL | {"regularization": regularization})[0]


def test_an_explanation_without_regularization_says_so(client: TestClient) -> None:
    run_id = created(client, SMALL)["id"]
    explained = client.get(f"/api/runs/{run_id}/explain").json()
    assert explained["regularization"] is None and explained["regularization_gradients"] is None
    assert explained["regularization_loss"] == 0.0 and explained["data_loss"] == explained["loss"]


def test_the_config_accepts_exactly_the_engines_feature_names() -> None:
    engine = {name for names in FEATURES.values() for name in names}
    assert set(get_args(FeatureName)) == engine
