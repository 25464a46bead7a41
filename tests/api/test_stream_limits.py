"""The stream handler in-process, against races: viewers connecting at once, a run deleted."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from app.api.stream import CLOSE_NOT_FOUND, CLOSE_TRY_AGAIN, stream
from app.runs.config import RunConfig
from app.runs.manager import RunManager
from app.settings import Settings
from app.store import RunStore
from tests.support.manager import with_manager
from tests.support.runs import SMALL


class SlowHandshake:
    """A WebSocket whose accept waits until released; it leaves right after the state frame."""

    def __init__(self, release: asyncio.Event) -> None:
        self.scope: dict[str, Any] = {"extensions": {}}
        self.release = release
        self.closed: list[int] = []
        self.sent: list[str] = []

    async def accept(self) -> None:
        await self.release.wait()

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.closed.append(code)

    async def send_text(self, text: str) -> None:
        self.sent.append(text)

    async def receive(self) -> dict[str, Any]:
        return {"type": "websocket.disconnect"}


def test_viewers_connecting_at_once_cannot_pass_max_viewers(tmp_path: Path) -> None:
    async def scenario(manager: RunManager, store: RunStore) -> None:
        run = await manager.create(RunConfig.model_validate(SMALL))
        settings = Settings(db_path=store.path, max_viewers=2)
        release = asyncio.Event()
        sockets = [SlowHandshake(release) for _ in range(3)]
        tasks = [
            asyncio.create_task(stream(s, run.id, manager, settings))  # type: ignore[arg-type]
            for s in sockets
        ]
        await asyncio.sleep(0.05)  # all three are in their handshake (or refused)
        release.set()
        await asyncio.gather(*tasks)
        assert sorted(len(s.sent) for s in sockets) == [0, 1, 1]
        assert [s.closed for s in sockets if not s.sent] == [[CLOSE_TRY_AGAIN]]
        assert not run.hub.viewers

    with_manager(tmp_path, scenario)


def test_a_run_deleted_during_the_handshake_closes_the_stream_as_not_found(
    tmp_path: Path,
) -> None:
    async def scenario(manager: RunManager, store: RunStore) -> None:
        run = await manager.create(RunConfig.model_validate(SMALL))
        release = asyncio.Event()
        socket = SlowHandshake(release)
        settings = Settings(db_path=store.path)
        task = asyncio.create_task(stream(socket, run.id, manager, settings))  # type: ignore[arg-type]
        await asyncio.sleep(0.05)
        await manager.delete(run.id)
        release.set()
        await task  # no exception out of the handler (it would be a logged server error)
        assert socket.sent == [] and socket.closed == [CLOSE_NOT_FOUND]
        assert not run.hub.viewers

    with_manager(tmp_path, scenario)


class HeldOpen(SlowHandshake):
    """Accepted at once; stays connected, silent, until `release` is set."""

    async def accept(self) -> None:
        return None

    async def receive(self) -> dict[str, Any]:
        await self.release.wait()
        return {"type": "websocket.disconnect"}


def test_each_viewer_takes_its_byte_budget_from_the_settings(tmp_path: Path) -> None:
    async def scenario(manager: RunManager, store: RunStore) -> None:
        run = await manager.create(RunConfig.model_validate(SMALL))
        settings = Settings(db_path=store.path, viewer_backlog_bytes=12_345, step_frame_backlog=7)
        release = asyncio.Event()
        socket = HeldOpen(release)
        task = asyncio.create_task(stream(socket, run.id, manager, settings))  # type: ignore[arg-type]
        while not run.hub.viewers:
            await asyncio.sleep(0.01)
        [viewer] = run.hub.viewers
        assert (viewer.backlog_bytes, viewer.backlog) == (12_345, 7)
        release.set()
        await task

    with_manager(tmp_path, scenario)
