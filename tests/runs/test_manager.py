"""The RunManager with real worker processes, driven directly on an event loop."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from app.json_out import finite_or_none
from app.runs.config import RunConfig
from app.runs.errors import LimitExceeded
from app.runs.hub import Viewer
from app.runs.manager import RunManager
from app.runs.run import Run, RunStatus
from app.store import RunStore
from tests.support.manager import with_manager
from tests.support.runs import SMALL, engine_for


def test_concurrent_starts_cannot_pass_max_training_runs(tmp_path: Path) -> None:
    async def scenario(manager: RunManager, store: RunStore) -> None:
        running = RunConfig.model_validate(SMALL | {"start": "running"})
        outcomes = await asyncio.gather(
            *(manager.create(running) for _ in range(3)), return_exceptions=True
        )
        refused = [o for o in outcomes if isinstance(o, LimitExceeded)]
        training = [run for run in manager.runs.values() if run.training is not None]
        assert len(training) == 1 and len(refused) == 2, outcomes
        assert all(o.status_code == 429 for o in refused)
        await manager.pause(training[0].id)

    with_manager(tmp_path, scenario, max_training_runs=1)


def died_at(store: RunStore, run: Run, step: int) -> None:
    """Leave the run's row as a server killed at `step` leaves it: interrupted there, whatever
    was stored past it (rate changes, snapshots)."""
    store.update_run(
        run.id,
        status="interrupted",
        step=step,
        loss=run.loss,
        test_loss=run.test_loss,
        message=None,
        learning_rate=0.5,
        speed=None,
    )
    store.flush()


async def died_at_105_of_107(manager: RunManager, store: RunStore) -> None:
    """A server that made 107 updates (snapshots at 100 and, pinned, 107) and died at 105 as
    the run's row says: the next server replays 100 → 105 at load."""
    run = await manager.create(RunConfig.model_validate(SMALL))
    await manager.step(run.id, 107)
    died_at(store, run, 105)


def test_a_restored_run_forgets_rate_changes_past_its_step(tmp_path: Path) -> None:
    async def before_restart(manager: RunManager, store: RunStore) -> None:
        run = await manager.create(RunConfig.model_validate(SMALL))
        await manager.step(run.id, 10)
        # The server died after a change past step 10 was stored, before the row said so.
        store.add_learning_rate_change(run.id, 15, 3.0)
        died_at(store, run, 10)

    async def after_restart(manager: RunManager, store: RunStore) -> None:
        [run] = manager.runs.values()
        await manager.step(run.id, 10)  # all at 0.5: step 15's change belonged to no timeline
        assert run.rate_changes == [] and run.rate_at(17) == 0.5
        store.flush()
        assert store.learning_rate_changes(run.id) == []
        engine = engine_for(SMALL)
        for _ in range(19):
            engine.update()
        replayed = await manager.parameters(run.id, 19)
        for served, own in zip(replayed.weights, engine.network.weights, strict=True):
            np.testing.assert_array_equal(served, own)

    with_manager(tmp_path, before_restart)
    with_manager(tmp_path, after_restart)


def test_an_update_that_overflows_the_weights_ends_history_at_its_step(tmp_path: Path) -> None:
    # A linear network with a huge rate overflows its weights within a few updates.
    exploding = SMALL | {"activation": "linear", "learning_rate": 1e12}

    async def scenario(manager: RunManager, store: RunStore) -> None:
        run = await manager.create(RunConfig.model_validate(exploding))
        stepped = await manager.step(run.id, 500)
        assert stepped.status == RunStatus.DIVERGED and 0 < stepped.step < 500, stepped.message
        steps, loss, _ = await manager.history(run.id)
        assert steps == list(range(stepped.step + 1))  # one entry per step, the diverged one too
        assert loss[-1] == finite_or_none(stepped.loss)
        store.flush()
        assert store.history(run.id)[0] == steps

    with_manager(tmp_path, scenario)


