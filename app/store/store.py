"""RunStore: runs, loss history, learning-rate changes and weight snapshots in one SQLite file.

Writes are queued and committed by one writer thread, one transaction per flush interval, so
the event loop never waits for the disk. Reads use their own connections; WAL lets them run
beside the writer and see committed data.

A batch that cannot be committed (the file locked by another process, a full disk, an I/O
error) is never dropped: the writer keeps it, with everything queued after it, and tries again
every `retry_interval` seconds until it goes through. Meanwhile `trouble` says why, and
`on_trouble` is told when trouble starts and when it ends; calls that wait for a commit give
up after `write_timeout` seconds with StoreUnavailable (their write stays queued).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from app.json_out import finite_or_none as finite
from app.store.errors import StoreError, StoreUnavailable
from app.store.losses import Chunk, LossArrays, merge_arrays, merge_history
from app.store.models import StoredRun, WeightEdit
from app.store.ops import (
    AddEngine,
    AddLearningRate,
    AddLosses,
    AddSnapshot,
    AddWeightEdit,
    Barrier,
    Batch,
    CreateRun,
    DeleteRun,
    MarkInterrupted,
    Op,
    RunUpdate,
    SetConfig,
    TruncateAfter,
    Waiter,
)
from app.store.pending import Pending
from app.store.pool import ReadPool
from app.store.schema import open_writer
from app.store.writer import Writer

log = logging.getLogger(__name__)

INTERRUPTED_MESSAGE = "the server stopped while this run was training"


@dataclass
class _OpenStore:
    """What exists between open() and close()."""

    pending: Pending
    thread: threading.Thread
    reads: ReadPool


class RunStore:
    """The app's persistence. Call open() first and close() last."""

    def __init__(
        self,
        path: Path,
        *,
        flush_interval: float = 0.2,
        snapshot_budget_bytes: int = 64 * 2**20,
        write_timeout: float = 5.0,
        retry_interval: float = 0.5,
        on_trouble: Callable[[str | None], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.flush_interval = flush_interval
        self.snapshot_budget_bytes = snapshot_budget_bytes
        self.write_timeout = write_timeout
        self.retry_interval = retry_interval
        # Called from the writer thread with the reason writes fail, then None once they work.
        self.on_trouble = on_trouble
        self.trouble: str | None = None  # why the last commit failed, while it keeps failing
        self._open: _OpenStore | None = None

    def __repr__(self) -> str:
        state = "open" if self._open else "closed"
        return f"RunStore({str(self.path)!r}, {state})"

    # --- life cycle -------------------------------------------------------------------------

    def open(self) -> None:
        """Create or open the file and start the writer; StoreError if the file is unusable."""
        if self._open is not None:
            raise StoreError("the store is already open")
        conn = open_writer(self.path)
        writer = Writer(conn, self.snapshot_budget_bytes)
        pending = Pending()
        thread = threading.Thread(
            target=self._write_loop, args=(pending, writer, conn), name="store-writer", daemon=True
        )
        self._open = _OpenStore(pending, thread, ReadPool(self.path))
        thread.start()

    def close(self) -> None:
        """Commit everything queued, stop the writer and close every connection."""
        session, self._open = self._open, None
        if session is None:
            return
        session.pending.close()
        session.thread.join()
        session.reads.close()

    def _write_loop(self, pending: Pending, writer: Writer, conn: sqlite3.Connection) -> None:
        try:
            closing = False
            next_flush = time.monotonic() + self.flush_interval
            while not closing:
                batch, closing = pending.take(max(0.0, next_flush - time.monotonic()))
                # Counted from the take, so a slow commit does not shorten the next batch.
                next_flush = time.monotonic() + self.flush_interval
                if batch.ops or batch.updates:
                    closing = self._commit(pending, writer, batch, closing)
        finally:
            conn.close()

    def _commit(self, pending: Pending, writer: Writer, batch: Batch, closing: bool) -> bool:
        """Commit `batch`, retrying (with what is queued meanwhile) until it goes through;
        returns whether the store is closing. Closing, it tries for `write_timeout` more
        seconds, then says what it could not store."""
        given_up_at = time.monotonic() + self.write_timeout
        while (reason := writer.apply(batch)) is not None:
            self._set_trouble(reason)
            if closing and time.monotonic() >= given_up_at:
                log.error("store: %d writes could not be stored: %s", len(batch.ops), reason)
                return True
            time.sleep(self.retry_interval)
            later, now_closing = pending.take(0.0)
            batch, closing = batch.then(later), closing or now_closing
            if now_closing:
                given_up_at = time.monotonic() + self.write_timeout
        self._set_trouble(None)
        return closing

    def _set_trouble(self, reason: str | None) -> None:
        changed = (reason is None) != (self.trouble is None)
        self.trouble = reason
        if reason is not None and changed:
            log.error("store: writes fail and are kept to retry: %s", reason)
        elif changed:
            log.warning("store: writes go through again")
        if changed and self.on_trouble is not None:
            self.on_trouble(reason)

    # --- writes -----------------------------------------------------------------------------

    def create_run(self, run: StoredRun) -> None:
        """Store a new run; committed when this returns."""
        try:
            config_json = json.dumps(run.config)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"run {run.id}: config cannot be stored as JSON: {exc}") from None
        self._wait(lambda waiter: CreateRun(run, config_json, waiter))

    def update_run(
        self,
        run_id: str,
        *,
        status: str,
        step: int,
        loss: float | None,
        test_loss: float | None,
        message: str | None,
        learning_rate: float,
        speed: float | None,
    ) -> None:
        """Queue the run's latest status; of several queued in one interval, the last wins."""
        update = RunUpdate(status, step, loss, test_loss, message, learning_rate, speed)
        self._live().pending.put_update(run_id, update)

    def add_losses(
        self,
        run_id: str,
        first_step: int,
        losses: Sequence[float] | npt.NDArray[np.float64],
        test_losses: Sequence[tuple[int, float]] = (),
    ) -> None:
        """Queue losses[i] as the train loss at step first_step + i, plus sparse test losses.

        Losses that are not finite (or None) read back as None. Train losses starting at step s
        replace whatever was stored from s on, so a run resumed from an earlier snapshot simply
        writes its steps again.
        """
        if first_step < 0:
            raise ValueError(f"first_step must be 0 or more, not {first_step}")
        values = losses.tolist() if isinstance(losses, np.ndarray) else list(losses)
        tests = tuple(test_losses) if test_losses else ()
        self._live().pending.put(AddLosses(run_id, first_step, values, tests))

    def add_snapshot(
        self,
        run_id: str,
        step: int,
        blob: bytes,
        *,
        pinned: bool = False,
        on_stored: Callable[[], None] | None = None,
    ) -> None:
        """Queue the weights after `step` updates (opaque bytes).

        pinned: taken at a pause, stop or interrupt; kept in preference to regular ones when
        the run's snapshots outgrow the byte budget. on_stored: called from the writer thread
        once it is committed.
        """
        data = blob if isinstance(blob, bytes) else bytes(blob)
        self._live().pending.put(AddSnapshot(run_id, step, data, pinned, on_stored))

    def add_learning_rate_change(self, run_id: str, step: int, learning_rate: float) -> None:
        """Queue that updates from `step` on use `learning_rate`."""
        self._live().pending.put(AddLearningRate(run_id, step, learning_rate))

    def add_engine(self, run_id: str, step: int, engine: str) -> None:
        """Queue that updates from `step` on are made under the arithmetic `engine`
        (app/nn/arithmetic.py)."""
        self._live().pending.put(AddEngine(run_id, step, engine))

    def set_config(self, run_id: str, config: dict[str, Any]) -> None:
        """Queue a run's changed config (only what may change: its name)."""
        self._live().pending.put(SetConfig(run_id, json.dumps(config)))

    def add_weight_edit(self, run_id: str, edit: WeightEdit) -> None:
        """Queue a weight or bias set by hand (replays apply it at its step)."""
        self._live().pending.put(AddWeightEdit(run_id, edit))

    def truncate_after(self, run_id: str, step: int) -> None:
        """Queue dropping the run's losses, snapshots, learning-rate and engine changes after
        `step`.

        For a run resumed from the snapshot at `step`: what it stored after that belongs to a
        timeline that no longer exists (a learning-rate change there must not replay).
        """
        self._live().pending.put(TruncateAfter(run_id, step))

    def delete_run(self, run_id: str) -> None:
        """Remove the run and everything stored about it; committed when this returns."""
        self._wait(lambda waiter: DeleteRun(run_id, waiter))

    def flush(self) -> None:
        """Return once everything queued before this call is committed; StoreUnavailable if
        that takes longer than `write_timeout`."""
        self._wait(Barrier)

    def mark_running_as_interrupted(self) -> list[str]:
        """At start-up: runs still stored as running become interrupted; returns their ids."""
        return self._wait(lambda waiter: MarkInterrupted(INTERRUPTED_MESSAGE, waiter))

    def _wait(self, make: Callable[[Waiter], Op]) -> list[str]:
        waiter = Waiter()
        op: Op = make(waiter)
        session = self._live()
        session.pending.put(op, urgent=True)
        deadline = time.monotonic() + self.write_timeout
        while not waiter.done.wait(0.05):
            if not session.thread.is_alive():
                raise StoreError("the store's writer thread has stopped")
            if time.monotonic() >= deadline:
                why = self.trouble or f"nothing was committed within {self.write_timeout} s"
                raise StoreUnavailable(f"storage unavailable: {why}")
        if waiter.error is not None:
            raise StoreError(waiter.error)
        return waiter.result

    def _live(self) -> _OpenStore:
        if self._open is None:
            raise StoreError("the store is not open")
        return self._open

    # --- reads ------------------------------------------------------------------------------

    def list_runs(self) -> list[StoredRun]:
        with self._read() as conn:
            rows = conn.execute(f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY created_at, id")
            return [_run_from_row(row) for row in rows]

    def get_run(self, run_id: str) -> StoredRun | None:
        with self._read() as conn:
            row = conn.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,))
            found = row.fetchone()
        return None if found is None else _run_from_row(found)

    def history(self, run_id: str) -> tuple[list[int], list[float | None], list[float | None]]:
        """Steps, train losses and test losses (None where absent or not finite), one per step."""
        return merge_history(self._loss_chunks(run_id))

    def history_arrays(self, run_id: str) -> LossArrays:
        """What history() answers, as numpy arrays (NaN for None): cheap to thin or reduce."""
        return merge_arrays(self._loss_chunks(run_id))

    def history_range(self, run_id: str, first: int, last: int) -> LossArrays:
        """The stored losses of steps first..last, reading only the chunks that hold them."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT first_step, count, losses, test_steps, test_losses, last_step"
                " FROM loss_chunks WHERE run_id = ? AND last_step >= ? AND first_step <= ?"
                " ORDER BY id",
                (run_id, first, last),
            ).fetchall()
        merged = merge_arrays(Chunk(*row) for row in rows)
        keep = (merged.steps >= first) & (merged.steps <= last)
        return LossArrays(merged.steps[keep], merged.loss[keep], merged.test[keep])

    def _loss_chunks(self, run_id: str) -> list[Chunk]:
        """The run's stored loss chunks in the order they were written."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT first_step, count, losses, test_steps, test_losses, last_step"
                " FROM loss_chunks WHERE run_id = ? ORDER BY id",
                (run_id,),
            ).fetchall()
        return [Chunk(*row) for row in rows]

    def learning_rate_changes(self, run_id: str) -> list[tuple[int, float]]:
        """(first step using the rate, rate), by step."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT step, learning_rate FROM learning_rates WHERE run_id = ? ORDER BY step",
                (run_id,),
            )
            return [(step, rate) for step, rate in rows]

    def engine_changes(self, run_id: str) -> list[tuple[int, str]]:
        """(first step made under the arithmetic, arithmetic), by step; empty for a run stored
        before engines were recorded."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT step, engine FROM engines WHERE run_id = ? ORDER BY step", (run_id,)
            )
            return [(step, engine) for step, engine in rows]

    def weight_edits(self, run_id: str) -> list[WeightEdit]:
        """The run's weights and biases set by hand, in the order they were made."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT step, layer, to_neuron, from_neuron, value FROM weight_edits"
                " WHERE run_id = ? ORDER BY step, seq",
                (run_id,),
            )
            return [WeightEdit(*row) for row in rows]

    def snapshot_at_or_before(self, run_id: str, step: int) -> tuple[int, bytes] | None:
        """The latest snapshot at or before `step`: where replaying up to `step` starts."""
        return self._one_snapshot(
            "WHERE run_id = ? AND step <= ? ORDER BY step DESC LIMIT 1", (run_id, step)
        )

    def latest_snapshot(self, run_id: str) -> tuple[int, bytes] | None:
        return self._one_snapshot("WHERE run_id = ? ORDER BY step DESC LIMIT 1", (run_id,))

    def snapshot_steps(self, run_id: str) -> list[int]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT step FROM snapshots WHERE run_id = ? ORDER BY step", (run_id,)
            )
            return [step for (step,) in rows]

    def snapshot_bytes(self, run_id: str) -> int:
        """The bytes of snapshots the run holds now (what the budget limits)."""
        with self._read() as conn:
            (total,) = conn.execute(
                "SELECT coalesce(sum(size), 0) FROM snapshots WHERE run_id = ?", (run_id,)
            ).fetchone()
        return int(total)

    def integrity_ok(self) -> bool:
        """Whether PRAGMA integrity_check finds the file sound."""
        with self._read() as conn:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        return [tuple(row) for row in rows] == [("ok",)]

    def _one_snapshot(self, where: str, args: tuple[Any, ...]) -> tuple[int, bytes] | None:
        with self._read() as conn:
            row = conn.execute(f"SELECT step, blob FROM snapshots {where}", args).fetchone()
        return None if row is None else (row[0], bytes(row[1]))

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        try:
            with self._live().reads.connection() as conn:
                yield conn
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"storage unavailable: a read failed: {exc}") from None


_RUN_COLUMNS = (
    "id, config, status, step, loss, test_loss, created_at, message, learning_rate, speed"
)


def _run_from_row(row: tuple[Any, ...]) -> StoredRun:
    run_id, config, status, step, loss, test_loss, created_at, message, rate, speed = row
    return StoredRun(
        id=run_id,
        config=json.loads(config),
        status=status,
        step=step,
        loss=finite(loss),
        test_loss=finite(test_loss),
        created_at=created_at,
        message=message,
        learning_rate=rate,
        speed=finite(speed),
    )
