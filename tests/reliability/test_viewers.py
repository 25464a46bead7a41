"""Slow and dead viewers (#4): bounded memory, dropped by deadline or ping, nobody else slowed.

Frames here are ~1 MB (a 32-256-64-4 net), so a viewer that never reads fills its socket
buffers within a few frames and the server's send to it blocks. Timings are compared as ratios
(with and without dead viewers, on the same machine and in the same run), never as absolutes.
During a manual step every step's frame is queued, so there the bound is the hub's byte budget
per viewer (`viewer_backlog_bytes`), checked on a 784-128-64-10 net (~12 MB a frame).
"""

from __future__ import annotations

import itertools
import json
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from app.settings import Settings
from tests.reliability.support import (
    create_run,
    raw_handshake,
    rss_bytes,
    run_state,
    server_pid,
    wait_for,
)
from tests.support.server import LiveServer

SEND_TIMEOUT = 1.5
PING_INTERVAL, PING_TIMEOUT = 1.0, 1.5
SETTINGS = {
    "BACKPROP_SEND_TIMEOUT": str(SEND_TIMEOUT),
    "BACKPROP_WS_PING_INTERVAL": str(PING_INTERVAL),
    "BACKPROP_WS_PING_TIMEOUT": str(PING_TIMEOUT),
}
MEDIUM_RUN = {
    "layers": [32, 256, 64, 4],
    "dataset": {"kind": "teacher", "layers": [32, 8, 4], "samples": 64},
    "batch_size": 8,
    "start": "running",
}
MEMORY_BOUND = 64 * 1024 * 1024  # a few ~1 MB frames per dead viewer, with room to spare


@dataclass
class Watcher:
    """A well-behaved viewer in a thread, noting when each update frame arrives."""

    url: str
    arrivals: list[float] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def run(self) -> None:
        """Read until `stop` is set; set it before the run stops, whose status frame ends it."""
        try:
            with connect(self.url, max_size=None) as ws:
                ws.send(json.dumps({"fps": 10}))
                while not self.stop.is_set():
                    frame = json.loads(ws.recv(timeout=10))
                    if frame["type"] == "update":
                        self.arrivals.append(time.monotonic())
        except BaseException as error:  # reported by the test
            self.error = error

    def frames_between(self, start: float, end: float) -> int:
        return sum(start <= t < end for t in self.arrivals)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("viewers") / "runs.db", env=SETTINGS) as live:
        yield live


def server_ends(server: LiveServer, clients: list[socket.socket]) -> set[int]:
    """The client ports of `clients` that the server still holds a socket for (Linux's
    /proc/net/tcp: the server's kernel drops a dead peer without telling it)."""
    ports = {sock.getsockname()[1] for sock in clients}
    held = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, remote = line.split()[1:3]
        if int(local.split(":")[1], 16) == server.port and int(remote.split(":")[1], 16) in ports:
            held.add(int(remote.split(":")[1], 16))
    return held


def measure(http: httpx.Client, run_id: str, watcher: Watcher, seconds: float) -> tuple[float, int]:
    """(updates a second of the run, frames the watcher received) over `seconds`."""
    start, steps = time.monotonic(), run_state(http, run_id)["step"]
    time.sleep(seconds)
    end, steps_after = time.monotonic(), run_state(http, run_id)["step"]
    return (steps_after - steps) / (end - start), watcher.frames_between(start, end)