def test_a_watched_step_stores_one_test_loss_per_step(tmp_path: Path) -> None:
    async def scenario(manager: RunManager, store: RunStore) -> None:
        run = await manager.create(RunConfig.model_validate(SMALL))
        run.hub.add(Viewer(30.0, "json", 16))  # a manual step sends every step's frame
        await manager.step(run.id, 10)
        store.flush()
        steps, _, tests = store.history(run.id)
        assert [s for s, t in zip(steps, tests, strict=True) if t is not None] == list(range(11))
        engine = engine_for(SMALL)
        for _ in range(10):
            engine.update()
        assert tests[10] == engine.test_loss()

    with_manager(tmp_path, scenario, test_loss_every=5)


def test_a_manual_step_with_no_viewer_leaves_the_test_loss_of_its_last_step(
    tmp_path: Path,
) -> None:
    async def scenario(manager: RunManager, store: RunStore) -> None:
        run = await manager.create(RunConfig.model_validate(SMALL))
        engine = engine_for(SMALL)
        for count in (3, 2, 1):  # none of them ends on a multiple of test_loss_every
            await manager.step(run.id, count)
        for _ in range(6):
            engine.update()
        assert run.step == 6 and run.test_loss == engine.test_loss()
        store.flush()
        stored = store.get_run(run.id)
        assert stored is not None and stored.test_loss == engine.test_loss()
        steps, _, tests = store.history(run.id)
        assert [s for s, t in zip(steps, tests, strict=True) if t is not None] == [0, 3, 5, 6]

    with_manager(tmp_path, scenario)  # test_loss_every=10


def test_a_slow_run_answers_its_weights_at_once_and_exactly(tmp_path: Path) -> None:
    async def scenario(manager: RunManager, store: RunStore) -> None:
        # One update every 30 s: the first goes at once, the second is far off.
        run = await manager.create(RunConfig.model_validate(SMALL | {"speed": 1 / 30}))
        await manager.resume(run.id)
        for _ in range(200):
            if run.step >= 1:
                break
            await asyncio.sleep(0.05)
        now = await asyncio.wait_for(manager.parameters(run.id), 10)
        exact = await asyncio.wait_for(manager.parameters(run.id, 1), 10)
        assert now.step == exact.step == 1 == run.step
        await manager.pause(run.id)

    with_manager(tmp_path, scenario)


def test_weights_of_the_current_step_of_a_running_run_are_of_that_step(tmp_path: Path) -> None:
    async def scenario(manager: RunManager, store: RunStore) -> None:
        run = await manager.create(RunConfig.model_validate(SMALL | {"start": "running"}))
        for _ in range(20):
            step = run.step
            assert (await manager.parameters(run.id, step)).step == step
        await manager.pause(run.id)

    with_manager(tmp_path, scenario)


def test_a_rate_patched_while_a_paced_run_sleeps_is_taken_at_once(tmp_path: Path) -> None:
    async def scenario(manager: RunManager, store: RunStore) -> None:
        # One update every 30 s: the training sleeps after its first update. The PATCH must
        # not wait for the next update: the training takes the rate between two updates.
        paced = RunConfig.model_validate(SMALL | {"start": "running", "speed": 1 / 30})
        run = await manager.create(paced)
        while run.step < 1:
            await asyncio.sleep(0.01)
        await asyncio.wait_for(manager.patch(run.id, {"learning_rate": 0.25}), 10)
        assert run.rate_changes == [(1, 0.25)]
        store.flush()
        assert store.learning_rate_changes(run.id) == [(1, 0.25)]  # stored when answered
        paused_at = (await manager.pause(run.id)).step
        assert paused_at == 1
        await manager.step(run.id, 3)  # the next updates use it, with no second record
        assert run.rate_changes == [(1, 0.25)]
        engine = engine_for(SMALL)
        engine.update()
        engine.learning_rate = 0.25
        for _ in range(3):
            engine.update()
        served = await manager.current(run)
        for x, y in zip(served.weights, engine.network.weights, strict=True):
            np.testing.assert_array_equal(x, y)

    with_manager(tmp_path, scenario)


