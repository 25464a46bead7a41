"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import LiveServer


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A real uvicorn server in a child process on a free port, with its own SQLite file."""
    with LiveServer(tmp_path / "runs.db") as server:
        yield server
