"""The snapshot schedule and the per-run byte budget."""

from __future__ import annotations

import itertools

from app.store import RunStore, should_snapshot
from app.store.schedule import SnapshotInfo, snapshots_to_drop
from tests.store.conftest import make_run


def test_schedule_every_step_then_sparser() -> None:
    kept = [step for step in range(20_001) if should_snapshot(step)]
    assert kept[:101] == list(range(101))
    assert [s for s in kept if 100 < s <= 1_000] == list(range(110, 1_001, 10))
    assert [s for s in kept if 1_000 < s <= 10_000] == list(range(1_100, 10_001, 100))
    assert [s for s in kept if s > 10_000] == list(range(11_000, 20_001, 1_000))
    assert not should_snapshot(-1)
    assert should_snapshot(10**9) and not should_snapshot(10**9 + 1)


def test_schedule_keeps_replay_short() -> None:
    kept = [step for step in range(100_001) if should_snapshot(step)]
    assert max(b - a for a, b in itertools.pairwise(kept)) == 1_000
    assert len(kept) == 101 + 90 + 90 + 90


def info(
    steps: range | list[int], size: int = 10, pinned: frozenset[int] = frozenset()
) -> list[SnapshotInfo]:
    return [SnapshotInfo(step, step in pinned, size) for step in steps]


def test_within_budget_drops_nothing() -> None:
    assert snapshots_to_drop(info(range(10)), budget=100) == []


def test_drops_densest_first_and_keeps_ends() -> None:
    snaps = info([0, 1, 2, 3, 10, 20, 30])
    dropped = snapshots_to_drop(snaps, budget=50)
    assert len(dropped) == 2
    assert set(dropped) == {1, 2}  # the crowded early steps go; the spread-out ones stay


def test_pinned_kept_until_no_unpinned_left() -> None:
    snaps = info(range(0, 100, 10), pinned=frozenset({10, 20, 30}))
    dropped = snapshots_to_drop(snaps, budget=50)
    assert 0 not in dropped and 90 not in dropped
    assert not {10, 20, 30} & set(dropped)
    assert len(dropped) == 5
    dropped = snapshots_to_drop(snaps, budget=30)
    assert set(dropped) >= {40, 50, 60, 70, 80}
    assert len(dropped) == 7 and 0 not in dropped and 90 not in dropped


def test_first_and_newest_kept_even_over_budget() -> None:
    snaps = info([0, 5, 9], size=100)
    assert snapshots_to_drop(snaps, budget=10) == [5]


def test_store_enforces_budget(db_path_store: RunStore) -> None:
    store = db_path_store
    store.create_run(make_run("a"))
    pinned = {150, 700}
    for step in range(0, 3_001):
        if should_snapshot(step) or step in pinned:
            store.add_snapshot("a", step, bytes(1_000), pinned=step in pinned)
        if step % 500 == 0:
            store.flush()  # the budget holds after every flush, not only at the end
            assert store.snapshot_bytes("a") <= 20_000
    store.flush()
    steps = store.snapshot_steps("a")
    assert len(steps) == 20 and store.snapshot_bytes("a") == 20_000
    assert steps[0] == 0 and steps[-1] == 3_000
    assert pinned <= set(steps)
    gaps = [b - a for a, b in itertools.pairwise(steps)]
    assert max(gaps) <= 4 * min(gaps) + 200  # spread over the run, not bunched at one end
