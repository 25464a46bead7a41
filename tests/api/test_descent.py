"""POST /api/descent serves the engine's one-variable gradient descent."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


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
