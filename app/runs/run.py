"""A run's record: its config, where it stands, its history of settings, and its viewers.

The run manager (app/runs/manager.py) is the only writer of every field here, on the event
loop; training reports events to it and never touches a record.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from app.nn.activations import Array
from app.nn.datasets import Dataset
from app.nn.trainer import Trainer
from app.runs.config import RunConfig
from app.runs.hub import StreamHub
from app.runs.recent_history import RecentHistory
from app.runs.status import TRAINABLE, RunStatus
from app.runs.summary import HistorySummary
from app.store.models import WeightEdit

__all__ = ["TRAINABLE", "Parameters", "Run", "RunStatus", "Training"]


@dataclass(eq=False)
class Training:
    """A stretch of training in progress: from a start until its TrainingEnded.

    count: the updates a manual step asked for; None while the run trains freely.
    ended: resolves with the status the run ended in.
    rate_taken: resolves once the training took up a changed learning rate (or ended).
    """

    session: int
    count: int | None
    ended: asyncio.Future[RunStatus]
    rate_taken: asyncio.Future[None] | None = None


@dataclass(eq=False)
class Run:
    """One run, as the manager keeps it."""

    id: str
    config: RunConfig
    created_at: str
    hub: StreamHub
    recent: RecentHistory  # the recent losses, for the stream (the store has them all)
    status: RunStatus = RunStatus.PAUSED
    step: int = 0
    loss: float | None = None
    test_loss: float | None = None
    message: str | None = None
    learning_rate: float = 0.5
    speed: float | None = None
    # (step, rate): updates after `step` use `rate`; replays apply them to stay exact.
    rate_changes: list[tuple[int, float]] = field(default_factory=list)
    # Weights and biases set by hand, in order; replays apply them at their steps.
    edits: list[WeightEdit] = field(default_factory=list)
    # (step, arithmetic): updates from `step` on were made under that arithmetic
    # (app/nn/arithmetic.py); empty for a run stored before arithmetic was recorded.
    engines: list[tuple[int, str]] = field(default_factory=list)
    # The step whose weights were recomputed, at load, under an arithmetic other than the one
    # that made them: not exactly the original weights until the next update.
    recomputed_at: int | None = None
    # An idle run's trainer, loaded when first needed; None while it trains elsewhere.
    trainer: Trainer | None = None
    # The snapshot its last training ended with, until a trainer is built from it.
    resume_state: bytes | None = None
    dataset: Dataset | None = None
    training: Training | None = None
    # The whole history in buckets, built from the store when first asked for, then kept.
    summary: HistorySummary | None = None

    @property
    def busy(self) -> bool:
        """Updates are being made (free training or a manual step)."""
        return self.training is not None

    def config_dict(self) -> dict[str, Any]:
        return self.config.model_dump(mode="json")

    def rate_at(self, step: int) -> float:
        """The learning rate of the update that follows `step`."""
        rate = self.config.learning_rate
        for changed_at, value in self.rate_changes:
            if changed_at <= step:
                rate = value
        return rate

    def change_rate_from(self, step: int, rate: float) -> None:
        """Record that updates after `step` use `rate`: a second change at the same step
        replaces the first, as the store's row for (run, step) does."""
        if self.rate_changes and self.rate_changes[-1][0] == step:
            self.rate_changes.pop()
        self.rate_changes.append((step, rate))

    def holds_own_weights(self, step: int) -> bool:
        """Whether the weights at `step` are the run's own, not recomputed under another
        arithmetic at load: only the run's own may be stored as a snapshot, which counts as
        exact ever after (recomputed ones are found again by replaying)."""
        return step != self.recomputed_at

    def made_under(self, first: int, last: int, arithmetic: str) -> bool:
        """Whether every update from step `first` up to step `last` was made under
        `arithmetic`: then replaying them under it gives the original weights bit for bit."""
        if first >= last:
            return True
        in_effect = [engine for changed_at, engine in self.engines if changed_at <= first][-1:]
        if not in_effect:
            return False  # made before the run's first record: unknown
        later = [engine for changed_at, engine in self.engines if first < changed_at < last]
        return all(engine == arithmetic for engine in in_effect + later)


@dataclass(frozen=True)
class Parameters:
    """A consistent copy of a run's weights and biases at one step.

    exact: bit for bit the weights the run had at that step; False when they were recomputed
    under another arithmetic than the one that made them (they may differ, usually in the last
    bits).
    """

    step: int
    loss: float | None
    weights: list[Array]
    biases: list[Array]
    exact: bool = True


def trainer_parameters(run: Run, trainer: Trainer, loss: float | None) -> Parameters:
    """Copy a trainer's parameters, at its step."""
    network = trainer.network
    weights, biases = [w.copy() for w in network.weights], [b.copy() for b in network.biases]
    return Parameters(trainer.step, loss, weights, biases, run.holds_own_weights(trainer.step))
