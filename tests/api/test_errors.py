"""Validation errors answer 422 with loc/field/msg/type only: no input echoed, never a 500."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.security.apps import BASE_URL, make_app

JSON = {"content-type": "application/json"}


@pytest.fixture
def client() -> TestClient:
    return TestClient(make_app(max_body_bytes=1_000_000), base_url=BASE_URL)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_get_a_422_not_a_500(client: TestClient, number: str) -> None:
    body = '{"size": 3, "rate": ' + number + "}"
    response = client.post("/api/items", content=body, headers=JSON)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert set(error) == {"loc", "field", "msg", "type"}
    assert error["loc"] == ["body", "rate"] and error["field"] == "rate"
    assert error["type"] == "finite_number"


def test_errors_do_not_echo_the_input(client: TestClient) -> None:
    secret = "do-not-echo-" + "z" * 50
    response = client.post("/api/items", json={"size": secret, "rate": 0.5}, headers=JSON)
    assert response.status_code == 422
    assert secret not in response.text


@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [
        ('{"size": 0, "rate": 1}', ["body", "size"], "greater_than"),
        ('{"size": -5, "rate": 1}', ["body", "size"], "greater_than"),
        ('{"size": 10000000000000000000000000000, "rate": 1}', ["body", "size"], "less_than_equal"),
        ('{"size": "3x", "rate": 1}', ["body", "size"], "int_parsing"),
        ('{"size": 3, "rate": 1, "extra": 1}', ["body", "extra"], "extra_forbidden"),
        ('{"rate": 1}', ["body", "size"], "missing"),
        ("[1, 2]", ["body"], "model_attributes_type"),
    ],
)
def test_bad_fields_name_the_field(
    client: TestClient, body: str, loc: list[str], kind: str
) -> None:
    response = client.post("/api/items", content=body, headers=JSON)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert {"loc": loc, "type": kind} in [{"loc": e["loc"], "type": e["type"]} for e in errors]


@pytest.mark.parametrize("body", ["{", "not json", '{"size": 3,}', "\x00\x01"])
def test_malformed_json_says_so(client: TestClient, body: str) -> None:
    response = client.post("/api/items", content=body, headers=JSON)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["type"] == "json_invalid"
    assert error["msg"].startswith("the request body is not valid JSON: ")
    assert "at character" in error["msg"]


def test_a_huge_unknown_field_name_is_not_echoed_in_full(client: TestClient) -> None:
    name = "k" * 10_000
    response = client.post("/api/items", json={"size": 3, "rate": 1, name: 1})
    assert response.status_code == 422
    assert len(response.text) < 1_000
