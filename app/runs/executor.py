"""Where runs train: the one interface the run manager uses, whatever runs the training.

An executor takes the manager's commands (app/runs/messages.py) for a run and hands back the
run's events, on the event loop, in the order the run produced them. The manager neither knows
nor cares where the updates happen. The default, app/runs/process_pool.py, trains in a pool
of local processes.

Another engine can take its place without touching the API, the manager or the store: a Ray
executor, for instance, would start one actor per training run in `start` (the actor holding
a `RunTraining` from app/runs/training.py), turn `send` into calls of the actor's `handle`,
and have the actor push its events through a Ray queue that a task on the server drains into
`on_event` with `loop.call_soon_threadsafe`. A lost actor becomes a `TrainingEnded` with
status "interrupted" and no state, exactly as a lost local process does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from app.runs.messages import Command, Event, StartTraining

EventSink = Callable[[Event], None]


class Executor(Protocol):
    """Trains runs somewhere and reports on them. Every method is called on the event loop."""

    async def start(self, order: StartTraining) -> None:
        """Begin training `order.run_id`; its events go to the sink given at construction.

        Every start ends with exactly one TrainingEnded for its session, however the
        training ends (asked to, finished, diverged, failed or lost)."""

    def send(self, command: Command) -> None:
        """Deliver `command` to the training of `command.run_id`; ignored if it has none."""

    def training(self) -> int:
        """How many runs are training now (started and not yet ended)."""

    def workers(self) -> list[tuple[int, list[str]]]:
        """(process id, ids of the runs it trains) of each worker, for /healthz and tests."""

    async def close(self, timeout: float) -> None:
        """Stop every worker; those still there after `timeout` seconds are killed."""
