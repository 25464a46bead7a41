"""A RunManager on a real store, driven directly on an event loop (no HTTP in between)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from app.main import process_pool
from app.runs.manager import RunManager
from app.settings import Settings
from app.store import RunStore

Scenario = Callable[[RunManager, RunStore], Awaitable[None]]


def with_manager(
    tmp_path: Path, scenario: Scenario, arithmetic: str | None = None, **settings: Any
) -> None:
    """Run `scenario` against a started manager on the store tmp_path/runs.db (new, or left
    by an earlier call), then shut both down. `arithmetic` stands in for this process's
    (app/nn/arithmetic.py): a server of another version of the engine or numpy."""
    store = RunStore(tmp_path / "runs.db", flush_interval=0.05)
    store.open()

    async def main() -> None:
        config = Settings(db_path=store.path, **settings)
        manager = RunManager(config, store, arithmetic=arithmetic)
        await manager.start(process_pool(config, manager))
        try:
            await scenario(manager, store)
        finally:
            await manager.shutdown()

    try:
        asyncio.run(main())
    finally:
        store.close()