def trained_weights(steps: int) -> list[np.ndarray]:
    engine = engine_for(SMALL)
    for _ in range(steps):
        engine.update()
    return engine.network.weights


def assert_weights_equal(served: list[np.ndarray], steps: int) -> None:
    for got, own in zip(served, trained_weights(steps), strict=True):
        np.testing.assert_array_equal(got, own)


def test_a_run_records_the_arithmetic_of_its_updates(tmp_path: Path) -> None:
    async def scenario(manager: RunManager, store: RunStore) -> None:
        run = await manager.create(RunConfig.model_validate(SMALL))
        await manager.step(run.id, 3)
        await manager.step(run.id, 3)  # the same arithmetic: nothing new to record
        store.flush()
        assert run.engines == [(0, "A")]
        assert store.engine_changes(run.id) == [(0, "A")]

    with_manager(tmp_path, scenario, arithmetic="A")


def test_steps_replayed_under_another_arithmetic_are_not_exact(tmp_path: Path) -> None:
    """An upgraded server (here: another arithmetic's name on the same numpy) recomputes the
    thinned-out steps of an older run and says they may differ from the original."""
    ids: list[str] = []

    async def old_server(manager: RunManager, store: RunStore) -> None:
        run = await manager.create(RunConfig.model_validate(SMALL))
        ids.append(run.id)
        await manager.step(run.id, 150)  # snapshots: every step to 100, then every 10th
        recomputed = await manager.parameters(run.id, 105)
        assert recomputed.exact
        assert_weights_equal(recomputed.weights, 105)

    async def new_server(manager: RunManager, store: RunStore) -> None:
        run = manager.get(ids[0])
        assert run.engines == [(0, "old")]
        recomputed = await manager.parameters(run.id, 105)  # from step 100, made under "old"
        assert (recomputed.step, recomputed.exact) == (105, False)
        assert_weights_equal(recomputed.weights, 105)  # the real arithmetic is the same here
        assert (await manager.parameters(run.id, 100)).exact  # a snapshot: nothing replayed
        assert (await manager.parameters(run.id)).exact  # its pinned snapshot at 150
        await manager.step(run.id, 20)
        store.flush()
        assert run.engines == [(0, "old"), (150, "new")]
        assert store.engine_changes(run.id) == [(0, "old"), (150, "new")]
        assert (await manager.parameters(run.id, 165)).exact  # from 160, made under "new"
        assert not (await manager.parameters(run.id, 145)).exact

    with_manager(tmp_path, old_server, arithmetic="old")
    with_manager(tmp_path, new_server, arithmetic="new")


def test_a_run_restored_under_another_arithmetic_holds_recomputed_weights(
    tmp_path: Path,
) -> None:
    """An interrupted run whose last snapshot is older than its step is replayed to its step
    at load: under another arithmetic, its current weights are not exact until it trains on."""

    async def new_server(manager: RunManager, store: RunStore) -> None:
        [run] = manager.runs.values()
        current = await manager.parameters(run.id)
        assert (current.step, current.exact) == (105, False)
        assert_weights_equal(current.weights, 105)
        await manager.step(run.id, 1)
        current = await manager.parameters(run.id)
        assert (current.step, current.exact) == (106, True)
        assert run.engines == [(0, "old"), (105, "new")]

    with_manager(tmp_path, died_at_105_of_107, arithmetic="old")
    with_manager(tmp_path, new_server, arithmetic="new")


