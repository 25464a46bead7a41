"""Helpers shared by the API, stream and restart tests."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import numpy as np

from app.nn.datasets import make_dataset
from app.nn.trainer import Trainer
from app.runs.config import RunConfig

SMALL: dict[str, Any] = {"layers": [2, 4, 4, 1], "learning_rate": 0.5}


def engine_for(config: dict[str, Any]) -> Trainer:
    """The engine's own trainer for a config, as the server builds it."""
    parsed = RunConfig.model_validate(config)
    return Trainer(parsed.training_config(), make_dataset(parsed.dataset_spec()))


def strict_json(text: str | bytes) -> Any:
    """json.loads that refuses NaN and Infinity, which the server must never write."""

    def refuse(token: str) -> None:
        raise AssertionError(f"bare {token} in JSON")

    return json.loads(text, parse_constant=refuse)


def as_arrays(layers: list[Any]) -> list[np.ndarray]:
    return [np.asarray(layer, dtype=float) for layer in layers]


def wait_for_step(
    client: httpx.Client, run_id: str, step: int, timeout: float = 20.0
) -> dict[str, Any]:
    """Poll until the run has made at least `step` updates."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run: dict[str, Any] = client.get(f"/api/runs/{run_id}").json()
        if run["step"] >= step:
            return run
        time.sleep(0.02)
    raise AssertionError(f"run {run_id} did not reach step {step} in {timeout}s")
