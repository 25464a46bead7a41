"""A run's loss history, bounded however long the run, and the run exported whole.

- `GET /history`: every step of a run of up to `history_full_steps` steps; a longer run
  answers its last `history_recent_steps` steps in full and the steps before them in
  `history_buckets` buckets (`earlier`), each with its min and max.
- `GET /history?start=&end=&points=`: the range in at most `points` buckets; a range of at
  most `points` steps has one step a bucket, min = max = the stored loss, exactly.
- `GET /history?format=csv`: every step, streamed from the store window by window.
- `GET /export`: config, data set, weights, bounded history and scores in one document.
All reading happens in threads (app/store/export.py), never on the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Query, Response
from fastapi.exceptions import RequestValidationError
from starlette.responses import StreamingResponse

from app.api.deps import Manager, ScoresKept
from app.api.responses import OrjsonResponse, big_json
from app.api.schemas.history import BoundedHistoryOut, ExportOut, ThinnedHistoryOut
from app.api.schemas.responses import ErrorOut
from app.api.scores import run_scores
from app.runs.export import export_document
from app.runs.limits import over_limit
from app.runs.manager import RunManager
from app.runs.run import Run
from app.settings import Settings
from app.store.export import bounded_history, bucketed, csv_lines, last_stored_step, pieces
from app.store.losses import LossArrays

router = APIRouter(prefix="/api/runs", tags=["runs"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "no such run"}
}


class HistoryView:
    """What one answer reads: the store up to `stored_last`, then the run's unstored tail."""

    def __init__(self, manager: RunManager, run: Run, stored_last: int) -> None:
        self.path = manager.store.path
        self.run_id = run.id
        self.last = run.step
        self.stored_last = min(stored_last, run.step)
        # Copied on the loop: the losses the worker has not handed to the store yet (a flush
        # interval's worth), which the log holds.
        first = self.stored_last + 1
        start, losses = run.recent.between(first, self.last)
        empty = LossArrays(np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
        self.tail = empty.extended(start, losses, run.recent.tests_between(first, self.last))

    @classmethod
    async def of(cls, manager: RunManager, run_id: str) -> HistoryView:
        run = manager.get(run_id)
        path = manager.store.path
        stored_last = await asyncio.to_thread(last_stored_step, path, run_id)
        return cls(manager, run, stored_last)

    def read(self, start: int, end: int) -> Iterator[LossArrays]:
        return pieces(self.path, self.run_id, start, end, self.stored_last, self.tail)

    def bounded(self, settings: Settings) -> dict[str, Any]:
        """The default answer: recent steps in full, earlier ones in buckets (thread)."""
        return bounded_history(
            self.read,
            self.last,
            full=settings.history_full_steps,
            buckets=settings.history_buckets,
            recent=settings.history_recent_steps,
        )

    def zoomed(self, start: int, end: int, points: int) -> dict[str, Any]:
        return bucketed(self.read(start, end), start, end, points)._asdict()


@router.get(
    "/{run_id}/history",
    response_model=BoundedHistoryOut | ThinnedHistoryOut,
    responses=NOT_FOUND | {200: {"content": {"text/csv": {}}}},
)
async def get_history(
    run_id: str,
    manager: Manager,
    points: Annotated[
        int | None,
        Query(
            ge=1,
            description="at most this many buckets of steps, each with its min and max loss;"
            " above the setting max_history_points (default 4096) a 422 names it",
        ),
    ] = None,
    start: Annotated[int | None, Query(ge=0, description="first step of a zoomed range")] = None,
    end: Annotated[int | None, Query(ge=0, description="last step of a zoomed range")] = None,
    format: Annotated[
        Literal["json", "csv"], Query(description="csv: every step, streamed")
    ] = "json",
) -> Response:
    """The losses of a run (train, and test where it was measured), bounded however long it is.

    Without `points`, `start` or `end`: every step of a run of up to `history_full_steps`
    (100,000) steps; a longer one's last `history_recent_steps` steps in full and the steps
    before in `earlier`, `history_buckets` buckets with each bucket's min and max (so spikes
    show). With them: the range
    `start`..`end` (default: the whole run) in at most `points` buckets (default
    `history_buckets`), exact (min = max) where a bucket is one step. `format=csv` streams
    `step,loss,test_loss`, one line per step, in constant memory.
    """
    settings = manager.settings
    view = await HistoryView.of(manager, run_id)
    changes = manager.get(run_id).rate_changes
    if format == "csv":
        headers = {"content-disposition": f'attachment; filename="run-{run_id}-history.csv"'}
        # A plain iterator: Starlette pulls each piece in its thread pool, off the event loop.
        lines = csv_lines(view.read(0, view.last))
        return StreamingResponse(lines, media_type="text/csv", headers=headers)
    if points is None and start is None and end is None:
        content = await asyncio.to_thread(view.bounded, settings)
        return OrjsonResponse(content | {"learning_rates": changes})
    points = settings.history_buckets if points is None else points
    if points > settings.max_history_points:
        _refuse("points", over_limit("points", points, "max_history_points", settings))
    first = 0 if start is None else start
    last = view.last if end is None else min(end, view.last)
    if first > last:
        _refuse("start", f"start {first} is after the range's end {last}")
    content = await asyncio.to_thread(view.zoomed, first, last, points)
    return OrjsonResponse({"points": points, **content, "learning_rates": changes})


@router.get("/{run_id}/export", response_model=ExportOut, responses=NOT_FOUND)
async def export_run(run_id: str, manager: Manager, kept: ScoresKept) -> Response:
    """The run in one JSON document: its config (POST it to /api/runs to make the same run
    again), its data set (the config makes it; a csv data set by its id), its weights now,
    its bounded history and its scores."""
    run = manager.get(run_id)
    parameters = await manager.parameters(run_id)
    view = await HistoryView.of(manager, run_id)
    history = await asyncio.to_thread(view.bounded, manager.settings)
    scores = await run_scores(manager, run_id, kept)
    content = export_document(
        run_id=run.id,
        status=run.status.value,
        config=run.config_dict(),
        step=parameters.step,
        weights=parameters.weights,
        biases=parameters.biases,
        exact=parameters.exact,
        history=history | {"learning_rates": run.rate_changes},
        scores=scores,
    )
    response = await big_json(content)  # weights may be millions of floats
    response.headers["content-disposition"] = f'attachment; filename="run-{run_id}.json"'
    return response


def _refuse(field: str, message: str) -> None:
    error = {"type": "value_error", "loc": ("query", field), "msg": message}
    raise RequestValidationError([error])
