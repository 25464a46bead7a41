"""Recompute any past step exactly: restore the nearest earlier snapshot, then replay.

Training is deterministic (app.nn.trainer), so replaying the same updates with the same
learning rates gives bit-identical weights; the rates come from the run's recorded changes,
never from the snapshot, so a change made between two snapshots is honoured.
"""

from __future__ import annotations

from typing import Protocol

from app.nn.trainer import Trainer
from app.runs.run import Run


class SnapshotSource(Protocol):
    def snapshot_at_or_before(self, run_id: str, step: int) -> tuple[int, bytes] | None: ...


def replay(trainer: Trainer, run: Run, target: int) -> None:
    """Make updates until `trainer.step == target`, each with the rate recorded for it."""
    while trainer.step < target:
        trainer.learning_rate = run.rate_at(trainer.step)
        trainer.update()
    trainer.learning_rate = run.rate_at(trainer.step)
