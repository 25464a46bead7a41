"""Fixtures for the store tests: a real SQLite file in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.store import RunStore, StoredRun


def make_run(run_id: str = "r1", status: str = "paused", **changes: object) -> StoredRun:
    fields: dict[str, object] = {
        "id": run_id,
        "config": {"layers": [2, 4, 1], "learning_rate": 0.5, "dataset": {"kind": "teacher"}},
        "status": status,
        "step": 0,
        "loss": 0.25,
        "test_loss": None,
        "created_at": "2024-05-01T12:00:00+00:00",
        "message": None,
        "learning_rate": 0.5,
        "speed": None,
    }
    fields.update(changes)
    return StoredRun(**fields)  # type: ignore[arg-type]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "runs.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[RunStore]:
    opened = RunStore(db_path, flush_interval=0.05)
    opened.open()
    yield opened
    opened.close()


@pytest.fixture
def db_path_store(db_path: Path) -> Iterator[RunStore]:
    """A store with a 20 kB snapshot budget."""
    opened = RunStore(db_path, flush_interval=0.05, snapshot_budget_bytes=20_000)
    opened.open()
    yield opened
    opened.close()
