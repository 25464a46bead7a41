"""Slow and dead viewers (#4): bounded memory, dropped by deadline or ping, nobody else slowed.

Frames here are ~1 MB (a 32-256-64-4 net), so a viewer that never reads fills its socket
buffers within a few frames and the server's send to it blocks. Timings are compared as ratios
(with and without dead viewers, on the same machine and in the same run), never as absolutes.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

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
TCP_CLOSE = 7  # tcpi_state after a reset (Linux)
MEMORY_BOUND = 64 * 1024 * 1024  # a few ~1 MB frames per dead viewer, with room to spare


@dataclass
class Watcher:
    """A well-behaved viewer in a thread, noting when each update frame arrives."""

    url: str
    arrivals: list[float] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with connect(self.url, max_size=None) as ws:
            ws.send(json.dumps({"fps": 10}))
            while not self.stop.is_set():
                frame = json.loads(ws.recv(timeout=10))
                if frame["type"] == "update":
                    self.arrivals.append(time.monotonic())

    def frames_between(self, start: float, end: float) -> int:
        return sum(start <= t < end for t in self.arrivals)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("viewers") / "runs.db", env=SETTINGS) as live:
        yield live


def tcp_state(sock: socket.socket) -> int:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]


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

    # Each dead socket is reset by the server: send deadline, then the grace to drain.
    dropped = wait_for(lambda: all(tcp_state(s) == TCP_CLOSE for s in dead), 10 + 2 * SEND_TIMEOUT)
    memory_after = rss_bytes(server_pid(server))
    http.post(f"/api/runs/{run_id}/stop")
    watcher.stop.set()
    thread.join(15)

    print(  # figures for docs/reliability.md (pytest -s)
        f"updates/s {rate_before:.0f} -> {rate_during:.0f}; frames {frames_before} -> "
        f"{frames_during}; RSS MB {memory_before >> 20} -> {memory_during >> 20} -> "
        f"{memory_after >> 20}"
    )
    assert dropped, [tcp_state(s) for s in dead]
    assert memory_during - memory_before < MEMORY_BOUND, (memory_before, memory_during)
    assert memory_after - memory_before < MEMORY_BOUND, (memory_before, memory_after)
    # Generous bounds: the machine is shared, but a stalled loop or a waiting trainer would
    # show as a collapse, not a dip.
    assert rate_during >= 0.5 * rate_before, (rate_before, rate_during)
    assert frames_during >= 0.6 * frames_before, (frames_before, frames_during)
    assert frames_before >= 15  # the watcher really was receiving ~10 frames a second
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
