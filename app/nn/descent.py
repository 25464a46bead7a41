"""Gradient descent on a one-variable expression: the idea backpropagation scales up.

Each move is x ← x − α·f'(x), with f'(x) from the exact symbolic derivative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.nn.expr import Expression, ExpressionError, parse_expression


@dataclass(frozen=True, slots=True)
class DescentPoint:
    """Where descent stands after `step` moves: x, y = f(x) and slope = f'(x), all finite."""

    step: int
    x: float
    y: float
    slope: float


def gradient_descent(
    expr: str | Expression, x0: float, learning_rate: float, steps: int
) -> list[DescentPoint]:
    """The trace of `steps` moves from x0: the start point (step 0), then one point per move.

    The trace holds steps + 1 points unless descent leaves the finite numbers: as soon as a
    move would make x, f(x) or f'(x) inf or nan, the trace stops before that point. So a
    trace shorter than steps + 1 means descent diverged (or left f's domain), and its last
    point is the last finite one; every point in a trace is finite.

    Raises ExpressionError if `expr` does not parse or f or f' is not finite at x0, and
    ValueError if x0 or learning_rate is not finite or steps is negative. Each step costs
    two evaluations of small trees, so callers exposing `steps` to users should cap it.
    """
    if not (math.isfinite(x0) and math.isfinite(learning_rate)):
        raise ValueError(f"x0 and learning_rate must be finite, not {x0} and {learning_rate}")
    if steps < 0:
        raise ValueError(f"steps must be zero or more, not {steps}")
    expression = parse_expression(expr) if isinstance(expr, str) else expr
    point = _point(expression, 0, float(x0))
    if point is None:
        raise ExpressionError(
            f"{expression.text} or its slope is not finite at the start x0 = {x0} "
            f"(y = {expression.value(float(x0))}, slope = {expression.slope(float(x0))})"
        )
    trace = [point]
    for step in range(1, steps + 1):
        point = _point(expression, step, point.x - learning_rate * point.slope)
        if point is None:
            break
        trace.append(point)
    return trace


def _point(expression: Expression, step: int, x: float) -> DescentPoint | None:
    """The point at x, or None when x, f(x) or f'(x) is not a finite number."""
    if not math.isfinite(x):
        return None
    y, slope = expression.value(x), expression.slope(x)
    if not (math.isfinite(y) and math.isfinite(slope)):
        return None
    return DescentPoint(step, x, y, slope)
