"""The writer: applies each batch of queued operations in one transaction, on its own thread.

It alone touches the write connection. Its in-memory state (which runs exist, where each run's
last loss chunk ends) belongs to that thread, so it needs no lock.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from typing import NamedTuple

from app.json_out import finite_or_none as finite
from app.store.losses import Chunk, LossGroup, trim_chunk
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
from app.store.schedule import SnapshotInfo, snapshots_to_drop

log = logging.getLogger(__name__)

# A slow run's losses are appended to its last chunk until it holds this many (32 KiB), so a
# run stepped slowly for days does not leave a row per flush; fast runs fill a chunk a flush.
CHUNK_MAX_VALUES = 4096
WAL_LIMIT_BYTES = 64 * 2**20


class _Tail(NamedTuple):
    """The last train-loss chunk this writer wrote for a run."""

    rowid: int
    next_step: int
    length: int


class Writer:
    """Applies batches to the database through the one write connection."""

    def __init__(self, conn: sqlite3.Connection, snapshot_budget_bytes: int) -> None:
        self._conn = conn
        self._budget = snapshot_budget_bytes
        # The write-ahead log is checkpointed every 1,000 pages (SQLite's default) and cut
        # back to this size after each checkpoint, so big snapshots cannot leave it huge.
        conn.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT_BYTES}")
        self._runs = self._load_run_ids()
        self._tails: dict[str, _Tail] = {}

    def apply(self, batch: Batch) -> str | None:
        """Commit `batch` in one transaction; None once committed, else why not.

        A batch that fails is rolled back whole and left to the caller to try again (with
        what was queued since): nothing in it is dropped, and its waiters keep waiting.
        """
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            self._apply_ops(batch.ops)
            self._apply_updates(batch.updates)
            self._conn.execute("COMMIT")
        except Exception as exc:  # the thread must live on and try again
            self._recover()
            return str(exc) or type(exc).__name__
        for op in batch.ops:
            if isinstance(op, _SYNC_OPS):
                op.waiter.done.set()
            elif isinstance(op, AddSnapshot) and op.on_stored is not None:
                op.on_stored()
        return None

    def _recover(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")
        # What the rolled-back batch did to the in-memory state did not happen on disk.
        self._runs = self._load_run_ids()
        self._tails.clear()

    def _load_run_ids(self) -> set[str]:
        return {row[0] for row in self._conn.execute("SELECT id FROM runs")}

    def _apply_ops(self, ops: list[Op]) -> None:
        groups: dict[str, LossGroup] = {}
        snapshotted: set[str] = set()
        for op in ops:
            match op:
                case AddLosses(run_id, first_step, losses, tests):
                    self._gather(groups, run_id, first_step, losses, tests)
                case AddSnapshot(run_id, step, blob, pinned, _) if run_id in self._runs:
                    self._put_snapshot(run_id, step, blob, pinned)
                    snapshotted.add(run_id)
                case AddLearningRate(run_id, step, rate) if run_id in self._runs:
                    self._conn.execute(
                        "INSERT OR REPLACE INTO learning_rates VALUES (?, ?, ?)",
                        (run_id, step, rate),
                    )
                case AddEngine(run_id, step, engine) if run_id in self._runs:
                    self._conn.execute(
                        "INSERT OR REPLACE INTO engines VALUES (?, ?, ?)", (run_id, step, engine)
                    )
                case SetConfig(run_id, config_json) if run_id in self._runs:
                    self._conn.execute(
                        "UPDATE runs SET config = ? WHERE id = ?", (config_json, run_id)
                    )
                case AddWeightEdit(run_id, edit) if run_id in self._runs:
                    self._add_edit(run_id, edit)
                case CreateRun(run, config_json, waiter):
                    self._create(run, config_json, waiter)
                case DeleteRun(run_id, _):
                    groups.pop(run_id, None)
                    snapshotted.discard(run_id)
                    self._delete(run_id)
                case TruncateAfter(run_id, step):
                    self._write_group(run_id, groups.pop(run_id, None))
                    self._truncate(run_id, step)
                case MarkInterrupted(message, waiter):
                    waiter.result = self._mark_interrupted(message)
                case _:
                    pass  # a Barrier, or a write for a run deleted meanwhile
        for run_id, group in groups.items():
            self._write_group(run_id, group)
        for run_id in snapshotted:
            self._enforce_budget(run_id)

    def _gather(
        self,
        groups: dict[str, LossGroup],
        run_id: str,
        first_step: int,
        losses: Sequence[float],
        tests: Sequence[tuple[int, float]],
    ) -> None:
        if run_id not in self._runs:
            return
        group = groups.get(run_id)
        if group is None or not group.accepts(first_step, len(losses)):
            self._write_group(run_id, group)
            group = groups[run_id] = LossGroup()
        group.add(first_step, losses, tests)

    def _write_group(self, run_id: str, group: LossGroup | None) -> None:
        if group is None or (group.first_step is None and not group.tests):
            return
        try:
            chunk = group.chunk()
        except (TypeError, ValueError) as exc:  # a value that is not a number: drop the group only
            log.error("store: losses of run %s not stored: %s", run_id, exc)
            return
        tail = self._tails.get(run_id)
        if (
            tail is not None
            and (chunk.length == 0 or chunk.first_step == tail.next_step)
            and tail.length + chunk.length <= CHUNK_MAX_VALUES
        ):
            self._conn.execute(
                # || yields TEXT; the cast gives back the same bytes, typed as a BLOB.
                "UPDATE loss_chunks SET count = count + ?, last_step = max(last_step, ?),"
                " losses = CAST(losses || ? AS BLOB),"
                " test_steps = CAST(test_steps || ? AS BLOB),"
                " test_losses = CAST(test_losses || ? AS BLOB) WHERE id = ?",
                (
                    chunk.length,
                    chunk.last_step,
                    chunk.losses,
                    chunk.test_steps,
                    chunk.test_losses,
                    tail.rowid,
                ),
            )
            self._tails[run_id] = tail._replace(
                next_step=tail.next_step + chunk.length, length=tail.length + chunk.length
            )
            return
        rowid = self._insert_chunk(run_id, chunk)
        if chunk.length:
            self._tails[run_id] = _Tail(rowid, chunk.first_step + chunk.length, chunk.length)

    def _insert_chunk(self, run_id: str, chunk: Chunk) -> int:
        cursor = self._conn.execute(
            "INSERT INTO loss_chunks (run_id, first_step, count, last_step, losses,"
            " test_steps, test_losses) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                chunk.first_step,
                chunk.length,
                chunk.last_step,
                chunk.losses,
                chunk.test_steps,
                chunk.test_losses,
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def _put_snapshot(self, run_id: str, step: int, blob: bytes, pinned: bool) -> None:
        # A step written again (a resumed run) gets the new bytes; pinned once, pinned for good.
        self._conn.execute(
            "INSERT INTO snapshots (run_id, step, pinned, size, blob) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (run_id, step) DO UPDATE SET blob = excluded.blob,"
            " size = excluded.size, pinned = max(pinned, excluded.pinned)",
            (run_id, step, int(pinned), len(blob), blob),
        )

    def _enforce_budget(self, run_id: str) -> None:
        (total,) = self._conn.execute(
            "SELECT coalesce(sum(size), 0) FROM snapshots WHERE run_id = ?", (run_id,)
        ).fetchone()
        if total <= self._budget:
            return
        rows = self._conn.execute(
            "SELECT step, pinned, size FROM snapshots WHERE run_id = ?", (run_id,)
        )
        infos = [SnapshotInfo(step, bool(pinned), size) for step, pinned, size in rows]
        self._conn.executemany(
            "DELETE FROM snapshots WHERE run_id = ? AND step = ?",
            [(run_id, step) for step in snapshots_to_drop(infos, self._budget)],
        )

    def _add_edit(self, run_id: str, edit: WeightEdit) -> None:
        (seq,) = self._conn.execute(
            "SELECT count(*) FROM weight_edits WHERE run_id = ? AND step = ?", (run_id, edit.step)
        ).fetchone()
        self._conn.execute(
            "INSERT INTO weight_edits VALUES (?, ?, ?, ?, ?, ?, ?)",
            (run_id, edit.step, seq, edit.layer, edit.to_neuron, edit.from_neuron, edit.value),
        )

    def _create(self, run: StoredRun, config_json: str, waiter: Waiter) -> None:
        if run.id in self._runs:
            waiter.error = f"run {run.id} already exists"
            return
        self._conn.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run.id,
                config_json,
                run.status,
                run.step,
                finite(run.loss),
                finite(run.test_loss),
                run.created_at,
                run.message,
                run.learning_rate,
                finite(run.speed),
            ),
        )
        self._runs.add(run.id)

    def _delete(self, run_id: str) -> None:
        for table, key in _RUN_TABLES:
            self._conn.execute(f"DELETE FROM {table} WHERE {key} = ?", (run_id,))
        self._runs.discard(run_id)
        self._tails.pop(run_id, None)

    def _truncate(self, run_id: str, step: int) -> None:
        rows = self._conn.execute(
            "SELECT id, first_step, count, losses, test_steps, test_losses, last_step"
            " FROM loss_chunks WHERE run_id = ? AND last_step > ?",
            (run_id, step),
        ).fetchall()
        for rowid, *fields in rows:
            kept = trim_chunk(Chunk(*fields), step)
            if kept is None:
                self._conn.execute("DELETE FROM loss_chunks WHERE id = ?", (rowid,))
                continue
            self._conn.execute(
                "UPDATE loss_chunks SET count = ?, last_step = ?, losses = ?, test_steps = ?,"
                " test_losses = ? WHERE id = ?",
                (
                    kept.length,
                    kept.last_step,
                    kept.losses,
                    kept.test_steps,
                    kept.test_losses,
                    rowid,
                ),
            )
        for table in ("snapshots", "learning_rates", "engines", "weight_edits"):
            self._conn.execute(f"DELETE FROM {table} WHERE run_id = ? AND step > ?", (run_id, step))
        self._tails.pop(run_id, None)

    def _mark_interrupted(self, message: str) -> list[str]:
        ids = [row[0] for row in self._conn.execute("SELECT id FROM runs WHERE status = 'running'")]
        self._conn.execute(
            "UPDATE runs SET status = 'interrupted', message = ?, speed = NULL"
            " WHERE status = 'running'",
            (message,),
        )
        return ids

    def _apply_updates(self, updates: dict[str, RunUpdate]) -> None:
        self._conn.executemany(
            "UPDATE runs SET status = ?, step = ?, loss = ?, test_loss = ?, message = ?,"
            " learning_rate = ?, speed = ? WHERE id = ?",
            [
                (
                    u.status,
                    u.step,
                    finite(u.loss),
                    finite(u.test_loss),
                    u.message,
                    u.learning_rate,
                    finite(u.speed),
                    run_id,
                )
                for run_id, u in updates.items()
                if run_id in self._runs
            ],
        )


_SYNC_OPS = (CreateRun, DeleteRun, MarkInterrupted, Barrier)
_RUN_TABLES = (
    ("runs", "id"),
    ("loss_chunks", "run_id"),
    ("learning_rates", "run_id"),
    ("engines", "run_id"),
    ("snapshots", "run_id"),
    ("weight_edits", "run_id"),
)
