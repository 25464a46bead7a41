"""`backprop-live serve`: its options, its default database, and a clean failure at start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import banner, parse_args, settings_from
from app.settings import Settings, default_db_path
from tests.support.databases import damage, filled_database
from tests.support.server import LiveServer


def test_serve_options_override_the_defaults(tmp_path: Path) -> None:
    args = parse_args(
        ["serve", "--host", "0.0.0.0", "--port", "9001", "--db", str(tmp_path / "x.db")]
    )
    settings = settings_from(args)
    assert (settings.host, settings.port, settings.db_path) == ("0.0.0.0", 9001, tmp_path / "x.db")
    defaults = settings_from(parse_args(["serve"]))
    assert (defaults.host, defaults.port) == ("127.0.0.1", 8000)


def test_the_default_database_lives_in_the_users_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_db_path() == tmp_path / "backprop-live" / "runs.db"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_db_path() == Path.home() / ".local" / "share" / "backprop-live" / "runs.db"


def test_a_file_that_is_not_a_database_fails_in_one_line(tmp_path: Path) -> None:
    bogus = tmp_path / "not.db"
    bogus.write_bytes(b"this is not sqlite at all" * 100)
    result = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--port", "1", "--db", str(bogus)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and str(bogus) in result.stderr


def serve(db: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "app", "serve", "--port", "1", "--db", str(db)]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)


def test_a_second_server_on_the_same_file_refuses_to_start(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    with LiveServer(db) as first:
        assert first.process is not None
        result = serve(db)
        assert result.returncode == 2
        [line] = result.stderr.strip().splitlines()
        assert str(db) in line and f"pid {first.process.pid}" in line
        assert first.running
    # Once the first has ended, the file is free again.
    with LiveServer(db) as second:
        assert second.running


def test_a_damaged_database_is_refused_in_one_line(tmp_path: Path) -> None:
    db = filled_database(tmp_path / "runs.db")
    damage(db)
    result = serve(db)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "damaged" in line and f"sqlite3 {db} 'PRAGMA integrity_check'" in line


def test_the_terminal_says_where_to_look(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    with LiveServer(db, extra_args=["--token", "classroom-token-42"]) as server:
        pass
    printed = server.log_path.read_text()
    assert f"open {server.url}/?token=YOUR_TOKEN once" in printed
    assert f"database: {db}" in printed and f"API reference: {server.url}/docs" in printed
    assert "classroom-token-42" not in printed


def test_the_banner_brackets_an_ipv6_host(tmp_path: Path) -> None:
    text = banner(Settings(host="::1", port=8001, db_path=tmp_path / "x.db"))
    assert text.splitlines()[0] == "backprop-live: open http://[::1]:8001/"
