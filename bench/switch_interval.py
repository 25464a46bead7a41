"""What Python's GIL switch interval costs one free-running run, without HTTP in between.

    python -m bench.switch_interval [--seconds 1] [--rounds 9]

A RunManager on a real SQLite store trains one 2-4-4-1 run freely (no viewers) in its thread
while the event loop idles, in rounds that alternate it with the bare engine loop (update +
loss) in the same process: once with Python's default switch interval and once with the
server's `gil_switch_interval`, twice each. The run is resumed and paused again each round, so
after the first it is past the dense snapshots of its first steps. Prints the median of the
within-round managed/bare ratios, with their range.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from app.runs.config import RunConfig
from app.runs.manager import RunManager
from app.settings import Settings
from app.store import RunStore
from bench.server import SMALL, bare_rate


async def managed_rate(manager: RunManager, run_id: str, seconds: float) -> float:
    first = (await manager.resume(run_id)).step
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    paused = await manager.pause(run_id)
    return (paused.step - first) / (time.perf_counter() - started)


def rates(interval: float, seconds: float, rounds: int) -> tuple[list[float], list[float]]:
    """(bare, managed) updates a second, one of each per round."""
    sys.setswitchinterval(interval)
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(Path(tmp) / "bench.db", flush_interval=0.2)
        store.open()

        async def alternate() -> tuple[list[float], list[float]]:
            manager = RunManager(Settings(db_path=store.path), store)
            await manager.start()
            bare: list[float] = []
            managed: list[float] = []
            try:
                run = await manager.create(RunConfig.model_validate(SMALL))
                for _ in range(rounds):
                    bare.append(bare_rate(seconds))
                    managed.append(await managed_rate(manager, run.id, seconds))
            finally:
                await manager.shutdown()
            return bare, managed

        try:
            return asyncio.run(alternate())
        finally:
            store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="length of each window")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    default, server = sys.getswitchinterval(), Settings().gil_switch_interval
    print("| switch interval | bare updates/s | managed updates/s | managed/bare (range) |")
    print("| ---: | ---: | ---: | ---: |")
    for interval in (default, server, default, server):
        bare, managed = rates(interval, args.seconds, args.rounds)
        ratios = [m / b for m, b in zip(managed, bare, strict=True)]
        print(
            f"| {interval * 1000:g} ms | {statistics.median(bare):,.0f} "
            f"| {statistics.median(managed):,.0f} | {statistics.median(ratios):.2f} "
            f"({min(ratios):.2f}-{max(ratios):.2f}) |"
        )


if __name__ == "__main__":
    main()
