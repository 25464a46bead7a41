"""`backprop-live serve`: its options, its default database, and a clean failure at start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import parse_args, settings_from
from app.settings import default_db_path


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
