"""Turns at the CPU for training threads, so that they do not starve the event loop.

Training a small network is a tight loop of tiny numpy calls that never release the GIL. With
eight such threads the GIL's forced switches (every `sys.getswitchinterval()` seconds) hand it
from training thread to training thread while the event loop and the store's writer wait
behind all of them: measured, /healthz took seconds and the store fell seconds behind. The
gate lets one training thread run at a time, in first-come turns of a few milliseconds, so the
GIL is only ever contested by one trainer, the event loop and the writer.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager


class TrainingGate:
    """A fair (FIFO) lock held by one training thread at a time, for at most `turn` seconds."""

    def __init__(self, turn: float = 0.002) -> None:
        self.turn = turn
        self._condition = threading.Condition()
        self._waiting: deque[object] = deque()
        self._holder: object | None = None

    def acquire(self) -> None:
        ticket = object()
        with self._condition:
            self._waiting.append(ticket)
            while self._holder is not None or self._waiting[0] is not ticket:
                self._condition.wait()
            self._waiting.popleft()
            self._holder = ticket

    def release(self) -> None:
        with self._condition:
            self._holder = None
            self._condition.notify_all()

    @property
    def contended(self) -> bool:
        """Another thread is waiting for a turn (read without the lock: a hint is enough)."""
        return bool(self._waiting)

    @contextmanager
    def turn_taken(self) -> Iterator[Turn]:
        """Hold the gate; the body calls `turn.over()` between updates to share it fairly."""
        self.acquire()
        turn = Turn(self)
        try:
            yield turn
        finally:
            self.release()


class Turn:
    """One thread's hold on the gate, handed on when its time is up and someone waits."""

    def __init__(self, gate: TrainingGate) -> None:
        self._gate = gate
        self._ends = time.monotonic() + gate.turn

    def over(self, now: float) -> None:
        """Between two updates: past the turn's end, give the gate to the next in line."""
        if now < self._ends:
            return
        if self._gate.contended:
            self._gate.release()
            self._gate.acquire()
        else:
            # Nobody else trains: still let the GIL go briefly, so the event loop gets it now
            # rather than at the next forced switch.
            time.sleep(0)
        self._ends = time.monotonic() + self._gate.turn

    def wait(self, event: threading.Event, seconds: float) -> None:
        """Sleep until `event` is set or `seconds` pass, letting others train meanwhile."""
        self._gate.release()
        try:
            event.wait(seconds)
        finally:
            self._gate.acquire()
        self._ends = time.monotonic() + self._gate.turn
