"""Building a run's trainer: for a new run, from a stored run's snapshots, or from the state
its training ended with. These run in a thread and return what they found; the manager writes
it into the run's record.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from app.nn.datasets import Dataset, make_dataset
from app.nn.expr import ExpressionError
from app.nn.losses import loss_named
from app.nn.tabular import TableSource
from app.nn.trainer import Diverged, Trainer, TrainerState
from app.runs.config import RunConfig
from app.runs.errors import InvalidRequest
from app.runs.replay import SnapshotSource, replay
from app.runs.run import Run


class Loaded(NamedTuple):
    """A trainer at a step, the losses there, and what the loading found."""

    trainer: Trainer
    loss: float
    test_loss: float | None
    replayed_from: int  # the step of the snapshot it started from
    diverged: str | None  # the replay diverged: why (the run's status becomes diverged)


class ReplayTooLong(Exception):
    """Recomputing a step would replay more than the limit allows from snapshot `start`."""

    def __init__(self, start: int, work: float) -> None:
        super().__init__(f"replaying from step {start} would cost {work:.3g}")
        self.start, self.work = start, work


def batch_samples(config: RunConfig, dataset: Dataset) -> int:
    rows = len(dataset.x_train)
    return rows if config.batch_size is None else min(config.batch_size, rows)


def build_dataset(config: RunConfig, tables: TableSource | None = None) -> Dataset:
    """The run's data, or InvalidRequest naming the config field at fault."""
    try:
        dataset = make_dataset(config.dataset_spec(tables))
    except ExpressionError as error:  # the `function` kind's expression
        raise InvalidRequest(str(error), "dataset.expr") from None
    except (ValueError, OverflowError, FloatingPointError) as error:
        raise InvalidRequest(str(error), "dataset") from None
    try:
        targets = np.concatenate((dataset.y_train, dataset.y_test))
        loss_named(config.loss).check_targets(targets)
    except ValueError as error:
        raise InvalidRequest(str(error), "loss") from None
    return dataset


# Overflow is how a run diverges; loading one reports it, it does not warn about it.
quietly = np.errstate(all="ignore")


@quietly
def new_trainer(config: RunConfig, dataset: Dataset) -> Loaded:
    trainer = Trainer(config.training_config(), dataset)
    return idle(trainer, 0, None)


@quietly
def trainer_from_state(run: Run, dataset: Dataset, state: bytes) -> Loaded:
    """The trainer a training ended with, from the snapshot it sent."""
    trainer = Trainer(run.config.training_config(), dataset)
    trainer.restore(TrainerState.from_bytes(state))
    trainer.learning_rate = run.rate_at(trainer.step)
    return idle(trainer, trainer.step, None)


@quietly
def trainer_from_store(
    run: Run, dataset: Dataset, store: SnapshotSource, step: int, max_work: float = math.inf
) -> Loaded:
    """The trainer at `step`: the nearest stored snapshot at or before it, then a replay of
    the updates in between (exact under the arithmetic that made them).

    max_work: refuse (ReplayTooLong) a replay of more than this many updates × parameters ×
    samples a batch, which bounds how long any past step takes to recompute."""
    trainer = Trainer(run.config.training_config(), dataset)
    found = store.snapshot_at_or_before(run.id, step)
    start = found[0] if found is not None else 0
    work = (step - start) * run.config.parameter_count * batch_samples(run.config, dataset)
    if work > max_work:
        raise ReplayTooLong(start, work)
    if found is not None:
        trainer.restore(TrainerState.from_bytes(found[1]))
    start, diverged = trainer.step, None
    try:
        replay(trainer, run, step)
    except Diverged as error:
        diverged = error.reason
    return idle(trainer, start, diverged)


def idle(trainer: Trainer, replayed_from: int, diverged: str | None) -> Loaded:
    """The trainer with its losses, ready to wait: no pass over the data kept."""
    loss, test_loss = trainer.train_loss(), trainer.test_loss()
    trainer.forget_passes()
    return Loaded(trainer, loss, test_loss, replayed_from, diverged)
