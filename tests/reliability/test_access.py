"""Safe by default, against a real server (#6): Host, Origin, token, headers, bind rule."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from tests.reliability.support import SMALL_RUN, create_run, raw_handshake
from tests.support.server import LiveServer

TOKEN = "classroom-token-0123456789"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server with a token, started as a user would: `--token` on the command line."""
    path = tmp_path_factory.mktemp("token") / "runs.db"
    with LiveServer(path, extra_args=["--token", TOKEN]) as server:
        yield server


def stream_path(run_id: str) -> str:
    return f"/api/runs/{run_id}/stream"


def test_cross_origin_websocket_is_refused(shared_server: LiveServer, client: httpx.Client) -> None:
    run_id = create_run(client)
    for origin in ("http://evil.example", f"http://127.0.0.1:{shared_server.port + 1}", "null"):
        sock, status = raw_handshake(shared_server, stream_path(run_id), {"Origin": origin})
        sock.close()
        assert status.startswith("HTTP/1.1 403"), (origin, status)
    own = {"Origin": shared_server.url}
    sock, status = raw_handshake(shared_server, stream_path(run_id), own)
    sock.close()
    assert status.startswith("HTTP/1.1 101")


def test_cross_origin_state_change_is_refused(client: httpx.Client) -> None:
    run_id = create_run(client)
    evil = {"origin": "http://evil.example"}
    for method, path in [
        ("POST", "/api/runs"),
        ("POST", f"/api/runs/{run_id}/step"),
        ("POST", f"/api/runs/{run_id}/resume"),
        ("PATCH", f"/api/runs/{run_id}"),
        ("DELETE", f"/api/runs/{run_id}"),
    ]:
        response = client.request(method, path, json={}, headers=evil)
        assert response.status_code == 403, (method, path)
    form = client.post(f"/api/runs/{run_id}/resume", data={"a": "1"})
    assert form.status_code == 415  # a form post from any page
    assert client.get(f"/api/runs/{run_id}").json()["status"] == "paused"


def test_dns_rebinding_host_is_refused(client: httpx.Client) -> None:
    response = client.get("/api/runs", headers={"host": "attacker.example:8000"})
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/", "/api/runs", "/healthz", "/docs", "/static/css/app.css"])
def test_security_headers_on_a_real_server(client: httpx.Client, path: str) -> None:
    headers = client.get(path).headers
    policy = headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"


def test_token_required_for_rest(guarded: LiveServer) -> None:
    with httpx.Client(base_url=guarded.url) as http:
        assert http.get("/api/runs").status_code == 401
        assert http.post("/api/runs", json=SMALL_RUN).status_code == 401
        assert http.get(f"/api/runs?token={TOKEN}").status_code == 401  # never from the URL
        assert http.get("/api/runs", headers={"authorization": "Bearer wrong"}).status_code == 401
        assert http.get("/healthz").status_code == 200
        auth = {"authorization": f"Bearer {TOKEN}"}
        assert http.post("/api/runs", json=SMALL_RUN, headers=auth).status_code == 201


def test_token_required_for_the_stream(guarded: LiveServer) -> None:
    auth = {"authorization": f"Bearer {TOKEN}"}
    run_id = httpx.post(f"{guarded.url}/api/runs", json=SMALL_RUN, headers=auth).json()["id"]
    url = f"{guarded.ws_url}{stream_path(run_id)}"
    for subprotocols in (None, [Subprotocol("bearer.wrong-token")]):
        with pytest.raises(InvalidStatus) as refused:
            connect(url, subprotocols=subprotocols)
        assert refused.value.response.status_code == 401
    with pytest.raises(InvalidStatus):
        connect(f"{url}?token={TOKEN}")
    with connect(url, subprotocols=[Subprotocol("bearer"), Subprotocol(f"bearer.{TOKEN}")]) as ws:
        assert ws.subprotocol == "bearer"
        assert json.loads(ws.recv(timeout=10))["type"] == "state"
    with connect(url, additional_headers=auth) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "state"


def test_page_login_with_a_cookie(guarded: LiveServer) -> None:
    with httpx.Client(base_url=guarded.url) as http:
        assert http.get("/").status_code == 401
        login = http.get(f"/?token={TOKEN}", follow_redirects=False)
        assert login.status_code == 303 and login.headers["location"] == "/"
        assert "HttpOnly" in login.headers["set-cookie"]
        assert "SameSite=Strict" in login.headers["set-cookie"]
        assert http.get("/").status_code == 200  # the client kept the cookie
        assert http.get("/api/runs").status_code == 200


def serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "app", "serve", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, env=env, check=False)


def test_non_loopback_bind_needs_a_token(tmp_path: Path) -> None:
    result = serve("--host", "0.0.0.0", "--port", "1", "--db", str(tmp_path / "x.db"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "token" in result.stderr
    assert "Traceback" not in result.stderr