def vanishing_client(url: str) -> subprocess.Popen[bytes]:
    """A viewer in another process, to be killed without a close frame."""
    code = (
        "import sys; from websockets.sync.client import connect\n"
        "ws = connect(sys.argv[1], max_size=None); ws.recv(timeout=10)\n"
        "print('connected', flush=True); import time; time.sleep(60)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code, url], stdout=subprocess.PIPE)
    assert process.stdout is not None and process.stdout.readline() == b"connected\n"
    return process


@pytest.mark.slow
def test_dead_viewers_cost_bounded_memory_are_dropped_and_slow_nobody(server: LiveServer) -> None:
    http = httpx.Client(base_url=server.url, timeout=30)
    run_id = create_run(http, MEDIUM_RUN)
    path = f"/api/runs/{run_id}/stream"
    watcher = Watcher(f"{server.ws_url}{path}")
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    time.sleep(1.0)
    rate_before, frames_before = measure(http, run_id, watcher, 3.0)
    memory_before = rss_bytes(server_pid(server))

    dead = [raw_handshake(server, path, receive_buffer=4096)[0] for _ in range(3)]
    vanished = vanishing_client(f"{server.ws_url}{path}")
    vanished.send_signal(signal.SIGKILL)
    vanished.wait()
    time.sleep(1.0)  # the dead sockets' buffers fill with their first frames meanwhile
    rate_during, frames_during = measure(http, run_id, watcher, 3.0)
    memory_during = rss_bytes(server_pid(server))

    # Each dead socket is dropped by the server's kernel once it has taken nothing for the
    # ping timeout (app/security/dead_peers.py).
    dropped = wait_for(lambda: not server_ends(server, dead), 10 + 2 * SEND_TIMEOUT)
    memory_after = rss_bytes(server_pid(server))
    # Stop the watcher first: set after the stop, it was missed whenever the watcher had read
    # the run's last frames already, and then waited 10 s for a frame that never came.
    watcher.stop.set()
    http.post(f"/api/runs/{run_id}/stop")
    thread.join(15)

    print(  # figures for docs/reliability.md (pytest -s)
        f"updates/s {rate_before:.0f} -> {rate_during:.0f}; frames {frames_before} -> "
        f"{frames_during}; RSS MB {memory_before >> 20} -> {memory_during >> 20} -> "
        f"{memory_after >> 20}"
    )
    assert dropped, server_ends(server, dead)
    assert memory_during - memory_before < MEMORY_BOUND, (memory_before, memory_during)
    assert memory_after - memory_before < MEMORY_BOUND, (memory_before, memory_after)
    # Generous bounds: the machine is shared, but a stalled loop or a waiting trainer would
    # show as a collapse, not a dip.
    assert rate_during >= 0.5 * rate_before, (rate_before, rate_during)
    assert frames_during >= 0.6 * frames_before, (frames_before, frames_during)
    assert frames_before >= 15  # the watcher really was receiving ~10 frames a second
    assert not thread.is_alive() and watcher.error is None, watcher.error
    for sock in dead:
        sock.close()


def drain(sock: socket.socket, closed: threading.Event) -> None:
    """Read everything (so sends never block) but never answer a ping."""
    sock.settimeout(30)
    try:
        while sock.recv(1 << 20):
            pass
    except OSError:
        pass
    closed.set()


@pytest.mark.slow
def test_a_viewer_that_misses_pings_is_dropped(server: LiveServer) -> None:
    http = httpx.Client(base_url=server.url, timeout=30)
    run_id = create_run(http, {**MEDIUM_RUN, "start": "paused"})
    sock, status = raw_handshake(server, f"/api/runs/{run_id}/stream")
    assert status.startswith("HTTP/1.1 101")
    closed = threading.Event()
    started = time.monotonic()
    threading.Thread(target=drain, args=(sock, closed), daemon=True).start()
    assert closed.wait(PING_INTERVAL + PING_TIMEOUT + 10)
    assert time.monotonic() - started >= PING_INTERVAL  # dropped by the ping, not at once
    sock.close()


def test_a_viewer_that_answers_pings_stays(server: LiveServer) -> None:
    http = httpx.Client(base_url=server.url, timeout=30)
    run_id = create_run(http, {**MEDIUM_RUN, "start": "paused"})
    with connect(f"{server.ws_url}/api/runs/{run_id}/stream", max_size=None) as ws:
        ws.recv(timeout=10)
        time.sleep(PING_INTERVAL + PING_TIMEOUT + 1.0)  # the client library answers pings
        http.post(f"/api/runs/{run_id}/step", json={"count": 1})
        try:
            frame = json.loads(ws.recv(timeout=10))
        except ConnectionClosed as error:
            raise AssertionError("a healthy viewer was dropped") from error
        assert frame["type"] == "update" and frame["step"] == 1


# A 784-128-64-10 net: N floats in a frame (weights and gradients, biases and deltas).
MNIST_LAYERS = [784, 128, 64, 10]
MNIST_RUN = {
    "layers": MNIST_LAYERS,
    "dataset": {"kind": "teacher", "layers": [784, 8, 10], "samples": 16},
    "batch_size": 4,
}
FLOATS = 2 * sum(a * b + b for a, b in itertools.pairwise(MNIST_LAYERS))
STEPS = 300  # more than step_frame_backlog (256): the last 256 steps each get a frame


@dataclass
class StepWatcher:
    """A viewer that reads everything, noting each update's step and the steps of its losses."""

    url: str
    encoding: str
    target: int
    steps: list[int] = field(default_factory=list)
    loss_steps: list[int] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def run(self) -> None:
        try:
            with connect(self.url, max_size=None) as ws:
                ws.recv(timeout=30)  # the state frame
                ws.send(json.dumps({"encoding": self.encoding, "fps": 60}))
                self.ready.set()
                while not self.steps or self.steps[-1] < self.target:
                    frame = self.header(ws.recv(timeout=60))
                    if frame["type"] == "update":
                        self.steps.append(frame["step"])
                        self.loss_steps += [step for step, _ in frame["losses"]]
        except BaseException as error:  # reported by the test
            self.error = error
            self.ready.set()

    @staticmethod
    def header(message: str | bytes) -> dict[str, Any]:
        if isinstance(message, bytes):  # binary: only the JSON header, not the arrays
            (length,) = struct.unpack_from("<I", message)
            message = message[4 : 4 + length]
        frame: dict[str, Any] = orjson.loads(message)
        return frame


def peak_rss(pid: int, stop: threading.Event, peak: list[int]) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], rss_bytes(pid))
        time.sleep(0.01)


