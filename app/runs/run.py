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


@dataclass(frozen=True)
class Parameters:
    """A consistent copy of a run's weights and biases at one step."""

    step: int
    loss: float | None
    weights: list[Array]
    biases: list[Array]


def current_parameters(run: Run, trainer: Trainer) -> Parameters:
    """Copy the trainer's parameters; call only from the thread that owns the trainer."""
    network = trainer.network
    weights = [w.copy() for w in network.weights]
    return Parameters(trainer.step, run.loss, weights, [b.copy() for b in network.biases])
