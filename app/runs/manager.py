"""The RunManager: every run of this server, the one writer of their records.

Created in the app's lifespan and handed to routes through a dependency. Everything here runs
on the event loop. Training happens elsewhere, behind an executor (app/runs/executor.py): the
manager sends it commands and applies the events it reports (losses, frames, snapshots, rate
changes taken up, the end of a training) to the run's record, the store and the viewers.
Anything that touches SQLite or numpy at length goes through `asyncio.to_thread`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from app.json_out import finite_or_none
from app.nn.arithmetic import current_arithmetic
from app.nn.datasets import Dataset
from app.nn.explain import UpdateExplained, explain_next_update
from app.nn.trainer import Diverged, Trainer
from app.runs import loading
from app.runs.config import RunConfig
from app.runs.errors import (
    InvalidRequest,
    LimitExceeded,
    RunConflict,
    RunNotFound,
    StorageUnavailable,
)
from app.runs.executor import Executor
from app.runs.frames import EditFrame, UpdateFrame
from app.runs.hub import StreamHub
from app.runs.limits import check_config, check_edit, check_memory, check_step_count, over_limit
from app.runs.memory import run_memory_bytes
from app.runs.messages import (
    ChangeRate,
    ChangeSpeed,
    ChangeView,
    Command,
    EndTraining,
    Event,
    ParametersReady,
    Progress,
    SnapshotsStored,
    StartTraining,
    TrainingEnded,
    View,
    WantParameters,
)
from app.runs.recent_history import RecentHistory
from app.runs.replay import apply_edits
from app.runs.run import TRAINABLE, Parameters, Run, RunStatus, Training, trainer_parameters
from app.runs.store_map import stored_run, update_row
from app.runs.summary import Buckets, HistorySummary
from app.settings import Settings
from app.store import RunStore, StoredRun, StoreError, StoreUnavailable, WeightEdit
from app.store.datasets import DatasetTables
from app.store.export import iter_history
from app.store.losses import LossArrays, history_lists

History = tuple[list[int], list[float | None], list[float | None]]


class RunManager:
    """Owns all runs; each public coroutine is one API action."""

    def __init__(
        self,
        settings: Settings,
        store: RunStore,
        executor: Executor | None = None,
        arithmetic: str | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        # What this server's updates are made under (app/nn/arithmetic.py), recorded per run.
        self.arithmetic = current_arithmetic() if arithmetic is None else arithmetic
        self.runs: dict[str, Run] = {}
        # Where runs on uploaded data (the csv kind) read their table.
        self.tables = DatasetTables(store.path)
        self.executor = executor
        self.storage_trouble: str | None = None  # why the store cannot write, while it cannot
        self._loading: dict[str, asyncio.Lock] = {}
        self._deleting: set[str] = set()
        self._sessions = itertools.count(1)
        self._requests = itertools.count(1)
        self._wanted: dict[int, tuple[str, asyncio.Future[Parameters | None]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- life cycle --------------------------------------------------------------------------

    async def start(self, executor: Executor) -> None:
        """Load the stored runs; those the last server left running become `interrupted`."""
        self._loop = asyncio.get_running_loop()
        self.executor = executor
        self.store.on_trouble = self._trouble_reported
        stored = await asyncio.to_thread(self._read_stored)
        for row, changes, engines, edits in stored:
            run = self._new_run(row.id, RunConfig.model_validate(row.config), row.created_at)
            run.status, run.step, run.message = RunStatus(row.status), row.step, row.message
            run.loss, run.test_loss = row.loss, row.test_loss
            run.learning_rate, run.speed, run.rate_changes = row.learning_rate, row.speed, changes
            run.engines, run.edits = engines, edits
            run.recent.reset(row.step + 1)
            self.runs[run.id] = run

    def _read_stored(
        self,
    ) -> list[tuple[StoredRun, list[tuple[int, float]], list[tuple[int, str]], list[WeightEdit]]]:
        self.store.mark_running_as_interrupted()
        store = self.store
        return [
            (
                row,
                store.learning_rate_changes(row.id),
                store.engine_changes(row.id),
                store.weight_edits(row.id),
            )
            for row in store.list_runs()
        ]

    async def shutdown(self) -> None:
        """End every training as `interrupted` (a pinned snapshot each), then flush the store."""
        training = [run for run in self.runs.values() if run.training is not None]
        for run in training:
            self._end(run, RunStatus.INTERRUPTED, "the server stopped while this run was training")
        # One deadline for all: they were all told to end at once.
        deadline = time.monotonic() + self.settings.shutdown_timeout
        for run in training:
            if run.training is not None:
                left = max(0.0, deadline - time.monotonic())
                await asyncio.wait([run.training.ended], timeout=left)
        executor = self._executor()
        await executor.close(max(0.0, deadline - time.monotonic()))
        # If it cannot, the store says what it could not write as it closes.
        with contextlib.suppress(StoreError):
            await asyncio.to_thread(self.store.flush)

    # -- lookup ------------------------------------------------------------------------------

    def list(self) -> list[Run]:
        return sorted(self.runs.values(), key=lambda run: run.created_at, reverse=True)

    def get(self, run_id: str) -> Run:
        run = self.runs.get(run_id)
        if run is None or run_id in self._deleting:
            raise RunNotFound(f"no run with id {run_id!r}")
        return run

    def _still(self, run: Run) -> Run:
        """`run`, if it was not deleted while the caller awaited something."""
        if self.runs.get(run.id) is not run or run.id in self._deleting:
            raise RunNotFound(f"no run with id {run.id!r}: it was deleted")
        return run

    # -- actions -----------------------------------------------------------------------------

    async def create(self, config: RunConfig) -> Run:
        check_config(config, self.settings)
        memory = self._memory(config)
        check_memory(memory, "max_run_memory_bytes", self.settings)
        self._check_storage()
        if config.start == "running":
            self._check_capacity(memory)
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        run = self._new_run(uuid.uuid4().hex[:12], config, now)
        run.learning_rate, run.speed = config.learning_rate, config.speed
        dataset = await asyncio.to_thread(loading.build_dataset, config, self.tables)
        loaded = await asyncio.to_thread(loading.new_trainer, config, dataset)
        run.dataset = dataset
        self._take_loaded(run, loaded)
        run.recent.append(loaded.loss)  # step 0's
        if loaded.test_loss is not None:
            run.recent.add_test(0, loaded.test_loss)
        await self._store_new(run)
        self.runs[run.id] = run
        if config.start == "running":
            try:
                self._check_capacity(memory)  # again: others may have started meanwhile
            except LimitExceeded:
                await self.delete(run.id)
                raise
            await self._resume(run)
        return run

    async def step(self, run_id: str, count: int) -> Run:
        """Make exactly `count` updates (fewer only if the run ends otherwise)."""
        check_step_count(count, self.settings)
        run = await self._trainable(run_id, "step")
        training = await self._start(run, count)
        await asyncio.shield(training.ended)
        return self._still(run)

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
        self._deleting.add(run_id)  # from now on the run is not found: one DELETE wins
        try:
            if run.training is not None:
                self._end(run, RunStatus.STOPPED, None)
                await asyncio.shield(run.training.ended)
            await asyncio.to_thread(self.store.delete_run, run_id)
        except StoreUnavailable as error:
            raise StorageUnavailable(str(error)) from None
        finally:
            self._deleting.discard(run_id)
        self.runs.pop(run_id, None)
        self._loading.pop(run_id, None)
        run.hub.close()

    async def patch(self, run_id: str, changes: dict[str, float | str | None]) -> Run:
        """Change the learning rate and/or speed from the next update on, or the run's name;
        tell viewers.

        Answered once stored: a rate change is recorded at the step whose next update takes it
        up, and replays depend on it. A run that can never train again (stopped, finished,
        diverged) has no next update: RunConflict for a rate or speed, rather than a change
        recorded for nothing. A name can change in any status.
        """
        run = self.get(run_id)
        trains = "learning_rate" in changes or "speed" in changes
        if trains and run.status not in TRAINABLE and run.status != RunStatus.RUNNING:
            raise RunConflict(f"cannot change run {run_id}: it is {run.status.value}")
        self._check_storage()
        if "name" in changes:
            name = changes["name"]
            run.config = run.config.model_copy(update={"name": name})
            self.store.set_config(run.id, run.config_dict())
        if "speed" in changes:
            speed = changes["speed"]
            run.speed = None if speed is None else float(speed)
            self._send(run, ChangeSpeed(run.id, run.speed))
        changed_at = run.step
        rate = changes.get("learning_rate")
        if isinstance(rate, float) and rate != run.learning_rate:
            run.learning_rate = rate
            await self._change_rate(run, rate)
            changed_at = run.rate_changes[-1][0]
        self._save(run)
        await self._flushed()
        if trains:  # every viewer's controls follow (a `settings` frame)
            run.hub.publish_settings(run.learning_rate, run.speed, changed_at)
        return run

    async def _change_rate(self, run: Run, rate: float) -> None:
        training = run.training
        if training is None:
            self._record_rate(run, run.step, rate)
            return
        # The training takes it up before its next update and reports the step (Progress),
        # or ends first (TrainingEnded): either way the manager records it then.
        taken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        training.rate_taken = taken
        self._send(run, ChangeRate(run.id, rate))
        await asyncio.shield(taken)

    def _record_rate(self, run: Run, step: int, rate: float) -> None:
        run.change_rate_from(step, rate)
        self.store.add_learning_rate_change(run.id, step, rate)
        if run.trainer is not None:
            run.trainer.learning_rate = rate

    async def edit_weight(self, run_id: str, edit: WeightEdit) -> Parameters:
        """Set one weight or bias of a paused run by hand, before its next update; answered
        once stored. Replays apply it at this step, so every later step stays exact."""
        run = self.get(run_id)
        self._check_idle(run, "set a weight of")
        self._check_storage()
        trainer = await self._loaded(run)
        self._still(run)
        self._check_idle(run, "set a weight of")
        if not run.holds_own_weights(run.step):
            raise RunConflict(
                f"run {run_id}'s weights at step {run.step} were recomputed under another "
                "engine version; step it once before setting a weight"
            )
        check_edit(edit, trainer.network.weights, run.config.bias)
        edit = edit._replace(step=run.step)
        apply_edits(trainer, [edit])
        run.edits.append(edit)
        run.loss, run.test_loss = await asyncio.to_thread(losses_of, trainer)
        blob = await asyncio.to_thread(lambda: trainer.state().to_bytes())
        self.store.add_weight_edit(run.id, edit)
        # A snapshot at a step holds the edits made there (app/runs/replay.py relies on it).
        self.store.add_snapshot(run.id, run.step, blob, pinned=True)
        self._save(run)
        await self._flushed()
        frame = EditFrame(
            run.step, edit.layer, edit.to_neuron, edit.from_neuron, edit.value, run.loss
        )
        run.hub.publish(frame)
        return trainer_parameters(run, trainer, run.loss)

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
            # A running run moved on while it was asked: recompute the step asked for.
        dataset = await self._dataset(run)
        loaded = await asyncio.to_thread(loading.trainer_from_store, run, dataset, self.store, step)
        if loaded.diverged is not None:
            raise RunConflict(f"replaying run {run_id} to step {step} diverged: {loaded.diverged}")
        exact = run.made_under(loaded.replayed_from, step, self.arithmetic)
        found = trainer_parameters(run, loaded.trainer, loaded.loss)
        return dataclasses.replace(found, exact=exact)

    async def current(self, run: Run) -> Parameters:
        """A consistent copy of the run's parameters now, from its training if it has one."""
        while True:
            if run.training is None:
                trainer = await self._loaded(run)
                if run.training is None:
                    return trainer_parameters(run, trainer, run.loss)
                continue  # a training started while the run was loading: ask it
            request = next(self._requests)
            answer: asyncio.Future[Parameters | None] = asyncio.get_running_loop().create_future()
            self._wanted[request] = (run.id, answer)
            self._send(run, WantParameters(run.id, request))
            parameters = await answer
            if parameters is not None:
                return parameters
            # The training ended before it answered: the run's own trainer has it now.

    async def history(self, run_id: str, up_to: int | None = None) -> History:
        """Every stored loss, then the losses not yet flushed, up to step `up_to`."""
        run = self.get(run_id)
        arrays = await self.history_arrays(run_id)
        arrays = arrays.up_to(run.step if up_to is None else up_to)
        return history_lists(arrays)

    async def history_arrays(self, run_id: str) -> LossArrays:
        """The run's losses, stored and not yet stored, as numpy arrays (NaN for none)."""
        run = self.get(run_id)
        last = run.step
        stored = await asyncio.to_thread(self.store.history_arrays, run.id)
        stored = stored.up_to(last)
        first = int(stored.steps[-1]) + 1 if len(stored.steps) else 0
        start, tail = run.recent.between(first, last)
        return stored.extended(start, tail, run.recent.tests_between(first, last))

    async def recent_history(self, run: Run, up_to: int) -> dict[str, Any]:
        """The history up to step `up_to` in a bounded size, for the stream's `state` frame:
        its last `state_recent_steps` steps in full; before them, per bucket of steps, the
        min at the bucket's first step and the max half-way through it (so spikes show)."""
        summary = await self._summary(run)
        recent_first = max(0, up_to - self.settings.state_recent_steps + 1)
        buckets = summary.buckets(before=recent_first)
        steps, loss, test = thinned_points(buckets, recent_first)
        in_log, _ = run.recent.between(recent_first, up_to)
        stored = await asyncio.to_thread(
            self.store.history_range, run.id, recent_first, max(recent_first, in_log - 1)
        )
        after_stored = int(stored.steps[-1]) + 1 if len(stored.steps) else recent_first
        start, tail = run.recent.between(after_stored, up_to)
        recent = stored.extended(start, tail, run.recent.tests_between(start, up_to))
        recent_steps, recent_loss, recent_test = history_lists(recent.up_to(up_to))
        return {
            "steps": steps + recent_steps,
            "loss": loss + recent_loss,
            "test_loss": test + recent_test,
            "bucket_steps": buckets.bucket_steps,
            "recent_from": recent_first,
        }

    async def _summary(self, run: Run) -> HistorySummary:
        """The run's history summary: built from the store once, then kept by `_progress`."""
        lock = self._loading.setdefault(run.id, asyncio.Lock())
        async with lock:
            if run.summary is None:
                capacity = self.settings.state_history_buckets
                summary = await asyncio.to_thread(
                    summary_from_store, self.store.path, run.id, run.step, capacity
                )
                # What the run made meanwhile, or had not handed to the store yet.
                first = summary.last_step + 1
                start, tail = run.recent.between(first, run.step)
                summary.add(LossArrays.of(start, tail, run.recent.tests_between(first, run.step)))
                run.summary = summary
        return run.summary

    async def explain(self, run_id: str, sample: int) -> UpdateExplained:
        """Every number of the run's next update, following one sample of its batch."""
        run = self.get(run_id)
        if run.training is not None:
            raise RunConflict(f"cannot explain run {run_id} while it trains; pause it first")
        trainer = await self._loaded(run)
        if run.training is not None:
            raise RunConflict(f"cannot explain run {run_id} while it trains; pause it first")
        # Copied here, on the loop, so a step started meanwhile cannot tear what is read.
        copy = trainer.copy()
        try:
            return await asyncio.to_thread(explain_next_update, copy, sample)
        except IndexError as error:
            raise InvalidRequest(str(error), "sample") from None
        except Diverged as error:
            raise RunConflict(f"the next update of run {run_id} diverges: {error.reason}") from None

    async def dataset(self, run_id: str) -> Dataset:
        return await self._dataset(self.get(run_id))

    # -- events from the executor ------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        """Apply what a training reported (called on the loop, in the order it was sent)."""
        if isinstance(event, ParametersReady):
            self._parameters_ready(event)
            return
        run = self.runs.get(event.run_id)
        training = run.training if run is not None else None
        if run is None or training is None or training.session != event.session:
            return  # a training of a run deleted meanwhile
        if isinstance(event, Progress):
            self._progress(run, training, event)
        else:
            self._ended(run, training, event)

    def _progress(self, run: Run, training: Training, event: Progress) -> None:
        for step, rate in event.rates:
            self._record_rate(run, step, rate)
            if rate == run.learning_rate and training.rate_taken is not None:
                training.rate_taken.set_result(None)
                training.rate_taken = None
        losses = event.losses
        if len(losses):
            run.recent.extend(event.first_step, losses.tolist())
            run.step, run.loss = event.first_step + len(losses) - 1, float(losses[-1])
        for step, loss in event.test_losses:
            run.recent.add_test(step, loss)
            run.test_loss = loss
        if run.summary is not None:
            run.summary.add(progress_arrays(event))
        if len(losses) or event.test_losses:
            self.store.add_losses(run.id, event.first_step, losses, event.test_losses)
        for step, blob in event.snapshots:
            acknowledge = self._acknowledger(run.id, len(blob))
            self.store.add_snapshot(run.id, step, blob, on_stored=acknowledge)
        if event.frame is not None:
            run.hub.publish(UpdateFrame(event.frame))
        self._save(run)

    def _acknowledger(self, run_id: str, nbytes: int) -> Callable[[], None]:
        loop = self._loop
        assert loop is not None

        def acknowledge() -> None:  # on the store's writer thread
            loop.call_soon_threadsafe(self._send_to, run_id, SnapshotsStored(run_id, nbytes))

        return acknowledge

    def _ended(self, run: Run, training: Training, event: TrainingEnded) -> None:
        status = RunStatus(event.status)
        if event.state is not None:
            run.step, run.loss, run.test_loss = event.step, event.loss, event.test_loss
            run.resume_state = event.state
            if run.holds_own_weights(event.step):
                self.store.add_snapshot(run.id, event.step, event.state, pinned=True)
            if event.test_loss is not None:
                run.recent.add_test(event.step, event.test_loss)
        # else: the training was lost; the run stands at the last step it reported, and its
        # weights there are found again from the store (app/runs/loading.py).
        if event.learning_rate is not None and event.learning_rate != run.learning_rate:
            # A rate changed too late for the last update: the next update takes it up.
            self._record_rate(run, run.step, run.learning_rate)
        if training.rate_taken is not None:
            training.rate_taken.set_result(None)
        changed = status != run.status
        run.status, run.training = status, None
        if status != RunStatus.PAUSED or event.message is not None:
            run.message = event.message
        self._save(run)
        if changed:
            run.hub.publish_status(status.value, run.step, run.message)
        for request, (run_id, answer) in list(self._wanted.items()):
            if run_id == run.id:
                del self._wanted[request]
                answer.set_result(None)
        training.ended.set_result(status)

    def _parameters_ready(self, event: ParametersReady) -> None:
        wanted = self._wanted.pop(event.request, None)
        run = self.runs.get(event.run_id)
        if wanted is None or run is None or wanted[1].done():
            return
        exact = run.holds_own_weights(event.step)
        loss = run.loss if event.step == run.step else None
        wanted[1].set_result(Parameters(event.step, loss, event.weights, event.biases, exact))

    def _trouble_reported(self, reason: str | None) -> None:
        """From the store's writer thread: writes fail (reason) or work again (None)."""
        loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(self._storage_changed, reason)

    def _storage_changed(self, reason: str | None) -> None:
        """While the store cannot write, nothing trains: every run pauses, saying why."""
        self.storage_trouble = reason
        if reason is None:
            return
        for run in self.runs.values():
            if run.training is not None:
                self._end(run, RunStatus.PAUSED, f"storage unavailable: {reason}")

    def _view_changed(self, run_id: str, view: View) -> None:
        """The run's viewers want other frames (or none): its training builds them so."""
        run = self.runs.get(run_id)
        if run is not None:
            self._send(run, ChangeView(run_id, view))

    # -- internals ---------------------------------------------------------------------------

    def _executor(self) -> Executor:
        assert self.executor is not None, "RunManager.start() first"
        return self.executor

    def _send(self, run: Run, command: Command) -> None:
        if run.training is not None:
            self._executor().send(command)

    def _send_to(self, run_id: str, command: SnapshotsStored) -> None:
        self._executor().send(command)

    def _end(self, run: Run, status: RunStatus, message: str | None) -> None:
        self._send(run, EndTraining(run.id, status.value, message))

    def _new_run(self, run_id: str, config: RunConfig, created_at: str) -> Run:
        recent = RecentHistory(0, self.settings.recent_history_steps)
        hub = StreamHub(self.settings.default_fps, lambda view: self._view_changed(run_id, view))
        return Run(run_id, config, created_at, hub, recent, learning_rate=config.learning_rate)

    def _take_loaded(self, run: Run, loaded: loading.Loaded) -> None:
        """Hold the trainer just built, at its step, with its losses (the history already has
        them: the store, or the log of a training that just ended)."""
        trainer = loaded.trainer
        run.trainer, run.resume_state = trainer, None
        run.step, run.loss, run.test_loss = trainer.step, loaded.loss, loaded.test_loss

    async def _store_new(self, run: Run) -> None:
        """Store a new run with its step-0 loss and snapshot; answered once committed."""
        assert run.trainer is not None
        tests = [] if run.test_loss is None else [(0, run.test_loss)]
        blob = await asyncio.to_thread(lambda: run.trainer.state().to_bytes())  # type: ignore[union-attr]
        try:
            await asyncio.to_thread(self.store.create_run, stored_run(run))
        except StoreUnavailable as error:
            raise StorageUnavailable(str(error)) from None
        self._record_engine(run)
        self.store.add_losses(run.id, 0, [run.loss or 0.0], tests)
        self.store.add_snapshot(run.id, 0, blob)

    async def _dataset(self, run: Run) -> Dataset:
        if run.dataset is None:
            dataset = await asyncio.to_thread(loading.build_dataset, run.config, self.tables)
            run.dataset = run.dataset or dataset
        return run.dataset

    async def _loaded(self, run: Run) -> Trainer:
        """The run's trainer, exactly at its step: built from the state its last training
        ended with, or from the store (a run loaded after a restart or a lost worker)."""
        lock = self._loading.setdefault(run.id, asyncio.Lock())
        async with lock:
            if run.trainer is None:
                dataset = await self._dataset(run)
                if run.resume_state is not None:
                    loaded = await asyncio.to_thread(
                        loading.trainer_from_state, run, dataset, run.resume_state
                    )
                else:
                    loaded = await self._restore(run, dataset)
                if run.training is None and run.trainer is None:
                    self._take_loaded(run, loaded)
        assert run.trainer is not None or run.training is not None
        return run.trainer  # type: ignore[return-value]

    async def _restore(self, run: Run, dataset: Dataset) -> loading.Loaded:
        if run.status == RunStatus.INTERRUPTED:
            # After a SIGKILL the store may hold snapshots or losses past the step its row
            # recorded (they are queued at different times); that row is the truth, and what
            # lies beyond it is dropped so history and weights agree.
            self.store.truncate_after(run.id, run.step)
            run.rate_changes = [change for change in run.rate_changes if change[0] <= run.step]
            run.engines = [change for change in run.engines if change[0] <= run.step]
            run.edits = [edit for edit in run.edits if edit.step <= run.step]
        loaded = await asyncio.to_thread(
            loading.trainer_from_store, run, dataset, self.store, run.step
        )
        if loaded.diverged is not None:
            run.status, run.message = RunStatus.DIVERGED, loaded.diverged
        step = loaded.trainer.step
        if not run.made_under(loaded.replayed_from, step, self.arithmetic):
            run.recomputed_at = step  # the weights held are not exactly the run's
        return loaded

    async def _trainable(self, run_id: str, action: str) -> Run:
        """The run, loaded and idle, or RunConflict/LimitExceeded saying why not."""
        run = self.get(run_id)
        self._check_idle(run, action)
        self._check_storage()
        self._check_capacity(self._memory(run.config))
        await self._loaded(run)
        self._still(run)
        self._check_idle(run, action)  # again: all may have changed while it loaded
        self._check_storage()
        self._check_capacity(self._memory(run.config))
        return run

    def _check_idle(self, run: Run, action: str) -> None:
        if run.status == RunStatus.RUNNING or run.training is not None:
            raise RunConflict(f"cannot {action} run {run.id}: it is running; pause it first")
        if run.status not in TRAINABLE:
            raise RunConflict(f"cannot {action} run {run.id}: it is {run.status.value}")

    def _check_storage(self) -> None:
        if self.storage_trouble is not None:
            raise StorageUnavailable(f"storage unavailable: {self.storage_trouble}")

    def _check_capacity(self, memory: int) -> None:
        training = [run for run in self.runs.values() if run.training is not None]
        if len(training) >= self.settings.max_training_runs:
            raise LimitExceeded(
                over_limit("runs training", len(training) + 1, "max_training_runs", self.settings),
                status_code=429,
            )
        total = memory + sum(self._memory(run.config) for run in training)
        check_memory(total, "max_training_memory_bytes", self.settings, status_code=429)

    def _memory(self, config: RunConfig) -> int:
        settings = self.settings
        return run_memory_bytes(config, settings.max_unstored_snapshot_bytes, settings.max_csv_rows)

    def _record_engine(self, run: Run) -> None:
        """Record that the run's updates from its current step on are made under this server's
        arithmetic, unless the last record says so already."""
        if run.engines and run.engines[-1][1] == self.arithmetic:
            return
        if run.engines and run.engines[-1][0] == run.step:
            run.engines.pop()  # no update was made under that one
        run.engines.append((run.step, self.arithmetic))
        self.store.add_engine(run.id, run.step, self.arithmetic)

    async def _start(self, run: Run, count: int | None) -> Training:
        """Hand the run to the executor; its trainer goes with it, as a snapshot."""
        trainer = run.trainer
        assert trainer is not None and run.training is None
        self._record_engine(run)
        ended: asyncio.Future[RunStatus] = asyncio.get_running_loop().create_future()
        training = Training(next(self._sessions), count, ended)
        run.training, run.trainer = training, None
        state = await asyncio.to_thread(lambda: trainer.state().to_bytes())
        order = StartTraining(
            run.id,
            training.session,
            trainer.config,
            trainer.data,
            state,
            run.learning_rate,
            count,
            *self._step_limit(run),
            run.speed,
            run.hub.view,
            self._memory(run.config),
        )
        await self._executor().start(order)
        return training

    def _step_limit(self, run: Run) -> tuple[int, str]:
        """Where training stops for good, and the message the run then shows."""
        limit, own = self.settings.max_run_steps, run.config.max_steps
        if own is not None and own <= limit:
            return own, f"finished: it reached its step limit of {own:,} (max_steps)"
        env = self.settings.env_name("max_run_steps")
        return limit, f"finished: it reached the server's limit of {limit:,} steps a run ({env})"

    async def _resume(self, run: Run) -> None:
        run.status, run.message = RunStatus.RUNNING, None
        self._save(run)
        run.hub.publish_status(run.status.value, run.step, run.message)
        await self._start(run, None)
        # Answer once 'running' is on disk: a server killed after that marks the run
        # interrupted at its next start, rather than finding it paused where it was.
        await self._flushed()

    async def _halt(self, run_id: str, status: RunStatus) -> Run:
        run = self.get(run_id)
        training = run.training
        if training is not None:
            self._end(run, status, None)
            ended = await asyncio.shield(training.ended)
            if run.training is None and ended in TRAINABLE and ended != status:
                # The training ended on its own (a step's count done) before it saw the request.
                await self._settle(run, status)
        elif run.status in TRAINABLE:
            if status != run.status:
                await self._settle(run, status)
        elif run.status != status:
            action = "pause" if status == RunStatus.PAUSED else "stop"
            raise RunConflict(f"cannot {action} run {run_id}: it is {run.status.value}")
        return self._still(run)

    async def _settle(self, run: Run, status: RunStatus) -> None:
        """An idle run changes status: pin a snapshot of where it stands and tell viewers."""
        if run.trainer is not None and run.holds_own_weights(run.step):
            trainer = run.trainer
            blob = await asyncio.to_thread(lambda: trainer.state().to_bytes())
            self.store.add_snapshot(run.id, run.step, blob, pinned=True)
        run.status = status
        self._save(run)
        run.hub.publish_status(status.value, run.step, run.message)

    def _save(self, run: Run) -> None:
        """Queue what the store's row keeps of the run (the latest queued wins)."""
        self.store.update_run(run.id, **update_row(run))

    async def _flushed(self) -> None:
        """Return once everything queued is committed; StorageUnavailable if it cannot be."""
        try:
            await asyncio.to_thread(self.store.flush)
        except StoreUnavailable as error:
            raise StorageUnavailable(str(error)) from None


