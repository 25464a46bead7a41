"""Bad input everywhere gets a clear 4xx, never a 5xx, and the server carries on."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.reliability.support import SMALL_RUN, create_run, json_has_bare_non_finite

JSON = {"content-type": "application/json"}


def assert_clear_4xx(response: httpx.Response, *fields: str) -> None:
    """A 4xx whose JSON `detail` mentions every one of `fields`."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert not json_has_bare_non_finite(response.content)
    detail = str(response.json()["detail"])
    for field in fields:
        assert field in detail, (field, detail)


@pytest.fixture(scope="module")
def run_id(client: httpx.Client) -> str:
    return create_run(client)


@pytest.mark.parametrize("body", ["", "{", "not json", '{"layers": [2, 1],}', "\xff\xfe", "[]"])
def test_a_body_that_is_not_a_json_object(client: httpx.Client, body: str) -> None:
    response = client.post("/api/runs", content=body.encode("latin-1"), headers=JSON)
    assert response.status_code == 422
    assert response.json()["detail"]


def test_a_form_post_is_refused(client: httpx.Client) -> None:
    response = client.post("/api/runs", data={"layers": "2"})
    assert_clear_4xx(response, "application/json")
    assert response.status_code == 415


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"layers": "2,4,1"}, "layers"),
        ({"layers": [2, "four", 1]}, "layers"),
        ({"layers": [2, 4.5, 1]}, "layers"),
        ({"learning_rate": "fast"}, "learning_rate"),
        ({"activation": "softsign"}, "activation"),
        ({"activation": ["relu"] * 7}, "activation"),
        ({"bias": "maybe"}, "bias"),
        ({"batch_size": []}, "batch_size"),
        ({"dataset": "teacher"}, "dataset"),
        ({"start": "now"}, "start"),
    ],
)
def test_wrong_types_name_the_field(
    client: httpx.Client, change: dict[str, Any], field: str
) -> None:
    assert_clear_4xx(client.post("/api/runs", json={**SMALL_RUN, **change}), field)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
@pytest.mark.parametrize(
    "template",
    [
        '{"layers": [2, 4, 1], "learning_rate": %s}',
        '{"layers": [2, 4, 1], "dataset": {"noise": %s}}',
        '{"layers": [2, 4, 1], "speed": %s}',
    ],
)
def test_non_finite_numbers_in_a_run_config(
    client: httpx.Client, template: str, number: str
) -> None:
    response = client.post("/api/runs", content=template.replace("%s", number), headers=JSON)
    assert_clear_4xx(response)
    assert response.status_code == 422


@pytest.mark.parametrize("number", ["NaN", "Infinity", "1e999"])
def test_non_finite_numbers_elsewhere(client: httpx.Client, run_id: str, number: str) -> None:
    patch = client.patch(
        f"/api/runs/{run_id}", content='{"learning_rate": %s}'.replace("%s", number), headers=JSON
    )
    assert_clear_4xx(patch, "learning_rate")
    descent = client.post(
        "/api/descent", content='{"expr": "x**2", "x0": %s}'.replace("%s", number), headers=JSON
    )
    assert_clear_4xx(descent, "x0")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"layers": [2, 10**30, 1]}, "layers"),
        ({"seed": 10**40}, "seed"),
        ({"max_steps": 10**100}, "max_steps"),
        ({"batch_size": 2**64}, "batch_size"),
        ({"dataset": {"samples": 10**18}}, "samples"),
        ({"learning_rate": 10**400}, "learning_rate"),
    ],
)
def test_huge_integers(client: httpx.Client, change: dict[str, Any], field: str) -> None:
    assert_clear_4xx(client.post("/api/runs", json={**SMALL_RUN, **change}), field)


