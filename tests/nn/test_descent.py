"""Gradient descent traces: the article's parabola, divergence, and bad arguments."""

from __future__ import annotations

import math
from itertools import pairwise

import pytest

from app.nn.descent import DescentPoint, gradient_descent
from app.nn.expr import ExpressionError, parse_expression


def test_trace_starts_with_the_start_point() -> None:
    trace = gradient_descent("(x + 2)**2", x0=0.0, learning_rate=0.1, steps=3)
    assert trace[0] == DescentPoint(step=0, x=0.0, y=4.0, slope=4.0)
    assert [point.step for point in trace] == [0, 1, 2, 3]


def test_first_move_is_x_minus_rate_times_slope() -> None:
    trace = gradient_descent("(x + 2)**2", x0=0.0, learning_rate=0.1, steps=1)
    assert trace[1].x == pytest.approx(0.0 - 0.1 * 4.0)
    assert trace[1].y == pytest.approx(1.6**2)
    assert trace[1].slope == pytest.approx(2 * 1.6)


def test_article_parabola_descends_to_minus_two() -> None:
    trace = gradient_descent("(x + 2)**2", x0=0.0, learning_rate=0.1, steps=100)
    assert len(trace) == 101
    assert any(abs(point.x + 2) < 1e-6 for point in trace)
    assert abs(trace[-1].x + 2) < 1e-6
    ys = [point.y for point in trace]
    assert all(later <= earlier for earlier, later in pairwise(ys))


def test_descent_from_the_other_side_moves_right() -> None:
    trace = gradient_descent("(x + 2)**2", x0=-4.0, learning_rate=0.1, steps=50)
    assert trace[0].slope == -4.0
    assert trace[1].x > trace[0].x
    assert trace[-1].x == pytest.approx(-2.0, abs=1e-4)


def test_accepts_a_parsed_expression() -> None:
    expression = parse_expression("x**2")
    trace = gradient_descent(expression, x0=1.0, learning_rate=0.25, steps=2)
    assert [point.x for point in trace] == [1.0, 0.5, 0.25]


def test_zero_steps_gives_only_the_start_point() -> None:
    assert gradient_descent("x**2", x0=3.0, learning_rate=0.1, steps=0) == [
        DescentPoint(0, 3.0, 9.0, 6.0)
    ]


def test_divergence_stops_the_trace_at_the_last_finite_point() -> None:
    # With α = 1.5 on x**2 each move multiplies x by -2, so x overflows after ~1024 moves.
    trace = gradient_descent("x**2", x0=1.0, learning_rate=1.5, steps=5000)
    assert 100 < len(trace) < 5001
    assert all(math.isfinite(p.x) and math.isfinite(p.y) and math.isfinite(p.slope) for p in trace)
    assert abs(trace[-1].x) > 1e100


def test_leaving_the_domain_stops_the_trace() -> None:
    # log(x) descends towards 0, and near 0 a move of α/x jumps past it to where log is nan.
    trace = gradient_descent("log(x)", x0=3.0, learning_rate=2.0, steps=10)
    assert len(trace) == 4
    assert trace[-1].x > 0
    assert trace[-1].x - 2.0 * trace[-1].slope < 0


def test_undefined_start_is_an_expression_error() -> None:
    with pytest.raises(ExpressionError, match="not finite at the start"):
        gradient_descent("log(x)", x0=-1.0, learning_rate=0.1, steps=5)


def test_bad_expression_is_an_expression_error() -> None:
    with pytest.raises(ExpressionError, match="unknown name 'y' at position 4"):
        gradient_descent("x + y", x0=0.0, learning_rate=0.1, steps=5)


@pytest.mark.parametrize(
    ("x0", "learning_rate", "steps"),
    [(math.nan, 0.1, 5), (0.0, math.inf, 5), (0.0, 0.1, -1)],
)
def test_bad_arguments_are_value_errors(x0: float, learning_rate: float, steps: int) -> None:
    with pytest.raises(ValueError):
        gradient_descent("x**2", x0=x0, learning_rate=learning_rate, steps=steps)
