"""One-variable gradient descent: the idea backpropagation applies to every weight.

Both routes run in the descent workers (app/api/descent_pool.py), never in the server's
process: the answers are bounded by `max_descent_requests` at once and `descent_cpu_seconds`
each, and a shutdown does not wait for them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response

from app.api.deps import AppSettings, DescentWorkers
from app.api.descent_pool import (
    CurveJob,
    OverBudget,
    PoolBusy,
    PoolClosed,
    Refused,
    TraceJob,
)
from app.api.schemas.requests import DescentCurveQuery, DescentRequest
from app.api.schemas.responses import DescentCurveOut, DescentOut, ErrorOut
from app.runs.errors import InvalidRequest, LimitExceeded
from app.settings import Settings

router = APIRouter(prefix="/api/descent", tags=["descent"])

LIMITS: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorOut, "description": "too many at once (max_descent_requests)"},
    503: {"model": ErrorOut, "description": "the server is shutting down"},
}


@router.post("", response_model=DescentOut, responses=LIMITS)
async def descend(body: DescentRequest, pool: DescentWorkers, settings: AppSettings) -> Response:
    """x ← x − α·f'(x) from x0; the trace starts with x0 and stops early if it diverges.

    422 naming `descent_cpu_seconds` if the trace needs more CPU time than that.
    """
    job = TraceJob(body.expr, body.x0, body.learning_rate, body.steps)
    return await _answer(pool, settings, job, "steps")


@router.get("/curve", response_model=DescentCurveOut, responses=LIMITS)
async def descent_curve(
    query: Annotated[DescentCurveQuery, Query()], pool: DescentWorkers, settings: AppSettings
) -> Response:
    """y = f(x) at `points` evenly spaced x over [x_min, x_max]: the curve a page draws."""
    if query.points > settings.max_descent_curve_points:
        raise LimitExceeded(
            f"points: at most {settings.max_descent_curve_points} "
            f"(max_descent_curve_points, {settings.env_name('max_descent_curve_points')})",
            "points",
        )
    job = CurveJob(query.expr, query.x_min, query.x_max, query.points)
    return await _answer(pool, settings, job, "points")


async def _answer(
    pool: DescentWorkers, settings: Settings, job: TraceJob | CurveJob, costly_field: str
) -> Response:
    """The worker's JSON as the answer, or the refusal naming the limit or the field at fault."""
    try:
        body = await pool.run(job)
    except PoolBusy as busy:
        raise LimitExceeded(
            f"{busy}: at most {settings.max_descent_requests} at once (max_descent_requests, "
            f"{settings.env_name('max_descent_requests')}); try again shortly",
            status_code=429,
        ) from None
    except OverBudget as over:
        raise LimitExceeded(
            f"{costly_field}: {over}, the limit per request (descent_cpu_seconds, "
            f"{settings.env_name('descent_cpu_seconds')}); ask for fewer {costly_field} or a "
            "simpler expr",
            costly_field,
        ) from None
    except Refused as refused:
        raise InvalidRequest(str(refused), refused.field) from None
    except PoolClosed as closed:
        raise HTTPException(503, str(closed)) from None
    return Response(body, media_type="application/json")
