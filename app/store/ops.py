"""What callers hand the writer thread: plain tuples, cheap to build under the GIL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import NamedTuple

from app.store.models import StoredRun, WeightEdit


class Waiter:
    """Lets a synchronous call wait until the writer has committed (or failed) its batch."""

    __slots__ = ("done", "error", "result")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: str | None = None
        self.result: list[str] = []


class RunUpdate(NamedTuple):
    status: str
    step: int
    loss: float | None
    test_loss: float | None
    message: str | None
    learning_rate: float
    speed: float | None


class CreateRun(NamedTuple):
    run: StoredRun
    config_json: str  # serialised by the caller, so a bad config fails there, not in a batch
    waiter: Waiter


class DeleteRun(NamedTuple):
    run_id: str
    waiter: Waiter


class AddLosses(NamedTuple):
    run_id: str
    first_step: int
    losses: Sequence[float]
    test_losses: Sequence[tuple[int, float]]


class AddSnapshot(NamedTuple):
    run_id: str
    step: int
    blob: bytes
    pinned: bool
    on_stored: Callable[[], None] | None = None  # called (by the writer) once committed


class AddLearningRate(NamedTuple):
    run_id: str
    step: int
    learning_rate: float


class AddEngine(NamedTuple):
    run_id: str
    step: int
    engine: str


class SetConfig(NamedTuple):
    """A run's config changed where that is allowed (its name)."""

    run_id: str
    config_json: str


class AddWeightEdit(NamedTuple):
    run_id: str
    edit: WeightEdit


class TruncateAfter(NamedTuple):
    run_id: str
    step: int


class MarkInterrupted(NamedTuple):
    message: str
    waiter: Waiter


class Barrier(NamedTuple):
    """Nothing to write: its waiter is released once everything queued before it is committed."""

    waiter: Waiter


Op = (
    CreateRun
    | DeleteRun
    | AddLosses
    | AddSnapshot
    | AddLearningRate
    | AddEngine
    | AddWeightEdit
    | SetConfig
    | TruncateAfter
    | MarkInterrupted
    | Barrier
)


class Batch(NamedTuple):
    """Everything queued during one flush interval, in order; run updates coalesced."""

    ops: list[Op]
    updates: dict[str, RunUpdate]

    def then(self, later: Batch) -> Batch:
        """This batch followed by `later`, as one (a failed batch retried with what came since)."""
        return Batch(self.ops + later.ops, self.updates | later.updates)
