"""SIGKILL while writing: the file stays sound and loses at most about one flush interval."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.store import RunStore

FLUSH_INTERVAL = 0.2
# What a kill may cost: a flush interval, plus a commit and the writer's turn at the GIL on a
# loaded machine; the promise is "about a second".
LOSS_BOUND = 1.0
REPO = Path(__file__).resolve().parents[2]

# Trains a pretend run as fast as a small net would: every loss is the wall-clock time at which
# it was queued, so the test can tell how much history the kill cost.
CHILD = """
import sys, time
from pathlib import Path
from app.store import RunStore, StoredRun, should_snapshot

store = RunStore(Path(sys.argv[1]), flush_interval=float(sys.argv[2]))
store.open()
store.create_run(StoredRun("victim", {"layers": [2, 1]}, "running", 0, None, None,
                           "2024-05-01T00:00:00+00:00", None, 0.5, None))
step = 0
while True:
    now = time.time()
    store.add_losses("victim", step, [now] * 20, [(step, -now)])
    for s in range(step, step + 20):
        if should_snapshot(s):
            store.add_snapshot("victim", s, s.to_bytes(8, "little") * 64)
    step += 20
    store.update_run("victim", status="running", step=step - 1, loss=now, test_loss=None,
                     message=None, learning_rate=0.5, speed=20_000.0)
    if step == 20:
        store.flush()
        print("ready", flush=True)
    time.sleep(0.001)
"""


@pytest.mark.slow
def test_sigkill_loses_at_most_a_flush_interval(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(FLUSH_INTERVAL)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        time.sleep(1.5)
        killed_at = time.time()
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL

    store = RunStore(path)
    store.open()
    try:
        assert store.integrity_ok()
        steps, loss, test = store.history("victim")
        assert steps == list(range(len(steps)))  # no holes
        assert all(value is not None for value in loss)
        # Bounds in seconds, not in steps: how many steps the child made in 1.5 s depends on
        # how loaded the machine is (its 1 ms sleeps can last several).
        first, newest = loss[0], max(v for v in loss if v is not None)
        assert first is not None and newest - first >= 0.5  # most of the 1.5 s of writes survived
        assert killed_at - newest < LOSS_BOUND, killed_at - newest
        assert test[0] is not None and test[-20] is not None
        run = store.get_run("victim")
        assert run is not None and run.status == "running" and run.step >= len(steps) - 21
        assert store.mark_running_as_interrupted() == ["victim"]
        latest = store.latest_snapshot("victim")
        assert latest is not None
        assert latest[1] == latest[0].to_bytes(8, "little") * 64
    finally:
        store.close()