@pytest.mark.slow
def test_a_dead_viewer_during_a_big_manual_step_holds_at_most_its_byte_budget(
    tmp_path: Path,
) -> None:
    budget = Settings().viewer_backlog_bytes
    # What the hub counts for one frame (app.runs.hub.frame_bytes), at most: float64 arrays,
    # and twice each encoding in use (JSON <= 25 bytes a number, binary 4), plus headers.
    frame = 8 * FLOATS + 2 * (25 + 4) * FLOATS + 65536
    viewers = 3  # the dead one and two that read
    # Per viewer: its queue (the budget, or the one newest frame when that is bigger), the
    # frame it is sending and the message in its socket's write buffer; besides, the hub's
    # latest frame, the one the worker is building, and one in the loop's queue; then 32 MB
    # for the allocator. Without the byte budget the dead viewer alone held 256 frames (~3 GB).
    bound = viewers * (max(budget, frame) + 2 * frame) + 3 * frame + (32 << 20)
    env = {"BACKPROP_SEND_TIMEOUT": "120"}  # the dead viewer stays for the whole step
    with LiveServer(tmp_path / "runs.db", env=env) as server:
        http = httpx.Client(base_url=server.url, timeout=120)
        run_id = create_run(http, MNIST_RUN)
        path = f"/api/runs/{run_id}/stream"
        dead, status = raw_handshake(server, path, receive_buffer=4096)
        assert status.startswith("HTTP/1.1 101")
        watchers = [StepWatcher(f"{server.ws_url}{path}", e, STEPS) for e in ("json", "binary")]
        threads = [threading.Thread(target=w.run, daemon=True) for w in watchers]
        for thread in threads:
            thread.start()
        assert all(w.ready.wait(30) for w in watchers)
        time.sleep(1.0)  # options applied, the state frames sent, the dead socket full
        pid = server_pid(server)
        before, peak, stop = rss_bytes(pid), [0], threading.Event()
        sampler = threading.Thread(target=peak_rss, args=(pid, stop, peak), daemon=True)
        sampler.start()
        started = time.monotonic()
        response = http.post(f"/api/runs/{run_id}/step", json={"count": STEPS})
        took = time.monotonic() - started
        for thread in threads:
            thread.join(60)
        stop.set()
        sampler.join()
        log = server.log_path.read_text()
        dead.close()

    growth = peak[0] - before
    print(  # figures for docs/reliability.md (pytest -s)
        f"step {STEPS} in {took:.1f} s; RSS MB {before >> 20} -> peak {peak[0] >> 20} "
        f"(+{growth >> 20}, bound +{bound >> 20}); frames received "
        f"{[len(w.steps) for w in watchers]} of {Settings().step_frame_backlog}"
    )
    assert response.status_code == 200, response.text
    assert response.json()["step"] == STEPS  # training completed, never waited for a viewer
    assert growth < bound, (growth, bound)
    for watcher in watchers:
        assert watcher.error is None, watcher.error
        assert watcher.steps[-1] == STEPS
        # Frames skipped for the budget: the losses of the next one cover their steps.
        assert watcher.loss_steps == list(range(1, STEPS + 1)), watcher.encoding
    assert "Traceback" not in log
