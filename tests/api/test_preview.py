"""POST /api/datasets/preview: the points a data set config makes, before any run exists."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.nn.datasets import DatasetSpec, make_dataset


def test_the_preview_is_the_data_set_a_run_would_learn(client: TestClient) -> None:
    body = {"kind": "spiral", "samples": 50, "noise": 0.1, "seed": 7, "test_fraction": 0.3}
    answer = client.post("/api/datasets/preview", json=body)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    expected = make_dataset(
        DatasetSpec(kind="spiral", samples=50, noise=0.1, seed=7, test_fraction=0.3)
    )
    for name, array in zip(
        ("x_train", "y_train", "x_test", "y_test"), expected.arrays(), strict=True
    ):
        np.testing.assert_array_equal(np.array(data[name]), array)
    assert len(data["x_train"]) + len(data["x_test"]) == 50


def test_a_teacher_without_layers_previews_the_default_teacher(client: TestClient) -> None:
    data = client.post("/api/datasets/preview", json={"kind": "teacher", "samples": 20}).json()
    expected = make_dataset(DatasetSpec(kind="teacher", samples=20, layers=(2, 3, 1)))
    np.testing.assert_array_equal(np.array(data["y_train"]), expected.y_train)


def test_a_run_and_its_preview_share_their_points(client: TestClient) -> None:
    dataset = {"kind": "circle", "samples": 40, "noise": 0.2, "seed": 3}
    run = client.post("/api/runs", json={"layers": [2, 3, 1], "dataset": dataset}).json()
    preview = client.post("/api/datasets/preview", json=dataset).json()
    assert client.get(f"/api/runs/{run['id']}/dataset").json() == preview


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"kind": "xor", "samples": 20_001}, "samples", "max_samples=20000"),
        ({"kind": "function", "expr": "sin(", "samples": 10}, "expr", "position 4"),
        ({"kind": "function", "x_min": 2, "samples": 10}, "x_min", "must be below x_max"),
        ({"kind": "teacher", "layers": [2, 3000, 1]}, "layers", "max_neurons"),
        ({"kind": "xor", "samples": 1}, "samples", "greater than or equal to 2"),
    ],
)
def test_a_bad_preview_is_a_422_naming_its_field(
    client: TestClient, body: dict[str, object], field: str, words: str
) -> None:
    answer = client.post("/api/datasets/preview", json=body)
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["detail"]
    assert error["field"] == field
    assert words in error["msg"]


def test_a_preview_with_features_gives_the_raw_points_beside_the_inputs(client: TestClient) -> None:
    body = {"kind": "gaussians", "samples": 30, "classes": 3, "features": ["x1", "x1*x2"]}
    answer = client.post("/api/datasets/preview", json=body)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    raw = np.array(data["x_train_raw"])
    np.testing.assert_allclose(
        np.array(data["x_train"]), np.column_stack([raw[:, 0], raw[:, 0] * raw[:, 1]])
    )
    assert {len(y) for y in data["y_train"]} == {3}  # one-hot over three classes
    run = client.post(
        "/api/runs", json={"layers": [2, 4, 3], "loss": "cross_entropy", "dataset": body}
    ).json()
    assert client.get(f"/api/runs/{run['id']}/dataset").json() == data
