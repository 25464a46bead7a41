"""The bounded history: HistorySummary's buckets, and the state frame's history of a long run."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np

from app.runs.config import RunConfig
from app.runs.manager import RunManager
from app.runs.summary import HistorySummary
from app.store import RunStore
from app.store.losses import LossArrays
from tests.support.manager import with_manager
from tests.support.runs import SMALL


def arrays(first: int, losses: list[float], tests: dict[int, float] | None = None) -> LossArrays:
    steps = np.arange(first, first + len(losses), dtype=np.int64)
    test = np.full(len(losses), np.nan)
    for step, value in (tests or {}).items():
        test[step - first] = value
    return LossArrays(steps, np.asarray(losses, dtype=np.float64), test)


def test_buckets_hold_the_min_and_max_of_their_steps_at_any_length() -> None:
    rng = np.random.default_rng(0)
    losses = rng.random(10_000)
    summary = HistorySummary(capacity=16)
    for first in range(0, 10_000, 700):  # added in pieces, as Progress events come
        summary.add(arrays(first, losses[first : first + 700].tolist()))
    buckets = summary.buckets(before=10_000)
    assert summary.bucket_steps == 1024 and len(buckets.steps) <= 16
    for k, first in enumerate(buckets.steps):
        held = losses[first : first + summary.bucket_steps]
        assert buckets.loss_min[k] == held.min() and buckets.loss_max[k] == held.max()


def test_a_bucket_without_a_test_loss_has_none_and_non_finite_losses_are_left_out() -> None:
    summary = HistorySummary(capacity=4)
    summary.add(arrays(0, [1.0, float("nan"), 3.0, 0.5], {2: 9.0}))
    buckets = summary.buckets(before=4)
    assert buckets.loss_min.tolist() == [1.0, 3.0, 0.5]
    assert np.isnan(buckets.test_min[0]) and buckets.test_max[1] == 9.0
    assert buckets.steps == [0, 2, 3]


def test_a_long_runs_state_history_is_bounded_and_exact_where_it_is_full(tmp_path: Path) -> None:
    async def scenario(manager: RunManager, store: RunStore) -> None:
        run = await manager.create(RunConfig.model_validate(SMALL | {"start": "running"}))
        while run.step < 60_000:
            await asyncio.sleep(0.1)
        await manager.pause(run.id)
        history = await manager.recent_history(run, run.step)
        whole = await manager.history_arrays(run.id)
        assert len(whole.steps) == run.step + 1
        assert len(history["steps"]) <= 2 * 64 + 100  # buckets, then the recent steps
        steps = history["steps"]
        assert steps == sorted(set(steps))  # strictly increasing: a chart can take them
        assert steps[-100:] == list(range(run.step - 99, run.step + 1))
        assert history["loss"][-100:] == whole.loss[-100:].tolist()  # recent: every loss, exact
        # Before them, each point is its bucket's min or max of the real losses.
        width = history["bucket_steps"]
        for step, value in zip(steps[:-100], history["loss"][:-100], strict=True):
            first = step - step % width
            held = whole.loss[first : min(first + width, history["recent_from"])]
            assert value in (held.min(), held.max())

    with_manager(tmp_path, scenario, state_recent_steps=100, state_history_buckets=64)
