"""Restart on the same SQLite file after SIGTERM and after SIGKILL: nothing flushed is lost."""

from __future__ import annotations

import signal
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from tests.support.runs import SMALL, as_arrays, engine_for, wait_for_step
from tests.support.server import LiveServer


def train(server: LiveServer, steps: int) -> tuple[str, str, httpx.Client]:
    """A run paused after `steps` manual updates and a run training freely."""
    client = httpx.Client(base_url=server.url, timeout=30)
    paused = client.post("/api/runs", json=SMALL).json()["id"]
    client.post(f"/api/runs/{paused}/step", json={"count": steps})
    running = client.post("/api/runs", json=SMALL | {"start": "running"}).json()["id"]
    wait_for_step(client, running, steps)
    return paused, running, client


def committed(db: Path, run_id: str) -> tuple[str, int] | None:
    """The run's row as committed to the file (read-only, beside the server's writer)."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        row = conn.execute("SELECT status, step FROM runs WHERE id = ?", (run_id,)).fetchone()
    return None if row is None else (row[0], row[1])


def wait_until_committed(db: Path, run_id: str, status: str, step: int) -> None:
    """Poll until the run's row says `status` at `step` or later (a fixed sleep was not
    enough on a loaded machine)."""
    deadline = time.monotonic() + 20
    while (row := committed(db, run_id)) is None or row[0] != status or row[1] < step:
        assert time.monotonic() < deadline, row
        time.sleep(0.05)


def engine_weights(steps: int) -> list[np.ndarray]:
    engine = engine_for(SMALL)
    for _ in range(steps):
        engine.update()
    return engine.network.weights


def check_restarted(server: LiveServer, paused: str, running: str, steps: int) -> dict[str, Any]:
    with server, httpx.Client(base_url=server.url, timeout=30) as client:
        runs: dict[str, dict[str, Any]] = {run["id"]: run for run in client.get("/api/runs").json()}
        assert set(runs) == {paused, running}
        assert runs[paused]["status"] == "paused" and runs[paused]["step"] == steps
        history = client.get(f"/api/runs/{paused}/history").json()
        assert history["steps"] == list(range(steps + 1))
        assert runs[running]["status"] == "interrupted"
        assert runs[running]["message"]
        kept = client.get(f"/api/runs/{running}/history").json()
        at = runs[running]["step"]
        assert kept["steps"] == list(range(len(kept["steps"]))) and len(kept["steps"]) > steps // 2
        # It resumes from the step it had reached, with exactly the engine's weights there.
        weights = client.get(f"/api/runs/{running}/weights").json()
        assert weights["step"] == at
        for served, own in zip(as_arrays(weights["weights"]), engine_weights(at), strict=True):
            np.testing.assert_array_equal(served, own)
        stepped = client.post(f"/api/runs/{running}/step", json={"count": 5}).json()
        assert stepped["step"] == at + 5 and stepped["status"] == "paused"
        after = client.get(f"/api/runs/{running}/history").json()
        assert after["steps"] == list(range(at + 6))
        assert after["loss"][: at + 1] == kept["loss"][: at + 1]
        resumed = client.post(f"/api/runs/{running}/resume").json()
        assert resumed["status"] == "running"
        client.post(f"/api/runs/{running}/pause")
        return runs[running]


def test_restart_after_sigterm(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "runs.db").start()
    paused, running, client = train(server, 300)
    before = client.get(f"/api/runs/{running}").json()["step"]
    started = time.monotonic()
    # uvicorn shuts down gracefully, then re-raises the signal it caught, hence -15.
    assert server.stop(signal.SIGTERM) in (0, -signal.SIGTERM)
    assert time.monotonic() - started < 5
    assert "Application shutdown complete" in server.log_path.read_text()
    client.close()
    run = check_restarted(server, paused, running, 300)
    assert run["step"] >= before  # paused with a pinned snapshot at the very step it reached


def test_restart_after_sigkill(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "runs.db").start()
    paused, running, client = train(server, 300)
    # Both runs' flushes of their first 300 steps are on disk before the kill.
    wait_until_committed(server.db_path, paused, "paused", 300)
    wait_until_committed(server.db_path, running, "running", 300)
    server.stop(signal.SIGKILL)
    client.close()
    check_restarted(server, paused, running, 300)


def test_a_run_killed_right_after_resume_answered_comes_back_interrupted(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "runs.db").start()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        run_id = client.post("/api/runs", json=SMALL).json()["id"]
        assert client.post(f"/api/runs/{run_id}/resume").json()["status"] == "running"
        server.stop(signal.SIGKILL)  # well within the first flush interval
    with server, httpx.Client(base_url=server.url, timeout=30) as client:
        run = client.get(f"/api/runs/{run_id}").json()
        assert run["status"] == "interrupted", run
        assert client.post(f"/api/runs/{run_id}/step").json()["step"] == run["step"] + 1
