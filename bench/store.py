"""How fast the store takes a run's losses, and how fast it gives them back.

    python -m bench --only store [--quick]

Every phase runs in this one process, one after another, so the ratios compare figures taken
in the same minute:
- raw: bare SQLite inserts of one row per step (executemany, one transaction per 4,000 rows),
  nothing else running: the ceiling of a row-per-step design;
- RunStore: a producer thread calling add_losses as fast as it can, with 1 loss a call (the
  worst case) and with 1,000 (what a Progress event of a free-running run brings the manager),
  counted up to the end of the final flush;
- flush latency: the producer paced at 200,000 losses a second (several tiny runs training
  freely) in calls of 1,000, and flush() called every 0.25 s meanwhile, as the manager does
  when an answer must wait for the disk;
- read: the whole history back as arrays (history_arrays, what the first stream of a run
  after a restart summarises), per million losses.
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from app.store import RunStore, StoredRun
from bench.report import Options, Row, percentile

NAME = "store"
PACED = 200_000.0  # losses a second in the flush-latency phase
RUN = StoredRun("bench", {}, "running", 0, None, None, "2024-01-01T00:00:00+00:00", None, 0.5, None)


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


def store_capacity(
    path: Path, seconds: float, per_call: int, paced: float | None = None
) -> tuple[float, float, list[float]]:
    """Losses a second the store commits (`per_call` losses an add_losses call, as fast as
    it can or `paced` losses a second), the seconds the final flush took, and the latencies
    of the flushes made meanwhile."""
    store = RunStore(path)
    store.open()
    store.create_run(RUN)
    stop = threading.Event()
    made = [0]
    latencies: list[float] = []

    def produce() -> None:
        step = 0
        batch = [0.5] * per_call
        began = time.perf_counter()
        while not stop.is_set():
            for first in range(step, step + 10_000, per_call):
                store.add_losses("bench", first, batch)
            step += 10_000
            ahead = 0.0 if paced is None else step / paced - (time.perf_counter() - began)
            time.sleep(max(0.0, ahead))  # let the writer have the GIL, as the loop would
        made[0] = step

    started = time.perf_counter()
    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    while not stop.wait(0.25):
        began = time.perf_counter()
        store.flush()
        latencies.append(time.perf_counter() - began)
        if time.perf_counter() - started >= seconds:
            stop.set()
    producer.join()
    stopped = time.perf_counter()
    store.flush()
    done = time.perf_counter()
    stored = len(store.history_arrays("bench").steps)
    store.close()
    assert stored == made[0], (stored, made[0])
    return stored / (done - started), done - stopped, latencies


def read_rate(path: Path, losses: int) -> float:
    """Seconds to read `losses` stored losses back as arrays, per million."""
    store = RunStore(path)
    store.open()
    store.create_run(RUN)
    for first in range(0, losses, 10_000):
        store.add_losses("bench", first, [0.5] * 10_000)
    store.flush()
    started = time.perf_counter()
    count = len(store.history_arrays("bench").steps)
    seconds = time.perf_counter() - started
    store.close()
    return seconds / count * 1e6


def measure(options: Options) -> list[Row]:
    seconds = 0.5 if options.quick else 3.0
    losses = 100_000 if options.quick else 2_000_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        raw = raw_insert_rate(folder / "raw.db", seconds)
        single, single_flush, _ = store_capacity(folder / "single.db", seconds, 1)
        batched, batched_flush, _ = store_capacity(folder / "batched.db", seconds, 1000)
        _, _, latencies = store_capacity(folder / "paced.db", seconds, 1000, PACED)
        read = read_rate(folder / "read.db", losses)
    ms = [1000 * value for value in latencies]
    flushes = f"median {statistics.median(ms):.1f} ms, p99 {percentile(ms, 0.99):.1f} ms"
    return [
        Row(NAME, "raw SQLite inserts, a row a step, nothing else running", f"{raw:,.0f} rows/s"),
        Row(
            NAME,
            "RunStore, add_losses with 1 loss a call",
            f"{single:,.0f} losses/s = {single / raw:.2f}× raw; "
            f"final flush {single_flush * 1e3:.0f} ms",
        ),
        Row(
            NAME,
            "RunStore, add_losses with 1,000 losses a call",
            f"{batched:,.0f} losses/s = {batched / raw:.2f}× raw; "
            f"final flush {batched_flush * 1e3:.0f} ms",
        ),
        Row(NAME, f"flush() every 0.25 s, fed {PACED:,.0f} losses/s ({len(ms)} calls)", flushes),
        Row(
            NAME,
            f"read a run's whole history back ({losses:,} losses)",
            f"{read * 1000:,.0f} ms per million losses",
        ),
    ]


if __name__ == "__main__":
    from bench.report import table

    print(table(measure(Options(quick="--quick" in sys.argv, long=False))))
