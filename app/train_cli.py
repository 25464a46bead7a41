"""`backprop-live train CONFIG.json [--steps N] [--db PATH] [--export OUT.json]`: training
without a server, into the same store, so a server on that file shows the run afterwards.

The run is stored as the server stores one (RunStore's public API): created `running`, its
losses a flush interval at a time, snapshots on the server's schedule, and at the end
`paused` (it can go on training from the page), `finished` at its `max_steps`, or `diverged`.
It claims the file as a server does (app/store/claim.py): a file a server is serving is
refused, and a server cannot open the file while this trains. Ctrl-C ends it cleanly: a
pinned snapshot, every loss stored, `paused`.

Exit status: 0 done; 1 diverged; 2 a bad config, file or database; 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import numpy as np
import orjson
from pydantic import ValidationError

from app.main import open_store
from app.nn.arithmetic import current_arithmetic
from app.nn.datasets import make_dataset
from app.nn.expr import ExpressionError
from app.nn.losses import loss_named
from app.nn.metrics import scores
from app.nn.trainer import Diverged, Trainer
from app.runs.config import RunConfig
from app.runs.errors import RunError
from app.runs.export import export_document
from app.runs.limits import check_config
from app.settings import Settings
from app.store import RunStore, StoredRun, StoreError
from app.store.claim import claim_database
from app.store.datasets import DatasetTables
from app.store.export import bounded_history, iter_history
from app.store.schedule import should_snapshot

DONE, DIVERGED, BAD_INPUT, INTERRUPTED = 0, 1, 2, 130
PROGRESS_EVERY = 0.1  # seconds between redraws of the progress bar
CHECK_EVERY = 16  # updates between two looks at the clock and at Ctrl-C


class TrainError(Exception):
    """A one-line reason to stop before training (bad config, data or database)."""


@dataclass
class Progress:
    """A one-line progress bar on a terminal; nothing at all elsewhere."""

    out: TextIO
    total: int
    shown: bool = False
    started: float = field(default_factory=time.monotonic)
    first_step: int = 0
    next_at: float = 0.0

    @property
    def live(self) -> bool:
        return self.out.isatty()

    def show(self, step: int, loss: float, now: float, final: bool = False) -> None:
        if not self.live or (now < self.next_at and not final):
            return
        self.next_at = now + PROGRESS_EVERY
        done = step - self.first_step
        rate = done / max(now - self.started, 1e-9)
        width = 24
        filled = int(width * done / self.total) if self.total else width
        bar = "#" * filled + "-" * (width - filled)
        self.out.write(f"\rstep {step:,} [{bar}] loss {loss:.6g}  {rate:,.0f} updates/s ")
        self.out.flush()
        self.shown = True

    def end(self) -> None:
        if self.shown:
            self.out.write("\n")
            self.out.flush()


def load_config(path: Path) -> RunConfig:
    try:
        text = path.read_bytes()
    except OSError as error:
        raise TrainError(f"cannot read {path}: {error.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise TrainError(f"{path} is not JSON: {error}") from None
    try:
        return RunConfig.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "config"
        raise TrainError(f"{path}: {where}: {first['msg']}") from None


def train(
    config_path: Path,
    steps: int | None,
    settings: Settings,
    export: Path | None = None,
    progress_out: TextIO = sys.stderr,
) -> int:
    """Train the run `config_path` describes; returns the exit status."""
    try:
        config = load_config(config_path)
        # The server's limits on a run, so that a server can load what this stores; a step
        # count has none here (max_step_count bounds one request to a server).
        check_config(config, settings)
        count = steps if steps is not None else config.max_steps
        if count is None:
            raise TrainError("give --steps N, or max_steps in the config")
        # One process writes a database at a time (app/store/claim.py): a server serving this
        # file refuses it, naming itself, and so does this while it trains.
        claim = claim_database(settings.db_path)
    except (TrainError, RunError, StoreError, OSError) as error:
        return _fail(str(getattr(error, "detail", error)))
    try:
        store = open_store(settings)
    except (StoreError, OSError) as error:
        claim.release()
        return _fail(str(error))
    try:
        session = HeadlessRun(config, store, settings)
        return session.train(count, Progress(progress_out, count), export)
    except TrainError as error:
        return _fail(str(error))
    except KeyboardInterrupt:  # before training began: nothing, or a run at step 0, stored
        print("backprop-live: interrupted before training began", file=sys.stderr)
        return INTERRUPTED
    finally:
        store.close()
        claim.release()


class HeadlessRun:
    """One run trained in this process and written to the store as the server writes it."""

    def __init__(self, config: RunConfig, store: RunStore, settings: Settings) -> None:
        try:
            dataset = make_dataset(config.dataset_spec(DatasetTables(settings.db_path)))
            targets = np.concatenate((dataset.y_train, dataset.y_test))
            loss_named(config.loss).check_targets(targets)
        except (ExpressionError, ValueError) as error:
            raise TrainError(f"dataset: {error}") from None
        self.config, self.store, self.settings = config, store, settings
        self.trainer = Trainer(config.training_config(), dataset)
        self.id = uuid.uuid4().hex[:12]
        self.status: str = "running"
        self.message: str | None = None
        self.loss = self.trainer.train_loss()
        self.test_loss = self.trainer.test_loss()
        self.pending: list[float] = []
        self.tests: list[tuple[int, float]] = []
        self.flushed = 1  # the first step whose loss the store lacks
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        store.create_run(self._row(now))
        store.add_engine(self.id, 0, current_arithmetic())
        initial_tests = [] if self.test_loss is None else [(0, self.test_loss)]
        store.add_losses(self.id, 0, [self.loss], initial_tests)
        store.add_snapshot(self.id, 0, self.trainer.state().to_bytes())

    def _row(self, created_at: str) -> StoredRun:
        return StoredRun(
            id=self.id,
            config=self.config.model_dump(mode="json"),
            status=self.status,
            step=self.trainer.step,
            loss=self.loss,
            test_loss=self.test_loss,
            created_at=created_at,
            message=self.message,
            learning_rate=self.trainer.learning_rate,
            speed=self.config.speed,
        )

    def train(self, count: int, progress: Progress, export: Path | None) -> int:
        trainer, store = self.trainer, self.store
        test_every, flush_interval = self.settings.test_loss_every, self.settings.flush_interval
        max_steps = self.config.max_steps
        last = trainer.step + count if max_steps is None else min(max_steps, trainer.step + count)
        progress.first_step = trainer.step
        flush_at = time.monotonic() + flush_interval
        code = DONE
        # Bound once, and the clock and the stop flag read every CHECK_EVERY updates: at tens of
        # thousands of updates a second each call in the loop shows.
        update, train_loss, append = trainer.update, trainer.train_loss, self.pending.append
        next_test = (trainer.step // test_every + 1) * test_every
        next_snapshot = snapshot_after(trainer.step)
        # Ctrl-C ends the loop between two updates, never inside one (a half-made update would
        # be stored as if whole): the handler only raises a flag the loop reads.
        stop = threading.Event()
        previous = signal.signal(signal.SIGINT, lambda number, frame: stop.set())
        stopping = stop.is_set
        try:
            while trainer.step < last:
                update()
                loss = train_loss()
                append(loss)
                step = trainer.step
                if step == next_test:
                    self._measure_test(step)
                    next_test += test_every
                if step == next_snapshot:
                    store.add_snapshot(self.id, step, trainer.state().to_bytes())
                    next_snapshot = snapshot_after(step)
                if step % CHECK_EVERY == 0:
                    if stopping():
                        break
                    now = time.monotonic()
                    if now >= flush_at:
                        self.loss = loss
                        self._flush()
                        append = self.pending.append
                        flush_at = now + flush_interval
                        progress.show(step, loss, now)
            finished = max_steps is not None and trainer.step >= max_steps
            self.status = "finished" if finished else "paused"
            if finished:
                self.message = f"finished: it reached its step limit of {max_steps:,} (max_steps)"
            if stopping() and not finished and trainer.step < last:
                self.message, code = "stopped by Ctrl-C", INTERRUPTED
        except Diverged as diverged:
            self.status, self.message, code = "diverged", diverged.reason, DIVERGED
            if trainer.step >= self.flushed + len(self.pending):
                self.pending.append(trainer.train_loss())  # the step that overflowed
        finally:
            signal.signal(signal.SIGINT, previous)
        self._end(progress)
        if export is not None:
            self._export(export)
        return self._report(code)

    def _measure_test(self, step: int) -> None:
        value = self.trainer.test_loss()
        if value is not None:
            self.tests.append((step, value))
            self.test_loss = value

    def _flush(self) -> None:
        if self.pending or self.tests:
            self.store.add_losses(self.id, self.flushed, self.pending, self.tests)
        self.flushed += len(self.pending)
        self.pending, self.tests = [], []
        self.store.update_run(
            self.id,
            status=self.status,
            step=self.flushed - 1,
            loss=self.loss,
            test_loss=self.test_loss,
            message=self.message,
            learning_rate=self.trainer.learning_rate,
            speed=self.config.speed,
        )

    def _end(self, progress: Progress) -> None:
        """Pin where it stands, store every loss and the final status, and wait for the disk."""
        trainer = self.trainer
        if self.status != "diverged":
            if not self.tests or self.tests[-1][0] != trainer.step:
                self._measure_test(trainer.step)
            self.store.add_snapshot(self.id, trainer.step, trainer.state().to_bytes(), pinned=True)
        self.loss = self.pending[-1] if self.pending else self.loss
        self._flush()
        self.store.flush()
        progress.show(trainer.step, self.loss, time.monotonic(), final=True)
        progress.end()

    def _export(self, path: Path) -> None:
        trainer, db = self.trainer, self.settings.db_path
        history = bounded_history(
            lambda start, end: iter_history(db, self.id, start, end),
            trainer.step,
            full=self.settings.history_full_steps,
            buckets=self.settings.history_buckets,
            recent=self.settings.history_recent_steps,
        )
        document = export_document(
            run_id=self.id,
            status=self.status,
            config=self.config.model_dump(mode="json"),
            step=trainer.step,
            weights=trainer.network.weights,
            biases=trainer.network.biases,
            exact=True,
            history=history | {"learning_rates": []},
            scores=scores(trainer.network, trainer.data),
        )
        path.write_bytes(orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY))

    def _report(self, code: int) -> int:
        step = self.trainer.step
        if code == DIVERGED:
            reason = f"run {self.id} diverged at step {step}: {self.message}"
            print(f"backprop-live: {reason}", file=sys.stderr)
        elif code == INTERRUPTED:
            print(f"backprop-live: stopped at step {step}; run {self.id} saved", file=sys.stderr)
        print(self.id)  # the run's id, for scripts: GET /api/runs/{id} on a server on this file
        return code


def snapshot_after(step: int) -> int:
    """The first step after `step` that the server's snapshot schedule keeps."""
    step += 1
    while not should_snapshot(step):
        step += 1
    return step


def _fail(reason: str) -> int:
    print(f"backprop-live: {reason}".splitlines()[0], file=sys.stderr)
    return BAD_INPUT
