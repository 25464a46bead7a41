"""Window-by-window history reads agree with the store's whole-history merge, rewinds included,
and bucket and CSV answers hold exactly the stored values."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.store import RunStore
from app.store.export import Buckets, bucketed, csv_lines, iter_history
from app.store.losses import LossArrays
from tests.store.conftest import make_run

# (first_step, count, test every k) writes; a write before the end is a rewind.
Writes = st.lists(
    st.tuples(st.integers(0, 60), st.integers(0, 30), st.integers(1, 7)), min_size=1, max_size=8
)


def joined(pieces: list[LossArrays]) -> LossArrays:
    if not pieces:
        return LossArrays(np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    return LossArrays(*(np.concatenate(column) for column in zip(*pieces, strict=True)))


def write(store: RunStore, writes: list[tuple[int, int, int]]) -> None:
    rng = np.random.default_rng(0)
    for first, count, every in writes:
        losses = rng.random(count).tolist()
        if count > 2:
            losses[1] = math.inf  # stored as it is, read back as NaN like merge_arrays
        tests = [(s, float(s)) for s in range(first, first + max(count, 1), every)]
        store.add_losses("r1", first, losses, tests)
        store.flush()


@settings(max_examples=40, deadline=None)
@given(writes=Writes, window=st.integers(1, 40))
def test_windows_agree_with_the_whole_merge(
    tmp_path_factory: pytest.TempPathFactory, writes: list[tuple[int, int, int]], window: int
) -> None:
    path = tmp_path_factory.mktemp("export") / "runs.db"
    store = RunStore(path, flush_interval=0.01)
    store.open()
    try:
        store.create_run(make_run())
        write(store, writes)
        whole = store.history_arrays("r1")
        read = joined(list(iter_history(path, "r1", 0, 10**6, window=window)))
        np.testing.assert_array_equal(read.steps, whole.steps)
        np.testing.assert_array_equal(read.loss, whole.loss)
        np.testing.assert_array_equal(read.test, whole.test)
        middle = joined(list(iter_history(path, "r1", 10, 30, window=window)))
        keep = (whole.steps >= 10) & (whole.steps <= 30)
        np.testing.assert_array_equal(middle.steps, whole.steps[keep])
        np.testing.assert_array_equal(middle.loss, whole.loss[keep])
    finally:
        store.close()


def test_buckets_hold_each_buckets_min_and_max(store: RunStore, db_path: Path) -> None:
    store.create_run(make_run())
    losses = [float((s * 37) % 101) for s in range(1000)]
    store.add_losses("r1", 0, losses, [(s, -float(s)) for s in range(0, 1000, 10)])
    store.flush()
    result = bucketed(iter_history(db_path, "r1", 100, 899), 100, 899, 16)
    assert result.bucket_steps == 50 and result.steps == list(range(100, 900, 50))
    assert result.loss_min == [min(losses[s : s + 50]) for s in range(100, 900, 50)]
    assert result.loss_max == [max(losses[s : s + 50]) for s in range(100, 900, 50)]
    assert result.test_loss_min[0] == -140.0 and result.test_loss_max[0] == -100.0
    exact = bucketed(iter_history(db_path, "r1", 5, 9), 5, 9, 16)
    assert exact.bucket_steps == 1 and exact.loss_min == exact.loss_max == losses[5:10]


def test_an_empty_range_has_no_buckets() -> None:
    assert Buckets(0, 9, 4).result().steps == []


def test_csv_has_one_exact_line_per_step(store: RunStore, db_path: Path) -> None:
    store.create_run(make_run())
    losses = [1 / 3, 2e-300, float("nan"), 0.1]
    store.add_losses("r1", 0, losses, [(0, 0.5)])
    store.flush()
    text = b"".join(csv_lines(iter_history(db_path, "r1", 0, 3))).decode()
    lines = text.splitlines()
    assert lines[0] == "step,loss,test_loss" and len(lines) == 5
    assert lines[1] == "0,0.3333333333333333,0.5" and lines[3] == "2,,"
    assert float(lines[2].split(",")[1]) == 2e-300


def test_a_rewind_drops_the_test_losses_after_it(store: RunStore, db_path: Path) -> None:
    store.create_run(make_run())
    store.add_losses("r1", 0, [0.5] * 5, [(s, 1.0) for s in range(5)])
    store.flush()
    store.add_losses("r1", 2, [0.25] * 3, [(2, 2.0)])  # resumed from step 2: 3 and 4 unmeasured
    store.flush()
    for merged in (store.history_arrays("r1"), joined(list(iter_history(db_path, "r1", 0, 9)))):
        assert merged.test.tolist()[:3] == [1.0, 1.0, 2.0]
        assert np.isnan(merged.test[3:]).all()
