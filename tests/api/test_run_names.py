"""A run's optional name: set at creation, bounded, refused with a 422 naming `name`."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.runs.config import NAME_MAX_LENGTH
from app.settings import Settings

TINY = {"layers": [2, 2, 1]}


def test_a_run_keeps_the_name_it_was_given(client: TestClient) -> None:
    run = client.post("/api/runs", json={**TINY, "name": "Spiral, try 2"}).json()
    assert run["config"]["name"] == "Spiral, try 2"
    assert client.get(f"/api/runs/{run['id']}").json()["config"]["name"] == "Spiral, try 2"
    listed = {r["id"]: r["config"]["name"] for r in client.get("/api/runs").json()}
    assert listed[run["id"]] == "Spiral, try 2"


def test_a_run_without_a_name_has_none(client: TestClient) -> None:
    assert client.post("/api/runs", json=TINY).json()["config"]["name"] is None


@pytest.mark.parametrize("name", ["", "x" * (NAME_MAX_LENGTH + 1)])
def test_an_empty_or_too_long_name_is_refused(client: TestClient, name: str) -> None:
    answer = client.post("/api/runs", json={**TINY, "name": name})
    assert answer.status_code == 422
    [error] = answer.json()["detail"]
    assert error["field"] == "name"
    assert error["type"] in ("string_too_short", "string_too_long")


def test_a_patch_with_a_too_long_name_is_refused(client: TestClient) -> None:
    run = client.post("/api/runs", json=TINY).json()
    answer = client.patch(f"/api/runs/{run['id']}", json={"name": "x" * (NAME_MAX_LENGTH + 1)})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["field"] == "name"


def test_a_patch_renames_the_run_in_any_status(client: TestClient) -> None:
    run = client.post("/api/runs", json={**TINY, "name": "before"}).json()
    client.post(f"/api/runs/{run['id']}/stop")
    answer = client.patch(f"/api/runs/{run['id']}", json={"name": "after"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["config"]["name"] == "after"
    assert client.get(f"/api/runs/{run['id']}").json()["config"]["name"] == "after"


def test_a_new_name_is_stored(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        run = client.post("/api/runs", json={**TINY, "name": "before"}).json()
        assert client.patch(f"/api/runs/{run['id']}", json={"name": "after"}).status_code == 200
    with TestClient(create_app(settings)) as client:  # a restart reads it back
        assert client.get(f"/api/runs/{run['id']}").json()["config"]["name"] == "after"
