"""POST /api/datasets and runs on uploaded data: stored whole or not at all, exact after a
restart, scores that match the weights and the data."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

CSV_HEADERS = {"content-type": "text/csv"}
GOOD = "x1,x2,kind\n" + "".join(
    f"{(i % 9) - 4},{((i * 5) % 7) - 3},{'a' if (i % 9) > 4 else 'b'}\n" for i in range(60)
)


def upload(client: TestClient, text: str | bytes) -> Any:
    return client.post("/api/datasets", content=text, headers=CSV_HEADERS)


def stored_datasets(settings: Settings) -> int:
    with closing(sqlite3.connect(settings.db_path)) as conn:
        return int(conn.execute("SELECT count(*) FROM datasets").fetchone()[0])


def csv_run(table_id: str, **dataset: Any) -> dict[str, Any]:
    data = {"kind": "csv", "id": table_id, "inputs": ["x1", "x2"], "targets": ["kind"]}
    return {
        "layers": [2, 4, 1],
        "activation": "tanh",
        "learning_rate": 0.3,
        "dataset": data | dataset,
    }


def test_an_upload_answers_its_id_columns_and_rows(client: TestClient) -> None:
    answer = upload(client, GOOD)
    assert answer.status_code == 201
    body = answer.json()
    assert body["rows"] == 60 and len(body["id"]) == 16
    assert body["columns"] == [
        {"name": "x1", "kind": "number", "distinct": 9},
        {"name": "x2", "kind": "number", "distinct": 7},
        {"name": "kind", "kind": "text", "distinct": 2},
    ]
    assert upload(client, GOOD).json()["id"] == body["id"]  # the same file, the same data set
    assert client.get(f"/api/datasets/{body['id']}").json() == body


@pytest.mark.parametrize(
    ("text", "row", "column", "words"),
    [
        ("x1,x2\n1,2\n3\n", 3, None, "ragged"),
        ("x1,x2\n1,2\n3,abc\n", 3, "x2", "'abc' is not a number"),
        ("x1,x2\n1,2\nNaN,1\n", 3, "x1", "not a finite number"),
        ("", None, None, "empty"),
        ("x1,x2\n", 2, None, "no data rows"),
        ("x1,x1\n1,2\n", 1, "x1", "twice"),
    ],
)
def test_a_bad_file_is_a_422_naming_row_and_column_and_nothing_is_stored(
    client: TestClient,
    settings: Settings,
    text: str,
    row: int | None,
    column: str | None,
    words: str,
) -> None:
    answer = upload(client, text)
    assert answer.status_code == 422
    (error,) = answer.json()["detail"]
    assert (error["row"], error["column"]) == (row, column) and words in error["msg"]
    assert stored_datasets(settings) == 0


def test_limits_name_their_settings(tmp_path: Any) -> None:
    settings = Settings(
        db_path=tmp_path / "runs.db",
        allowed_hosts=["testserver"],
        max_csv_rows=10,
        max_csv_columns=3,
        max_csv_bytes=2000,
    )
    with TestClient(create_app(settings)) as client:
        rows = upload(client, "a\n" + "1\n" * 11)
        assert rows.status_code == 422
        assert "max_csv_rows=10 (setting BACKPROP_MAX_CSV_ROWS)" in rows.json()["detail"][0]["msg"]
        wide = upload(client, "a,b,c,d\n1,2,3,4\n")
        assert (
            wide.status_code == 422
            and "BACKPROP_MAX_CSV_COLUMNS" in wide.json()["detail"][0]["msg"]
        )
        big = upload(client, "a\n" + "1.000000\n" * 300)
        assert big.status_code == 413
        assert "max_csv_bytes=2000 bytes (setting BACKPROP_MAX_CSV_BYTES)" in big.json()["detail"]
        assert stored_datasets(settings) == 0


def test_only_csv_bodies_are_taken(client: TestClient) -> None:
    answer = client.post("/api/datasets", json={"a": 1})
    assert answer.status_code == 415 and "text/csv" in answer.json()["detail"]


def test_a_run_on_an_unknown_data_set_or_column_is_a_422_naming_the_field(
    client: TestClient,
) -> None:
    unknown = client.post("/api/runs", json=csv_run("0123456789abcdef"))
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["field"] == "dataset.id"
    table_id = upload(client, GOOD).json()["id"]
    missing = client.post("/api/runs", json=csv_run(table_id, inputs=["x1", "nope"]))
    assert missing.status_code == 422 and "no column 'nope'" in missing.json()["detail"][0]["msg"]
    shape = client.post("/api/runs", json=csv_run(table_id) | {"layers": [3, 4, 1]})
    assert shape.status_code == 422 and shape.json()["detail"][0]["field"] == "layers"


def test_the_dataset_shows_standardised_inputs_beside_the_raw_ones(client: TestClient) -> None:
    table_id = upload(client, GOOD).json()["id"]
    run = client.post("/api/runs", json=csv_run(table_id)).json()
    data = client.get(f"/api/runs/{run['id']}/dataset").json()
    raw, seen = np.array(data["x_train_raw"]), np.array(data["x_train"])
    np.testing.assert_allclose(data["input_shift"], raw.mean(axis=0))
    np.testing.assert_allclose(data["input_scale"], raw.std(axis=0))
    np.testing.assert_allclose(seen, (raw - raw.mean(axis=0)) / raw.std(axis=0))
    assert data["class_names"] == ["a", "b"] and len(data["x_test"]) == 12


def forward(weights: dict[str, Any], x: np.ndarray, activations: list[str]) -> np.ndarray:
    """The network's output, computed here from the weights the API gives."""
    a = x
    for w, b, name in zip(weights["weights"], weights["biases"], activations, strict=True):
        net = a @ np.array(w) + np.array(b)
        a = np.tanh(net) if name == "tanh" else 1 / (1 + np.exp(-net))
    return a


