"""What worker processes buy: runs on several cores, and an event loop that stays free.

    python -m bench --only workers [--quick]

Two real servers (`python -m app serve`, SQLite in a temporary directory):
- cores: with BACKPROP_WORKER_PROCESSES=2, in rounds, one 2-4-4-1 run free-running alone for
  a window, then two such runs at once for a window; the ratio of the two runs' summed rate
  to the lone run's is taken within each round, and its median over the rounds reported;
- loop lag: the server's own figure (/healthz `loop_lag_ms`, its window set to the phase's
  length) first idle, then with 8 runs training (the default `max_training_runs`, in the
  default pool of one process per core) and 50 viewers spread over them at 30 frames a
  second. The viewers run in this process, so on a small machine they take CPU the server
  and its workers would otherwise have.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

import httpx

from bench.report import Options, Row, judged, median_range, per_round
from bench.server import SMALL, train_for, watch
from tests.support.server import LiveServer

NAME = "workers"
TRAINING_RUNS = 8
VIEWERS = 50


class Plan(NamedTuple):
    window: float
    rounds: int
    lag_seconds: float


FULL = Plan(window=1.5, rounds=5, lag_seconds=8.0)
QUICK = Plan(window=0.3, rounds=1, lag_seconds=1.0)


async def two_runs(server: LiveServer, plan: Plan) -> tuple[list[float], list[float]]:
    """Per round: one run's updates a second alone, and two runs' summed at once."""
    alone: list[float] = []
    both: list[float] = []
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        runs = [(await client.post("/api/runs", json=SMALL)).json()["id"] for _ in range(2)]
        await asyncio.gather(*(train_for(client, run_id, 0.2) for run_id in runs))  # warm up
        for _ in range(plan.rounds):
            alone.append(await train_for(client, runs[0], plan.window))
            rates = await asyncio.gather(*(train_for(client, r, plan.window) for r in runs))
            both.append(sum(rates))
        for run_id in runs:
            await client.delete(f"/api/runs/{run_id}")
    return alone, both


async def lag_p99(client: httpx.AsyncClient, seconds: float) -> tuple[float | None, int]:
    """The server's loop lag p99 (ms) over the next `seconds` (its window), and samples."""
    await asyncio.sleep(seconds)
    lag = (await client.get("/healthz")).json()["loop_lag_ms"]
    return lag["p99"], lag["samples"]


async def loop_lag(server: LiveServer, plan: Plan) -> tuple[tuple[float | None, int], ...]:
    """(idle p99, samples), (loaded p99, samples), (workers, runs training)."""
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        idle = await lag_p99(client, plan.lag_seconds)
        runs = [
            (await client.post("/api/runs", json=SMALL)).json()["id"] for _ in range(TRAINING_RUNS)
        ]
        tasks = [
            asyncio.create_task(
                watch(f"{server.ws_url}/api/runs/{runs[i % len(runs)]}/stream", stop)
            )
            for i in range(VIEWERS)
        ]
        await asyncio.sleep(1.0)  # every viewer connected
        for run_id in runs:
            (await client.post(f"/api/runs/{run_id}/resume")).raise_for_status()
        loaded = await lag_p99(client, plan.lag_seconds)
        health = (await client.get("/healthz")).json()
        workers = len(health["workers"])
        training = sum(len(worker["runs"]) for worker in health["workers"])
        for run_id in runs:
            await client.post(f"/api/runs/{run_id}/pause")
        stop.set()
        await asyncio.gather(*tasks)
        for run_id in runs:
            await client.delete(f"/api/runs/{run_id}")
    return idle, loaded, (float(workers), training)


async def measure_async(plan: Plan, folder: Path) -> list[Row]:
    env = {"BACKPROP_WORKER_PROCESSES": "2"}
    with LiveServer(folder / "cores.db", env=env) as server:
        alone, both = await two_runs(server, plan)
    ratios = per_round(both, alone)
    rows = [
        judged(
            NAME,
            f"two 2-4-4-1 runs on two worker processes: summed rate / one run's "
            f"({plan.rounds} rounds of {plan.window:g} s)",
            f"{median_range(ratios)} ({statistics.median(both):,.0f} against "
            f"{statistics.median(alone):,.0f} updates/s)",
            "≥ 1.7",
            statistics.median(ratios) >= 1.7,
        )
    ]
    env = {"BACKPROP_LOOP_LAG_WINDOW": str(plan.lag_seconds)}
    with LiveServer(folder / "lag.db", env=env) as server:
        idle, loaded, (workers, training) = await loop_lag(server, plan)
    rows.append(
        Row(NAME, f"event loop lag p99, idle server ({idle[1]} samples)", milliseconds(idle[0]))
    )
    p99 = loaded[0]
    rows.append(
        judged(
            NAME,
            f"event loop lag p99, {training} runs training in {workers:.0f} worker processes, "
            f"{VIEWERS} viewers ({loaded[1]} samples over {plan.lag_seconds:g} s)",
            milliseconds(p99),
            "< 10 ms",
            None if p99 is None else p99 < 10,
        )
    )
    return rows


def milliseconds(value: float | None) -> str:
    return "no sample" if value is None else f"{value:.1f} ms"


def measure(options: Options) -> list[Row]:
    plan = QUICK if options.quick else FULL
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(measure_async(plan, Path(tmp)))


if __name__ == "__main__":
    from bench.report import table

    print(table(measure(Options(quick="--quick" in sys.argv, long=False))))
