"""Fan-out of one run's frames to its viewers, each with a bounded latest-value slot.

Frames reach the hub on the event loop, from the manager, as their training process reports
them; nothing waits for a viewer. Each viewer keeps at most one live frame
(a newer one replaces it) plus the frames of a manual step, up to a backlog counted in frames
(`step_frame_backlog`) and in bytes (`viewer_backlog_bytes`); a viewer that cannot keep up
loses frames, never the training's time, and its memory stays bounded. Past either limit the
oldest update frames go first. The byte budget never drops a status frame nor the newest update
(a frame bigger than the whole budget is still sent, alone). Skipped frames leave no hole in
the loss curve: each frame sent carries every loss since the viewer's previous frame
(`UpdateFrame.message`, from the run's recent history). Status frames and at most one settings frame
(a newer one replaces it: each holds every setting) wait beside them; neither ever displaces an
update frame.

What the viewers want of the training process (whether frames are built, how often, in which
encodings) is summed up as a View and handed to `on_view` whenever it changes.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterator

from app.json_out import dumps
from app.runs.frames import ENCODINGS, Frame, SettingsFrame, StatusFrame, UpdateFrame
from app.runs.messages import View
from app.settings import Settings

DEFAULT_BACKLOG_BYTES: int = Settings.model_fields["viewer_backlog_bytes"].default
SMALL_FRAME_BYTES = 256  # a frame without arrays and its JSON text, roughly


def frame_bytes(frame: Frame) -> int:
    """The memory a queued frame keeps alive, as counted when it is queued.

    An update frame holds the part serialised once per encoding in use (by its training
    process); sending it caches one message per encoding on the frame (that part again, plus
    `losses`), so the serialised part counts twice. The same frame object sits in every
    viewer's queue and each viewer counts it whole, so one viewer's bound never depends on
    what the others do.
    """
    if not isinstance(frame, UpdateFrame):
        return SMALL_FRAME_BYTES
    return 2 * frame.nbytes


class FrameQueue:
    """A viewer's pending frames, oldest first, with the bytes they hold.

    The sender (app/api/stream.py) reads `queue[0]` and calls `popleft()`; the hub appends and
    drops. A frame's size is fixed when it is queued, so the total stays exact.
    """

    def __init__(self) -> None:
        self._items: deque[tuple[Frame, int]] = deque()
        self.nbytes = 0
        self.updates = 0  # update frames queued

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int) -> Frame:
        return self._items[index][0]

    def __iter__(self) -> Iterator[Frame]:
        return (frame for frame, _ in self._items)

    def append(self, frame: Frame, nbytes: int | None = None) -> None:
        size = frame_bytes(frame) if nbytes is None else nbytes
        self._items.append((frame, size))
        self._count(frame, size, +1)

    def popleft(self) -> Frame:
        frame, size = self._items.popleft()
        self._count(frame, size, -1)
        return frame

    def remove_if(self, predicate: Callable[[Frame], bool]) -> None:
        """Drop every frame for which `predicate` holds."""
        if any(predicate(frame) for frame, _ in self._items):
            kept = [(frame, size) for frame, size in self._items if not predicate(frame)]
            self._items.clear()
            self.nbytes = self.updates = 0
            for frame, size in kept:
                self._items.append((frame, size))
                self._count(frame, size, +1)

    def drop_oldest_update(self) -> bool:
        """Drop the oldest update frame; False if there is none."""
        for index, (frame, size) in enumerate(self._items):
            if isinstance(frame, UpdateFrame):
                del self._items[index]
                self._count(frame, size, -1)
                return True
        return False

    def _count(self, frame: Frame, size: int, sign: int) -> None:
        self.nbytes += sign * size
        if isinstance(frame, UpdateFrame):
            self.updates += sign


class Viewer:
    """One connected client: its frame rate, encoding, and the frames waiting for it."""

    def __init__(
        self,
        fps: float,
        encoding: str,
        backlog: int,
        backlog_bytes: int = DEFAULT_BACKLOG_BYTES,
    ) -> None:
        self.fps = fps
        self.encoding = encoding
        self.backlog = backlog  # frames
        self.backlog_bytes = backlog_bytes
        self.pending = FrameQueue()
        self.dropped = 0  # update frames dropped by the backlogs (replaced live ones: not)
        self.wakeup = asyncio.Event()
        self.last_step = -1  # the step of the last loss this viewer has been sent
        self.notices: list[str] = []  # error frames for the client, sent before any other

    def notify(self, detail: str) -> None:
        if len(self.notices) < 8:
            self.notices.append(dumps({"type": "error", "detail": detail}).decode())
            self.wakeup.set()

    def offer(self, frame: Frame, nbytes: int | None = None) -> None:
        """Queue `frame` (of `nbytes`, when the hub has counted them) within both backlogs."""
        if frame.live:
            # Newest wins: a live frame replaces any live frame not yet sent.
            self.pending.remove_if(lambda f: f.live)
        elif isinstance(frame, SettingsFrame):
            # So does a settings frame: it carries the rate and the speed whole.
            self.pending.remove_if(lambda f: isinstance(f, SettingsFrame))
        self.pending.append(frame, nbytes)
        if len(self.pending) > self.backlog:
            # The one settings frame waits beyond the backlog: it never pushes out an update.
            limit = self.backlog + any(isinstance(f, SettingsFrame) for f in self.pending)
            while len(self.pending) > limit:
                self._drop_oldest_update()
        # Bytes: the oldest updates go, down to the newest one (sent even if over budget).
        while self.pending.nbytes > self.backlog_bytes and self.pending.updates > 1:
            self._drop_oldest_update()
        self.wakeup.set()

    def _drop_oldest_update(self) -> None:
        if self.pending.drop_oldest_update():
            self.dropped += 1
        else:
            self.pending.popleft()  # only status frames: a client flooding pause/resume


class StreamHub:
    """The viewers of one run (used on the event loop only)."""

    def __init__(self, default_fps: float, on_view: Callable[[View], None]) -> None:
        self.default_fps = default_fps
        self.on_view = on_view
        self.viewers: set[Viewer] = set()
        self.latest: UpdateFrame | None = None
        self.view = View(False, 1.0 / default_fps, ())
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
        """Sum up what the viewers want, after they came, went or changed; tell `on_view`."""
        fastest = max((v.fps for v in self.viewers), default=self.default_fps)
        encodings = tuple(sorted({v.encoding for v in self.viewers if v.encoding in ENCODINGS}))
        view = View(bool(self.viewers), 1.0 / fastest, encodings)
        if view != self.view:
            self.view = view
            self.on_view(view)

    def publish(self, frame: Frame) -> None:
        """Hand `frame` to every viewer (never blocks)."""
        if isinstance(frame, UpdateFrame):
            self.latest = frame
        nbytes = frame_bytes(frame)  # once, not once per viewer
        for viewer in self.viewers:
            viewer.offer(frame, nbytes)

    def publish_status(self, status: str, step: int, message: str | None) -> None:
        self.publish(StatusFrame(status, step, message))

    def publish_settings(self, learning_rate: float, speed: float | None, step: int) -> None:
        """A PATCH changed the rate or the speed: every viewer's controls follow."""
        self.publish(SettingsFrame(learning_rate, speed, step))
