"""Helpers for tests against a real server: runs, WebSocket clients, raw sockets, memory."""

from __future__ import annotations

import base64
import json
import os
import socket
import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.support.server import LiveServer

SMALL_RUN: dict[str, Any] = {
    "layers": [2, 4, 1],
    "dataset": {"kind": "teacher", "layers": [2, 3, 1], "samples": 64},
}
# About 110k floats: each frame is large, so a viewer that never reads fills its socket fast.
BIG_RUN: dict[str, Any] = {
    "layers": [64, 512, 128, 8],
    "dataset": {"kind": "teacher", "layers": [64, 8, 8], "samples": 64},
    "batch_size": 8,
}


def create_run(client: httpx.Client, config: dict[str, Any] | None = None, **extra: Any) -> str:
    """POST a run and return its id (asserting the 201)."""
    response = client.post("/api/runs", json={**(config or SMALL_RUN), **extra})
    assert response.status_code == 201, response.text
    run_id: str = response.json()["id"]
    return run_id


def run_state(client: httpx.Client, run_id: str) -> dict[str, Any]:
    response = client.get(f"/api/runs/{run_id}")
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()
    return state


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll `predicate` until it holds or `timeout` seconds pass; returns whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def rss_bytes(pid: int) -> int:
    """Resident memory of a process, from /proc (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc status")


def server_pid(server: LiveServer) -> int:
    assert server.process is not None
    return server.process.pid


def raw_handshake(
    server: LiveServer,
    path: str,
    headers: dict[str, str] | None = None,
    receive_buffer: int | None = None,
) -> tuple[socket.socket, str]:
    """Open a TCP socket, complete a WebSocket handshake by hand, and return it with the status.

    The socket is left alone afterwards: nothing more is read, so the server's frames pile up
    in the kernel buffers (made small with `receive_buffer`) and then in the server.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect(("127.0.0.1", server.port))
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: 127.0.0.1:{server.port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock, _read_status_line(sock)


def _read_status_line(sock: socket.socket) -> str:
    # Read byte by byte up to the end of the response head, so no frame bytes are consumed.
    sock.settimeout(10)
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        byte = sock.recv(1)
        if not byte:
            break
        head += byte
    sock.settimeout(None)
    return head.split(b"\r\n", 1)[0].decode()


def is_closed_by_peer(sock: socket.socket, timeout: float) -> bool:
    """Drain `sock` until the server closes it (True) or `timeout` passes (False)."""
    deadline = time.monotonic() + timeout
    sock.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            if not sock.recv(1 << 20):
                return True
        except TimeoutError:
            continue
        except OSError:
            return True  # reset by the server
    return False


class _NonFinite(Exception):
    pass


def json_has_bare_non_finite(text: str | bytes) -> bool:
    """True if `text` is JSON holding NaN or +-Infinity (which strict JSON does not allow)."""

    def refuse(constant: str) -> Any:
        raise _NonFinite(constant)

    try:
        json.loads(text, parse_constant=refuse)
    except _NonFinite:
        return True
    return False
