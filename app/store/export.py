"""Reading a run's loss history window by window, in constant memory, however long the run.

`RunStore.history_arrays` merges every chunk into arrays as long as the run (240 MB at 10
million steps); the readers here walk the history in windows of `WINDOW` steps instead, with
a read connection of their own, for the bounded `/history`, its zoomed ranges and the CSV
export.

Which stored value counts is what `merge_arrays` (app/store/losses.py) decides: a chunk of
train losses that starts at step s replaces everything written before it from s on. So a
chunk's values hold below its cutoff, the lowest first step of the train chunks written
after it; the cutoffs are computed once from the chunks' step columns (never their blobs).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from app.store.losses import FLOAT, STEP, LossArrays
from app.store.schema import open_reader
from app.store.thin import Thinned

WINDOW = 1 << 16  # steps read and merged at a time: three arrays of 512 KiB
CSV_BLOCK = 4096  # lines formatted at a time
ID_BATCH = 500  # chunk ids per query, well under SQLite's limit on parameters


class _Meta(NamedTuple):
    chunk_id: int
    low: int  # the lowest step the chunk holds: a chunk's test steps may precede its first
    first_step: int
    length: int  # train losses held (the table's `count`)
    last_step: int


def cutoffs(chunks: list[_Meta]) -> dict[int, float]:
    """For each chunk, the first step from which later train chunks replace its values."""
    out: dict[int, float] = {}
    lowest = math.inf
    for chunk in reversed(chunks):
        out[chunk.chunk_id] = lowest
        if chunk.length:
            lowest = min(lowest, chunk.first_step)
    return out


def _meta(conn: sqlite3.Connection, run_id: str) -> list[_Meta]:
    rows = conn.execute(
        "SELECT id, first_step, count, last_step, test_steps FROM loss_chunks WHERE run_id = ? "
        "ORDER BY id",
        (run_id,),
    )
    out = []
    for chunk_id, first, count, last, test_steps in rows:
        tests = np.frombuffer(test_steps, dtype=STEP)
        low = min(first, int(tests.min())) if len(tests) else first
        out.append(_Meta(chunk_id, low, first, count, last))
    return out


def iter_history(
    path: Path, run_id: str, start: int, end: int, window: int = WINDOW
) -> Iterator[LossArrays]:
    """The held steps of `start` .. `end` (inclusive) in order, a window at a time."""
    with closing(open_reader(path)) as conn:
        meta = _meta(conn, run_id)
        if not meta:
            return
        cut = cutoffs(meta)
        end = min(end, max(m.last_step for m in meta))
        for w0 in range(start, end + 1, window):
            w1 = min(w0 + window, end + 1)
            ids = [m.chunk_id for m in meta if m.low < w1 and m.last_step >= w0]
            piece = _window(conn, ids, cut, w0, w1)
            if len(piece.steps):
                yield piece


def _window(
    conn: sqlite3.Connection, ids: list[int], cut: dict[int, float], w0: int, w1: int
) -> LossArrays:
    size = w1 - w0
    loss, has_loss = np.full(size, np.nan), np.zeros(size, dtype=bool)
    test, has_test = np.full(size, np.nan), np.zeros(size, dtype=bool)
    for batch in range(0, len(ids), ID_BATCH):
        chosen = ids[batch : batch + ID_BATCH]
        rows = conn.execute(
            "SELECT id, first_step, count, losses, test_steps, test_losses FROM loss_chunks "
            f"WHERE id IN ({','.join('?' * len(chosen))}) ORDER BY id",
            chosen,
        )
        for chunk_id, first, count, losses, test_steps, test_losses in rows:
            limit = cut[chunk_id]
            low, high = max(first, w0), int(min(first + count, w1, limit))
            if low < high:
                values = np.frombuffer(losses, dtype=FLOAT, count=high - first)[low - first :]
                loss[low - w0 : high - w0] = values
                has_loss[low - w0 : high - w0] = True
            if test_steps:
                steps = np.frombuffer(test_steps, dtype=STEP)
                keep = (steps >= w0) & (steps < w1) & (steps < limit)
                test[steps[keep] - w0] = np.frombuffer(test_losses, dtype=FLOAT)[keep]
                has_test[steps[keep] - w0] = True
    where = np.flatnonzero(has_loss | has_test)
    loss, test = loss[where], test[where]
    loss[np.isinf(loss)] = np.nan
    test[np.isinf(test)] = np.nan
    return LossArrays(where + w0, loss, test)


class Buckets:
    """Min and max of each bucket of `width` steps from `start`, fed a piece at a time."""

    def __init__(self, start: int, end: int, points: int) -> None:
        self.start = start
        self.width = max(1, -(-(end - start + 1) // points))
        count = -(-(end - start + 1) // self.width)
        self.held = np.zeros(count, dtype=bool)
        self.values = np.full((4, count), np.nan)  # loss min, loss max, test min, test max
        self.last_step: int | None = None

    def add(self, piece: LossArrays) -> None:
        if not len(piece.steps):
            return
        index = (piece.steps - self.start) // self.width
        self.held[index] = True
        np.fmin.at(self.values[0], index, piece.loss)
        np.fmax.at(self.values[1], index, piece.loss)
        np.fmin.at(self.values[2], index, piece.test)
        np.fmax.at(self.values[3], index, piece.test)
        self.last_step = int(piece.steps[-1])

    def result(self) -> Thinned:
        where = np.flatnonzero(self.held)
        lists = [none_for_nan(row[where]) for row in self.values]
        steps = (self.start + where * self.width).tolist()
        return Thinned(self.width, self.last_step, steps, *lists)


def last_stored_step(path: Path, run_id: str) -> int:
    """The highest step the store holds a loss of for the run; -1 for none."""
    with closing(open_reader(path)) as conn:
        (last,) = conn.execute(
            "SELECT max(last_step) FROM loss_chunks WHERE run_id = ?", (run_id,)
        ).fetchone()
    return -1 if last is None else int(last)


def pieces(
    path: Path, run_id: str, start: int, end: int, stored_last: int, tail: LossArrays
) -> Iterator[LossArrays]:
    """Steps `start` .. `end`: the store's up to `stored_last`, then `tail` (not yet stored)."""
    yield from iter_history(path, run_id, start, min(end, stored_last))
    keep = (tail.steps >= start) & (tail.steps <= end)
    if keep.any():
        yield LossArrays(tail.steps[keep], tail.loss[keep], tail.test[keep])


