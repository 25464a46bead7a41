"""Training inside a worker process: the runs one process trains, taking turns at its core.

A process serves commands from the manager (app/runs/messages.py) and trains its runs in
turns of `Pacing.turn` seconds each, so several runs share a core fairly and a command is
never kept waiting longer than one turn. Per update a run does only what must happen every
step (update, loss, keep the loss); everything else is paced by time or step number, because
at tens of thousands of updates a second each extra call shows. Losses, snapshots and frames
go back to the manager in one Progress event at least every `progress_interval` seconds, and
at once when a frame is due, so a viewer sees an update a few milliseconds after it is made.

Nothing here writes a run's record: the manager does, from these events.
"""

from __future__ import annotations

import math
import os
import resource
import signal
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

import numpy as np

from app.nn.trainer import Diverged, Trainer, TrainerState, UpdateResult
from app.runs.frames import FrameParts, build_frame
from app.runs.messages import (
    ChangeRate,
    ChangeSpeed,
    ChangeView,
    Command,
    EndTraining,
    Event,
    Pacing,
    ParametersReady,
    Progress,
    SnapshotsStored,
    StartTraining,
    TrainingEnded,
    View,
    WantParameters,
)
from app.runs.status import RunStatus
from app.store.schedule import should_snapshot

Send = Callable[[Event], None]


