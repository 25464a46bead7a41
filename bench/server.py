"""What the server costs a training run, how soon its frames reach viewers, and what the
process boundary between the server and its worker processes costs.

    python -m bench --only server [--quick]

Starts a real server (`python -m app serve`, SQLite in a temporary directory; training in its
worker processes) and drives it over REST, with WebSocket viewers in this process:
- throughput, in rounds of back-to-back windows: the bare engine loop (update and loss of
  every step, this process, no server), then a 2-4-4-1 run free-running in the server with
  0, 20 and 100 viewers at the default 30 frames a second (one run per viewer count, resumed
  and paused again). Ratios are taken within a round, and their median over the rounds
  reported with their range: the machine's speed swings from one minute to the next;
- latency: from an update finishing in the worker (the frame's "time", stamped when the frame
  is built) to the frame arriving at a viewer here, over every frame one viewer gets;
- the process boundary: a manual step of count 1 (POST /step), a round trip through the
  server and a worker, next to one update in this process; and a frame's way through a
  pipe to another process (pickled, sent, unpickled, acknowledged) next to building it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import multiprocessing
import pickle
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import numpy as np
import websockets

from app.nn.datasets import make_dataset
from app.nn.trainer import Trainer
from app.runs.config import RunConfig
from app.runs.frames import build_frame, decode_binary
from bench.report import Options, Row, judged, median_range, per_round, percentile
from tests.support.server import LiveServer

NAME = "server"
SMALL: dict[str, Any] = {"layers": [2, 4, 4, 1], "learning_rate": 0.5}
VIEWERS = (0, 20, 100)
LARGE_LAYERS = (784, 128, 64, 10)


class Plan(NamedTuple):
    window: float  # seconds a run trains per round
    rounds: int
    phase: float  # seconds of the latency phase
    steps: int  # manual steps timed
    frames: int  # frames sent through the pipe


FULL = Plan(window=1.0, rounds=7, phase=4.0, steps=200, frames=200)
QUICK = Plan(window=0.3, rounds=1, phase=1.0, steps=10, frames=10)


def make_trainer(config: dict[str, Any]) -> Trainer:
    run = RunConfig.model_validate(config)
    return Trainer(run.training_config(), make_dataset(run.dataset_spec()))


def bare_rate(seconds: float) -> float:
    """Updates a second of the engine alone: an update and its loss, as a worker makes them."""
    trainer = make_trainer(SMALL)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        trainer.update()
        trainer.train_loss()
        count += 1
    return count / (time.perf_counter() - start)


async def watch(
    url: str,
    stop: asyncio.Event,
    options: dict[str, Any] | None = None,
    latencies: list[float] | None = None,
) -> int:
    """Receive frames until `stop`; returns the number of update frames."""
    frames = 0
    async with websockets.connect(url, max_size=None, compression=None) as ws:
        await ws.recv()  # the state frame
        if options:
            await ws.send(json.dumps(options))
        while not stop.is_set():
            try:
                message = await asyncio.wait_for(ws.recv(), 0.2)
            except TimeoutError:
                continue
            arrived = time.time()
            if isinstance(message, bytes):
                frames += 1
                if latencies is not None:
                    latencies.append(arrived - decode_binary(message)["time"])
            elif message.startswith('{"type":"update"'):
                frames += 1
                if latencies is not None:
                    latencies.append(arrived - json.loads(message)["time"])
    return frames


async def train_for(client: httpx.AsyncClient, run_id: str, seconds: float) -> float:
    """Resume the paused run, pause it `seconds` later: its updates a second in between.

    Timed from the resume's request to the pause's: training starts a few milliseconds after
    the one (the order reaches a worker) and ends a few after the other (the pause reaches
    it), so the two delays cancel. The resume's answer comes later still (once "running" is
    stored), which would make the window too short."""
    first = (await client.get(f"/api/runs/{run_id}")).json()  # the step it is paused at
    started = time.perf_counter()
    (await client.post(f"/api/runs/{run_id}/resume")).raise_for_status()
    await asyncio.sleep(seconds - (time.perf_counter() - started))
    ended = time.perf_counter()
    last = (await client.post(f"/api/runs/{run_id}/pause")).json()
    return float(last["step"] - first["step"]) / (ended - started)


async def throughput(server: LiveServer, plan: Plan) -> dict[str, list[float]]:
    """Updates a second, per round: the bare loop, then one run per viewer count in turn."""
    rates: dict[str, list[float]] = {"bare": [], **{str(n): [] for n in VIEWERS}}
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        runs, tasks = {}, []
        for viewers in VIEWERS:
            runs[viewers] = (await client.post("/api/runs", json=SMALL)).json()["id"]
            url = f"{server.ws_url}/api/runs/{runs[viewers]}/stream"
            tasks += [asyncio.create_task(watch(url, stop)) for _ in range(viewers)]
        await asyncio.sleep(0.5 + len(tasks) * 0.01)  # every viewer connected
        for run_id in runs.values():
            await train_for(client, run_id, 0.2)  # the workers started, the code warm
        for _ in range(plan.rounds):
            rates["bare"].append(bare_rate(plan.window))
            for viewers, run_id in runs.items():
                rates[str(viewers)].append(await train_for(client, run_id, plan.window))
        stop.set()
        await asyncio.gather(*tasks)
        for run_id in runs.values():
            await client.delete(f"/api/runs/{run_id}")
    return rates


def throughput_rows(rates: dict[str, list[float]], plan: Plan) -> list[Row]:
    bare, alone = rates["bare"], rates["0"]
    rounds = f"{plan.rounds} rounds of {plan.window:g} s"
    rows = [
        Row(
            NAME,
            f"bare engine loop, 2-4-4-1, this process ({rounds})",
            f"{statistics.median(bare):,.0f} updates/s",
        ),
    ]
    ratios = per_round(alone, bare)
    rows.append(
        judged(
            NAME,
            "server, 0 viewers: updates/s as a share of the bare loop",
            f"{median_range(ratios)} ({statistics.median(alone):,.0f} updates/s)",
            "≥ 0.90",
            statistics.median(ratios) >= 0.9,
        )
    )
    for viewers in VIEWERS[1:]:
        own = rates[str(viewers)]
        ratios = per_round(own, alone)
        target, ok = ("≥ 0.95", statistics.median(ratios) >= 0.95) if viewers == 20 else ("", None)
        rows.append(
            judged(
                NAME,
                f"server, {viewers} viewers at 30 fps: share of the 0-viewer rate",
                f"{median_range(ratios)} ({statistics.median(own):,.0f} updates/s)",
                target,
                ok,
            )
        )
    return rows


async def latency(server: LiveServer, viewers: int, seconds: float) -> list[float]:
    """Update-to-frame latencies (s) seen by one of `viewers` watching a free-running run."""
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        run_id = (await client.post("/api/runs", json=SMALL)).json()["id"]
        stop = asyncio.Event()
        url = f"{server.ws_url}/api/runs/{run_id}/stream"
        tasks = [
            asyncio.create_task(watch(url, stop, None, latencies if i == 0 else None))
            for i in range(viewers)
        ]
        await asyncio.sleep(0.5 + viewers * 0.01)
        await train_for(client, run_id, seconds)
        stop.set()
        await asyncio.gather(*tasks)
        await client.delete(f"/api/runs/{run_id}")
    return latencies


def latency_row(viewers: int, latencies: list[float]) -> Row:
    ms = [1000 * value for value in latencies]
    if not ms:
        return judged(NAME, f"update → frame latency p99, {viewers} viewers", "no frame", "", None)
    p99 = percentile(ms, 0.99)
    return judged(
        NAME,
        f"update → frame latency p99, {viewers} viewers ({len(ms)} frames)",
        f"{p99:.1f} ms (median {statistics.median(ms):.1f} ms)",
        "< 10 ms",
        p99 < 10,
    )


async def step_round_trips(server: LiveServer, count: int) -> list[float]:
    """Seconds per POST /step with count 1 on a paused run (through the server and a worker)."""
    times = []
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        run_id = (await client.post("/api/runs", json=SMALL)).json()["id"]
        for _ in range(count + 3):
            started = time.perf_counter()
            answer = await client.post(f"/api/runs/{run_id}/step", json={"count": 1})
            times.append(time.perf_counter() - started)
            answer.raise_for_status()
        await client.delete(f"/api/runs/{run_id}")
    return times[3:]  # the first start a worker process


def update_seconds(count: int) -> float:
    trainer = make_trainer(SMALL)
    started = time.perf_counter()
    for _ in range(count):
        trainer.update()
        trainer.train_loss()
    return (time.perf_counter() - started) / count


def echo(conn: Connection) -> None:
    """In a child process: acknowledge every message with an empty one."""
    while True:
        try:
            conn.recv()
        except EOFError:
            return
        conn.send(None)


def frame_arrays(layers: tuple[int, ...]) -> dict[str, list[np.ndarray]]:
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=(i, o)) for i, o in itertools.pairwise(layers)]
    biases = [rng.normal(size=n) for n in layers[1:]]
    return {"weights": weights, "biases": biases, "deltas": biases, "gradients": weights}


def frame_costs(layers: tuple[int, ...], conn: Connection, count: int) -> tuple[float, ...]:
    """Seconds per frame: building it (JSON, in the worker), a pipe round trip with it, one
    with an empty message, and pickling plus unpickling it alone."""
    arrays = frame_arrays(layers)

    def build() -> Any:
        return build_frame(1, 0.5, 0.5, 0.5, True, arrays, ("json",))

    def timed(action: Any) -> float:
        action()
        started = time.perf_counter()
        for _ in range(count):
            action()
        return (time.perf_counter() - started) / count

    parts = build()

    def through_pipe(message: object) -> Any:
        def send() -> None:
            conn.send(message)
            conn.recv()

        return send

    return (
        timed(build),
        timed(through_pipe(parts)),
        timed(through_pipe(None)),
        timed(lambda: pickle.loads(pickle.dumps(parts))),
    )


def boundary_rows(step_times: list[float], plan: Plan) -> list[Row]:
    update = update_seconds(max(plan.steps, 1000))
    ms = [1000 * value for value in step_times]
    rows = [
        Row(
            NAME,
            f"manual step of count 1, POST /step round trip ({len(ms)} calls)",
            f"median {statistics.median(ms):.2f} ms, p99 {percentile(ms, 0.99):.2f} ms "
            f"(one update in this process: {update * 1e6:.0f} µs)",
        )
    ]
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe(duplex=True)
    child = context.Process(target=echo, args=(theirs,), daemon=True)
    child.start()
    try:
        for layers in ((2, 4, 4, 1), LARGE_LAYERS):
            build, piped, empty, pickled = frame_costs(layers, ours, plan.frames)
            name = "-".join(map(str, layers))
            rows.append(
                Row(
                    NAME,
                    f"{name} frame through the pipe to another process and back",
                    f"{piped * 1e6:,.0f} µs = {piped / build:.2f}× building it "
                    f"({build * 1e6:,.0f} µs; an empty round trip {empty * 1e6:.0f} µs, "
                    f"pickle + unpickle alone {pickled * 1e6:.0f} µs)",
                )
            )
    finally:
        ours.close()
        child.join(5)
    return rows


async def measure_async(plan: Plan, db: Path) -> list[Row]:
    with LiveServer(db) as server:
        rows = throughput_rows(await throughput(server, plan), plan)
        for viewers in (1, 20):
            rows.append(latency_row(viewers, await latency(server, viewers, plan.phase)))
        step_times = await step_round_trips(server, plan.steps)
    return rows + boundary_rows(step_times, plan)


def measure(options: Options) -> list[Row]:
    plan = QUICK if options.quick else FULL
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(measure_async(plan, Path(tmp) / "bench.db"))


if __name__ == "__main__":
    from bench.report import table

    print(table(measure(Options(quick="--quick" in sys.argv, long=False))))
