"""The load test (#tests): 8 runs training, 50 viewers, steady REST, 60 s, loopback only.

Run by `.ci/run` as `python -m pytest -m load`, not by the default quick run. It stops by
itself: every task works until one shared deadline. Event-loop lag is measured by the server
itself (/healthz `loop_lag_ms`: how late a task sleeping 50 ms wakes, over the last 60 s, so the
answer right after the load covers all of it) and asserted; the /healthz round trip seen by the
client is reported too (it adds the client's own loop, crowded by 50 viewers, and the request).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.reliability.support import SMALL_RUN, rss_bytes, server_pid
from tests.support.server import LiveServer

DURATION = 60.0
RUNS, VIEWERS = 8, 50
REST_INTERVAL = 0.05  # each of the REST clients: one request every 50 ms
REST_CLIENTS = 4
MEMORY_GROWTH_BOUND = 150 * 1024 * 1024  # between the end of warm-up and the end
# The server's own loop lag p99. Measured with the training gate: 46 and 81 ms, on a machine
# busy with other work too (docs/reliability.md); before the gate, eight trainers held the loop
# for seconds (/healthz took 2.8 s at p99). 250 ms is 3-5x the one and a tenth of the other: it
# fails if the loop is starved again, not because the machine is shared.
LOOP_LAG_P99_BOUND_MS = 250.0


@dataclass
class Tally:
    frames: int = 0
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    health_ms: list[float] = field(default_factory=list)
    rss: list[tuple[float, int]] = field(default_factory=list)
    slowest: dict[str, float] = field(default_factory=dict)
    loop_lag_ms: dict[str, Any] = field(default_factory=dict)  # the server's, at the end


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"BACKPROP_MAX_TRAINING_RUNS": str(RUNS)}
    with LiveServer(tmp_path_factory.mktemp("load") / "runs.db", env=env) as live:
        yield live


async def viewer(url: str, deadline: float, tally: Tally) -> None:
    try:
        async with connect(url, max_size=None) as ws:
            while time.monotonic() < deadline:
                frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
                tally.frames += 1
                if frame["type"] == "error":
                    tally.errors.append(f"viewer got {frame}")
    except Exception as error:  # any drop or stall of a viewer is an error here
        tally.errors.append(f"viewer: {error!r}")


async def rest_client(
    http: httpx.AsyncClient, ids: list[str], deadline: float, tally: Tally
) -> None:
    paths = [
        "/api/runs",
        *(f"/api/runs/{i}" for i in ids),
        *(f"/api/runs/{i}/history" for i in ids),
    ]
    index = 0
    while time.monotonic() < deadline:
        path = paths[index % len(paths)]
        index += 1
        started = time.perf_counter()
        try:
            response = await http.get(path)
        except httpx.HTTPError as error:
            tally.errors.append(f"GET {path}: {error!r}")
            continue
        took = time.perf_counter() - started
        kind = path.rsplit("/", 1)[-1] if path.endswith("history") else "run"
        tally.slowest[kind] = max(tally.slowest.get(kind, 0.0), took)
        tally.requests += 1
        if response.status_code != 200:
            tally.errors.append(f"GET {path}: {response.status_code}")
        await asyncio.sleep(REST_INTERVAL)


async def prober(http: httpx.AsyncClient, pid: int, deadline: float, tally: Tally) -> None:
    while time.monotonic() < deadline:
        started = time.perf_counter()
        response = await http.get("/healthz")
        tally.health_ms.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            tally.errors.append(f"healthz {response.status_code}")
        tally.rss.append((time.monotonic(), rss_bytes(pid)))
        await asyncio.sleep(0.1)


async def load(server: LiveServer) -> tuple[Tally, list[str]]:
    tally = Tally()
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        ids = []
        # Created paused, then resumed: creating a run waits for its row to be committed, and
        # with several runs already training the store's writer is slow (docs/reliability.md).
        for _ in range(RUNS):
            response = await http.post("/api/runs", json=SMALL_RUN)
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        for run_id in ids:
            assert (await http.post(f"/api/runs/{run_id}/resume")).status_code == 200
        deadline = time.monotonic() + DURATION
        tasks = [
            *(viewer(f"{server.ws_url}/api/runs/{ids[i % RUNS]}/stream", deadline, tally)
              for i in range(VIEWERS)),
            *(rest_client(http, ids, deadline, tally) for _ in range(REST_CLIENTS)),
            prober(http, server_pid(server), deadline, tally),
        ]  # fmt: skip
        await asyncio.gather(*tasks)
        # The window (60 s) covers the whole load: the figures are the load's.
        tally.loop_lag_ms = (await http.get("/healthz")).json()["loop_lag_ms"]
        statuses = [(await http.get(f"/api/runs/{i}")).json()["status"] for i in ids]
        for run_id in ids:
            await http.post(f"/api/runs/{run_id}/stop")
    return tally, statuses


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


@pytest.mark.load
@pytest.mark.timeout(240)
def test_load(server: LiveServer) -> None:
    tally, statuses = asyncio.run(load(server))
    warm = [rss for at, rss in tally.rss if at >= tally.rss[0][0] + 10.0]
    growth = warm[-1] - warm[0]
    lag = tally.loop_lag_ms
    print(
        f"\nload: {RUNS} runs, {VIEWERS} viewers, {DURATION:.0f} s: {tally.frames} frames "
        f"({tally.frames / DURATION / VIEWERS:.1f}/s a viewer), {tally.requests} REST requests; "
        f"server loop lag ms p50 {lag['p50']} p99 {lag['p99']} max {lag['max']} "
        f"({lag['samples']} samples); "
        f"healthz round trip ms p50 {percentile(tally.health_ms, 50):.1f} p99 "
        f"{percentile(tally.health_ms, 99):.1f} max {max(tally.health_ms):.1f}; RSS MB "
        f"{tally.rss[0][1] >> 20} -> {warm[0] >> 20} (10 s) -> {warm[-1] >> 20}; "
        f"errors {len(tally.errors)}; slowest REST s {tally.slowest}"
    )
    assert tally.errors == [], tally.errors[:10]
    assert statuses == ["running"] * RUNS
    assert growth < MEMORY_GROWTH_BOUND, growth
    assert tally.frames > VIEWERS * DURATION  # every viewer kept receiving (> 1 frame/s)
    # Sampled every 50 ms through the whole load (a stalled loop samples less, not never).
    assert lag["samples"] >= DURATION / 0.05 / 2, lag
    assert lag["p99"] < LOOP_LAG_P99_BOUND_MS, lag
    assert "Traceback" not in server.log_path.read_text()
