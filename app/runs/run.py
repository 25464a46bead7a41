"""A run: its config, its trainer (loaded lazily), its status and the stream of its frames."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from app.nn.activations import Array
from app.nn.datasets import Dataset
from app.nn.trainer import Trainer
from app.runs.config import RunConfig
from app.runs.hub import StreamHub
from app.runs.losslog import LossLog

if TYPE_CHECKING:
    from app.runs.worker import TrainingSession
    from app.store import RunStore


class RunStatus(StrEnum):
    PAUSED = "paused"
    RUNNING = "running"
    FINISHED = "finished"  # max_steps reached
    STOPPED = "stopped"
    DIVERGED = "diverged"
    INTERRUPTED = "interrupted"  # the server went down while it trained


# Statuses from which a run can train again (an interrupted run restores its last snapshot).
TRAINABLE = frozenset({RunStatus.PAUSED, RunStatus.INTERRUPTED})


@dataclass
class Run:
    """One run. Fields the worker writes (step, loss, ...) are read by the API as they stand."""

    id: str
    config: RunConfig
    created_at: str
    hub: StreamHub
    log: LossLog
    status: RunStatus = RunStatus.PAUSED
    step: int = 0
    loss: float | None = None
    test_loss: float | None = None
    message: str | None = None
    learning_rate: float = 0.5
    speed: float | None = None
    # (step, rate): updates after `step` use `rate`; replays apply them to stay exact.
    rate_changes: list[tuple[int, float]] = field(default_factory=list)
    # (step, arithmetic): updates from `step` on were made under that arithmetic
    # (app/nn/arithmetic.py); empty for a run stored before arithmetic was recorded.
    engines: list[tuple[int, str]] = field(default_factory=list)
    # The step whose weights the trainer holds recomputed, at load, under an arithmetic other
    # than the one that made them: not exactly the original weights until the next update.
    recomputed_at: int | None = None
    trainer: Trainer | None = None
    dataset: Dataset | None = None
    session: TrainingSession | None = None  # the worker thread, while one is active

    @property
    def busy(self) -> bool:
        """A worker is making updates (free training or a manual step)."""
        return self.session is not None

    def save(self, store: RunStore) -> None:
        """Queue what the store's row keeps of the run's state (the latest queued wins)."""
        store.update_run(
            self.id,
            status=self.status.value,
            step=self.step,
            loss=self.loss,
            test_loss=self.test_loss,
            message=self.message,
            learning_rate=self.learning_rate,
            speed=self.speed,
        )

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
        """Whether the trainer's weights at `step` are the run's own, not recomputed under
        another arithmetic at load: only the run's own may be stored as a snapshot, which
        counts as exact ever after (recomputed ones are found again by replaying)."""
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


def current_parameters(run: Run, trainer: Trainer) -> Parameters:
    """Copy the trainer's parameters; call only from the thread that owns the trainer."""
    network = trainer.network
    weights, biases = [w.copy() for w in network.weights], [b.copy() for b in network.biases]
    return Parameters(trainer.step, run.loss, weights, biases, run.holds_own_weights(trainer.step))
