"""The store keeps up with a fast run while another thread keeps the CPU busy with numpy."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from app.store import RunStore, should_snapshot
from tests.store.conftest import make_run

RATE = 20_000  # losses a second
SECONDS = 3.0


def produce(store: RunStore, stop: threading.Event) -> int:
    """Queue one loss per step at RATE a second (one call a step, the worst case); steps made."""
    step, started = 0, time.perf_counter()
    weights = np.ones((4, 4))
    while not stop.is_set():
        due = int((time.perf_counter() - started) * RATE)
        while step < due:
            weights = weights * 0.999  # a little numpy per step, like an update
            store.add_losses("fast", step, [step * 0.5], [(step, -1.0)] if step % 100 == 0 else ())
            store.update_run(
                "fast",
                status="running",
                step=step,
                loss=step * 0.5,
                test_loss=None,
                message=None,
                learning_rate=0.5,
                speed=float(RATE),
            )
            if should_snapshot(step):
                store.add_snapshot("fast", step, step.to_bytes(4, "little") * 512)
            step += 1
        time.sleep(0.0005)
    return step


def busy_numpy(stop: threading.Event) -> None:
    """Training of another run: small numpy calls that hold the GIL most of the time."""
    x, w = np.random.default_rng(0).random((200, 4)), np.ones((4, 4))
    while not stop.is_set():
        for _ in range(100):
            w = w - 0.001 * (x.T @ np.tanh(x @ w)) / 200


@pytest.mark.slow
def test_store_keeps_up_beside_busy_numpy(store: RunStore) -> None:
    store.create_run(make_run("fast", status="running"))
    stop = threading.Event()
    steps: list[int] = []
    producer = threading.Thread(target=lambda: steps.append(produce(store, stop)))
    worker = threading.Thread(target=busy_numpy, args=(stop,))
    producer.start()
    worker.start()
    time.sleep(SECONDS)
    stop.set()
    producer.join()
    worker.join()
    store.flush()

    made = steps[0]
    assert made > RATE  # it really produced for a while (completeness, not speed, is checked)
    stored, loss, test = store.history("fast")
    assert stored == list(range(made))
    assert loss == [s * 0.5 for s in range(made)]
    assert [s for s, t in zip(stored, test, strict=True) if t is not None] == list(
        range(0, made, 100)
    )
    assert store.snapshot_steps("fast") == [s for s in range(made) if should_snapshot(s)]
    run = store.get_run("fast")
    assert run is not None and run.step == made - 1
    assert store.integrity_ok()
