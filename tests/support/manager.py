"""A RunManager on a real store, driven directly on an event loop (no HTTP in between)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from app.runs.manager import RunManager
from app.settings import Settings
from app.store import RunStore

Scenario = Callable[[RunManager, RunStore], Awaitable[None]]


def with_manager(tmp_path: Path, scenario: Scenario, **settings: Any) -> None:
    """Run `scenario` against a started manager on a fresh store, then shut both down."""
    store = RunStore(tmp_path / "runs.db", flush_interval=0.05)
    store.open()

    async def main() -> None:
        manager = RunManager(Settings(db_path=store.path, **settings), store)
        await manager.start()
        try:
            await scenario(manager, store)
        finally:
            await manager.shutdown()

    try:
        asyncio.run(main())
    finally:
        store.close()
