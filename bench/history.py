"""Reading a long run's history window by window (app/store/export.py).

    python -m bench.history [--steps 1000000]

Writes a run of `--steps` losses (a test loss every 10 steps) into a fresh store in chunks of
6,000 steps, as a fast run's flushes do, then times the three readings the API makes of it:
the default bounded `/history` (1,024 buckets + the last 2,048 steps, serialised), a zoomed
range of 1,000 steps, and the whole CSV export, with the bytes each answers.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import orjson

from app.store import RunStore, StoredRun
from app.store.export import bounded_history, bucketed, csv_lines, iter_history
from app.store.losses import LossArrays

RUN = StoredRun("bench", {}, "paused", 0, None, None, "2024-01-01T00:00:00+00:00", None, 0.5, None)
CHUNK = 6_000


def fill(path: Path, steps: int) -> None:
    store = RunStore(path)
    store.open()
    store.create_run(RUN)
    rng = np.random.default_rng(0)
    for first in range(0, steps, CHUNK):
        values = rng.random(min(CHUNK, steps - first))
        tests = [(s, 0.5) for s in range(first, first + len(values), 10)]
        store.add_losses(RUN.id, first, values, tests)
        if first % (20 * CHUNK) == 0:
            store.flush()
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=1_000_000)
    args = parser.parse_args()
    last = args.steps - 1
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "runs.db"
        fill(path, args.steps)

        def read(start: int, end: int) -> Iterator[LossArrays]:
            return iter_history(path, RUN.id, start, end)

        middle = args.steps // 2
        readings: list[tuple[str, Callable[[], int]]] = [
            (
                "default /history",
                lambda: len(
                    orjson.dumps(
                        bounded_history(read, last, full=100_000, buckets=1024, recent=2048)
                    )
                ),
            ),
            (
                "zoomed range of 1,000 steps",
                lambda: len(
                    orjson.dumps(
                        bucketed(read(middle, middle + 999), middle, middle + 999, 1000)._asdict()
                    )
                ),
            ),
            ("CSV of every step", lambda: sum(len(b) for b in csv_lines(read(0, last)))),
        ]
        print(f"| reading ({args.steps:,} steps stored) | time | bytes |")
        print("| --- | ---: | ---: |")
        for name, reading in readings:
            started = time.perf_counter()
            size = reading()
            print(f"| {name} | {(time.perf_counter() - started) * 1000:,.0f} ms | {size:,} |")


if __name__ == "__main__":
    main()
