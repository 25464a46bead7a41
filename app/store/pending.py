"""The queue between callers and the writer thread.

Callers only append a tuple under a lock (a microsecond, no I/O); the writer swaps the whole
list out once per flush interval, so it takes the lock once per batch, not once per write.
"""

from __future__ import annotations

import threading

from app.store.errors import StoreError
from app.store.ops import Batch, Op, RunUpdate


class Pending:
    """Writes queued since the last flush."""

    def __init__(self) -> None:
        self._wake = threading.Condition(threading.Lock())
        self._ops: list[Op] = []
        self._updates: dict[str, RunUpdate] = {}  # only the latest status of a run matters
        self._urgent = False
        self._closed = False

    def put(self, op: Op, *, urgent: bool = False) -> None:
        """Queue `op`; `urgent` wakes the writer now instead of at the end of the interval."""
        with self._wake:
            if self._closed:
                raise StoreError("store is closed")
            self._ops.append(op)
            if urgent:
                self._urgent = True
                self._wake.notify()

    def put_update(self, run_id: str, update: RunUpdate) -> None:
        with self._wake:
            if self._closed:
                raise StoreError("store is closed")
            self._updates[run_id] = update

    def take(self, timeout: float) -> tuple[Batch, bool]:
        """Wait up to `timeout` (less if woken), then take everything; True once closed."""
        with self._wake:
            if not (self._urgent or self._closed):
                self._wake.wait(timeout)
            batch = Batch(self._ops, self._updates)
            self._ops, self._updates, self._urgent = [], {}, False
            return batch, self._closed

    def close(self) -> None:
        """Refuse further writes and wake the writer for its last batch."""
        with self._wake:
            self._closed = True
            self._wake.notify()
