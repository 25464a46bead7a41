"""One real server per test module where the tests do not disturb each other."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.server import LiveServer


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("shared") / "runs.db") as server:
        yield server


@pytest.fixture(scope="module")
def client(shared_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared_server.url, timeout=30) as http:
        yield http