def test_huge_integers_on_step_and_weights(client: httpx.Client, run_id: str) -> None:
    assert_clear_4xx(client.post(f"/api/runs/{run_id}/step", json={"count": 10**30}), "count")
    assert_clear_4xx(client.get(f"/api/runs/{run_id}/weights", params={"step": 10**30}))
    assert_clear_4xx(client.get(f"/api/runs/{run_id}/weights", params={"step": "abc"}), "step")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"layers": [2, 0, 1]}, "layers"),
        ({"layers": [2, -3, 1]}, "layers"),
        ({"layers": [2]}, "layers"),
        ({"layers": []}, "layers"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"learning_rate": -1}, "learning_rate"),
        ({"batch_size": 0}, "batch_size"),
        ({"max_steps": 0}, "max_steps"),
        ({"dataset": {"samples": 0}}, "samples"),
        ({"dataset": {"samples": -10}}, "samples"),
    ],
)
def test_sizes_of_zero_or_less(client: httpx.Client, change: dict[str, Any], field: str) -> None:
    assert_clear_4xx(client.post("/api/runs", json={**SMALL_RUN, **change}), field)


def test_sizes_of_zero_or_less_elsewhere(client: httpx.Client, run_id: str) -> None:
    assert_clear_4xx(client.post(f"/api/runs/{run_id}/step", json={"count": 0}), "count")
    assert_clear_4xx(client.post(f"/api/runs/{run_id}/step", json={"count": -1}), "count")
    assert_clear_4xx(client.get(f"/api/runs/{run_id}/weights", params={"step": -1}), "step")
    assert_clear_4xx(client.post("/api/descent", json={"learning_rate": 0}), "learning_rate")
    assert_clear_4xx(client.post("/api/descent", json={"steps": -1}), "steps")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/runs", {**SMALL_RUN, "layerz": [2, 1]}, "layerz"),
        ("/api/runs", {**SMALL_RUN, "dataset": {"kind": "teacher", "sampels": 5}}, "sampels"),
        ("/api/descent", {"expr": "x**2", "rate": 0.1}, "rate"),
    ],
)
def test_unknown_fields(client: httpx.Client, path: str, body: dict[str, Any], field: str) -> None:
    assert_clear_4xx(client.post(path, json=body), field)


def test_unknown_fields_on_step_and_patch(client: httpx.Client, run_id: str) -> None:
    assert_clear_4xx(client.post(f"/api/runs/{run_id}/step", json={"cuont": 2}), "cuont")
    assert_clear_4xx(client.patch(f"/api/runs/{run_id}", json={"lr": 2}), "lr")


@pytest.mark.parametrize(
    "expr",
    [
        "__import__('os').system('touch /tmp/pwned')",
        "().__class__.__bases__[0].__subclasses__()",
        "lambda: 1",
        "x; import os",
        "open('/etc/passwd')",
        "eval('1')",
        "x" * 5000,
        "(" * 500 + "x" + ")" * 500,
        "-" * 1000 + "x",
        "9**9**9**9",
        "10**400",
        "1e999",
        "1/0",
        "log(0)",
        "sqrt(-1)",
        "x + ",
        "",
        "x\x00",
        "x + ９",
        "exp(exp(exp(exp(exp(exp(x))))))" + "+x" * 300,
    ],
)
def test_hostile_expressions_on_descent(client: httpx.Client, expr: str) -> None:
    response = client.post("/api/descent", json={"expr": expr, "x0": 1, "steps": 5})
    assert_clear_4xx(response, "expr")
    assert response.status_code == 422


@pytest.mark.parametrize("expr", ["x**1e9", "exp(x)", "exp(exp(x))", "1/x", "log(x)"])
def test_expressions_that_blow_up_give_finite_json(client: httpx.Client, expr: str) -> None:
    # Valid expressions whose values overflow: the answer is still strict JSON.
    response = client.post("/api/descent", json={"expr": expr, "x0": 3, "steps": 50})
    assert response.status_code in (200, 422), response.text
    assert not json_has_bare_non_finite(response.content)


@pytest.mark.parametrize(
    "path", ["/api/runs/nope", "/api/runs/" + "a" * 5000, "/api/runs/%00", "/api/runs/..%2f.."]
)
def test_unknown_runs_are_404(client: httpx.Client, path: str) -> None:
    for method, suffix in (("GET", ""), ("GET", "/weights"), ("POST", "/step"), ("DELETE", "")):
        response = client.request(method, path + suffix)
        assert response.status_code in (404, 414), (method, suffix, response.status_code)


def test_the_server_carries_on(client: httpx.Client, run_id: str) -> None:
    response = client.post(f"/api/runs/{run_id}/step", json={"count": 3})
    assert response.status_code == 200
    assert response.json()["step"] >= 3
    assert client.get("/healthz").status_code == 200
