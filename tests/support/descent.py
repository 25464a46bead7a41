"""Descent requests that cost a known amount: for the tests of the descent workers' limits."""

from __future__ import annotations

from typing import Any

# About 0.3 ms of CPU a step on this machine kind: 10,000 steps cost about 3 s, far more than
# the budgets the tests set.
SLOW_EXPR = "+".join(["sigmoid(sin(x)*cos(x/3))**2"] * 7)
SLOW_TRACE: dict[str, Any] = {"expr": SLOW_EXPR, "x0": 0.3, "learning_rate": 0.01, "steps": 10_000}
