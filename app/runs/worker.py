"""The training thread of one run: updates until told to stop, a count is done, or it ends.

Per update the loop does only what must happen every step (update, loss, append to the loss
log); everything else is paced by time or by the step number, because at tens of thousands of
updates a second each extra call shows. Weights are copied and serialised only when a frame
is due, losses reach the store in one batch per flush interval, and pause, stop and PATCH are
plain attributes read between two updates.
"""

from __future__ import annotations

import math
import threading
import time
from concurrent.futures import Future
from typing import TYPE_CHECKING

import numpy as np

from app.nn.trainer import Diverged, Trainer, UpdateResult
from app.runs.frames import UpdateFrame, finite_or_none
from app.runs.gate import TrainingGate, Turn
from app.runs.run import Parameters, Run, RunStatus, current_parameters
from app.settings import Settings
from app.store.schedule import should_snapshot

if TYPE_CHECKING:
    from app.store import RunStore


class TrainingSession:
    """One stretch of training in its own thread; `done` resolves when it has ended."""

    def __init__(
        self,
        run: Run,
        store: RunStore,
        settings: Settings,
        count: int | None,
        gate: TrainingGate,
    ) -> None:
        assert run.trainer is not None
        self.run = run
        self.gate = gate
        self.trainer: Trainer = run.trainer
        self.store = store
        self.settings = settings
        self.count = count  # None: until paused, stopped, finished or diverged
        self.request: RunStatus | None = None  # the status to end in, set by pause/stop
        self.done: Future[RunStatus] = Future()
        self._wake = threading.Event()
        self._flushed = self.trainer.step + 1  # the first step whose loss the store lacks
        self._tests: list[tuple[int, float]] = []
        self._tested_at = -1  # the step whose test loss was measured last
        self._result: UpdateResult | None = None
        self._initial_status = run.status
        # Requests for a consistent copy of the parameters, served between two updates.
        self._wanted: list[Future[Parameters]] = []
        self._wanted_lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._main, name=f"run-{run.id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def end(self, status: RunStatus) -> None:
        """Ask the loop to end in `status` after the update in progress (any thread)."""
        self.request = status
        self._wake.set()

    def nudge(self) -> None:
        """Wake a loop sleeping to keep its speed limit (the limit changed)."""
        self._wake.set()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def parameters(self) -> Future[Parameters] | None:
        """A future copy of (step, loss, weights, biases); None once the session has ended."""
        future: Future[Parameters] = Future()
        with self._wanted_lock:
            if self._closed:
                return None
            self._wanted.append(future)
        self._wake.set()  # a paced loop serves it now, not after its next update
        return future

    def takes_rate_changes(self) -> bool:
        """Whether this session will still record a changed `run.learning_rate` itself."""
        with self._wanted_lock:
            return not self._closed

    def _serve_wanted(self) -> None:
        with self._wanted_lock:
            wanted, self._wanted = self._wanted, []
        if wanted:
            parameters = current_parameters(self.run, self.trainer)
            for future in wanted:
                future.set_result(parameters)

    def _main(self) -> None:
        status = RunStatus.PAUSED
        try:
            # Overflow is how a run diverges; it is detected and reported, not warned about.
            with np.errstate(all="ignore"), self.gate.turn_taken() as turn:
                status = self._loop(turn)
        except Exception as error:  # a bug must not leave a run "running" forever
            self.run.message = f"training failed: {error!r}"
            status = RunStatus.STOPPED
        finally:
            self._finish(status)

    def _loop(self, turn: Turn) -> RunStatus:
        run, trainer, log, hub = self.run, self.trainer, self.run.log, self.run.hub
        test_every = self.settings.test_loss_every
        flush_interval = self.settings.flush_interval
        now = time.monotonic()
        flush_at, next_frame, paced_at = now + flush_interval, now, now
        remaining = self.count
        # A manual step sends every step's frame (up to a backlog); free training is paced.
        every_frame_from = (
            trainer.step + self.count - self.settings.step_frame_backlog
            if self.count is not None
            else math.inf
        )
        max_steps = run.config.max_steps
        while self.request is None:
            # max_steps first: a step that reaches it exactly finishes the run.
            if max_steps is not None and trainer.step >= max_steps:
                run.message = f"finished: it reached its step limit of {max_steps:,} (max_steps)"
                return RunStatus.FINISHED
            if remaining is not None:
                if remaining <= 0:
                    return RunStatus.PAUSED
                remaining -= 1
            if run.learning_rate != trainer.learning_rate:
                self._apply_rate()
            try:
                result = trainer.update()
            except Diverged as diverged:
                return self._diverged(diverged)
            loss = trainer.train_loss()
            step = trainer.step
            log.append(loss)
            run.step, run.loss = step, loss
            if step % test_every == 0:
                self._test_loss(step)
            if should_snapshot(step):
                self.store.add_snapshot(run.id, step, trainer.state().to_bytes())
            now = time.monotonic()
            self._result = result
            if self._wanted:
                self._serve_wanted()
            if hub.watched and (step > every_frame_from or now >= next_frame):
                self._publish(result, loss, live=self.count is None)
                next_frame = now + hub.frame_interval
            if now >= flush_at:
                self._flush()
                flush_at = now + flush_interval
                log.trim()
            if run.speed is not None:
                paced_at = self._pace(paced_at, now, run.speed, turn)
            else:
                turn.over(now)
        return self.request

    def _diverged(self, diverged: Diverged) -> RunStatus:
        run, trainer = self.run, self.trainer
        if trainer.step > run.log.last_step:
            # The update was made and overflowed a weight: its step has a (non-finite) loss
            # like any other, so history keeps one entry per step.
            run.loss = trainer.train_loss()
            run.log.append(run.loss)
        run.step = trainer.step
        run.message = diverged.reason
        return RunStatus.DIVERGED

    def _apply_rate(self) -> None:
        rate, step = self.run.learning_rate, self.trainer.step
        self.trainer.learning_rate = rate
        self.run.change_rate_from(step, rate)
        self.store.add_learning_rate_change(self.run.id, step, rate)

    def _test_loss(self, step: int) -> float | None:
        """The test loss at `step`, measured once (every N steps and at frames) and recorded."""
        if step == self._tested_at:
            return self.run.test_loss
        self._tested_at = step
        value = self.trainer.test_loss()
        if value is not None:
            self._tests.append((step, value))
            self.run.log.add_test(step, value)
        self.run.test_loss = value
        return value

    def _pace(self, paced_at: float, now: float, speed: float, turn: Turn) -> float:
        """Sleep so as to make at most `speed` updates a second.

        Pause, stop and a new speed end the sleep; a request for the parameters is served
        during it (a run limited to one update a minute must not keep a viewer waiting).
        """
        paced_at = max(paced_at + 1.0 / speed, now - 1.0)  # no burst after a long stall
        if paced_at <= now:
            turn.over(now)
            return paced_at
        while self.request is None and self.run.speed == speed:
            left = paced_at - time.monotonic()
            if left <= 0:
                break
            turn.wait(self._wake, left)
            self._wake.clear()
            if self._wanted:
                self._serve_wanted()
        return paced_at

    def _publish(self, result: UpdateResult | None, loss: float, live: bool) -> None:
        trainer, hub = self.trainer, self.run.hub
        arrays = {
            "weights": [w.copy() for w in trainer.network.weights],
            "biases": [b.copy() for b in trainer.network.biases],
        }
        if result is not None:
            # The trainer rewrites its gradient buffer on every update: the frame keeps copies.
            arrays["deltas"] = [d.copy() for d in result.backward.bias_gradients]
            arrays["gradients"] = [g.copy() for g in result.backward.weight_gradients]
        test_loss = self._test_loss(trainer.step)
        frame = UpdateFrame(
            trainer.step, finite_or_none(loss), finite_or_none(test_loss), arrays, live, time.time()
        )
        frame.prepare(hub.encodings)  # serialise here, off the event loop
        hub.publish(frame)

    def _flush(self) -> None:
        run = self.run
        first, losses = run.log.between(self._flushed, run.step)
        if losses or self._tests:
            self.store.add_losses(run.id, first, losses, self._tests)
        self._flushed, self._tests = run.step + 1, []
        run.save(self.store)

    def _finish(self, status: RunStatus) -> None:
        """Whatever ended the loop: pin a snapshot, flush, tell the viewers, resolve `done`."""
        run, trainer = self.run, self.trainer
        run.status = status  # first: whatever fails below, the run must not stay "running"
        try:
            latest = run.hub.latest
            if (
                self.count is None
                and run.hub.watched
                and (latest is None or latest.step < run.step)
            ):
                loss = run.loss if run.loss is not None else math.nan
                self._publish(self._result, loss, live=False)  # the state it stopped in
            if run.holds_own_weights(trainer.step):
                blob = trainer.state().to_bytes()
                self.store.add_snapshot(run.id, trainer.step, blob, pinned=True)
            if status != RunStatus.DIVERGED:
                # The run now stands still at this step: its test loss is of this step, not
                # of the last one the every-N schedule (or a frame) happened to measure.
                self._test_loss(trainer.step)
            self._flush()
        finally:
            with self._wanted_lock:
                # A rate PATCHed too late for this session's last update is recorded here,
                # at the step whose next update will use it, as the manager does for an
                # idle run; once closed, the manager records such changes itself.
                if run.learning_rate != trainer.learning_rate:
                    self._apply_rate()
                self._closed = True
            self._serve_wanted()
            run.session = None
            if status != self._initial_status:
                run.hub.publish_status(status.value, run.step, run.message)
            self.done.set_result(status)