def progress_arrays(event: Progress) -> LossArrays:
    """The losses of a Progress event as LossArrays."""
    count = len(event.losses)
    steps = np.arange(event.first_step, event.first_step + count, dtype=np.int64)
    test = np.full(count, np.nan)
    for step, loss in event.test_losses:
        if event.first_step <= step < event.first_step + count:
            test[step - event.first_step] = loss
    return LossArrays(steps, np.where(np.isfinite(event.losses), event.losses, np.nan), test)


def thinned_points(
    buckets: Buckets, before: int
) -> tuple[list[int], list[float | None], list[float | None]]:
    """Two points per bucket, its min at its first step and its max half-way through (before
    step `before`), so the points' steps increase and a chart of them shows every spike."""
    steps: list[int] = []
    loss: list[float | None] = []
    test: list[float | None] = []
    half = buckets.bucket_steps // 2
    for k, first in enumerate(buckets.steps):
        points = [(first, buckets.loss_min[k], buckets.test_min[k])]
        if half and first + half < before:
            points.append((first + half, buckets.loss_max[k], buckets.test_max[k]))
        for step, train_value, test_value in points:
            steps.append(step)
            loss.append(finite_or_none(float(train_value)))
            test.append(finite_or_none(float(test_value)))
    return steps, loss, test


def losses_of(trainer: Trainer) -> tuple[float, float | None]:
    """The trainer's losses now, keeping no pass over the data (it waits: a paused run's)."""
    losses = trainer.train_loss(), trainer.test_loss()
    trainer.forget_passes()
    return losses


def summary_from_store(path: Path, run_id: str, last: int, capacity: int) -> HistorySummary:
    """A run's history summary read from the store window by window: memory does not grow with
    the run's age (a 10-million-step run is read in windows of 65,536 steps)."""
    summary = HistorySummary(capacity)
    for piece in iter_history(path, run_id, 0, last):
        summary.add(piece)
    return summary
