"""POST /api/descent serves the engine's one-variable gradient descent."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.support.descent import SLOW_TRACE


def test_descent_on_the_designs_example(client: TestClient) -> None:
    body = {"expr": "(x + 2)**2", "x0": 0, "learning_rate": 0.1, "steps": 50}
    answer = client.post("/api/descent", json=body).json()
    trace = answer["trace"]
    assert len(trace) == 51 and answer["stopped"] is None
    assert trace[0] == {"step": 0, "x": 0.0, "y": 4.0, "slope": 4.0}
    assert trace[1]["x"] == pytest.approx(-0.4)
    assert trace[-1]["x"] == pytest.approx(-2.0, abs=1e-4)


def test_a_bad_expression_is_a_422_naming_expr(client: TestClient) -> None:
    response = client.post("/api/descent", json={"expr": "(x + 2", "x0": 0})
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["field"] == "expr" and error["loc"] == ["body", "expr"]
    assert error["msg"]


def test_a_diverging_descent_says_where_and_why_it_stopped(client: TestClient) -> None:
    body = {"expr": "-exp(x)", "x0": 0, "learning_rate": 1e6, "steps": 10}
    answer = client.post("/api/descent", json=body).json()
    assert len(answer["trace"]) == 1  # x = 1e6 after one move: e^x overflows
    assert answer["stopped"].startswith("stopped after step 0: the next move, to x = 0.0 −")


def test_the_curve_of_sigmoid_is_sampled_evenly(client: TestClient) -> None:
    query = {"expr": "sigmoid(x)", "x_min": -2, "x_max": 2, "points": 5}
    answer = client.get("/api/descent/curve", params=query).json()
    assert answer["x"] == [-2.0, -1.0, 0.0, 1.0, 2.0]
    assert answer["y"] == pytest.approx([1 / (1 + math.exp(-x)) for x in answer["x"]])


def test_the_curve_is_null_where_f_is_undefined(client: TestClient) -> None:
    query = {"expr": "log(x)", "x_min": -1, "x_max": 1, "points": 3}
    answer = client.get("/api/descent/curve", params=query).json()
    assert answer["y"] == [None, None, 0.0]


def test_more_curve_points_than_the_setting_is_a_422_naming_it(
    client: TestClient, settings: Settings
) -> None:
    points = settings.max_descent_curve_points + 1
    response = client.get("/api/descent/curve", params={"points": points})
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["field"] == "points" and "max_descent_curve_points" in error["msg"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"x_min": 1, "x_max": 1}, "x_max"),
        ({"x_min": 2, "x_max": -2}, "x_max"),
        ({"x_min": "nan"}, "x_min"),
        ({"x_max": 1e301}, "x_max"),
        ({"expr": "x +"}, "expr"),
        ({"points": 1}, "points"),
    ],
)
def test_a_bad_curve_query_is_a_422_naming_the_field(
    client: TestClient, query: dict[str, Any], field: str
) -> None:
    response = client.get("/api/descent/curve", params=query)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == field


def test_a_trace_past_the_cpu_budget_is_a_422_naming_the_setting(tmp_path: Path) -> None:
    settings = Settings(
        db_path=tmp_path / "runs.db", allowed_hosts=["testserver"], descent_cpu_seconds=0.05
    )
    with TestClient(create_app(settings)) as client:
        response = client.post("/api/descent", json=SLOW_TRACE)
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["field"] == "steps" and "descent_cpu_seconds" in error["msg"]


def test_a_trace_continues_from_far_out(client: TestClient) -> None:
    """A page stepping on through a diverging trace sends x0 wherever the points flew."""
    body = {"expr": "(x + 2)**2", "x0": 1e100, "learning_rate": 1.1, "steps": 2}
    trace = client.post("/api/descent", json=body).json()["trace"]
    assert trace[1]["x"] == pytest.approx(1e100 - 1.1 * 2 * (1e100 + 2))
