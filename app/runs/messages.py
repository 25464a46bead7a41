"""What the run manager and the processes that train its runs say to each other.

The manager sends commands; a training process answers with events. Both are plain picklable
tuples, so any executor (app/runs/executor.py) can carry them: a pipe to a local process
today, an actor call or a queue on a cluster tomorrow. Events of one run arrive in the order
they were sent: its losses before the frame that needs them, everything before its end.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from app.nn.datasets import Dataset
from app.nn.trainer import TrainingConfig
from app.runs.frames import FrameParts

Losses = np.ndarray  # float64, one train loss per step


class View(NamedTuple):
    """What the run's viewers want: whether frames are built, how often, in which encodings."""

    watched: bool
    frame_interval: float
    encodings: tuple[str, ...]


class Pacing(NamedTuple):
    """How a training process paces every run it trains (fixed for the process)."""

    test_loss_every: int  # measure the test loss every this many steps
    progress_interval: float  # report losses at least this often (seconds)
    step_frame_backlog: int  # after a manual step, every step's frame up to this many
    turn: float  # seconds of updates a run makes before another run of the process
    snapshot_bytes_in_flight: int  # a run waits while this many snapshot bytes are unstored
    snapshot_rate: float  # bytes a second of regular snapshots a run takes at most


# -- commands: manager -> training process ---------------------------------------------------


class StartTraining(NamedTuple):
    """Train `run_id` from `state` (a snapshot's bytes) until told otherwise.

    updates: make exactly this many updates (a manual step), None to train freely.
    memory_bytes: the run's estimated memory; the process holds it to a hard limit.
    """

    run_id: str
    session: int
    config: TrainingConfig
    dataset: Dataset
    state: bytes
    learning_rate: float
    updates: int | None
    max_steps: int | None
    finish_message: str  # the run's message when it reaches max_steps
    speed: float | None
    view: View
    memory_bytes: int


class EndTraining(NamedTuple):
    """End after the update in progress, in `status`, with `message` (None: keep none)."""

    run_id: str
    status: str
    message: str | None


class ChangeRate(NamedTuple):
    run_id: str
    learning_rate: float


class ChangeSpeed(NamedTuple):
    run_id: str
    speed: float | None


class ChangeView(NamedTuple):
    run_id: str
    view: View


class WantParameters(NamedTuple):
    """Answer with ParametersReady(`request`) between two updates."""

    run_id: str
    request: int


class SnapshotsStored(NamedTuple):
    """`nbytes` of the run's snapshots are committed: it may send that many more."""

    run_id: str
    nbytes: int


Command = (
    StartTraining
    | EndTraining
    | ChangeRate
    | ChangeSpeed
    | ChangeView
    | WantParameters
    | SnapshotsStored
)


# -- events: training process -> manager -----------------------------------------------------


class Progress(NamedTuple):
    """Updates made since the run's previous Progress, with what the store must keep.

    losses[i] is the train loss after step first_step + i. `rates` are learning-rate changes
    the run took up: (step, rate) means the updates after `step` use `rate`. `frame`, if
    any, is of the last step.
    """

    run_id: str
    session: int
    first_step: int
    losses: Losses
    test_losses: list[tuple[int, float]]
    snapshots: list[tuple[int, bytes]]
    rates: list[tuple[int, float]]
    frame: FrameParts | None


class ParametersReady(NamedTuple):
    run_id: str
    request: int
    step: int
    weights: list[np.ndarray]
    biases: list[np.ndarray]


class TrainingEnded(NamedTuple):
    """The run stopped training, after its last Progress.

    state: the snapshot's bytes at `step`; None when the process was lost (then `step` is
    unknown to it and the manager keeps the last step it was told of).
    """

    run_id: str
    session: int
    status: str
    message: str | None
    step: int
    state: bytes | None
    loss: float | None
    test_loss: float | None
    learning_rate: float | None  # the rate its last update used; None when lost


Event = Progress | ParametersReady | TrainingEnded
