"""What Python's GIL switch interval costs one free-running run, without HTTP in between.

    python -m bench.switch_interval [--seconds 2]

A RunManager on a real SQLite store trains one 2-4-4-1 run freely (no viewers) in its thread
while the event loop idles, in alternation with the bare engine loop (update + loss) in the
same process, once with Python's default switch interval and once with the server's
`gil_switch_interval`. Prints the best of three rounds of each and the managed/bare ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from app.runs.config import RunConfig
from app.runs.manager import RunManager
from app.settings import Settings
from app.store import RunStore
from bench.server import SMALL, bare_rate

ROUNDS = 3


async def managed_rate(manager: RunManager, seconds: float) -> float:
    run = await manager.create(RunConfig.model_validate(SMALL))
    await manager.resume(run.id)
    first, started = run.step, time.perf_counter()
    await asyncio.sleep(seconds)
    paused = await manager.pause(run.id)
    return (paused.step - first) / (time.perf_counter() - started)


def best_rates(interval: float, seconds: float) -> tuple[float, float]:
    """(bare, managed) updates a second, each the best of ROUNDS alternating rounds."""
    sys.setswitchinterval(interval)
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(Path(tmp) / "bench.db", flush_interval=1.0)
        store.open()

        async def rounds() -> tuple[float, float]:
            manager = RunManager(Settings(db_path=store.path), store)
            await manager.start()
            bare = managed = 0.0
            try:
                for _ in range(ROUNDS):
                    bare = max(bare, bare_rate(seconds))
                    managed = max(managed, await managed_rate(manager, seconds))
            finally:
                await manager.shutdown()
            return bare, managed

        try:
            return asyncio.run(rounds())
        finally:
            store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    default, server = sys.getswitchinterval(), Settings().gil_switch_interval
    print("| switch interval | bare updates/s | managed updates/s | managed/bare |")
    print("| ---: | ---: | ---: | ---: |")
    for interval in (default, server, default, server):
        bare, managed = best_rates(interval, args.seconds)
        print(f"| {interval * 1000:g} ms | {bare:,.0f} | {managed:,.0f} | {managed / bare:.2f} |")


if __name__ == "__main__":
    main()