def test_a_run_stored_before_arithmetic_was_recorded_replays_as_not_exact(
    tmp_path: Path,
) -> None:
    async def old_server(manager: RunManager, store: RunStore) -> None:
        run = await manager.create(RunConfig.model_validate(SMALL))
        await manager.step(run.id, 110)
        store.flush()

    def forget_engines() -> None:  # as a file migrated from schema version 1 has them
        with closing(sqlite3.connect(tmp_path / "runs.db")) as conn, conn:
            conn.execute("DELETE FROM engines")

    async def new_server(manager: RunManager, store: RunStore) -> None:
        [run] = manager.runs.values()
        assert run.engines == []
        assert not (await manager.parameters(run.id, 105)).exact
        assert (await manager.parameters(run.id, 100)).exact
        await manager.step(run.id, 1)
        assert run.engines == [(110, "A")]

    with_manager(tmp_path, old_server, arithmetic="A")
    forget_engines()
    with_manager(tmp_path, new_server, arithmetic="A")


def test_recomputed_weights_are_never_pinned_as_a_snapshot(tmp_path: Path) -> None:
    """A snapshot counts as exact ever after, so weights recomputed under another arithmetic
    must not become one (pausing the restored run would pin them)."""

    async def new_server(manager: RunManager, store: RunStore) -> None:
        [run] = manager.runs.values()
        assert not (await manager.parameters(run.id)).exact
        await manager.pause(run.id)  # an idle run pins a snapshot of where it stands
        store.flush()
        assert 105 not in store.snapshot_steps(run.id)

    async def next_start(manager: RunManager, store: RunStore) -> None:
        [run] = manager.runs.values()
        assert run.status == RunStatus.PAUSED
        held = await manager.parameters(run.id)
        assert (held.step, held.exact) == (105, False)
        assert_weights_equal(held.weights, 105)

    with_manager(tmp_path, died_at_105_of_107, arithmetic="old")
    with_manager(tmp_path, new_server, arithmetic="new")
    with_manager(tmp_path, next_start, arithmetic="new")


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_a_replay_that_diverges_at_load_holds_weights_not_exact(tmp_path: Path) -> None:
    linear = SMALL | {"activation": "linear"}

    async def old_server(manager: RunManager, store: RunStore) -> None:
        run = await manager.create(RunConfig.model_validate(linear))
        await manager.step(run.id, 107)
        # A replay that diverges where the original did not (another arithmetic can do that;
        # here a rate from step 102 on that overflows the weights, stored after the fact).
        store.add_learning_rate_change(run.id, 102, 1e300)
        died_at(store, run, 105)

    async def new_server(manager: RunManager, store: RunStore) -> None:
        [run] = manager.runs.values()
        held = await manager.parameters(run.id)
        assert run.status == RunStatus.DIVERGED and 102 < run.step < 105, run.message
        assert (held.step, held.exact) == (run.step, False)

    with_manager(tmp_path, old_server, arithmetic="old")
    with_manager(tmp_path, new_server, arithmetic="new")


def test_engine_records_around_an_interrupted_step_match_the_store(tmp_path: Path) -> None:
    """Records after the step the row says are dropped at load, one at that step is replaced
    by the next session's if it made no update, and memory and store agree throughout."""

    async def old_server(manager: RunManager, store: RunStore) -> None:
        run = await manager.create(RunConfig.model_validate(SMALL))
        await manager.step(run.id, 12)
        for step, engine in ((8, "X"), (10, "Y"), (12, "Z")):
            store.add_engine(run.id, step, engine)
        died_at(store, run, 10)

    async def new_server(manager: RunManager, store: RunStore) -> None:
        [run] = manager.runs.values()
        await manager.step(run.id, 2)
        store.flush()
        assert run.engines == [(0, "A"), (8, "X"), (10, "A")]
        assert store.engine_changes(run.id) == run.engines
        assert run.made_under(10, 12, "A") and not run.made_under(7, 12, "A")

    with_manager(tmp_path, old_server, arithmetic="A")
    with_manager(tmp_path, new_server, arithmetic="A")
