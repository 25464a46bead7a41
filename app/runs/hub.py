"""Fan-out of one run's frames to its viewers, each with a bounded latest-value slot.

The training thread never waits for a viewer: it hands a frame to the event loop with
`call_soon_threadsafe` and carries on. On the loop, each viewer keeps at most one live frame
(a newer one replaces it) plus the frames of a manual step, up to a backlog; a viewer that
cannot keep up loses frames, never the training's time, and its memory stays bounded. Status
frames and at most one settings frame (a newer one replaces it: each holds every setting) wait
beside them; neither ever displaces an update frame.

The thread reads `watched`, `frame_interval` and `encodings` without a lock: the loop rebinds
them whole, and a stale value for one update only delays or adds one frame.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

from app.runs.frames import ENCODINGS, Frame, SettingsFrame, StatusFrame, UpdateFrame, dumps


class Viewer:
    """One connected client: its frame rate, encoding, and the frames waiting for it."""

    def __init__(self, fps: float, encoding: str, backlog: int) -> None:
        self.fps = fps
        self.encoding = encoding
        self.backlog = backlog
        self.pending: deque[Frame] = deque()
        self.wakeup = asyncio.Event()
        self.last_step = -1  # the step of the last loss this viewer has been sent
        self.notices: list[str] = []  # error frames for the client, sent before any other

    def notify(self, detail: str) -> None:
        if len(self.notices) < 8:
            self.notices.append(dumps({"type": "error", "detail": detail}).decode())
            self.wakeup.set()

    def offer(self, frame: Frame) -> None:
        if frame.live:
            # Newest wins: a live frame replaces any live frame not yet sent.
            self.pending = deque(f for f in self.pending if not f.live)
        elif isinstance(frame, SettingsFrame):
            # So does a settings frame: it carries the rate and the speed whole.
            self.pending = deque(f for f in self.pending if not isinstance(f, SettingsFrame))
        self.pending.append(frame)
        if len(self.pending) > self.backlog:
            # The one settings frame waits beyond the backlog: it never pushes out an update.
            limit = self.backlog + any(isinstance(f, SettingsFrame) for f in self.pending)
            while len(self.pending) > limit:
                self._drop_oldest_update()
        self.wakeup.set()

    def _drop_oldest_update(self) -> None:
        for index, frame in enumerate(self.pending):
            if isinstance(frame, UpdateFrame):
                del self.pending[index]
                return
        self.pending.popleft()  # only status frames: a client flooding pause/resume


class StreamHub:
    """The viewers of one run; `publish` may be called from any thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, default_fps: float) -> None:
        self.loop = loop
        self.default_fps = default_fps
        self.viewers: set[Viewer] = set()
        self.latest: UpdateFrame | None = None
        self.watched = False
        self.frame_interval = 1.0 / default_fps
        self.encodings: frozenset[str] = frozenset()
        self.closed = False  # the run was deleted: viewers hang up

    def close(self) -> None:
        self.closed = True
        for viewer in self.viewers:
            viewer.wakeup.set()

    def add(self, viewer: Viewer) -> None:
        self.viewers.add(viewer)
        self.refresh()

    def remove(self, viewer: Viewer) -> None:
        self.viewers.discard(viewer)
        self.refresh()

    def refresh(self) -> None:
        """Recompute what the training thread reads, after viewers came, went or changed."""
        self.watched = bool(self.viewers)
        fastest = max((v.fps for v in self.viewers), default=self.default_fps)
        self.frame_interval = 1.0 / fastest
        self.encodings = frozenset(v.encoding for v in self.viewers if v.encoding in ENCODINGS)

    def publish(self, frame: Frame) -> None:
        """Hand `frame` to every viewer (thread-safe; never blocks)."""
        # RuntimeError: the loop is closed, the server is shutting down and nobody watches.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self._deliver, frame)

    def _deliver(self, frame: Frame) -> None:
        if isinstance(frame, UpdateFrame):
            self.latest = frame
        for viewer in self.viewers:
            viewer.offer(frame)

    def publish_status(self, status: str, step: int, message: str | None) -> None:
        self.publish(StatusFrame(status, step, message))

    def publish_settings(self, learning_rate: float, speed: float | None, step: int) -> None:
        """A PATCH changed the rate or the speed: every viewer's controls follow."""
        self.publish(SettingsFrame(learning_rate, speed, step))
