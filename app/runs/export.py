"""One JSON document for a run: what GET /api/runs/{id}/export and `backprop-live train
--export` write. Its `config` is accepted unchanged by POST /api/runs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.nn.activations import Array
from app.nn.metrics import Scores

EXPORT_FORMAT = "backprop-live run export 1"


def export_document(
    *,
    run_id: str,
    status: str,
    config: dict[str, Any],
    step: int,
    weights: list[Array],
    biases: list[Array],
    exact: bool,
    history: dict[str, Any],
    scores: Scores | None,
) -> dict[str, Any]:
    """The document; arrays stay numpy arrays (orjson writes them)."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "format": EXPORT_FORMAT,
        "exported_at": now,
        "id": run_id,
        "status": status,
        "config": config,
        "dataset": config["dataset"],
        "weights": {"step": step, "weights": weights, "biases": biases, "exact": exact},
        "history": history,
        "scores": None if scores is None else scores.__dict__,
    }
