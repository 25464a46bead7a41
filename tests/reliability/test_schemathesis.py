"""Schemathesis against /openapi.json of a real server: no 5xx, no answer off the schema (#2).

Runs the CLI in a subprocess (bounded by examples per operation, ~30-60 s here) and reads its
ndjson event log. Step requests and data sizes are kept small by the server's own limit
settings, so the fuzzer spends its time on breadth rather than on training.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.core.failures import Failure

from tests.support.server import LiveServer

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)
LIMITS = {
    "BACKPROP_MAX_STEP_COUNT": "20",
    "BACKPROP_MAX_SAMPLES": "400",
    "BACKPROP_MAX_PARAMETERS": "5000",
    "BACKPROP_MAX_TRAINING_RUNS": "2",
}
# Errors inside Schemathesis itself, not findings about the server: CPython 3.11 raises this
# SystemError while Schemathesis compiles generated code. (The history answer's [step, rate]
# pairs are plain two-number arrays in the schema, not `prefixItems`, which Schemathesis
# rewrote into an invalid `items: [...]`: that answer is now checked like any other.)
TOOL_ERRORS = ("AST constructor recursion depth mismatch",)


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    path = tmp_path_factory.mktemp("fuzz") / "runs.db"
    with LiveServer(path, env=LIMITS) as server:
        yield server


def run_schemathesis(server: LiveServer, events: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{server.url}/openapi.json",
        "--checks", CHECKS, "--max-examples", "15", "--seed", "5",
        "--phases", "examples,coverage,fuzzing", "--no-shrink", "--workers", "2",
        "--request-timeout", "20", "--report", "ndjson", "--report-ndjson-path", str(events),
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)


def findings(events: Path) -> tuple[list[str], list[str], int]:
    """(failed checks, errors not caused by the tool, scenarios run) from the ndjson log."""
    failures: list[str] = []
    errors: list[str] = []
    scenarios = 0
    for line in events.read_text().splitlines():
        event: dict[str, Any] = json.loads(line)
        kind, body = next(iter(event.items()))
        if kind == "ScenarioFinished":
            scenarios += 1
            failures += _failed_checks(body)
        elif kind == "NonFatalError" and not any(e in str(body["value"]) for e in TOOL_ERRORS):
            errors.append(f"{body['label']}: {str(body['value'])[:300]}")
    return failures, errors, scenarios


def _failed_checks(scenario: dict[str, Any]) -> list[str]:
    label = scenario["recorder"].get("label", "?")
    out = []
    for checks in scenario["recorder"].get("checks", {}).values():
        for check in checks:
            if check.get("status") == "failure":
                failure = check.get("failure_info", {}).get("failure", {})
                out.append(f"{label}: {check['name']}: {str(failure.get('message'))[:300]}")
    return out


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_schema_break(
    fuzzed_server: LiveServer, tmp_path: Path
) -> None:
    events = tmp_path / "events.ndjson"
    result = run_schemathesis(fuzzed_server, events)
    assert events.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    failures, errors, scenarios = findings(events)
    assert scenarios > 20, result.stdout[-3000:]
    assert failures == [], "\n".join(failures)
    assert errors == [], "\n".join(errors)
    log = fuzzed_server.log_path.read_text()
    assert "Traceback" not in log and '" 500' not in log


def test_a_history_answer_with_rate_changes_is_checked_against_its_schema(
    live_server: LiveServer,
) -> None:
    """The fuzzer's runs never change their rate; here the [step, rate] pairs are not empty.

    Schemathesis' own validator reads the server's schema (before, it gave up on the history
    answer with "Invalid Schema Object ... learning_rates -> items -> items"), accepts the real
    answer, and refuses one whose pairs are not two numbers.

    A server of its own, not the fuzzed one: the fuzzer may leave runs training (how many
    depends on its two workers' order), and with its max_training_runs=2 a step here was then
    refused with a 429, so the rate changes were recorded at step 0.
    """
    http = httpx.Client(base_url=live_server.url, timeout=30)
    run_id = http.post("/api/runs", json={"layers": [2, 3, 1]}).json()["id"]
    for rate in (0.3, 0.7):
        stepped = http.post(f"/api/runs/{run_id}/step", json={"count": 5})
        assert stepped.status_code == 200, stepped.text
        assert http.patch(f"/api/runs/{run_id}", json={"learning_rate": rate}).status_code == 200
    answer = http.get(f"/api/runs/{run_id}/history")
    assert answer.json()["learning_rates"] == [[5, 0.3], [10, 0.7]]  # the wire shape
    schema = schemathesis.openapi.from_url(f"{live_server.url}/openapi.json")
    history = schema["/api/runs/{run_id}/history"]["GET"]
    history.validate_response(answer)
    for pairs in ([[5, 0.3, 1.0]], [[5]], [["5", 0.3]], [5, 0.3]):
        tampered = httpx.Response(
            200, json={**answer.json(), "learning_rates": pairs}, request=answer.request
        )
        tampered.elapsed = datetime.timedelta(0)  # read by the validator
        with pytest.raises(Failure, match="Response violates schema"):
            history.validate_response(tampered)
