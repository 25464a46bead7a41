"""Read connections, created as concurrent readers need them and reused after."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.store.errors import StoreError
from app.store.schema import open_reader


class ReadPool:
    """Hands each reading thread a connection of its own for the length of one read.

    Connections are made with check_same_thread=False because a pooled one moves between
    threads; the pool guarantees that only one thread uses it at a time.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._closed = False

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._closed:
                raise StoreError("store is closed")
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = open_reader(self._path)
        try:
            yield conn
        finally:
            with self._lock:
                closed = self._closed
                if not closed:
                    self._idle.append(conn)
            if closed:
                conn.close()

    def close(self) -> None:
        """Close idle connections now; ones in use close when their read ends."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
