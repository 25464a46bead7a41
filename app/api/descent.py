"""One-variable gradient descent: the idea backpropagation applies to every weight."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter

from app.api.schemas.requests import DescentRequest
from app.api.schemas.responses import DescentOut, DescentPointOut
from app.nn.descent import gradient_descent
from app.nn.expr import ExpressionError
from app.runs.errors import InvalidRequest

router = APIRouter(prefix="/api/descent", tags=["descent"])


@router.post("")
async def descend(body: DescentRequest) -> DescentOut:
    """x ← x − α·f'(x) from x0; the trace starts with x0 and stops early if it diverges."""
    try:
        trace = await asyncio.to_thread(
            gradient_descent, body.expr, body.x0, body.learning_rate, body.steps
        )
    except ExpressionError as error:
        raise InvalidRequest(str(error), "expr") from None
    except ValueError as error:
        raise InvalidRequest(str(error)) from None
    points = [DescentPointOut(step=p.step, x=p.x, y=p.y, slope=p.slope) for p in trace]
    stopped = None
    if len(trace) < body.steps + 1:
        last = trace[-1]
        stopped = (
            f"stopped after step {last.step}: the next move, to x = {last.x} − "
            f"{body.learning_rate} × {last.slope}, would make x, f(x) or f′(x) infinite or "
            "undefined (descent diverged, or left the domain of f)"
        )
    return DescentOut(trace=points, stopped=stopped)
