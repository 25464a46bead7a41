"""Gradient descent on a one-variable expression: the idea backpropagation scales up.

Each move is x ← x − α·f'(x), with f'(x) from the exact symbolic derivative.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

import numpy as np

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
    if steps < 0:
        raise ValueError(f"steps must be zero or more, not {steps}")
    return list(islice(descend(expr, x0, learning_rate), steps + 1))


def descend(expr: str | Expression, x0: float, learning_rate: float) -> Iterator[DescentPoint]:
    """The points of descent from x0, one per move, for as long as they stay finite.

    The same trace as gradient_descent, lazily: a caller that bounds its time rather than its
    steps stops pulling when its budget is spent. The errors are raised on the first pull.
    """
    if not (math.isfinite(x0) and math.isfinite(learning_rate)):
        raise ValueError(f"x0 and learning_rate must be finite, not {x0} and {learning_rate}")
    expression = parse_expression(expr) if isinstance(expr, str) else expr
    point = _point(expression, 0, float(x0))
    if point is None:
        raise ExpressionError(
            f"{expression.text} or its slope is not finite at the start x0 = {x0} "
            f"(y = {expression.value(float(x0))}, slope = {expression.slope(float(x0))})"
        )
    step = 0
    while point is not None:
        yield point
        step += 1
        point = _point(expression, step, point.x - learning_rate * point.slope)


def sample_curve(
    expr: str | Expression, x_min: float, x_max: float, points: int
) -> tuple[list[float], list[float | None]]:
    """f at `points` evenly spaced x from x_min to x_max (both included), for drawing.

    y is None where f is not a finite number there (outside its domain, or overflowing), so a
    drawing leaves a gap rather than a spike. Raises ExpressionError if `expr` does not parse.
    """
    expression = parse_expression(expr) if isinstance(expr, str) else expr
    xs = np.linspace(x_min, x_max, points)
    ys = np.asarray(expression.value(xs), dtype=np.float64) * np.ones_like(xs)
    finite = np.isfinite(ys).tolist()
    return xs.tolist(), [y if ok else None for y, ok in zip(ys.tolist(), finite, strict=True)]


def _point(expression: Expression, step: int, x: float) -> DescentPoint | None:
    """The point at x, or None when x, f(x) or f'(x) is not a finite number."""
    if not math.isfinite(x):
        return None
    y, slope = expression.value(x), expression.slope(x)
    if not (math.isfinite(y) and math.isfinite(slope)):
        return None
    return DescentPoint(step, x, y, slope)
