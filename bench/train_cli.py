"""`backprop-live train` against the bare engine loop, in one process, rounds interleaved.

    python -m bench.train_cli [--steps 30000] [--rounds 3]

Bare: `trainer.update(); trainer.train_loss()` and nothing else, the ceiling. Train: the
headless trainer's loop (app/train_cli.py), writing every loss, the test loss every
`test_loss_every` steps and the scheduled snapshots into a fresh SQLite file, on the same
2-4-4-1 sigmoid run of 200 samples. Prints updates a second of each round, by the wall clock and
by this process's CPU time (steadier on a shared machine), and the ratios of the medians
(target at least 0.9).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import tempfile
import time
from pathlib import Path

from app.nn.datasets import make_dataset
from app.nn.trainer import Trainer
from app.runs.config import RunConfig
from app.settings import Settings
from app.store import RunStore
from app.train_cli import HeadlessRun, Progress

CONFIG = RunConfig.model_validate(
    {"layers": [2, 4, 4, 1], "dataset": {"kind": "teacher", "samples": 200}}
)


Rate = tuple[float, float]  # updates a second of wall-clock time, and of this process's CPU


def rates(steps: int, wall: float, cpu: float) -> Rate:
    return steps / wall, steps / cpu


def bare(steps: int) -> Rate:
    trainer = Trainer(CONFIG.training_config(), make_dataset(CONFIG.dataset_spec()))
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        trainer.update()
        trainer.train_loss()
    return rates(steps, time.perf_counter() - started, time.process_time() - cpu)


def headless(steps: int, folder: Path, round_number: int) -> Rate:
    settings = Settings(db_path=folder / f"round{round_number}.db")
    store = RunStore(settings.db_path, flush_interval=settings.flush_interval)
    store.open()
    try:
        run = HeadlessRun(CONFIG, store, settings)
        started, cpu = time.perf_counter(), time.process_time()
        with contextlib.redirect_stdout(io.StringIO()):  # the run's id
            run.train(steps, Progress(io.StringIO(), steps), None)  # not a terminal: quiet
        return rates(steps, time.perf_counter() - started, time.process_time() - cpu)
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    bares, trains = [], []
    with tempfile.TemporaryDirectory() as folder:
        for round_number in range(args.rounds):
            bares.append(bare(args.steps))
            trains.append(headless(args.steps, Path(folder), round_number))
    print("| round | bare, updates/s | train, updates/s | bare, per CPU s | train, per CPU s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for k, (a, b) in enumerate(zip(bares, trains, strict=True)):
        print(f"| {k + 1} | {a[0]:,.0f} | {b[0]:,.0f} | {a[1]:,.0f} | {b[1]:,.0f} |")
    for index, what in ((0, "wall-clock"), (1, "CPU time")):
        ratio = statistics.median(t[index] for t in trains) / statistics.median(
            b[index] for b in bares
        )
        print(f"\nratio of medians, {what}: {ratio:.3f} (target >= 0.9)")


if __name__ == "__main__":
    main()
