"""The descent workers: answers, the limits in number and CPU time, and closing at once."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
import pytest

from app.api.descent_pool import (
    NICENESS,
    CurveJob,
    DescentPool,
    OverBudget,
    PoolBusy,
    PoolClosed,
    Refused,
    TraceJob,
)
from tests.support.descent import SLOW_EXPR

SLOW = TraceJob(SLOW_EXPR, 0.3, 0.01, 10_000)
T = TypeVar("T")


def with_pool(size: int, cpu_seconds: float, body: Callable[[DescentPool], Awaitable[T]]) -> T:
    async def main() -> T:
        pool = DescentPool(size, cpu_seconds)
        try:
            return await body(pool)
        finally:
            pool.close()

    return asyncio.run(main())


def test_a_trace_and_a_curve_come_back_as_json() -> None:
    async def body(pool: DescentPool) -> tuple[Any, Any]:
        trace = await pool.run(TraceJob("(x + 2)**2", 0.0, 0.1, 2))
        curve = await pool.run(CurveJob("sigmoid(x)", -1.0, 1.0, 3))
        return orjson.loads(trace), orjson.loads(curve)

    trace, curve = with_pool(1, 5.0, body)
    assert [p["x"] for p in trace["trace"]] == pytest.approx([0.0, -0.4, -0.72])
    assert trace["stopped"] is None
    assert curve["x"] == [-1.0, 0.0, 1.0]
    assert curve["y"] == pytest.approx([0.2689414213699951, 0.5, 0.7310585786300049])


def test_a_bad_expression_is_refused_naming_expr() -> None:
    async def body(pool: DescentPool) -> Refused:
        with pytest.raises(Refused) as refused:
            await pool.run(TraceJob("(x + 2", 0.0, 0.1, 2))
        return refused.value

    assert with_pool(1, 5.0, body).field == "expr"


def test_a_trace_past_its_cpu_budget_is_refused_and_the_worker_serves_on() -> None:
    async def body(pool: DescentPool) -> tuple[float, bytes]:
        started = time.monotonic()
        with pytest.raises(OverBudget, match=r"more than 0\.2 s of CPU"):
            await pool.run(SLOW)
        took = time.monotonic() - started
        return took, await pool.run(TraceJob("x**2", 1.0, 0.1, 1))

    took, after = with_pool(1, 0.2, body)
    assert took < 2.0  # the worker's start (an import of numpy) plus the 0.2 s budget
    assert orjson.loads(after)["trace"][1]["x"] == pytest.approx(0.8)


def test_one_request_more_than_the_workers_is_refused_at_once() -> None:
    async def body(pool: DescentPool) -> float:
        slow = asyncio.create_task(pool.run(SLOW))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        with pytest.raises(PoolBusy):
            await pool.run(TraceJob("x**2", 1.0, 0.1, 1))
        refused_in = time.monotonic() - started
        slow.cancel()
        return refused_in

    assert with_pool(1, 30.0, body) < 0.01


def test_close_ends_a_running_trace_at_once() -> None:
    async def body(pool: DescentPool) -> float:
        slow = asyncio.create_task(pool.run(SLOW))
        await wait_busy(pool)
        await asyncio.sleep(0.3)  # well inside the trace
        started = time.monotonic()
        pool.close()
        with pytest.raises(PoolClosed):
            await slow
        return time.monotonic() - started

    assert with_pool(1, 30.0, body) < 1.0
    assert not workers()


def test_a_worker_the_kernel_stops_for_cpu_is_reported_over_budget() -> None:
    """SIGXCPU is what RLIMIT_CPU sends a worker stuck inside one step."""

    async def body(pool: DescentPool) -> None:
        slow = asyncio.create_task(pool.run(SLOW))
        await wait_busy(pool)
        await asyncio.sleep(0.2)
        (worker,) = workers()
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGXCPU)
        with pytest.raises(OverBudget):
            await slow

    with_pool(1, 30.0, body)


def test_the_hard_cpu_limit_ends_a_process_that_never_checks() -> None:
    spin = "from app.api.descent_pool import limit_cpu\nlimit_cpu(0.5)\nwhile True: pass"
    started = time.monotonic()
    ended = subprocess.run([sys.executable, "-c", spin], timeout=30, check=False)
    assert ended.returncode == -signal.SIGXCPU
    assert time.monotonic() - started < 10


async def wait_busy(pool: DescentPool) -> None:
    while not pool.busy:
        await asyncio.sleep(0.01)


def workers() -> list[Any]:
    return [p for p in multiprocessing.active_children() if p.name == "descent-worker"]


def test_workers_run_below_the_servers_priority() -> None:
    async def body(pool: DescentPool) -> int:
        await pool.run(TraceJob("x**2", 1.0, 0.1, 1))
        (worker,) = workers()
        assert worker.pid is not None
        return os.getpriority(os.PRIO_PROCESS, worker.pid)

    assert with_pool(1, 5.0, body) == min(os.getpriority(os.PRIO_PROCESS, 0) + NICENESS, 19)
