"""A real worker process: its hard memory limit ends the run that passes it, not the process."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from multiprocessing.connection import Connection

import pytest

from app.nn.trainer import Trainer
from app.runs import training
from app.runs.config import RunConfig
from app.runs.loading import build_dataset
from app.runs.messages import Event, Pacing, StartTraining, TrainingEnded, View
from tests.support.runs import SMALL

PACING = Pacing(
    test_loss_every=10,
    progress_interval=0.05,
    step_frame_backlog=16,
    turn=0.002,
    snapshot_bytes_in_flight=1 << 20,
    snapshot_rate=1 << 30,
)


@pytest.fixture
def worker() -> Iterator[Connection]:
    """A worker process with no slack beyond its runs' estimates."""
    context = multiprocessing.get_context("forkserver")
    parent, child = context.Pipe(duplex=True)
    process = context.Process(target=training.serve, args=(child, PACING, 0, 0), daemon=True)
    process.start()
    child.close()
    yield parent
    parent.close()
    process.join(5)
    assert process.exitcode == 0  # it ended because the pipe closed, not because it crashed


def order(
    config: dict[str, object], session: int, memory_bytes: int, updates: int
) -> StartTraining:
    run_config = RunConfig.model_validate(config)
    trainer = Trainer(run_config.training_config(), build_dataset(run_config))
    state = trainer.state().to_bytes()
    view = View(False, 1.0, ())
    return StartTraining(
        f"run-{session}", session, trainer.config, trainer.data, state, 0.5, updates, None, "",
        None, view, memory_bytes,
    )  # fmt: skip


def ended(conn: Connection) -> TrainingEnded:
    while conn.poll(30):
        event: Event = conn.recv()
        if isinstance(event, TrainingEnded):
            return event
    raise AssertionError("no TrainingEnded within 30 s")


def test_a_run_past_its_memory_limit_fails_and_the_process_trains_the_next(
    worker: Connection,
) -> None:
    # A forward pass over 4,000 samples of two 1,024-wide layers needs about 130 MB; the
    # estimate handed to the process says 1 MB, as a wrong estimate would.
    big = SMALL | {"layers": [2, 1024, 1024, 1], "dataset": {"samples": 4000}}
    worker.send(order(big, 1, 1 << 20, updates=5))
    failed = ended(worker)
    assert (failed.run_id, failed.status) == ("run-1", "failed")
    assert failed.message is not None and "memory" in failed.message and failed.state is None
    worker.send(order(SMALL, 2, 64 << 20, updates=5))
    done = ended(worker)
    assert (done.run_id, done.status, done.step) == ("run-2", "paused", 5)
