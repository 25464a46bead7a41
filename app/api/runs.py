"""REST for runs: create, list, drive (step, resume, pause, stop, PATCH), read and delete."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from app.api.deps import Manager, ScoresKept
from app.api.responses import OrjsonResponse, big_json, dataset_content
from app.api.schemas.requests import RunConfig, RunPatch, StepRequest, WeightEditRequest
from app.api.schemas.responses import (
    DatasetOut,
    EngineChange,
    ErrorOut,
    ExplainOut,
    RunOut,
    ScoresOut,
    WeightsOut,
)
from app.api.scores import run_scores
from app.json_out import finite_or_none
from app.runs.errors import InvalidRequest
from app.runs.run import Run
from app.store import WeightEdit
from app.store.datasets import table_exists

router = APIRouter(prefix="/api/runs", tags=["runs"])
SCORES_WAIT = 0.2  # seconds GET /api/runs/{id} waits for a busy run's scores

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "no such run"}
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "the run's status does not allow this now"},
    429: {"model": ErrorOut, "description": "too many runs training (max_training_runs)"},
}


def run_out(run: Run, metrics: dict[str, float | None] | None = None) -> RunOut:
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
        metrics=metrics,
    )


@router.post("", status_code=status.HTTP_201_CREATED, responses=CONFLICT)
async def create_run(config: RunConfig, manager: Manager) -> RunOut:
    """Create a run; it starts paused at step 0 unless `start` is "running"."""
    if config.dataset.kind == "csv":
        path = manager.store.path
        assert config.dataset.id is not None  # RunConfig checks it for csv
        if not await asyncio.to_thread(table_exists, path, config.dataset.id):
            message = f"no data set with id {config.dataset.id!r} (upload it: POST /api/datasets)"
            raise InvalidRequest(message, "dataset.id")
    return run_out(await manager.create(config))


@router.get("")
async def list_runs(manager: Manager) -> list[RunOut]:
    """Every run, newest first."""
    return [run_out(run) for run in manager.list()]


@router.get("/{run_id}", responses=NOT_FOUND)
async def get_run(run_id: str, manager: Manager, kept: ScoresKept) -> RunOut:
    """The run, with `metrics`: its scores at its current step (a forward pass over its data;
    null above the setting max_scores_work)."""
    # The run as it stands now; the scores may take a forward pass, and a busy run's worker
    # answers for its weights between updates: past SCORES_WAIT the answer goes without them
    # (they are kept for the next one).
    run = manager.get(run_id)
    out = run_out(run)
    task = kept.start(run_scores(manager, run_id, kept))
    try:
        scores = await asyncio.wait_for(asyncio.shield(task), SCORES_WAIT if run.busy else None)
    except TimeoutError:
        scores = None
    out.metrics = None if scores is None else scores.as_metrics()
    return out


@router.get("/{run_id}/scores", response_model=ScoresOut, responses=NOT_FOUND)
async def get_scores(run_id: str, manager: Manager, kept: ScoresKept) -> Response:
    """Train and test scores now: accuracy and confusion matrices (rows: the true class,
    columns: the predicted one) for classes, R² for regression (app/nn/metrics.py).

    409 when the run cannot be scored now: no weights to be had, or a forward pass over its
    data above the setting max_scores_work."""
    manager.get(run_id)
    scores = await run_scores(manager, run_id, kept)
    if scores is None:
        limit = f"max_scores_work={manager.settings.max_scores_work}"
        detail = f"run {run_id} cannot be scored now (no weights yet, or above the limit {limit})"
        return OrjsonResponse({"detail": detail}, 409)
    return OrjsonResponse({"step": manager.get(run_id).step, **scores.__dict__})


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
    explained = await manager.explain(run_id, sample)
    return OrjsonResponse(explained.to_dict())


@router.get("/{run_id}/dataset", response_model=DatasetOut, responses=NOT_FOUND)
async def get_dataset(run_id: str, manager: Manager) -> Response:
    """The rows as the network sees them, and the raw points beside them where input features
    or standardisation make the two differ; for tables (csv, iris, digits) the shift and scale
    between: input = (raw − input_shift) / input_scale."""
    return await big_json(dataset_content(await manager.dataset(run_id)))