def test_metrics_equal_accuracy_computed_from_weights_and_dataset(client: TestClient) -> None:
    table_id = upload(client, GOOD).json()["id"]
    run_id = client.post("/api/runs", json=csv_run(table_id)).json()["id"]
    client.post(f"/api/runs/{run_id}/step", json={"count": 40})
    run = client.get(f"/api/runs/{run_id}").json()
    weights = client.get(f"/api/runs/{run_id}/weights").json()
    data = client.get(f"/api/runs/{run_id}/dataset").json()
    expected = {}
    for split, name in (("train", "accuracy"), ("test", "test_accuracy")):
        out = forward(weights, np.array(data[f"x_{split}"]), run["config"]["activation"])
        truth = np.array(data[f"y_{split}"])[:, 0] > 0.5
        expected[name] = float(np.mean((out[:, 0] > 0.5) == truth))
    assert run["metrics"] == pytest.approx(expected)


def test_r2_of_a_regression_run_equals_one_computed_from_weights_and_dataset(
    client: TestClient,
) -> None:
    config = {"layers": [2, 5, 1], "activation": ["tanh", "sigmoid"], "dataset": {"kind": "plane"}}
    run_id = client.post("/api/runs", json=config).json()["id"]
    client.post(f"/api/runs/{run_id}/step", json={"count": 30})
    metrics = client.get(f"/api/runs/{run_id}").json()["metrics"]
    weights = client.get(f"/api/runs/{run_id}/weights").json()
    data = client.get(f"/api/runs/{run_id}/dataset").json()
    for split, name in (("train", "r2"), ("test", "test_r2")):
        y = np.array(data[f"y_{split}"])
        out = forward(weights, np.array(data[f"x_{split}"]), ["tanh", "sigmoid"])
        r2 = 1 - np.sum((y - out) ** 2) / np.sum((y - y.mean(axis=0)) ** 2)
        assert metrics[name] == pytest.approx(r2)


def test_a_csv_run_replays_exactly_after_a_restart(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        table_id = upload(client, GOOD).json()["id"]
        run_id = client.post("/api/runs", json=csv_run(table_id)).json()["id"]
        client.post(f"/api/runs/{run_id}/step", json={"count": 25})
        client.post(f"/api/runs/{run_id}/pause")
        before = client.get(f"/api/runs/{run_id}/weights?step=17").json()
        now = client.get(f"/api/runs/{run_id}/weights").json()
    with TestClient(create_app(settings)) as client:
        assert client.get(f"/api/runs/{run_id}/weights?step=17").json() == before
        assert client.get(f"/api/runs/{run_id}/weights").json() == now
        client.post(f"/api/runs/{run_id}/step", json={"count": 5})
        assert client.get(f"/api/runs/{run_id}").json()["step"] == 30


def test_iris_from_the_api_learns_and_reports_accuracy(client: TestClient) -> None:
    config = {
        "layers": [4, 8, 3],
        "activation": ["tanh", "sigmoid"],
        "loss": "cross_entropy",
        "learning_rate": 0.5,
        "dataset": {"kind": "iris", "seed": 1},
    }
    run_id = client.post("/api/runs", json=config).json()["id"]
    client.post(f"/api/runs/{run_id}/step", json={"count": 500})
    assert client.get(f"/api/runs/{run_id}").json()["metrics"]["test_accuracy"] >= 0.9
    scores = client.get(f"/api/runs/{run_id}/scores").json()
    assert scores["class_names"] == ["setosa", "versicolor", "virginica"]
    assert sum(map(sum, scores["test_confusion"])) == 30


def test_iris_needs_four_inputs_and_three_outputs(client: TestClient) -> None:
    answer = client.post("/api/runs", json={"layers": [2, 3, 1], "dataset": {"kind": "iris"}})
    assert answer.status_code == 422 and answer.json()["detail"][0]["field"] == "layers"


def test_scores_past_their_work_limit_are_left_out_naming_the_setting(tmp_path: Any) -> None:
    settings = Settings(
        db_path=tmp_path / "runs.db", allowed_hosts=["testserver"], max_scores_work=100
    )
    with TestClient(create_app(settings)) as client:
        run_id = client.post(
            "/api/runs", json={"layers": [2, 3, 1], "dataset": {"kind": "xor"}}
        ).json()["id"]
        assert client.get(f"/api/runs/{run_id}").json()["metrics"] is None
        answer = client.get(f"/api/runs/{run_id}/scores")
        assert answer.status_code == 409 and "max_scores_work=100" in answer.json()["detail"]
