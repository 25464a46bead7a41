"""Everything written comes back as written, after a flush and after reopening the file."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import numpy as np
import pytest

from app.store import RunStore, StoreError
from tests.store.conftest import make_run


def test_create_is_committed_on_return_and_survives_reopen(store: RunStore, db_path: Path) -> None:
    run = make_run("a", loss=float("nan"), speed=float("inf"))
    store.create_run(run)
    assert store.get_run("a") == make_run("a", loss=None, speed=None)
    store.close()
    again = RunStore(db_path)
    again.open()
    try:
        assert again.list_runs() == [make_run("a", loss=None, speed=None)]
    finally:
        again.close()


def test_list_runs_in_creation_order(store: RunStore) -> None:
    store.create_run(make_run("late", created_at="2024-05-02T00:00:00+00:00"))
    store.create_run(make_run("early", created_at="2024-05-01T00:00:00+00:00"))
    assert [run.id for run in store.list_runs()] == ["early", "late"]
    assert store.get_run("missing") is None


def test_duplicate_run_is_refused(store: RunStore) -> None:
    store.create_run(make_run("a"))
    with pytest.raises(StoreError, match="run a already exists"):
        store.create_run(make_run("a", status="running"))
    assert store.get_run("a") == make_run("a")


def test_update_last_one_wins(store: RunStore) -> None:
    store.create_run(make_run("a"))
    for step in range(1, 6):
        store.update_run(
            "a",
            status="running",
            step=step,
            loss=1.0 / step,
            test_loss=float("-inf"),
            message=None,
            learning_rate=0.1,
            speed=100.0 * step,
        )
    store.flush()
    run = store.get_run("a")
    assert run is not None
    assert (run.status, run.step, run.loss, run.test_loss, run.learning_rate, run.speed) == (
        "running",
        5,
        0.2,
        None,
        0.1,
        500.0,
    )


def test_losses_round_trip_non_finite_as_none(store: RunStore) -> None:
    store.create_run(make_run("a"))
    store.add_losses("a", 0, [1.0, float("nan"), float("inf")], [(0, 0.9), (2, float("nan"))])
    store.add_losses("a", 3, np.array([0.5, -np.inf]), [(4, 0.4)])
    store.flush()
    steps, loss, test = store.history("a")
    assert steps == [0, 1, 2, 3, 4]
    assert loss == [1.0, None, None, 0.5, None]
    assert test == [0.9, None, None, None, 0.4]


def test_history_of_unknown_or_empty_run_is_empty(store: RunStore) -> None:
    store.create_run(make_run("a"))
    assert store.history("a") == ([], [], [])
    assert store.history("nobody") == ([], [], [])


def test_writes_for_unknown_run_are_dropped_not_fatal(store: RunStore) -> None:
    store.create_run(make_run("a"))
    store.add_losses("ghost", 0, [1.0])
    store.add_snapshot("ghost", 0, b"x")
    store.add_losses("a", 0, [2.0])
    store.flush()
    assert store.history("a") == ([0], [2.0], [None])
    assert store.history("ghost") == ([], [], [])
    assert store.snapshot_steps("ghost") == []


def test_learning_rate_changes_by_step(store: RunStore) -> None:
    store.create_run(make_run("a"))
    store.add_learning_rate_change("a", 50, 0.1)
    store.add_learning_rate_change("a", 10, 0.3)
    store.add_learning_rate_change("a", 50, 0.05)  # same step again: the later one wins
    store.flush()
    assert store.learning_rate_changes("a") == [(10, 0.3), (50, 0.05)]


def test_engine_changes_by_step(store: RunStore) -> None:
    store.create_run(make_run("a"))
    store.add_engine("a", 40, "engine 3")
    store.add_engine("a", 0, "engine 2")
    store.add_engine("a", 40, "engine 4")  # same step again: the later one wins
    store.flush()
    assert store.engine_changes("a") == [(0, "engine 2"), (40, "engine 4")]
    assert store.engine_changes("unknown") == []


def test_truncate_after_drops_later_engine_and_rate_changes(store: RunStore) -> None:
    store.create_run(make_run("a"))
    for step in (0, 10, 20):
        store.add_engine("a", step, f"engine {step}")
        store.add_learning_rate_change("a", step, step / 100)
    store.truncate_after("a", 10)
    store.flush()
    assert store.engine_changes("a") == [(0, "engine 0"), (10, "engine 10")]
    assert store.learning_rate_changes("a") == [(0, 0.0), (10, 0.1)]


def test_snapshots_round_trip(store: RunStore) -> None:
    store.create_run(make_run("a"))
    blobs = {step: bytes([step]) * (step + 1) for step in (0, 1, 2, 10)}
    for step, blob in blobs.items():
        store.add_snapshot("a", step, blob)
    store.add_snapshot("a", 2, b"again", pinned=True)
    store.flush()
    assert store.snapshot_steps("a") == [0, 1, 2, 10]
    assert store.snapshot_at_or_before("a", 9) == (2, b"again")
    assert store.snapshot_at_or_before("a", 10) == (10, blobs[10])
    assert store.snapshot_at_or_before("b", 10) is None
    assert store.latest_snapshot("a") == (10, blobs[10])
    assert store.latest_snapshot("b") is None
    assert store.snapshot_bytes("a") == 1 + 2 + 5 + 11


def test_queued_writes_are_invisible_until_flushed(db_path: Path) -> None:
    slow = RunStore(db_path, flush_interval=60.0)
    slow.open()
    try:
        slow.create_run(make_run("a"))
        slow.add_losses("a", 0, [1.0, 2.0])
        assert slow.history("a") == ([], [], [])  # queued, not yet committed
        slow.flush()
        assert slow.history("a") == ([0, 1], [1.0, 2.0], [None, None])
    finally:
        slow.close()


def test_close_commits_what_is_queued(db_path: Path) -> None:
    slow = RunStore(db_path, flush_interval=60.0)
    slow.open()
    slow.create_run(make_run("a"))
    slow.add_losses("a", 0, [3.0])
    slow.close()
    slow.open()
    try:
        assert slow.history("a") == ([0], [3.0], [None])
    finally:
        slow.close()


def test_writer_commits_on_its_own_within_the_interval(store: RunStore) -> None:
    store.create_run(make_run("a"))
    store.add_losses("a", 0, [1.0])
    committed = threading.Event()
    for _ in range(100):  # flush_interval is 0.05 s; allow up to 1 s
        if store.history("a")[0] == [0]:
            committed.set()
            break
        threading.Event().wait(0.01)
    assert committed.is_set()


def test_mark_running_as_interrupted(store: RunStore) -> None:
    store.create_run(make_run("a", status="running", speed=50.0))
    store.create_run(make_run("b", status="paused"))
    store.create_run(make_run("c", status="running"))
    assert sorted(store.mark_running_as_interrupted()) == ["a", "c"]
    run = store.get_run("a")
    assert run is not None
    assert (run.status, run.speed) == ("interrupted", None)
    assert run.message == "the server stopped while this run was training"
    assert store.get_run("b") == make_run("b", status="paused")
    assert store.mark_running_as_interrupted() == []


def test_delete_removes_everything(store: RunStore) -> None:
    for run_id in ("a", "b"):
        store.create_run(make_run(run_id))
        store.add_losses(run_id, 0, [1.0, 2.0], [(1, 0.5)])
        store.add_snapshot(run_id, 0, b"weights")
        store.add_learning_rate_change(run_id, 1, 0.1)
        store.add_engine(run_id, 0, "engine 2")
    store.delete_run("a")
    assert store.get_run("a") is None
    assert store.history("a") == ([], [], [])
    assert store.snapshot_steps("a") == []
    assert store.learning_rate_changes("a") == []
    assert store.engine_changes("a") == []
    assert store.engine_changes("b") == [(0, "engine 2")]
    assert store.history("b") == ([0, 1], [1.0, 2.0], [None, 0.5])  # the other run is intact
    store.add_losses("a", 2, [3.0])  # a late write from the deleted run's worker
    store.flush()
    assert store.history("a") == ([], [], [])


def test_use_when_closed_is_a_store_error(db_path: Path) -> None:
    closed = RunStore(db_path)
    with pytest.raises(StoreError, match="not open"):
        closed.add_losses("a", 0, [1.0])
    with pytest.raises(StoreError, match="not open"):
        closed.list_runs()
    closed.close()  # closing a store never opened is fine


def test_reads_from_many_threads(store: RunStore) -> None:
    store.create_run(make_run("a"))
    store.add_losses("a", 0, [float(i) for i in range(1000)])
    store.flush()
    results: list[float | None] = []

    def read() -> None:
        for _ in range(20):
            results.append(store.history("a")[1][999])

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [999.0] * 160
    assert math.isclose(store.get_run("a").loss or 0.0, 0.25)  # type: ignore[union-attr]


def test_a_bad_value_costs_only_its_own_losses(store: RunStore) -> None:
    store.create_run(make_run("a"))
    store.create_run(make_run("b"))
    store.add_losses("a", 0, ["not a number"])  # type: ignore[list-item]
    store.add_losses("b", 0, [1.0])
    store.add_snapshot("a", 0, b"w")
    store.flush()
    assert store.history("a") == ([], [], [])
    assert store.history("b") == ([0], [1.0], [None])
    assert store.snapshot_steps("a") == [0]  # the rest of the batch was committed


def test_negative_step_is_refused(store: RunStore) -> None:
    with pytest.raises(ValueError, match="first_step"):
        store.add_losses("a", -1, [1.0])
