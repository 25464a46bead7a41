"""Storage that fails (a lock held by another process, a full disk): nothing acknowledged is
lost, runs pause saying why, writes answer 503, and training resumes without a hole."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.reliability.support import create_run, run_state, wait_for
from tests.support.runs import SMALL, engine_for
from tests.support.server import LiveServer

pytestmark = pytest.mark.slow

FAST_FAILING = {"BACKPROP_STORE_WRITE_TIMEOUT": "1", "BACKPROP_STORE_RETRY_INTERVAL": "0.2"}


def storage(client: httpx.Client) -> str | None:
    trouble: str | None = client.get("/healthz").json()["storage"]
    return trouble


def assert_contiguous(client: httpx.Client, run_id: str) -> dict[str, Any]:
    history: dict[str, Any] = client.get(f"/api/runs/{run_id}/history").json()
    assert history["steps"] == list(range(run_state(client, run_id)["step"] + 1))
    return history


def assert_replays_exactly(client: httpx.Client, run_id: str, history: dict[str, Any]) -> None:
    """Weights at thinned-out steps equal a clean replay with the recorded rate changes."""
    changes = {int(step): rate for step, rate in history["learning_rates"]}
    last = run_state(client, run_id)["step"]
    engine = engine_for(SMALL)
    checked = 0
    for step in range(1, last + 1):
        engine.learning_rate = changes.get(step - 1, engine.learning_rate)
        engine.update()
        if step % 97 == 0 or step == last:
            served = client.get(f"/api/runs/{run_id}/weights", params={"step": step}).json()
            assert served["exact"]
            for got, own in zip(served["weights"], engine.network.weights, strict=True):
                np.testing.assert_array_equal(np.asarray(got), own)
            checked += 1
    assert checked >= 2


def hold_write_lock(db: Path, seconds: float) -> threading.Thread:
    """Another process's transaction (an admin's shell, a backup) holding the write lock."""

    def hold() -> None:
        conn = sqlite3.connect(db, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        time.sleep(seconds)
        conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=hold)
    thread.start()
    return thread


def test_a_locked_database_pauses_runs_and_loses_nothing(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    with LiveServer(db, env=FAST_FAILING) as live, httpx.Client(base_url=live.url) as client:
        run_id = create_run(client, SMALL, start="running", speed=400)
        assert wait_for(lambda: run_state(client, run_id)["step"] > 100, 10)
        holder = hold_write_lock(db, 8.0)  # longer than the store's 5 s busy timeout
        time.sleep(0.5)
        patched = client.patch(f"/api/runs/{run_id}", json={"learning_rate": 0.25}, timeout=30)
        assert patched.status_code in (200, 503), patched.text
        assert wait_for(lambda: storage(client) is not None, 10)
        paused = run_state(client, run_id)
        assert wait_for(lambda: run_state(client, run_id)["status"] == "paused", 5)
        paused = run_state(client, run_id)
        assert paused["message"].startswith("storage unavailable:"), paused["message"]
        assert "locked" in paused["message"]
        assert client.post(f"/api/runs/{run_id}/resume").status_code == 503
        holder.join()
        assert wait_for(lambda: storage(client) is None, 10)
        assert client.post(f"/api/runs/{run_id}/step", json={"count": 50}).status_code == 200
        history = assert_contiguous(client, run_id)
        if patched.status_code == 200:
            assert [rate for _, rate in history["learning_rates"]] == [0.25]
        assert_replays_exactly(client, run_id, history)
    with LiveServer(db) as live, httpx.Client(base_url=live.url) as client:
        assert assert_contiguous(client, run_id) == history
        assert_replays_exactly(client, run_id, history)


@contextlib.contextmanager
def small_disk(path: Path, size: str) -> Iterator[Path]:
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"this machine refuses a tmpfs mount: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path) -> Path:
    """Fill the disk to the last byte; the filler file is returned, to free it later."""
    filler = disk / "filler"
    with open(filler, "wb") as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 65536)
            out.flush()
    return filler


def test_a_full_disk_pauses_runs_and_training_resumes_without_a_hole(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "16m") as disk:
        db = disk / "runs.db"
        with LiveServer(db, env=FAST_FAILING) as live, httpx.Client(base_url=live.url) as client:
            run_id = create_run(client, SMALL, start="running", speed=500)
            assert wait_for(lambda: run_state(client, run_id)["step"] > 100, 10)
            before = client.get(f"/api/runs/{run_id}/history").json()
            filler = fill(disk)
            assert wait_for(lambda: storage(client) is not None, 15)
            assert wait_for(lambda: run_state(client, run_id)["status"] == "paused", 5)
            message = run_state(client, run_id)["message"]
            assert message.startswith("storage unavailable:") and "full" in message, message
            refused = client.post(f"/api/runs/{run_id}/step", json={"count": 5})
            assert refused.status_code == 503 and "storage unavailable" in refused.json()["detail"]
            patched = client.patch(f"/api/runs/{run_id}", json={"learning_rate": 0.3})
            assert patched.status_code == 503
            filler.unlink()
            assert wait_for(lambda: storage(client) is None, 15)
            assert client.post(f"/api/runs/{run_id}/resume").status_code == 200
            assert wait_for(
                lambda: run_state(client, run_id)["step"] > before["steps"][-1] + 200, 10
            )
            assert client.post(f"/api/runs/{run_id}/pause").status_code == 200
            history = assert_contiguous(client, run_id)
            n = len(before["steps"])
            assert history["loss"][:n] == before["loss"]  # nothing stored earlier was lost
        with LiveServer(db) as live, httpx.Client(base_url=live.url) as client:
            assert assert_contiguous(client, run_id) == history
