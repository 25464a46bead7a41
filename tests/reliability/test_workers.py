"""Training in worker processes: a fault in one stays in it, and no training escapes the API."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.reliability.support import create_run, run_state, wait_for
from tests.support.runs import SMALL
from tests.support.server import LiveServer
from tests.support.stream import collect, open_stream

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(tmp_path / "runs.db", env={"BACKPROP_WORKER_PROCESSES": "2"}) as live:
        yield live


def workers(client: httpx.Client) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client.get("/healthz").json()["workers"]
    return found


def pid_training(client: httpx.Client, run_id: str) -> int:
    [pid] = [w["pid"] for w in workers(client) if run_id in w["runs"]]
    return int(pid)


def test_a_killed_worker_interrupts_its_run_only(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        victim = create_run(client, SMALL, start="running", speed=2000)
        other = create_run(client, SMALL, start="running", speed=2000)
        assert wait_for(lambda: len({w["pid"] for w in workers(client) if w["runs"]}) == 2, 10)
        with open_stream(server, other) as (ws, _state):
            os.kill(pid_training(client, victim), signal.SIGKILL)
            assert wait_for(lambda: run_state(client, victim)["status"] == "interrupted", 10)
            killed = run_state(client, victim)
            assert "SIGKILL" in killed["message"] and not killed["busy"]
            # The other run's viewer goes on receiving its updates.
            steps = [frame["step"] for frame in collect(ws, 1.0) if frame["type"] == "update"]
            assert len(steps) >= 3 and steps == sorted(steps)
            assert run_state(client, other)["status"] == "running"
        # The killed run resumes from its stored state, its history without a hole.
        assert client.post(f"/api/runs/{victim}/resume").status_code == 200
        assert wait_for(lambda: run_state(client, victim)["step"] > killed["step"] + 50, 10)
        for run_id in (victim, other):
            assert client.post(f"/api/runs/{run_id}/pause").status_code == 200
        history = client.get(f"/api/runs/{victim}/history").json()
        assert history["steps"] == list(range(run_state(client, victim)["step"] + 1))
        assert client.get("/healthz").json()["status"] == "ok"


def test_a_run_over_the_memory_budget_is_refused_naming_the_setting(tmp_path: Path) -> None:
    env = {"BACKPROP_MAX_RUN_MEMORY_BYTES": str(8 << 20)}
    with LiveServer(tmp_path / "runs.db", env=env) as live, httpx.Client(base_url=live.url) as c:
        big = SMALL | {"layers": [2, 512, 512, 1], "dataset": {"samples": 2000}}
        answer = c.post("/api/runs", json=big)
        assert answer.status_code == 422
        [error] = answer.json()["detail"]
        assert (
            "BACKPROP_MAX_RUN_MEMORY_BYTES" in error["msg"]
            and "max_run_memory_bytes" in error["msg"]
        )
        assert c.post("/api/runs", json=SMALL).status_code == 201


def test_resume_racing_delete_after_a_restart_leaves_no_training(tmp_path: Path) -> None:
    """Runs not yet loaded (a fresh server): resume, step and DELETE at once, many times."""
    db = tmp_path / "runs.db"
    with LiveServer(db) as live, httpx.Client(base_url=live.url, timeout=30) as client:
        ids = [create_run(client, SMALL) for _ in range(12)]
    with LiveServer(db) as live:

        async def race(run_id: str) -> list[int]:
            async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
                answers = await asyncio.gather(
                    http.post(f"/api/runs/{run_id}/resume"),
                    http.post(f"/api/runs/{run_id}/step", json={"count": 5}),
                    http.delete(f"/api/runs/{run_id}"),
                    http.delete(f"/api/runs/{run_id}"),
                )
            return [answer.status_code for answer in answers]

        async def all_races() -> list[list[int]]:
            return list(await asyncio.gather(*(race(run_id) for run_id in ids)))

        outcomes = asyncio.run(all_races())
        with httpx.Client(base_url=live.url, timeout=30) as client:
            for resume, step, *deletes in outcomes:
                assert sorted(deletes) == [204, 404], deletes  # one DELETE wins
                assert resume in (200, 404, 409) and step in (200, 404, 409)
            assert client.get("/api/runs").json() == []
            for run_id in ids:
                assert client.get(f"/api/runs/{run_id}").status_code == 404
            # Nothing trains for a deleted run: no worker holds one.
            assert wait_for(lambda: all(not w["runs"] for w in workers(client)), 5)
