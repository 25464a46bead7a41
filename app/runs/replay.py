"""Recompute any past step exactly: restore the nearest earlier snapshot, then replay.

Training is deterministic (app.nn.trainer), so replaying the same updates with the same
learning rates gives bit-identical weights; the rates come from the run's recorded changes,
never from the snapshot, so a change made between two snapshots is honoured. So do weights set
by hand: each is applied at the step it was made.
"""

from __future__ import annotations

from typing import Protocol

from app.nn.trainer import Trainer
from app.runs.run import Run
from app.store.models import WeightEdit


class SnapshotSource(Protocol):
    def snapshot_at_or_before(self, run_id: str, step: int) -> tuple[int, bytes] | None: ...


def replay(trainer: Trainer, run: Run, target: int) -> None:
    """Make updates until `trainer.step == target`, each with the rate recorded for it, and
    apply the weights set by hand at each step on the way (those at the trainer's own step
    are in it already: a snapshot at a step holds the edits made there)."""
    start = trainer.step
    while True:
        if trainer.step > start:
            apply_edits(trainer, [e for e in run.edits if e.step == trainer.step])
        if trainer.step >= target:
            break
        trainer.learning_rate = run.rate_at(trainer.step)
        trainer.update()
    trainer.learning_rate = run.rate_at(trainer.step)


def apply_edits(trainer: Trainer, edits: list[WeightEdit]) -> None:
    """Set weights and biases by hand, through a snapshot: the trainer forgets whatever it
    computed from the old weights."""
    if not edits:
        return
    state = trainer.state()
    for edit in edits:
        if edit.from_neuron is None:
            state.biases[edit.layer][edit.to_neuron] = edit.value
        else:
            state.weights[edit.layer][edit.from_neuron, edit.to_neuron] = edit.value
    trainer.restore(state)
