"""The RunManager: every run of this server, their workers, and the store behind them.

Created in the app's lifespan and handed to routes through a dependency. Its coroutines run
on the event loop and never block it: training happens in each run's worker thread, and
anything that touches SQLite or numpy at length goes through `asyncio.to_thread`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from datetime import UTC, datetime

import numpy as np

from app.nn.anatomy import UpdateAnatomy, next_update_anatomy
from app.nn.arithmetic import current_arithmetic
from app.nn.datasets import Dataset, make_dataset
from app.nn.expr import ExpressionError
from app.nn.losses import loss_named
from app.nn.trainer import Diverged, Trainer, TrainerState
from app.runs.config import RunConfig
from app.runs.errors import InvalidRequest, LimitExceeded, RunConflict, RunNotFound
from app.runs.frames import finite_or_none
from app.runs.gate import TrainingGate
from app.runs.hub import StreamHub
from app.runs.limits import check_config, check_step_count, over_limit
from app.runs.losslog import LossLog
from app.runs.replay import replay, trainer_at
from app.runs.run import TRAINABLE, Parameters, Run, RunStatus, current_parameters
from app.runs.worker import TrainingSession
from app.settings import Settings
from app.store import RunStore, StoredRun
from app.store.losses import LossArrays

History = tuple[list[int], list[float | None], list[float | None]]


class RunManager:
    """Owns all runs; each public coroutine is one API action."""

    def __init__(self, settings: Settings, store: RunStore, arithmetic: str | None = None) -> None:
        self.settings = settings
        self.store = store
        # What this server's updates are made under (app/nn/arithmetic.py), recorded per run.
        self.arithmetic = current_arithmetic() if arithmetic is None else arithmetic
        self.runs: dict[str, Run] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loading: dict[str, asyncio.Lock] = {}
        self.gate = TrainingGate(settings.training_turn)

    # -- life cycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the stored runs; those the last server left running become `interrupted`."""
        self._loop = asyncio.get_running_loop()
        stored = await asyncio.to_thread(self._read_stored)
        for row, changes, engines in stored:
            run = self._new_run(row.id, RunConfig.model_validate(row.config), row.created_at)
            run.status, run.step, run.message = RunStatus(row.status), row.step, row.message
            run.loss, run.test_loss = row.loss, row.test_loss
            run.learning_rate, run.speed, run.rate_changes = row.learning_rate, row.speed, changes
            run.engines = engines
            run.log.reset(row.step + 1)
            self.runs[run.id] = run

    def _read_stored(
        self,
    ) -> list[tuple[StoredRun, list[tuple[int, float]], list[tuple[int, str]]]]:
        self.store.mark_running_as_interrupted()
        store = self.store
        return [
            (row, store.learning_rate_changes(row.id), store.engine_changes(row.id))
            for row in store.list_runs()
        ]

    async def shutdown(self) -> None:
        """End every worker as `interrupted` (a pinned snapshot each), then flush the store."""
        sessions = [run.session for run in self.runs.values() if run.session is not None]
        for session in sessions:
            session.run.message = "the server stopped while this run was training"
            session.end(RunStatus.INTERRUPTED)
        # One deadline for all: they were all told to end at once, so a stuck worker must not
        # add its own timeout to everyone else's.
        deadline = time.monotonic() + self.settings.shutdown_timeout
        for session in sessions:
            await asyncio.to_thread(session.join, max(0.0, deadline - time.monotonic()))
        await asyncio.to_thread(self.store.flush)

    # -- lookup ------------------------------------------------------------------------------

    def list(self) -> list[Run]:
        return sorted(self.runs.values(), key=lambda run: run.created_at, reverse=True)

    def get(self, run_id: str) -> Run:
        run = self.runs.get(run_id)
        if run is None:
            raise RunNotFound(f"no run with id {run_id!r}")
        return run

    # -- actions -----------------------------------------------------------------------------

    async def create(self, config: RunConfig) -> Run:
        check_config(config, self.settings)
        if config.start == "running":
            self._check_capacity()
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        run = self._new_run(uuid.uuid4().hex[:12], config, now)
        run.learning_rate, run.speed = config.learning_rate, config.speed
        await asyncio.to_thread(self._initialise, run)
        self.runs[run.id] = run
        if config.start == "running":
            try:
                self._check_capacity()  # again: others may have started while this one was built
            except LimitExceeded:
                await self.delete(run.id)
                raise
            await self._resume(run)
        return run

    async def step(self, run_id: str, count: int) -> Run:
        """Make exactly `count` updates (fewer only if the run finishes or diverges)."""
        check_step_count(count, self.settings)
        run = await self._trainable(run_id, "step")
        session = self._start_session(run, count)
        await asyncio.wrap_future(session.done)
        return run

    async def resume(self, run_id: str) -> Run:
        run = self.get(run_id)
        if run.status == RunStatus.RUNNING:
            return run
        run = await self._trainable(run_id, "resume")
        await self._resume(run)
        return run

    async def pause(self, run_id: str) -> Run:
        return await self._halt(run_id, RunStatus.PAUSED)

    async def stop(self, run_id: str) -> Run:
        return await self._halt(run_id, RunStatus.STOPPED)

    async def delete(self, run_id: str) -> None:
        run = self.get(run_id)
        session = run.session
        if session is not None:
            session.end(RunStatus.STOPPED)
            await asyncio.wrap_future(session.done)
        self.runs.pop(run_id, None)
        self._loading.pop(run_id, None)
        run.hub.close()
        await asyncio.to_thread(self.store.delete_run, run_id)

    def patch(self, run_id: str, changes: dict[str, float | None]) -> Run:
        """Change the learning rate and/or speed from the next update on, and tell viewers.

        A run that can never train again (stopped, finished, diverged) has no next update:
        RunConflict, rather than a change recorded for nothing.
        """
        run = self.get(run_id)
        if run.status not in TRAINABLE and run.status != RunStatus.RUNNING:
            raise RunConflict(f"cannot change run {run_id}: it is {run.status.value}")
        if "speed" in changes:
            run.speed = changes["speed"]
        rate = changes.get("learning_rate")
        if rate is not None and rate != run.learning_rate:
            run.learning_rate = rate
            session = run.session
            if session is None or not session.takes_rate_changes():
                # Idle: record it now, at the step whose next update will use it. A busy
                # worker records it itself, at the step where it starts using it, or as it
                # ends if it ends first (the check and the worker's close share a lock).
                self._record_rate(run, rate)
        run.save(self.store)
        if run.session is not None:
            run.session.nudge()  # a sleeping paced loop picks up the new speed now
        # Every viewer's controls follow (a `settings` frame; see app.runs.frames).
        run.hub.publish_settings(run.learning_rate, run.speed, run.step)
        return run

    def _record_rate(self, run: Run, rate: float) -> None:
        if run.trainer is not None and run.trainer.learning_rate == rate:
            return  # a session that has just ended took it up already
        run.change_rate_from(run.step, rate)
        self.store.add_learning_rate_change(run.id, run.step, rate)
        if run.trainer is not None:
            run.trainer.learning_rate = rate

    # -- reading -----------------------------------------------------------------------------

    async def parameters(self, run_id: str, step: int | None = None) -> Parameters:
        """Weights and biases after exactly `step` updates (now, if None)."""
        run = self.get(run_id)
        if step is not None and step > run.step:
            raise RunNotFound(f"step {step} not reached: run {run_id} is at step {run.step}")
        if step is None or step == run.step:
            parameters = await self.current(run)
            if step is None or parameters.step == step:
                return parameters
            # A running run moved on while its worker was asked: recompute the step asked for.
        dataset = await self._dataset(run)
        trainer, start = await asyncio.to_thread(trainer_at, run, dataset, self.store, step)
        exact = run.made_under(start, step, self.arithmetic)
        return dataclasses.replace(current_parameters(run, trainer), exact=exact)

    async def current(self, run: Run) -> Parameters:
        """A consistent copy of the run's parameters now, from its worker if it has one."""
        while True:
            session = run.session
            if session is None:
                await self._ensure_loaded(run)
                if run.session is None and run.trainer is not None:
                    return current_parameters(run, run.trainer)
                continue  # a worker started while the run was loading: ask it
            future = session.parameters()
            if future is not None:
                return await asyncio.wrap_future(future)
            # The worker is letting go of the run: wait for that rather than spin on the loop.
            await asyncio.wrap_future(session.done)

    async def history(self, run_id: str, up_to: int | None = None) -> History:
        """Every stored loss, then the losses not yet flushed, up to step `up_to`."""
        run = self.get(run_id)
        steps, loss, test = await asyncio.to_thread(self.store.history, run.id)
        last = run.step if up_to is None else up_to
        while steps and steps[-1] > last:
            steps.pop(), loss.pop(), test.pop()
        first = (steps[-1] + 1) if steps else 0
        tail, tests = run.log.pairs(first, last), run.log.tests_between(first, last)
        steps += [step for step, _ in tail]
        loss += [finite_or_none(value) for _, value in tail]
        test += [finite_or_none(tests.get(step)) for step, _ in tail]
        return steps, loss, test

    async def history_arrays(self, run_id: str) -> LossArrays:
        """What `history` answers, kept in numpy arrays (NaN for None): cheap to thin."""
        run = self.get(run_id)
        stored = await asyncio.to_thread(self.store.history_arrays, run.id)
        last = run.step
        stored = stored.up_to(last)
        first = int(stored.steps[-1]) + 1 if len(stored.steps) else 0
        start, tail = run.log.between(first, last)
        return stored.extended(start, tail, run.log.tests_between(first, last))

    async def explain(self, run_id: str, sample: int) -> UpdateAnatomy:
        """Every number of the run's next update, following one sample of its batch."""
        run = self.get(run_id)
        if run.session is not None:
            raise RunConflict(f"cannot explain run {run_id} while it trains; pause it first")
        await self._ensure_loaded(run)
        if run.session is not None or run.trainer is None:
            raise RunConflict(f"cannot explain run {run_id} while it trains; pause it first")
        # Copied here, on the loop, so a step started meanwhile cannot tear what is read.
        trainer = run.trainer.copy()
        try:
            return await asyncio.to_thread(next_update_anatomy, trainer, sample)
        except IndexError as error:
            raise InvalidRequest(str(error), "sample") from None
        except Diverged as error:
            raise RunConflict(f"the next update of run {run_id} diverges: {error.reason}") from None

    async def dataset(self, run_id: str) -> Dataset:
        return await self._dataset(self.get(run_id))

    # -- internals ---------------------------------------------------------------------------

    def _new_run(self, run_id: str, config: RunConfig, created_at: str) -> Run:
        assert self._loop is not None, "RunManager.start() first"
        hub = StreamHub(self._loop, self.settings.default_fps)
        log = LossLog(0, self.settings.loss_log_capacity)
        return Run(run_id, config, created_at, hub, log, learning_rate=config.learning_rate)

    def _initialise(self, run: Run) -> None:
        """Build the data and the trainer, and store the run with its step-0 loss (thread)."""
        try:
            dataset = make_dataset(run.config.dataset_spec())
        except ExpressionError as error:  # the `function` kind's expression
            raise InvalidRequest(str(error), "dataset.expr") from None
        except ValueError as error:
            raise InvalidRequest(str(error), "dataset") from None
        try:
            targets = np.concatenate((dataset.y_train, dataset.y_test))
            loss_named(run.config.loss).check_targets(targets)
        except ValueError as error:
            raise InvalidRequest(str(error), "loss") from None
        trainer = Trainer(run.config.training_config(), dataset)
        loss, test_loss = trainer.train_loss(), trainer.test_loss()
        run.dataset, run.trainer, run.loss, run.test_loss = dataset, trainer, loss, test_loss
        run.log.reset(0)
        run.log.append(loss)
        if test_loss is not None:
            run.log.add_test(0, test_loss)
        self.store.create_run(self._stored(run))
        self._record_engine(run)
        self.store.add_losses(run.id, 0, [loss], [] if test_loss is None else [(0, test_loss)])
        self.store.add_snapshot(run.id, 0, trainer.state().to_bytes())

    def _stored(self, run: Run) -> StoredRun:
        return StoredRun(
            id=run.id,
            config=run.config_dict(),
            status=run.status.value,
            step=run.step,
            loss=run.loss,
            test_loss=run.test_loss,
            created_at=run.created_at,
            message=run.message,
            learning_rate=run.learning_rate,
            speed=run.speed,
        )

    async def _dataset(self, run: Run) -> Dataset:
        if run.dataset is None:
            dataset = await asyncio.to_thread(make_dataset, run.config.dataset_spec())
            run.dataset = run.dataset or dataset
        return run.dataset

    async def _ensure_loaded(self, run: Run) -> None:
        """Give a run loaded from the store its trainer, exactly at its recorded step."""
        lock = self._loading.setdefault(run.id, asyncio.Lock())
        async with lock:
            if run.trainer is None:
                dataset = await self._dataset(run)
                await asyncio.to_thread(self._restore, run, dataset)

    def _restore(self, run: Run, dataset: Dataset) -> None:
        trainer = Trainer(run.config.training_config(), dataset)
        if run.status == RunStatus.INTERRUPTED:
            # After a SIGKILL the store may hold snapshots or losses past the step its row
            # recorded (they are queued at different times); that row is the truth, and what
            # lies beyond it is dropped so history and weights agree.
            self.store.truncate_after(run.id, run.step)
            run.rate_changes = [change for change in run.rate_changes if change[0] <= run.step]
            run.engines = [change for change in run.engines if change[0] <= run.step]
        found = self.store.snapshot_at_or_before(run.id, run.step)
        if found is not None:
            trainer.restore(TrainerState.from_bytes(found[1]))
        start = trainer.step
        try:
            # The nearest snapshot may be older than the recorded step: replaying the updates
            # in between is exact under the arithmetic that made them.
            replay(trainer, run, run.step)
        except Diverged as diverged:
            run.status, run.message = RunStatus.DIVERGED, diverged.reason
        if not run.made_under(start, trainer.step, self.arithmetic):
            run.recomputed_at = trainer.step  # the weights held are not exactly the run's
        run.step = trainer.step
        run.loss, run.test_loss = trainer.train_loss(), trainer.test_loss()
        run.log.reset(trainer.step)
        run.log.append(run.loss)
        if run.test_loss is not None:
            run.log.add_test(trainer.step, run.test_loss)
        run.trainer = trainer

    async def _trainable(self, run_id: str, action: str) -> Run:
        """The run, loaded and idle, or RunConflict/LimitExceeded saying why not."""
        run = self.get(run_id)
        if run.status == RunStatus.RUNNING or run.session is not None:
            raise RunConflict(f"cannot {action} run {run_id}: it is running; pause it first")
        if run.status not in TRAINABLE:
            raise RunConflict(f"cannot {action} run {run_id}: it is {run.status.value}")
        self._check_capacity()
        await self._ensure_loaded(run)
        if run.session is not None or run.status not in TRAINABLE:
            raise RunConflict(f"cannot {action} run {run_id}: it is {run.status.value}")
        self._check_capacity()  # again: others may have started while this one loaded
        return run

    def _check_capacity(self) -> None:
        training = sum(1 for run in self.runs.values() if run.session is not None)
        if training >= self.settings.max_training_runs:
            raise LimitExceeded(
                over_limit("runs training", training + 1, "max_training_runs", self.settings),
                status_code=429,
            )

    def _record_engine(self, run: Run) -> None:
        """Record that the run's updates from its current step on are made under this server's
        arithmetic, unless the last record says so already."""
        if run.engines and run.engines[-1][1] == self.arithmetic:
            return
        if run.engines and run.engines[-1][0] == run.step:
            run.engines.pop()  # no update was made under that one
        run.engines.append((run.step, self.arithmetic))
        self.store.add_engine(run.id, run.step, self.arithmetic)

    def _start_session(self, run: Run, count: int | None) -> TrainingSession:
        self._record_engine(run)
        session = TrainingSession(run, self.store, self.settings, count, self.gate)
        run.session = session
        session.start()
        return session

    async def _resume(self, run: Run) -> None:
        run.status, run.message = RunStatus.RUNNING, None
        run.save(self.store)
        run.hub.publish_status(run.status.value, run.step, run.message)
        self._start_session(run, None)
        # Answer once 'running' is on disk: a server killed after that marks the run
        # interrupted at its next start, rather than finding it paused where it was.
        await asyncio.to_thread(self.store.flush)

    async def _halt(self, run_id: str, status: RunStatus) -> Run:
        run = self.get(run_id)
        session = run.session
        if session is not None:
            session.end(status)
            await asyncio.wrap_future(session.done)
            if run.session is None and run.status in TRAINABLE and run.status != status:
                # The worker ended on its own (a step's count done) before it saw the request.
                await self._settle(run, status)
        elif run.status in TRAINABLE:
            if status != run.status:
                await self._settle(run, status)
        elif run.status != status:
            action = "pause" if status == RunStatus.PAUSED else "stop"
            raise RunConflict(f"cannot {action} run {run_id}: it is {run.status.value}")
        return run

    async def _settle(self, run: Run, status: RunStatus) -> None:
        """An idle run changes status: pin a snapshot of where it stands and tell viewers."""
        if run.trainer is not None and run.holds_own_weights(run.step):
            blob = await asyncio.to_thread(snapshot_bytes, run.trainer)
            self.store.add_snapshot(run.id, run.step, blob, pinned=True)
        run.status = status
        run.save(self.store)
        run.hub.publish_status(status.value, run.step, run.message)


def snapshot_bytes(trainer: Trainer) -> bytes:
    return trainer.state().to_bytes()
