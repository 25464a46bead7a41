"""What the real app answers when something fails: headers on a 500, no path in a 503, and a
422 (not a 500) for a data set range that would overflow."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app
from app.runs.errors import StorageUnavailable
from app.settings import Settings
from app.store import StoreError

FUNCTION_RUN = {"layers": [1, 4, 1], "dataset": {"kind": "function", "expr": "x"}}


@pytest.fixture
def failing_app(settings: Settings) -> FastAPI:
    """The app with two routes that fail as a bug and a broken disk would."""
    app = create_app(settings)

    @app.get("/api/fail")
    def fail() -> None:
        raise ZeroDivisionError("an injected failure")

    @app.get("/api/fail-storage")
    def fail_storage() -> None:
        # Worded as the store words a failed read.
        raise StoreError(f"store {settings.db_path}: read failed: disk I/O error")

    @app.get("/api/fail-writes")
    def fail_writes() -> None:
        reason = f"disk I/O error writing {settings.db_path}-wal"
        raise StorageUnavailable(f"storage unavailable: {reason}")

    return app


@pytest.fixture
def failing(failing_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(failing_app) as client:
        yield client


def test_a_500_carries_the_security_headers(failing: TestClient) -> None:
    response = failing.get("/api/fail")
    assert response.status_code == 500
    assert response.json() == {"detail": "internal server error"}
    assert response.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_a_503_names_the_file_but_not_where_it_is(failing: TestClient, settings: Settings) -> None:
    response = failing.get("/api/fail-storage")
    assert response.status_code == 503
    assert response.json() == {
        "detail": "storage failed: store runs.db: read failed: disk I/O error"
    }
    assert str(settings.db_path.parent) not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    unavailable = failing.get("/api/fail-writes")
    assert unavailable.status_code == 503
    assert unavailable.json() == {
        "detail": "storage unavailable: disk I/O error writing runs.db-wal"
    }


@pytest.mark.parametrize(("field", "value"), [("x_min", -1e308), ("x_max", 1e308)])
def test_a_function_range_that_would_overflow_is_a_422_naming_the_field(
    client: TestClient, field: str, value: float
) -> None:
    dataset = {**FUNCTION_RUN["dataset"], "x_min": -1e308, "x_max": 1e308}  # type: ignore[dict-item]
    if field == "x_max":
        dataset["x_min"] = -1.0
    response = client.post("/api/runs", json={**FUNCTION_RUN, "dataset": dataset})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["field"] == f"dataset.{field}"
    assert "max_dataset_x=1e+06" in error["msg"] and "BACKPROP_MAX_DATASET_X" in error["msg"]
    assert response.headers["x-frame-options"] == "DENY"


def test_a_function_range_within_the_limit_trains(client: TestClient) -> None:
    dataset = {**FUNCTION_RUN["dataset"], "x_min": -1e6, "x_max": 1e6}  # type: ignore[dict-item]
    response = client.post("/api/runs", json={**FUNCTION_RUN, "dataset": dataset})
    assert response.status_code == 201