class RunTraining:
    """One run being trained in this process, from a StartTraining until it ends."""

    def __init__(self, order: StartTraining, pacing: Pacing, send: Send) -> None:
        self.run_id, self.session, self.pacing, self.send = (
            order.run_id,
            order.session,
            pacing,
            send,
        )
        self.trainer = Trainer(order.config, order.dataset)
        self.trainer.restore(TrainerState.from_bytes(order.state))
        self.trainer.learning_rate = order.learning_rate
        self.remaining, self.manual = order.updates, order.updates is not None
        self.max_steps, self.finish_message = order.max_steps, order.finish_message
        # A speed paces free training; a manual step makes its updates at once.
        self.speed = order.speed if order.updates is None else None
        self.view = order.view
        self.memory_bytes = order.memory_bytes
        now = time.monotonic()
        self.wake_at = self.paced_at = self.next_frame = now
        self.report_at = now + pacing.progress_interval
        # A manual step sends every step's frame, up to a backlog; free training is paced.
        start = self.trainer.step
        self.every_frame_from = (
            start + order.updates - pacing.step_frame_backlog if order.updates else math.inf
        )
        self.first_unsent = start + 1  # the first step whose loss the manager lacks
        self.losses: list[float] = []
        self.tests: list[tuple[int, float]] = []
        self.snapshots: list[tuple[int, bytes]] = []
        self.rates: list[tuple[int, float]] = []
        self.wanted: list[int] = []
        self.unstored_snapshot_bytes = 0
        self.next_snapshot_at = now
        self.tested_at = -1
        self.test_loss: float | None = None
        self.loss: float | None = None
        self.last_frame_step = start
        self.result: UpdateResult | None = None
        self.end_request: tuple[str, str | None] | None = None
        self.ended = False

    # -- commands --------------------------------------------------------------------------

    def handle(self, command: Command) -> None:
        match command:
            case EndTraining(_, status, message):
                self.end_request = (status, message)
                self.wake_at = 0.0
            case ChangeRate(_, rate):
                # Between two updates already: the next one uses it; the manager hears now.
                self._take_rate(rate)
                self._report(time.monotonic())
            case ChangeSpeed(_, speed) if not self.manual:
                self.speed, self.wake_at = speed, 0.0
            case ChangeView(_, view):
                self.view = view
            case WantParameters(_, request):
                self.wanted.append(request)
                self._serve_parameters()  # between two updates already
            case SnapshotsStored(_, nbytes):
                self.unstored_snapshot_bytes -= nbytes

    # -- training --------------------------------------------------------------------------

    def train_for(self, deadline: float) -> None:
        """Make updates until `deadline`, or until the run must wait or has ended."""
        now = time.monotonic()
        while now < deadline:
            if self.end_request is not None:
                self._end(*self.end_request)
                return
            if self.max_steps is not None and self.trainer.step >= self.max_steps:
                self._end(RunStatus.FINISHED, self.finish_message)
                return
            if self.remaining is not None and self.remaining <= 0:
                self._end(RunStatus.PAUSED, None)
                return
            if self.unstored_snapshot_bytes > self.pacing.snapshot_bytes_in_flight:
                # The store is behind: wait for it rather than pile snapshots up in memory.
                self._report(now)
                self.wake_at = now + 0.01
                return
            if not self._update():
                return
            now = time.monotonic()
            if self._paced(now):
                return
        self._report_if_due(now)

    def _update(self) -> bool:
        """One update and its bookkeeping; False when it diverged (the run has ended)."""
        trainer = self.trainer
        try:
            self.result = trainer.update()
        except Diverged as diverged:
            self._diverged(diverged)
            return False
        if self.remaining is not None:
            self.remaining -= 1
        step = trainer.step
        self.loss = trainer.train_loss()
        self.losses.append(self.loss)
        if step % self.pacing.test_loss_every == 0:
            self._measure_test_loss()
        if should_snapshot(step) and time.monotonic() >= self.next_snapshot_at:
            self._take_snapshot(pinned=False)
        if self.wanted:
            self._serve_parameters()
        now = time.monotonic()
        if self.view.watched and (step > self.every_frame_from or now >= self.next_frame):
            self._report(now, with_frame=True)
            self.next_frame = now + self.view.frame_interval
        return True

    def _take_rate(self, rate: float) -> None:
        # Reported even when unchanged: the manager waits for this to answer the PATCH.
        self.trainer.learning_rate = rate
        self.rates.append((self.trainer.step, rate))

    def _paced(self, now: float) -> bool:
        """Keep to `speed` updates a second: True when the run must sleep until `wake_at`."""
        if self.speed is None:
            return False
        self.paced_at = max(self.paced_at + 1.0 / self.speed, now - 1.0)  # no burst after a stall
        if self.paced_at <= now:
            return False
        if self.losses:
            self._report(now)  # it sleeps: the manager need not wait for what it has
        self.wake_at = self.paced_at
        return True

    def _diverged(self, diverged: Diverged) -> None:
        if self.trainer.step >= self.first_unsent + len(self.losses):
            # The update was made and overflowed a weight: its step has a (non-finite) loss
            # like any other, so history keeps one entry per step.
            self.loss = self.trainer.train_loss()
            self.losses.append(self.loss)
        self._end(RunStatus.DIVERGED, diverged.reason)

    def _measure_test_loss(self) -> None:
        """The test loss at this step, measured once (every N steps and at frames)."""
        step = self.trainer.step
        if step == self.tested_at:
            return
        self.tested_at, self.test_loss = step, self.trainer.test_loss()
        if self.test_loss is not None:
            self.tests.append((step, self.test_loss))

    def _take_snapshot(self, pinned: bool) -> bytes:
        blob = self.trainer.state().to_bytes()
        if not pinned:
            self.snapshots.append((self.trainer.step, blob))
            self.unstored_snapshot_bytes += len(blob)
            # A big network's snapshots would otherwise be most of its work and its disk
            # traffic: the regular ones are spaced to at most snapshot_bytes_per_second.
            self.next_snapshot_at = time.monotonic() + len(blob) / self.pacing.snapshot_rate
        return blob

    def _serve_parameters(self) -> None:
        network, step = self.trainer.network, self.trainer.step
        weights = [w.copy() for w in network.weights]
        biases = [b.copy() for b in network.biases]
        for request in self.wanted:
            self.send(ParametersReady(self.run_id, request, step, weights, biases))
        self.wanted = []

    # -- reporting -------------------------------------------------------------------------

    def _report_if_due(self, now: float) -> None:
        if now >= self.report_at:
            self._report(now)

    def _report(self, now: float, with_frame: bool = False) -> None:
        """Send what the manager lacks: losses, test losses, snapshots, rates, a frame."""
        frame = None
        if with_frame:
            self._measure_test_loss()
            frame = self._frame(live=not self.manual)
        losses = np.array(self.losses, dtype=np.float64)
        self.send(
            Progress(
                self.run_id,
                self.session,
                self.first_unsent,
                losses,
                self.tests,
                self.snapshots,
                self.rates,
                frame,
            )
        )
        self.first_unsent += len(self.losses)
        self.losses, self.tests, self.snapshots, self.rates = [], [], [], []
        self.report_at = now + self.pacing.progress_interval

    def _frame(self, live: bool) -> FrameParts:
        trainer = self.trainer
        self.last_frame_step = trainer.step
        arrays = {"weights": trainer.network.weights, "biases": trainer.network.biases}
        if self.result is not None:
            arrays["deltas"] = self.result.backward.bias_gradients
            arrays["gradients"] = self.result.backward.weight_gradients
        rate = self.trainer.learning_rate if trainer.step > 0 else None
        penalized = trainer.config.regularization is not None
        data_loss = trainer.train_loss(data_only=True) if penalized else None
        return build_frame(
            trainer.step,
            self.loss,
            self.test_loss,
            rate,
            live,
            arrays,
            self.view.encodings,
            data_loss,
        )

    def _end(self, status: str, message: str | None) -> None:
        """Report the state it stopped in, then TrainingEnded with a snapshot of it."""
        trainer = self.trainer
        if status != RunStatus.DIVERGED:
            # The run now stands still at this step: its test loss is of this step.
            self._measure_test_loss()
        # A viewer of free training is shown the state it stopped in.
        unseen = not self.manual and self.view.watched and self.last_frame_step < trainer.step
        self._report(time.monotonic(), with_frame=unseen)
        if self.wanted:
            self._serve_parameters()
        self.send(
            TrainingEnded(
                self.run_id,
                self.session,
                str(status),
                message,
                trainer.step,
                self._take_snapshot(pinned=True),
                self.loss if self.loss is not None else trainer.train_loss(),
                self.test_loss if self.tested_at == trainer.step else trainer.test_loss(),
                trainer.learning_rate,
            )
        )
        self.ended = True

    def fail(self, message: str) -> None:
        """End without a snapshot: the run's state here cannot be trusted (a bug, memory).

        The losses of the updates it made are sound and are sent first."""
        self.snapshots = []  # a snapshot taken mid-failure is not trusted either
        self._report(time.monotonic())
        self.send(
            TrainingEnded(
                self.run_id, self.session, RunStatus.FAILED, message, -1, None, None, None, None
            )
        )
        self.ended = True


