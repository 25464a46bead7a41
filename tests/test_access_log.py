"""The server's log lines: never the token, and no line for static files or the home page's
polling (unit tests of the filters, then a real `--token` server's log)."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from app.access_log import QuietAccessLog, TokenScrubber, scrub
from tests.reliability.support import SMALL_RUN
from tests.support.server import LiveServer

TOKEN = "classroom-token-0123456789"


def access_record(method: str, path: str, status: int) -> logging.LogRecord:
    """A record as uvicorn's access logger makes one."""
    args = ("127.0.0.1:5000", method, path, "1.1", status)
    return logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d', args, None
    )


def test_scrub_takes_out_the_token_and_any_token_parameter() -> None:
    assert scrub(f"/runs/a?x=1&token={TOKEN}&y=2", TOKEN) == "/runs/a?x=1&token=***&y=2"
    assert scrub("/?TOKEN=a-near-miss", TOKEN) == "/?TOKEN=***"
    assert scrub(f"Authorization: Bearer {TOKEN}", TOKEN) == "Authorization: Bearer ***"
    assert scrub("/?token=guess", None) == "/?token=***"


def test_the_scrubber_rewrites_arguments_and_tracebacks() -> None:
    try:
        raise ValueError(f"bad address /?token={TOKEN}")
    except ValueError:
        record = access_record("GET", f"/?token={TOKEN}", 303)
        record.exc_info = sys.exc_info()
    assert TokenScrubber(TOKEN).filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /?token=*** HTTP/1.1" 303'
    assert record.exc_text is not None and TOKEN not in record.exc_text
    assert "bad address /?token=***" in record.exc_text


@pytest.mark.parametrize(
    ("method", "path", "status", "kept"),
    [
        ("GET", "/static/js/pages/home.js", 200, False),
        ("GET", "/static/css/app.css", 304, False),
        ("GET", "/api/runs", 200, False),
        ("GET", "/api/runs/3f2a9c1b7e4d/history?points=128", 200, False),
        ("GET", "/api/runs/3f2a9c1b7e4d/history", 200, True),
        ("GET", "/api/runs/3f2a9c1b7e4d", 200, True),
        ("POST", "/api/runs", 201, True),
        ("GET", "/api/runs", 401, True),
        ("GET", "/static/missing.js", 404, True),
        ("GET", "/", 200, True),
    ],
)
def test_quiet_access_log_drops_only_successful_routine_requests(
    method: str, path: str, status: int, kept: bool
) -> None:
    assert QuietAccessLog().filter(access_record(method, path, status)) is kept


def wait_for_line(log: Path, text: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = log.read_text()
        if text in content:
            return content
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never appeared in the log:\n{log.read_text()}")


def test_a_token_server_logs_no_token_and_no_polling(tmp_path: Path) -> None:
    auth = {"authorization": f"Bearer {TOKEN}"}
    with LiveServer(tmp_path / "runs.db", extra_args=["--token", TOKEN]) as server:
        with httpx.Client(base_url=server.url, follow_redirects=True) as http:
            assert http.get(f"/?token={TOKEN}", follow_redirects=False).status_code == 303
            assert http.get(f"/runs/abc/?token={TOKEN}").status_code in (200, 404)
            assert http.get(f"/api/runs?token={TOKEN}", headers=auth).status_code == 200
            assert http.get("/static/css/app.css").status_code == 200
            assert http.get("/api/runs").status_code == 200  # the home page's poll (cookie)
            run = http.post("/api/runs", json=SMALL_RUN).json()
            assert http.get(f"/api/runs/{run['id']}/history?points=64").status_code == 200
            assert http.get(f"/api/runs/{run['id']}").status_code == 200
        with pytest.raises(InvalidStatus):
            connect(f"{server.ws_url}/api/runs/{run['id']}/stream?token={TOKEN}")
        log = wait_for_line(server.log_path, f'"GET /api/runs/{run["id"]} HTTP/1.1" 200')
    assert TOKEN not in log
    assert '"GET /?token=*** HTTP/1.1" 303' in log
    assert '"POST /api/runs HTTP/1.1" 201' in log
    assert "/static/" not in log and '"GET /api/runs HTTP/1.1"' not in log
    assert "history?points=64" not in log
