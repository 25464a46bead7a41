"""REST for runs: create, list, drive (step, resume, pause, stop, PATCH), read and delete."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from fastapi.exceptions import RequestValidationError

from app.api.deps import Manager
from app.api.responses import OrjsonResponse, big_json
from app.api.schemas.history import ThinnedHistoryOut
from app.api.schemas.requests import RunConfig, RunPatch, StepRequest, WeightEditRequest
from app.api.schemas.responses import (
    DatasetOut,
    EngineChange,
    ErrorOut,
    ExplainOut,
    HistoryOut,
    RunOut,
    WeightsOut,
)
from app.json_out import finite_or_none
from app.runs.limits import over_limit
from app.runs.run import Run
from app.store import WeightEdit
from app.store.thin import thin

router = APIRouter(prefix="/api/runs", tags=["runs"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "no such run"}
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "the run's status does not allow this now"},
    429: {"model": ErrorOut, "description": "too many runs training (max_training_runs)"},
}


def run_out(run: Run) -> RunOut:
    return RunOut(
        id=run.id,
        status=run.status.value,
        step=run.step,
        loss=finite_or_none(run.loss),
        test_loss=finite_or_none(run.test_loss),
        config=run.config,
        created_at=run.created_at,
        learning_rate=run.learning_rate,
        speed=run.speed,
        message=run.message,
        busy=run.busy,
        engines=[EngineChange(from_step=step, engine=engine) for step, engine in run.engines],
    )


@router.post("", status_code=status.HTTP_201_CREATED, responses=CONFLICT)
async def create_run(config: RunConfig, manager: Manager) -> RunOut:
    """Create a run; it starts paused at step 0 unless `start` is "running"."""
    return run_out(await manager.create(config))


@router.get("")
async def list_runs(manager: Manager) -> list[RunOut]:
    """Every run, newest first."""
    return [run_out(run) for run in manager.list()]


@router.get("/{run_id}", responses=NOT_FOUND)
async def get_run(run_id: str, manager: Manager) -> RunOut:
    return run_out(manager.get(run_id))


@router.patch("/{run_id}", responses=NOT_FOUND | CONFLICT)
async def patch_run(run_id: str, patch: RunPatch, manager: Manager) -> RunOut:
    """Change the learning rate or the speed limit from the next update on (recorded)."""
    changes = patch.model_dump(include=patch.model_fields_set)
    return run_out(await manager.patch(run_id, changes))


@router.post("/{run_id}/step", responses=NOT_FOUND | CONFLICT)
async def step_run(run_id: str, manager: Manager, body: StepRequest | None = None) -> RunOut:
    """Make exactly `count` updates on a paused run and answer when they are done."""
    count = body.count if body is not None else 1
    return run_out(await manager.step(run_id, count))


@router.post("/{run_id}/resume", responses=NOT_FOUND | CONFLICT)
async def resume_run(run_id: str, manager: Manager) -> RunOut:
    """Train freely in the background until paused, stopped, finished or diverged."""
    return run_out(await manager.resume(run_id))


@router.post("/{run_id}/pause", responses=NOT_FOUND | CONFLICT)
async def pause_run(run_id: str, manager: Manager) -> RunOut:
    """Pause after the update in progress; answers once the run has paused."""
    return run_out(await manager.pause(run_id))


@router.post("/{run_id}/stop", responses=NOT_FOUND | CONFLICT)
async def stop_run(run_id: str, manager: Manager) -> RunOut:
    """Stop for good after the update in progress."""
    return run_out(await manager.stop(run_id))


@router.delete("/{run_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_run(run_id: str, manager: Manager) -> Response:
    await manager.delete(run_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{run_id}/weights", response_model=WeightsOut, responses=NOT_FOUND)
async def get_weights(
    run_id: str,
    manager: Manager,
    step: Annotated[int | None, Query(ge=0, description="a past step; default: now")] = None,
) -> Response:
    """The weights and biases after exactly `step` updates, recomputed if not stored."""
    parameters = await manager.parameters(run_id, step)
    content = {"step": parameters.step, "weights": parameters.weights}
    return await big_json(content | {"biases": parameters.biases, "exact": parameters.exact})


@router.patch("/{run_id}/weights", response_model=WeightsOut, responses=NOT_FOUND | CONFLICT)
async def set_weight(run_id: str, edit: WeightEditRequest, manager: Manager) -> Response:
    """Set one weight (or a bias) of a paused run by hand; answers its weights now.

    Recorded in the run's history at its current step, before its next update, so every later
    step replays exactly through it. 409 while the run trains; 422 naming an index that does
    not exist.
    """
    target = WeightEdit(0, edit.layer, edit.to, None if edit.bias else edit.from_, edit.value)
    parameters = await manager.edit_weight(run_id, target)
    content = {"step": parameters.step, "weights": parameters.weights}
    return await big_json(content | {"biases": parameters.biases, "exact": parameters.exact})


@router.get("/{run_id}/explain", response_model=ExplainOut, responses=NOT_FOUND | CONFLICT)
async def explain_next_update(
    run_id: str,
    manager: Manager,
    sample: Annotated[int, Query(ge=0, le=10**9, description="which sample of the batch")] = 0,
) -> Response:
    """The next update step by step (forward, loss, backward, update) for one sample.

    Computed on a copy: the run itself does not move. 409 while the run trains.
    """
    anatomy = await manager.explain(run_id, sample)
    return OrjsonResponse(anatomy.to_dict())


@router.get("/{run_id}/dataset", response_model=DatasetOut, responses=NOT_FOUND)
async def get_dataset(run_id: str, manager: Manager) -> Response:
    """The training and test rows: x as the network's inputs, and the raw points beside them
    where `dataset.features` makes the two differ."""
    data = await manager.dataset(run_id)
    names = ("x_train", "y_train", "x_test", "y_test")
    content = dict(zip(names, data.arrays(), strict=True))
    return await big_json(
        content | {"x_train_raw": data.x_train_raw, "x_test_raw": data.x_test_raw}
    )


@router.get(
    "/{run_id}/history",
    response_model=HistoryOut | ThinnedHistoryOut,
    responses=NOT_FOUND,
)
async def get_history(
    run_id: str,
    manager: Manager,
    points: Annotated[
        int | None,
        Query(
            ge=1,
            description="thin to at most this many buckets of steps, each with its min and max"
            " loss; above the setting max_history_points (default 4096) a 422 names it."
            " Default: every step",
        ),
    ] = None,
) -> Response:
    """The loss of every step so far, and the test loss where it was measured.

    With `points`, the same history in at most `points` buckets of consecutive steps, each with
    its min and max train and test loss: a few hundred numbers for a small chart, however long
    the run.
    """
    if points is None:
        steps, loss, test_loss = await manager.history(run_id)
        changes = manager.get(run_id).rate_changes
        content = {"steps": steps, "loss": loss, "test_loss": test_loss, "learning_rates": changes}
        return OrjsonResponse(content)
    if points > manager.settings.max_history_points:
        message = over_limit("points", points, "max_history_points", manager.settings)
        error = {"type": "less_than_equal", "loc": ("query", "points"), "msg": message}
        raise RequestValidationError([error])
    history = await manager.history_arrays(run_id)
    thinned = await asyncio.to_thread(thin, history, points)
    changes = manager.get(run_id).rate_changes
    content = {"points": points, **thinned._asdict(), "learning_rates": changes}
    return OrjsonResponse(content)
