"""The app in-process (TestClient runs its lifespan), on a fresh SQLite file per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # TestClient sends `Host: testserver`, which the DNS-rebinding guard must be told about.
    return Settings(db_path=tmp_path / "runs.db", allowed_hosts=["127.0.0.1", "testserver"])


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client
