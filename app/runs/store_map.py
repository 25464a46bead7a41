"""A run's fields as the store keeps them: mapped here, and nowhere else."""

from __future__ import annotations

from typing import Any

from app.runs.run import Run
from app.store import StoredRun


def update_row(run: Run) -> dict[str, Any]:
    """The fields of the store's row that change as a run trains."""
    return {
        "status": run.status.value,
        "step": run.step,
        "loss": run.loss,
        "test_loss": run.test_loss,
        "message": run.message,
        "learning_rate": run.learning_rate,
        "speed": run.speed,
    }


def stored_run(run: Run) -> StoredRun:
    """The whole row of a new run."""
    return StoredRun(
        id=run.id, config=run.config_dict(), created_at=run.created_at, **update_row(run)
    )
