"""Weights set by hand: applied before the next update, recorded, and replayed exactly."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from app.nn.trainer import Trainer
from app.runs.config import RunConfig
from app.runs.errors import InvalidRequest, RunConflict
from app.runs.manager import RunManager
from app.store import RunStore, WeightEdit
from tests.support.manager import with_manager
from tests.support.runs import SMALL, engine_for

EDIT_AT = 155  # past step 100: snapshots are every 10th step there, so step 157 is replayed


def engine_with_edits(steps: int) -> Trainer:
    """An independent computation: the engine itself, with the edits made by hand."""
    engine = engine_for(SMALL)
    for _ in range(EDIT_AT):
        engine.update()
    engine.network.weights[1][2, 0] = 0.75  # weight layer 1, from neuron 2 to neuron 0
    engine.network.biases[0][3] = -1.5
    state = engine.state()
    engine.restore(state)  # forget what was computed from the old weights
    for _ in range(steps - EDIT_AT):
        engine.update()
    return engine


def assert_same(served: list[np.ndarray], own: list[np.ndarray]) -> None:
    for got, expected in zip(served, own, strict=True):
        np.testing.assert_array_equal(got, expected)


async def edited_run(manager: RunManager) -> str:
    run = await manager.create(RunConfig.model_validate(SMALL))
    await manager.step(run.id, EDIT_AT)
    await manager.edit_weight(run.id, WeightEdit(0, 1, 0, 2, 0.75))
    await manager.edit_weight(run.id, WeightEdit(0, 0, 3, None, -1.5))
    await manager.step(run.id, 10)
    return run.id


def test_an_edit_applies_before_the_next_update_and_replays_exactly(tmp_path: Path) -> None:
    async def scenario(manager: RunManager, store: RunStore) -> None:
        run_id = await edited_run(manager)
        store.flush()
        assert [e.step for e in store.weight_edits(run_id)] == [EDIT_AT, EDIT_AT]
        for step in (EDIT_AT, 157, 165):
            served = await manager.parameters(run_id, step)
            assert served.exact
            assert_same(served.weights, engine_with_edits(step).network.weights)
            assert_same(served.biases, engine_with_edits(step).network.biases)

    with_manager(tmp_path, scenario)


def test_a_replay_across_an_edit_applies_it_after_a_restart(tmp_path: Path) -> None:
    """With the snapshot at the edit's step gone (as the snapshot budget may drop it), step 157
    is replayed from step 150, through the edit."""

    async def first(manager: RunManager, store: RunStore) -> None:
        await edited_run(manager)

    with_manager(tmp_path, first)
    with closing(sqlite3.connect(tmp_path / "runs.db")) as conn, conn:
        conn.execute("DELETE FROM snapshots WHERE step > 150")

    async def after_restart(manager: RunManager, store: RunStore) -> None:
        [run] = manager.runs.values()
        assert len(run.edits) == 2
        for step in (157, 165):
            served = await manager.parameters(run.id, step)
            assert_same(served.weights, engine_with_edits(step).network.weights)

    with_manager(tmp_path, after_restart)


def test_edits_are_refused_while_training_and_for_indices_that_do_not_exist(
    tmp_path: Path,
) -> None:
    async def scenario(manager: RunManager, store: RunStore) -> None:
        run = await manager.create(RunConfig.model_validate(SMALL | {"start": "running"}))
        with pytest.raises(RunConflict):
            await manager.edit_weight(run.id, WeightEdit(0, 0, 0, 0, 1.0))
        await manager.pause(run.id)
        bad = [
            (WeightEdit(0, 3, 0, 0, 1.0), "layer"),  # 2-4-4-1 has weight layers 0, 1, 2
            (WeightEdit(0, 2, 1, 0, 1.0), "to"),  # layer 2 leads to one neuron
            (WeightEdit(0, 0, 0, 2, 1.0), "from"),  # layer 0 comes from two inputs
        ]
        for edit, field in bad:
            with pytest.raises(InvalidRequest) as refused:
                await manager.edit_weight(run.id, edit)
            assert refused.value.field == field
        assert run.edits == []

    with_manager(tmp_path, scenario)
