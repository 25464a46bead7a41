"""Loss chunks: contiguous writes merge; writes after a resume replace; one entry a step."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from app.store import RunStore
from app.store.losses import LossGroup, merge_history, trim_chunk
from app.store.writer import CHUNK_MAX_VALUES
from tests.store.conftest import make_run


def chunk_rows(db_path: Path) -> list[tuple[int, int]]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT first_step, count FROM loss_chunks ORDER BY id").fetchall()


def test_one_chunk_per_flush_not_per_step(store: RunStore, db_path: Path) -> None:
    store.create_run(make_run("a"))
    for step in range(500):
        store.add_losses("a", step, [step / 10])
    store.flush()
    assert chunk_rows(db_path) == [(0, 500)]
    assert store.history("a")[1] == [step / 10 for step in range(500)]


def test_slow_run_appends_to_its_last_chunk(store: RunStore, db_path: Path) -> None:
    store.create_run(make_run("a"))
    for step in range(30):
        store.add_losses("a", step, [float(step)], [(step, -step)] if step % 10 == 0 else [])
        store.flush()  # one transaction per step, as a user stepping by hand makes
    assert chunk_rows(db_path) == [(0, 30)]
    steps, loss, test = store.history("a")
    assert steps == list(range(30))
    assert loss == [float(s) for s in range(30)]
    assert [(s, t) for s, t in zip(steps, test, strict=True) if t is not None] == [
        (0, 0.0),
        (10, -10.0),
        (20, -20.0),
    ]


def test_full_chunk_starts_a_new_one(store: RunStore, db_path: Path) -> None:
    store.create_run(make_run("a"))
    store.add_losses("a", 0, [1.0] * (CHUNK_MAX_VALUES - 1))
    store.flush()
    store.add_losses("a", CHUNK_MAX_VALUES - 1, [2.0, 3.0])
    store.flush()
    assert chunk_rows(db_path) == [(0, CHUNK_MAX_VALUES - 1), (CHUNK_MAX_VALUES - 1, 2)]
    steps, loss, _ = store.history("a")
    assert steps == list(range(CHUNK_MAX_VALUES + 1))
    assert loss[-3:] == [1.0, 2.0, 3.0]


def test_resume_from_earlier_snapshot_overwrites(store: RunStore) -> None:
    """Trained to step 500, snapshot at 400, killed; resumed, it writes 401.. again."""
    store.create_run(make_run("a"))
    store.add_losses("a", 0, [1.0] * 501, [(s, 1.0) for s in range(0, 501, 100)])
    store.flush()
    store.add_losses("a", 401, [2.0] * 50, [(450, 2.0)])
    store.flush()
    steps, loss, test = store.history("a")
    # The abandoned steps 451..500 are gone: one timeline, one entry per step.
    assert steps == list(range(451))
    assert loss == [1.0] * 401 + [2.0] * 50
    assert {s: t for s, t in zip(steps, test, strict=True) if t is not None} == {
        0: 1.0,
        100: 1.0,
        200: 1.0,
        300: 1.0,
        400: 1.0,
        450: 2.0,
    }
    store.add_losses("a", 451, [3.0] * 100)
    store.flush()
    assert store.history("a")[1] == [1.0] * 401 + [2.0] * 50 + [3.0] * 100


def test_resume_within_one_flush(store: RunStore) -> None:
    store.create_run(make_run("a"))
    store.add_losses("a", 0, [1.0] * 10)
    store.add_losses("a", 5, [2.0] * 3)  # a rewind before the writer ever saw the first write
    store.flush()
    assert store.history("a") == (list(range(8)), [1.0] * 5 + [2.0] * 3, [None] * 8)


def test_test_loss_in_its_own_call_joins_the_step(store: RunStore) -> None:
    store.create_run(make_run("a"))
    store.add_losses("a", 0, [1.0, 2.0])
    store.add_losses("a", 1, [], [(1, 0.5)])
    store.add_losses("a", 2, [3.0])
    store.flush()
    assert store.history("a") == ([0, 1, 2], [1.0, 2.0, 3.0], [None, 0.5, None])


def test_truncate_after_drops_the_abandoned_timeline(store: RunStore) -> None:
    store.create_run(make_run("a"))
    store.add_losses("a", 0, [1.0] * 300, [(100, 0.1), (200, 0.2)])
    store.flush()
    store.add_losses("a", 300, [1.0] * 300, [(300, 0.3)])
    for step in (0, 100, 200, 300, 400):
        store.add_snapshot("a", step, b"w")
    store.add_learning_rate_change("a", 150, 0.1)
    store.add_learning_rate_change("a", 350, 0.01)
    store.truncate_after("a", 150)
    store.flush()
    steps, _, test = store.history("a")
    assert steps == list(range(151))
    assert {s: t for s, t in zip(steps, test, strict=True) if t is not None} == {100: 0.1}
    assert store.snapshot_steps("a") == [0, 100]
    assert store.learning_rate_changes("a") == [(150, 0.1)]
    store.add_losses("a", 151, [5.0])
    store.flush()
    assert store.history("a")[1][-2:] == [1.0, 5.0]


def test_merge_history_pure() -> None:
    def chunk(first: int, values: list[float], tests: list[tuple[int, float]]) -> LossGroup:
        group = LossGroup()
        group.add(first, values, tests)
        return group

    chunks = [
        chunk(0, [0.0, 1.0, 2.0, 3.0], [(3, 30.0)]).chunk(),
        chunk(2, [20.0], []).chunk(),
        chunk(0, [], [(1, 10.0)]).chunk(),
    ]
    assert merge_history(chunks) == ([0, 1, 2], [0.0, 1.0, 20.0], [None, 10.0, None])
    assert merge_history([]) == ([], [], [])


def test_trim_chunk() -> None:
    group = LossGroup()
    group.add(10, [1.0, 2.0, 3.0], [(10, 0.1), (12, 0.3)])
    full = group.chunk()
    assert trim_chunk(full, 9) is None
    kept = trim_chunk(full, 11)
    assert kept is not None
    assert (kept.first_step, kept.length, kept.last_step) == (10, 2, 11)
    assert merge_history([kept]) == ([10, 11], [1.0, 2.0], [0.1, None])