def bucketed(source: Iterator[LossArrays], start: int, end: int, points: int) -> Thinned:
    """Steps `start` .. `end` of `source` in at most `points` buckets of equal width."""
    buckets = Buckets(start, end, points)
    for piece in source:
        buckets.add(piece)
    return buckets.result()


Reader = Callable[[int, int], Iterator[LossArrays]]  # (start, end) -> the held steps, in order


def bounded_history(
    read: Reader, last: int, *, full: int, buckets: int, recent: int
) -> dict[str, Any]:
    """Steps 0 .. `last`: every one if they number at most `full`; else the last `recent` in
    full and the ones before in `earlier`, at most `buckets` buckets."""
    full_from, earlier = 0, None
    if last + 1 > full:
        full_from = last - recent + 1
        earlier = bucketed(read(0, full_from - 1), 0, full_from - 1, buckets)._asdict()
    parts = list(read(full_from, last))
    steps = np.concatenate([p.steps for p in parts]) if parts else np.zeros(0, np.int64)
    loss = np.concatenate([p.loss for p in parts]) if parts else np.zeros(0)
    test = np.concatenate([p.test for p in parts]) if parts else np.zeros(0)
    return {
        "steps": steps.tolist(),
        "loss": none_for_nan(loss),
        "test_loss": none_for_nan(test),
        "earlier": earlier,
    }


def csv_lines(source: Iterator[LossArrays]) -> Iterator[bytes]:
    """`step,loss,test_loss` and a line per held step; empty fields for none."""
    yield b"step,loss,test_loss\n"
    for piece in source:
        # Formatted a few thousand lines at a time: Python strings cost ~50 bytes a float.
        for at in range(0, len(piece.steps), CSV_BLOCK):
            block = slice(at, at + CSV_BLOCK)
            steps = piece.steps[block].tolist()
            loss, test = _cells(piece.loss[block]), _cells(piece.test[block])
            lines = [f"{s},{a},{b}\n" for s, a, b in zip(steps, loss, test, strict=True)]
            yield "".join(lines).encode()


def _cells(values: np.ndarray[tuple[int], np.dtype[np.float64]]) -> list[str]:
    # repr gives the shortest text that reads back as the same float64: exact in CSV.
    return ["" if math.isnan(v) else repr(v) for v in values.tolist()]


def none_for_nan(values: np.ndarray[tuple[int], np.dtype[np.float64]]) -> list[float | None]:
    out: list[float | None] = list(values.tolist())
    for i in np.flatnonzero(np.isnan(values)).tolist():
        out[i] = None
    return out
