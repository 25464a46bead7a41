"""How fast the store takes losses beside a busy training thread.

    python -m bench.store [--seconds 3]

Prints a Markdown table. Every phase runs in this one process, so the ratios compare figures
taken on the same machine in the same minute:
- raw: bare SQLite inserts of one row per step (executemany, one transaction per 4,000 rows),
  nothing else running; the ceiling a row-per-step design could reach;
- naive: a writer thread inserting one row per step beside the training thread (the convoy
  trap);
- store: RunStore beside the training thread, the producer calling add_losses once per step
  as fast as it can; losses committed a second, counted up to the end of the final flush;
- training: the engine's updates a second (2-4-4-1, 200 samples, computing every step's loss),
  alone and while it also feeds the store that loss, its status and the scheduled snapshots;
- flush latency: flush() called every 0.25 s during that run.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from app.nn.datasets import DatasetSpec, make_dataset
from app.nn.trainer import Trainer, TrainingConfig
from app.store import RunStore, StoredRun, should_snapshot

RUN = StoredRun("bench", {}, "running", 0, None, None, "2024-01-01T00:00:00+00:00", None, 0.5, None)


def make_trainer() -> Trainer:
    config = TrainingConfig(layers=(2, 4, 4, 1), activations=("sigmoid",) * 3)
    return Trainer(config, make_dataset(DatasetSpec(samples=200)))


def train_for(seconds: float, on_step: Callable[[Trainer], object] | None = None) -> float:
    """Updates a second of one training thread over `seconds`."""
    trainer = make_trainer()
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        trainer.update()
        if on_step is not None:
            on_step(trainer)
    return trainer.step / elapsed


def in_background(target: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def raw_insert_rate(path: Path, seconds: float) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE losses (run_id TEXT, step INTEGER, loss REAL)")
    step, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        rows = [("bench", s, s * 0.5) for s in range(step, step + 4000)]
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO losses VALUES (?, ?, ?)", rows)
        conn.execute("COMMIT")
        step += len(rows)
    rate = step / (time.perf_counter() - started)
    conn.close()
    return rate


def naive_rate(path: Path, seconds: float) -> float:
    """Rows a second a row-per-step writer thread commits while a training thread runs."""
    queued: list[tuple[str, int, float]] = []
    lock, stop = threading.Lock(), threading.Event()
    committed = [0]

    def write() -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE IF NOT EXISTS naive (run_id TEXT, step INTEGER, loss REAL)")
        while not stop.is_set():
            time.sleep(0.2)
            with lock:
                rows, queued[:] = list(queued), []
            conn.execute("BEGIN")
            for row in rows:
                conn.execute("INSERT INTO naive VALUES (?, ?, ?)", row)
            conn.execute("COMMIT")
            committed[0] += len(rows)
        conn.close()

    def produce() -> None:
        step = 0
        while not stop.is_set():
            with lock:
                queued.extend(("bench", s, 0.5) for s in range(step, step + 100))
            step += 100
            time.sleep(0.001)

    threads = [in_background(write), in_background(produce)]
    train_for(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return committed[0] / seconds


def store_capacity(path: Path, seconds: float, per_call: int) -> tuple[float, float]:
    """Losses a second the store commits beside training (`per_call` losses an add_losses
    call), and the seconds the final flush took."""
    store = RunStore(path)
    store.open()
    store.create_run(RUN)
    stop = threading.Event()
    made = [0]

    def produce() -> None:
        step = 0
        while not stop.is_set():
            for s in range(step, step + 1000, per_call):
                store.add_losses("bench", s, [s * 0.5] * per_call)
            step += 1000
            time.sleep(0)  # let the training thread have the GIL as it would anyway
        made[0] = step

    started = time.perf_counter()
    producer = in_background(produce)
    train_for(seconds)
    stop.set()
    producer.join()
    stopped = time.perf_counter()
    store.flush()
    done = time.perf_counter()
    stored = len(store.history("bench")[0])
    store.close()
    assert stored == made[0], (stored, made[0])
    return stored / (done - started), done - stopped


def training_with_store(path: Path, seconds: float) -> tuple[float, list[float]]:
    """Updates a second while the training thread feeds the store everything, and the
    latencies of flush() calls made meanwhile."""
    store = RunStore(path)
    store.open()
    store.create_run(RUN)
    stop, latencies = threading.Event(), []

    def on_step(trainer: Trainer) -> None:
        step, loss = trainer.step, trainer.train_loss()  # the forward pass the next update reuses
        store.add_losses("bench", step, [loss])
        store.update_run(
            "bench",
            status="running",
            step=step,
            loss=loss,
            test_loss=None,
            message=None,
            learning_rate=0.5,
            speed=None,
        )
        if should_snapshot(step):
            store.add_snapshot("bench", step, trainer.state().to_bytes())

    def flush_now_and_then() -> None:
        while not stop.wait(0.25):
            started = time.perf_counter()
            store.flush()
            latencies.append(time.perf_counter() - started)

    flusher = in_background(flush_now_and_then)
    rate = train_for(seconds, on_step)
    stop.set()
    flusher.join()
    store.close()
    return rate, latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each phase")
    seconds = parser.parse_args().seconds
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        raw = raw_insert_rate(folder / "raw.db", seconds)
        naive = naive_rate(folder / "naive.db", seconds)
        capacity, final_flush = store_capacity(folder / "capacity.db", seconds, 1)
        batched, batched_flush = store_capacity(folder / "batched.db", seconds, 100)
        # Alternate the two and keep the best of each: other processes share this machine.
        alone, with_store, latencies = 0.0, 0.0, list[float]()
        for attempt in range(2):
            alone = max(alone, train_for(seconds, lambda trainer: trainer.train_loss()))
            rate, flushes = training_with_store(folder / f"train{attempt}.db", seconds)
            with_store, latencies = max(with_store, rate), latencies + flushes
    p99 = percentile(latencies, 0.99)
    rows = [
        ("raw SQLite inserts, row a step, nothing else running", f"{raw:,.0f} rows/s", "1.00"),
        ("row-a-step writer thread beside training", f"{naive:,.0f} rows/s", f"{naive / raw:.2f}"),
        (
            "RunStore beside training (add_losses once a step)",
            f"{capacity:,.0f} losses/s",
            f"{capacity / raw:.2f}",
        ),
        ("  its final flush after the producer stopped", f"{final_flush * 1e3:.0f} ms", ""),
        (
            "RunStore beside training (add_losses with 100 losses)",
            f"{batched:,.0f} losses/s",
            f"{batched / raw:.2f}",
        ),
        ("  its final flush after the producer stopped", f"{batched_flush * 1e3:.0f} ms", ""),
        ("training 2-4-4-1, 200 samples, each step's loss, alone", f"{alone:,.0f} updates/s", ""),
        (
            "training feeding the store every step",
            f"{with_store:,.0f} updates/s",
            f"{with_store / alone:.2f} of alone",
        ),
        (
            "flush() latency during that run, median / p99",
            f"{statistics.median(latencies) * 1e3:.1f} / {p99 * 1e3:.1f} ms",
            "",
        ),
    ]
    print("| measure | figure | ratio |")
    print("| --- | ---: | ---: |")
    for name, figure, ratio in rows:
        print(f"| {name} | {figure} | {ratio} |")
    blas = os.environ.get("OPENBLAS_CORETYPE", "unset")
    print(f"\nLoad average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at the end;")
    print(f"OPENBLAS_CORETYPE={blas}; {seconds:g} s a phase.")


if __name__ == "__main__":
    main()
