"""The thinned history: LossArrays (history without a Python float a step) and thin()."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from app.store import RunStore
from app.store.losses import (
    Chunk,
    LossArrays,
    LossGroup,
    _merge_sequential,
    merge_arrays,
    merge_history,
)
from app.store.thin import Thinned, thin
from tests.store.conftest import make_run


def chunk(first: int, values: list[float], tests: list[tuple[int, float]]) -> Chunk:
    group = LossGroup()
    group.add(first, values, tests)
    return group.chunk()


def as_lists(arrays: LossArrays) -> tuple[list[int], list[float | None], list[float | None]]:
    def none_for_nan(values: npt.NDArray[np.float64]) -> list[float | None]:
        return [None if math.isnan(v) else v for v in values.tolist()]

    return arrays.steps.tolist(), none_for_nan(arrays.loss), none_for_nan(arrays.test)


def original_merge_history(
    chunks: list[Chunk],
) -> tuple[list[int], list[float | None], list[float | None]]:
    """merge_history as it was before LossArrays (but for names and stale values): the
    reference."""
    size = max((c.last_step + 1 for c in chunks), default=0)
    loss, has_loss = np.full(size, np.nan), np.zeros(size, dtype=bool)
    test, has_test = np.full(size, np.nan), np.zeros(size, dtype=bool)
    for c in chunks:
        if c.length:
            end = c.first_step + c.length
            has_loss[c.first_step :] = False
            has_test[c.first_step :] = False
            loss[c.first_step : end] = np.frombuffer(c.losses, dtype=np.float64)
            has_loss[c.first_step : end] = True
        if c.test_steps:
            steps = np.frombuffer(c.test_steps, dtype=np.int64)
            test[steps] = np.frombuffer(c.test_losses, dtype=np.float64)
            has_test[steps] = True
    # Not verbatim here: what a rewind unmarked is not shown (the original showed a stale test
    # loss at a step re-trained without a new test measurement).
    loss[~has_loss] = np.nan
    test[~has_test] = np.nan
    where = np.flatnonzero(has_loss | has_test)

    def none_for_not_finite(values: npt.NDArray[np.float64]) -> list[float | None]:
        return [v if math.isfinite(v) else None for v in values.tolist()]

    return where.tolist(), none_for_not_finite(loss[where]), none_for_not_finite(test[where])


def random_chunks(rng: np.random.Generator, count: int, rewinds: bool = True) -> list[Chunk]:
    """Chunks as a run writes them, with NaN, infinities and spikes among the values; `rewinds`:
    also resumes from an earlier snapshot and test-only chunks."""
    chunks, next_step = [], 0
    for _ in range(count):
        kind = rng.random() if rewinds else 1.0
        if kind < 0.1 and next_step:
            tests = [(int(s), float(rng.random())) for s in rng.integers(0, next_step, 3)]
            chunks.append(chunk(next_step, [], sorted(set(tests))))
            continue
        if kind < 0.25 and next_step > 10:
            next_step = int(rng.integers(0, next_step))  # rewound
        length = int(rng.integers(1, 600))
        values = rng.random(length) / (next_step + np.arange(length) + 1)
        values[rng.random(length) < 0.01] *= 1e4  # spikes
        values[rng.random(length) < 0.005] = np.nan
        values[rng.random(length) < 0.005] = np.inf
        steps = range(next_step, next_step + length, 7)
        tests = [(s, float(rng.random()) if rng.random() > 0.05 else math.nan) for s in steps]
        chunks.append(chunk(next_step, values.tolist(), tests))
        next_step += length
    return chunks


def brute_thin(
    history: tuple[list[int], list[float | None], list[float | None]], points: int
) -> Thinned:
    """Bucket by bucket in plain Python: min and max of the values that are not None."""
    steps, loss, test = history
    width = math.ceil((steps[-1] - steps[0] + 1) / points)
    buckets: dict[int, list[int]] = {}
    for k, step in enumerate(steps):
        buckets.setdefault((step - steps[0]) // width, []).append(k)

    def reduce(values: list[float | None], members: list[int], pick: object) -> float | None:
        present = [v for v in (values[k] for k in members) if v is not None]
        return pick(present) if present else None  # type: ignore[operator]

    order = sorted(buckets)
    return Thinned(
        bucket_steps=width,
        last_step=steps[-1],
        steps=[steps[0] + b * width for b in order],
        loss_min=[reduce(loss, buckets[b], min) for b in order],
        loss_max=[reduce(loss, buckets[b], max) for b in order],
        test_loss_min=[reduce(test, buckets[b], min) for b in order],
        test_loss_max=[reduce(test, buckets[b], max) for b in order],
    )


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("rewinds", [True, False])
def test_merge_arrays_is_the_history_as_arrays(seed: int, rewinds: bool) -> None:
    chunks = random_chunks(np.random.default_rng(seed), 40, rewinds)
    # Without rewinds the chunks are laid end to end (the fast path); with them, merged.
    assert (_merge_sequential(chunks) is None) == rewinds
    reference = original_merge_history(chunks)
    assert as_lists(merge_arrays(chunks)) == reference
    assert merge_history(chunks) == reference


def test_sequential_merge_declines_what_it_cannot_lay_end_to_end() -> None:
    def check(chunks: list[Chunk], sequential: bool) -> None:
        assert (_merge_sequential(chunks) is not None) == sequential
        assert as_lists(merge_arrays(chunks)) == original_merge_history(chunks)

    check([chunk(0, [1.0, 2.0], [(1, 0.5)]), chunk(2, [3.0], [(2, 0.25)])], True)
    check([chunk(0, [1.0, 2.0], []), chunk(3, [3.0], [])], False)  # a gap
    check([chunk(0, [1.0, 2.0], []), chunk(1, [3.0], [])], False)  # a rewind
    check([chunk(0, [1.0, 2.0], []), chunk(2, [], [(1, 0.5)])], False)  # tests only
    check([chunk(0, [1.0, 2.0], [(5, 0.5)]), chunk(2, [3.0], [])], False)  # a test past its losses
    check([chunk(0, [1.0, 2.0], [(1, 0.5)]), chunk(2, [3.0], [(1, 0.7)])], False)  # test again
    check([chunk(0, [1.0, 2.0], [(1, 0.5)]), chunk(2, [3.0], [(0, 0.7)])], False)
    check([chunk(0, [1.0, 2.0], [(0, 0.5)]), chunk(2, [3.0], [(1, 0.7)])], True)
    check([chunk(5, [1.0, math.inf], [(5, math.nan)])], True)
    check([], False)


@pytest.mark.parametrize("seed", range(5))
def test_thin_is_the_min_and_max_of_each_bucket(seed: int) -> None:
    rng = np.random.default_rng(seed)
    chunks = random_chunks(rng, 30)
    history = merge_history(chunks)
    arrays = merge_arrays(chunks)
    total = history[0][-1] - history[0][0] + 1
    for points in {1, 2, 3, 10, 97, total - 1, total, total + 1, 5 * total}:
        if points >= 1:
            assert thin(arrays, points) == brute_thin(history, points), points
    # Spikes survive thinning: the largest loss is the largest bucket max at any resolution.
    finite = [v for v in history[1] if v is not None]
    assert max(v for v in thin(arrays, 16).loss_max if v is not None) == max(finite)


@pytest.mark.parametrize("seed", range(3))
def test_thin_with_random_gaps(seed: int) -> None:
    rng = np.random.default_rng(seed)
    merged = merge_arrays(random_chunks(rng, 20, rewinds=False))
    keep = rng.random(len(merged.steps)) < 0.3
    keep[-1] = True
    gappy = LossArrays(merged.steps[keep], merged.loss[keep], merged.test[keep])
    history = as_lists(gappy)
    total = history[0][-1] - history[0][0] + 1
    for points in (1, 5, 64, 999, total, 3 * total):
        assert thin(gappy, points) == brute_thin(history, points), points


def test_thin_with_gaps_and_a_bucket_without_values() -> None:
    arrays = LossArrays(
        np.array([0, 1, 2, 10, 11, 30], dtype=np.int64),
        np.array([3.0, 1.0, 2.0, np.nan, np.nan, 5.0]),
        np.array([np.nan, 0.5, np.nan, np.nan, 0.25, np.nan]),
    )
    # Width 4: buckets 0-3, 8-11, 28-31 hold steps; 4-7 and the rest are left out.
    assert thin(arrays, 8) == Thinned(
        bucket_steps=4,
        last_step=30,
        steps=[0, 8, 28],
        loss_min=[1.0, None, 5.0],
        loss_max=[3.0, None, 5.0],
        test_loss_min=[0.5, 0.25, None],
        test_loss_max=[0.5, 0.25, None],
    )


def test_thin_of_nothing_and_of_too_few_points() -> None:
    empty = merge_arrays([])
    assert thin(empty, 10) == Thinned(1, None, [], [], [], [], [])
    with pytest.raises(ValueError, match="points"):
        thin(empty, 0)


def test_up_to_and_extended() -> None:
    arrays = merge_arrays([chunk(0, [4.0, 3.0, 2.0, 1.0], [(2, 0.2)])])
    cut = arrays.up_to(2)
    assert as_lists(cut) == ([0, 1, 2], [4.0, 3.0, 2.0], [None, None, 0.2])
    assert as_lists(arrays.up_to(-1)) == ([], [], [])
    longer = cut.extended(3, [0.5, math.inf, 0.25], {4: 0.1, 9: 9.0, 1: 9.0})
    assert as_lists(longer) == (
        [0, 1, 2, 3, 4, 5],
        [4.0, 3.0, 2.0, 0.5, None, 0.25],
        [None, None, 0.2, None, 0.1, None],
    )
    assert cut.extended(3, [], {3: 1.0}) is cut


def test_history_arrays_reads_what_history_reads(store: RunStore) -> None:
    store.create_run(make_run("a"))
    store.add_losses(
        "a", 0, [1.0, math.nan, 3.0, math.inf] * 500, [(s, 0.5) for s in range(0, 2000, 10)]
    )
    store.flush()
    store.add_losses("a", 1500, [2.0] * 700, [(1500, 0.25)])  # a resume from step 1500
    store.add_losses("b", 0, [7.0])  # another run's (unknown, dropped)
    store.flush()
    arrays = store.history_arrays("a")
    assert as_lists(arrays) == store.history("a")
    assert arrays.steps.tolist() == list(range(2200))
    assert thin(arrays, 2) == Thinned(
        1100, 2199, [0, 1100], [1.0, 1.0], [3.0, 3.0], [0.5, 0.25], [0.5, 0.5]
    )
    assert as_lists(store.history_arrays("nope")) == ([], [], [])
