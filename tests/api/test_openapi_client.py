"""The API generates a clean client: short operation ids, one error schema, no warnings, and
the generated client creates, steps and reads a run on a real server."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from tests.reliability.support import SMALL_RUN
from tests.support.server import LiveServer

PACKAGE = "backprop_live_client"
OPERATIONS = {
    "create_run",
    "list_runs",
    "get_run",
    "patch_run",
    "delete_run",
    "step_run",
    "resume_run",
    "pause_run",
    "stop_run",
    "get_weights",
    "explain_next_update",
    "get_dataset",
    "preview_dataset",
    "get_history",
    "descend",
    "descent_curve",
    "set_weight",
    "healthz",
    "upload_dataset",
    "get_dataset_info",
    "get_scores",
    "export_run",
}


def test_every_operation_has_a_short_unique_id(tmp_path: Path) -> None:
    schema = create_app(Settings(db_path=tmp_path / "runs.db")).openapi()
    ids = [op["operationId"] for item in schema["paths"].values() for op in item.values()]
    assert sorted(ids) == sorted(OPERATIONS)


def test_every_error_answer_uses_the_one_error_schema(tmp_path: Path) -> None:
    schema = create_app(Settings(db_path=tmp_path / "runs.db")).openapi()
    for item in schema["paths"].values():
        for operation in item.values():
            for code, response in operation["responses"].items():
                if code.startswith(("4", "5")) and code != "422":
                    body = response["content"]["application/json"]["schema"]
                    assert body == {"$ref": "#/components/schemas/ErrorOut"}, code
    assert schema["components"]["schemas"]["ErrorOut"]["required"] == ["detail"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("client") / "runs.db") as running:
        yield running


@pytest.fixture(scope="module")
def generated(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """`openapi-python-client generate` from the server's /openapi.json, then imported."""
    where = tmp_path_factory.mktemp("generated")
    spec = where / "openapi.json"
    spec.write_text(json.dumps(httpx.get(f"{server.url}/openapi.json").json()))
    command = [sys.executable, "-m", "openapi_python_client", "generate"]
    command += ["--path", str(spec), "--output-path", str(where / "client")]
    # The generator formats its output with ruff, which lives beside this interpreter.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env={**os.environ, "PATH": path}
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "warning" not in output.lower(), output
    sys.path.insert(0, str(where / "client"))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where / "client"))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_the_generated_client_has_one_function_module_per_operation(generated: ModuleType) -> None:
    api = Path(generated.__file__ or "").parent / "api"
    modules = {p.stem for p in api.glob("*/*.py") if p.stem != "__init__"}
    assert modules == OPERATIONS


def test_the_generated_client_creates_steps_and_reads_a_run(
    generated: ModuleType, server: LiveServer
) -> None:
    def load(name: str) -> ModuleType:
        return importlib.import_module(f"{PACKAGE}.{name}")

    runs, models = "api.runs", load("models")
    client = generated.Client(base_url=server.url)
    created = load(f"{runs}.create_run").sync(
        client=client, body=models.RunConfig.from_dict(SMALL_RUN)
    )
    assert isinstance(created, models.RunOut) and created.step == 0
    stepped = load(f"{runs}.step_run").sync(
        created.id, client=client, body=models.StepRequest(count=3)
    )
    assert isinstance(stepped, models.RunOut) and stepped.step == 3
    history = load(f"{runs}.get_history").sync(created.id, client=client)
    assert isinstance(history, models.BoundedHistoryOut) and history.steps == [0, 1, 2, 3]
    weights = load(f"{runs}.get_weights").sync(created.id, client=client)
    assert isinstance(weights, models.WeightsOut) and weights.step == 3
    raw = httpx.get(f"{server.url}/api/runs/{created.id}/weights").json()
    assert weights.weights == raw["weights"] and weights.biases == raw["biases"]
    missing = load(f"{runs}.get_run").sync("no-such-run", client=client)
    assert isinstance(missing, models.ErrorOut) and "no-such-run" in missing.detail
