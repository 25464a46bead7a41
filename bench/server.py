"""What the server costs training, and how fast its frames reach viewers.

    python -m bench.server [--seconds 1] [--rounds 9] [--write]

Starts a real server (`python -m app serve`, uvicorn, SQLite in a temporary directory) and
drives it over REST with WebSocket viewers in this process:
- throughput, in rounds of back-to-back windows of `--seconds` each: the bare engine loop
  (update + loss of every step) in this process, no server; then, for 0/1/20/100 viewers, a
  run (2-4-4-1, 200 samples) of its own, resumed and paused again, training freely in the
  server while that many viewers watch at the default 30 frames a second. Ratios are taken
  within each round and their median over the rounds is reported, with their range;
then, for PHASE_SECONDS each:
- latency: from an update finishing (the frame's "time", stamped right after it) to the frame
  arriving at a viewer, over every frame one viewer receives (1 and 20 viewers watching);
- encodings: frames a second one viewer receives of a 784-128-64-10 run training freely,
  asking for 1000 fps (the server's max_fps raised to 1000 for this phase), per encoding.
With --write, the table replaces the "Server" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import websockets

from app.nn.datasets import make_dataset
from app.nn.trainer import Trainer
from app.runs.config import RunConfig
from app.runs.frames import UpdateFrame, build_frame, decode_binary
from app.runs.recent_history import RecentHistory
from tests.support.server import LiveServer

SMALL: dict[str, Any] = {"layers": [2, 4, 4, 1], "learning_rate": 0.5}
VIEWERS = (0, 1, 20, 100)
PHASE_SECONDS = 4.0  # the latency and encoding phases
MNIST_SHAPED: dict[str, Any] = {
    "layers": [784, 128, 64, 10],
    "dataset": {"kind": "teacher", "layers": [784, 16, 10], "samples": 200},
}


def bare_rate(seconds: float) -> float:
    config = RunConfig.model_validate(SMALL)
    trainer = Trainer(config.training_config(), make_dataset(config.dataset_spec()))
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


async def free_run(
    server: LiveServer,
    config: dict[str, Any],
    viewers: int,
    seconds: float,
    options: dict[str, Any] | None = None,
    latencies: list[float] | None = None,
) -> tuple[float, int]:
    """(updates a second, frames the first viewer got) while `viewers` watch a new run."""
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        run_id = (await client.post("/api/runs", json=config)).json()["id"]
        stop = asyncio.Event()
        url = f"{server.ws_url}/api/runs/{run_id}/stream"
        tasks = [
            asyncio.create_task(watch(url, stop, options, latencies if i == 0 else None))
            for i in range(viewers)
        ]
        await asyncio.sleep(0.5 + viewers * 0.01)  # every viewer connected
        rate = await train_for(client, run_id, seconds)
        stop.set()
        frames = await asyncio.gather(*tasks)
        await client.delete(f"/api/runs/{run_id}")
    return rate, (frames[0] if frames else 0)


async def train_for(client: httpx.AsyncClient, run_id: str, seconds: float) -> float:
    """Resume the run, pause it `seconds` later; its updates a second in between."""
    first = (await client.post(f"/api/runs/{run_id}/resume")).json()
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    last = (await client.post(f"/api/runs/{run_id}/pause")).json()
    return float(last["step"] - first["step"]) / (time.perf_counter() - started)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def throughput(server: LiveServer, seconds: float, rounds: int) -> dict[str, list[float]]:
    """Updates a second, per round: the bare loop, then one run per viewer count in turn.

    Each viewer count has its own run, its viewers connected for the whole measurement, so a
    round is a few back-to-back windows of `seconds`: the bare loop, then each run resumed and
    paused. A ratio is taken within a round, between windows seconds apart, and the median
    over rounds is reported: on a shared machine whose speed swings by ±20% from one minute
    to the next, that is what compares like with like.
    """
    rates: dict[str, list[float]] = {"bare": [], **{str(n): [] for n in VIEWERS}}
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        runs, tasks = {}, []
        for viewers in VIEWERS:
            runs[viewers] = (await client.post("/api/runs", json=SMALL)).json()["id"]
            url = f"{server.ws_url}/api/runs/{runs[viewers]}/stream"
            tasks += [asyncio.create_task(watch(url, stop)) for _ in range(viewers)]
        await asyncio.sleep(0.5 + len(tasks) * 0.01)  # every viewer connected
        for _ in range(rounds):
            rates["bare"].append(bare_rate(seconds))
            for viewers, run_id in runs.items():
                rates[str(viewers)].append(await train_for(client, run_id, seconds))
        stop.set()
        await asyncio.gather(*tasks)
        for run_id in runs.values():
            await client.delete(f"/api/runs/{run_id}")
    return rates


def ratio_figure(numerators: list[float], denominators: list[float]) -> str:
    """The median of per-round ratios, with their range."""
    ratios = [a / b for a, b in zip(numerators, denominators, strict=True)]
    return f"{statistics.median(ratios):.2f} (rounds {min(ratios):.2f}-{max(ratios):.2f})"


def throughput_rows(rates: dict[str, list[float]]) -> list[tuple[str, str, str]]:
    bare = rates["bare"]
    rows = [
        (
            "bare engine loop, 2-4-4-1, 200 samples",
            f"{statistics.median(bare):,.0f} updates/s",
            "1.00",
        )
    ]
    for viewers in VIEWERS:
        own = rates[str(viewers)]
        note = f"{ratio_figure(own, bare)} of bare"
        if viewers:
            note += f"; {ratio_figure(own, rates['0'])} of 0 viewers"
        rows.append(
            (
                f"server, {viewers} viewers at 30 fps",
                f"{statistics.median(own):,.0f} updates/s",
                note,
            )
        )
    return rows


async def measure(seconds: float, rounds: int, db: Path) -> list[tuple[str, str, str]]:
    rows = serialise_cost()
    with LiveServer(db) as server:
        rows += throughput_rows(await throughput(server, seconds, rounds))
        for viewers in (1, 20):
            latencies: list[float] = []
            await free_run(server, SMALL, viewers, PHASE_SECONDS, latencies=latencies)
            ms = [1000 * v for v in latencies]
            rows.append(
                (
                    f"update → frame latency, {viewers} viewers ({len(ms)} frames)",
                    f"median {statistics.median(ms):.1f} ms, p99 {percentile(ms, 0.99):.1f} ms",
                    "",
                )
            )
    with LiveServer(db, env={"BACKPROP_MAX_FPS": "1000"}) as server:
        for encoding in ("json", "binary"):
            options = {"fps": 1000, "encoding": encoding}
            rate, frames = await free_run(server, MNIST_SHAPED, 1, PHASE_SECONDS, options)
            rows.append(
                (
                    f"784-128-64-10 frames, {encoding}",
                    f"{frames / PHASE_SECONDS:,.0f} frames/s",
                    f"training {rate:,.0f} updates/s",
                )
            )
    return rows


def serialise_cost(repeat: int = 20) -> list[tuple[str, str, str]]:
    """Time to serialise one 784-128-64-10 update frame (weights, biases, deltas, gradients)."""
    layers = MNIST_SHAPED["layers"]
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=shape) for shape in itertools.pairwise(layers)]
    biases = [rng.normal(size=n) for n in layers[1:]]
    arrays = {"weights": weights, "biases": biases, "deltas": biases, "gradients": weights}
    log = RecentHistory(0, 1024)
    rows = []
    for encoding in ("json", "binary"):
        start = time.perf_counter()
        message: str | bytes | None = None
        for _ in range(repeat):
            frame = UpdateFrame(build_frame(0, 0.5, 0.5, 0.5, True, arrays, [encoding]))
            message = frame.message(encoding, log, -1)
        assert message is not None
        ms = 1000 * (time.perf_counter() - start) / repeat
        rows.append(
            (
                f"serialise one 784-128-64-10 frame, {encoding}",
                f"{ms:.1f} ms",
                f"{len(message):,} bytes",
            )
        )
    return rows


def table(rows: list[tuple[str, str, str]]) -> str:
    lines = ["| measure | figure | ratio / note |", "| --- | ---: | --- |"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    load = os.getloadavg()[0]
    blas = os.environ.get("OPENBLAS_CORETYPE", "unset") or "unset"
    machine = f"Load average {load:.1f} on {os.cpu_count()} CPUs at the end; "
    return "\n".join(lines) + f"\n\n{machine}OPENBLAS_CORETYPE={blas}.\n"


def write_section(text: str, path: Path = Path("docs/benchmarks.md")) -> None:
    """Replace (or add) the "## Server" section, leaving the others as they are."""
    body = path.read_text() if path.exists() else "# Benchmarks\n"
    section = "## Server\n\n" + text
    pattern = re.compile(r"## Server\n.*?(?=\n## |\Z)", re.S)
    body = (
        pattern.sub(lambda _: section, body)
        if pattern.search(body)
        else body.rstrip() + "\n\n" + section
    )
    path.write_text(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="length of each window")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = asyncio.run(measure(args.seconds, args.rounds, Path(tmp) / "bench.db"))
    text = table(rows)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