class TrainingProcess:
    """The loop of one worker process: commands in, turns of training, events out."""

    def __init__(self, conn: Connection, pacing: Pacing, memory_slack: int) -> None:
        self.conn, self.pacing, self.memory_slack = conn, pacing, memory_slack
        self.runs: dict[str, RunTraining] = {}

    def serve(self) -> None:
        while True:
            now = time.monotonic()
            ready = [run for run in self.runs.values() if run.wake_at <= now]
            timeout = 0.0 if ready else self._sleep(now)
            try:
                if self.conn.poll(timeout):
                    self._receive()
                    continue
            except (EOFError, OSError):
                return  # the server is gone: so is the reason to train
            for run in ready:
                self._turn(run)

    def _sleep(self, now: float) -> float | None:
        """How long to wait for a command: until the first run wakes (at most a minute: a
        run paced at one update an eon still wakes, and a timeout must be finite)."""
        wakes = [run.wake_at for run in self.runs.values()]
        return min(60.0, max(0.0, min(wakes) - now)) if wakes else None

    def _receive(self) -> None:
        while self.conn.poll(0):
            command: Command = self.conn.recv()
            if isinstance(command, StartTraining):
                self._start(command)
            elif (run := self.runs.get(command.run_id)) is not None:
                run.handle(command)

    def _start(self, order: StartTraining) -> None:
        self._limit_memory(order.memory_bytes)
        try:
            self.runs[order.run_id] = RunTraining(order, self.pacing, self.conn.send)
        except MemoryError:
            self.conn.send(_memory_failure(order))
            self._limit_memory(0)

    def _turn(self, run: RunTraining) -> None:
        try:
            run.train_for(time.monotonic() + self.pacing.turn)
        except MemoryError:
            run.fail(memory_message(run.memory_bytes))
        except Exception as error:  # a bug must end this run, not the process's other runs
            run.fail(f"training failed: {error!r}")
        if run.ended:
            del self.runs[run.run_id]
            self._limit_memory(0)

    def _limit_memory(self, extra: int) -> None:
        """Hold the process to what its runs were estimated to need, plus slack: a wrong
        estimate ends a run with MemoryError, never the machine."""
        budget = sum(run.memory_bytes for run in self.runs.values()) + extra
        limit = data_in_use() + budget + self.memory_slack
        resource.setrlimit(resource.RLIMIT_DATA, (limit, resource.RLIM_INFINITY))


def memory_message(estimate: int) -> str:
    return (
        f"the run needed more memory than its estimate of {estimate / 2**20:.0f} MiB "
        "allows its worker process; a smaller network, data set or batch needs less"
    )


def _memory_failure(order: StartTraining) -> TrainingEnded:
    return TrainingEnded(
        order.run_id,
        order.session,
        RunStatus.FAILED,
        memory_message(order.memory_bytes),
        -1,
        None,
        None,
        None,
        None,
    )


def data_in_use() -> int:
    """This process's data segment now (what RLIMIT_DATA limits), from /proc."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    return 0


def serve(conn: Connection, pacing: Pacing, memory_slack: int, niceness: int) -> None:
    """A worker process's entry point."""
    # Ctrl-C in a terminal reaches the whole process group: the server ends its runs itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Below the server: its event loop and store writer must get a core the moment they need
    # one, however many runs train (training takes what is left, which is almost everything).
    os.nice(niceness)
    # Overflow is how a run diverges; it is detected and reported, not warned about.
    with np.errstate(all="ignore"):
        TrainingProcess(conn, pacing, memory_slack).serve()


__all__ = ["RunTraining", "TrainingProcess", "View", "serve"]
