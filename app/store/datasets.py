"""Uploaded data sets (tables) in the runs' SQLite file, beside the runs that use them.

A table is written in one INSERT by a connection of its own, so a refused or failed upload
leaves nothing behind, and read by a short-lived read connection: both work beside the store's
writer thread (WAL) and in any process that knows the file's path. Its id is the sha256 of
what is stored, so the same file uploaded twice is one data set.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from app.nn.table import ColumnKind, Table
from app.store.errors import StoreError
from app.store.schema import describe, open_reader

FLOAT = np.dtype("<f8")
ID_LENGTH = 16  # hex digits of the sha256 kept: 64 bits, plenty for one server's uploads


class DatasetNotFound(ValueError):
    """No stored data set has the id a run names (a 422 on `dataset.id`)."""


@dataclass(frozen=True)
class DatasetTables:
    """The tables of the database at `path`: picklable, so a worker process can read them."""

    path: Path

    def load_table(self, table_id: str) -> Table:
        return load_table(self.path, table_id)


def store_table(path: Path, table: Table) -> str:
    """Store `table` (if not stored already) and return its id."""
    columns = json.dumps(
        [[name, kind] for name, kind in zip(table.names, table.kinds, strict=True)]
    )
    numbers = b"".join(
        np.ascontiguousarray(table.numbers[name], dtype=FLOAT).tobytes()
        for name, kind in zip(table.names, table.kinds, strict=True)
        if kind == "number"
    )
    texts = json.dumps({name: list(cells) for name, cells in table.texts.items()})
    digest = hashlib.sha256()
    for part in (str(table.rows).encode(), columns.encode(), numbers, texts.encode()):
        digest.update(len(part).to_bytes(8, "little") + part)
    table_id = digest.hexdigest()[:ID_LENGTH]
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    try:
        with closing(sqlite3.connect(path, isolation_level=None, timeout=5.0)) as conn:
            conn.execute(
                "INSERT OR IGNORE INTO datasets (id, created_at, rows, columns, numbers, texts) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (table_id, now, table.rows, columns, numbers, texts),
            )
    except sqlite3.Error as exc:
        raise StoreError(describe(path, exc)) from None
    return table_id


def load_table(path: Path, table_id: str) -> Table:
    """The stored table `table_id`; DatasetNotFound if there is none."""
    try:
        with closing(open_reader(path)) as conn:
            row = conn.execute(
                "SELECT rows, columns, numbers, texts FROM datasets WHERE id = ?", (table_id,)
            ).fetchone()
    except sqlite3.Error as exc:
        raise StoreError(describe(path, exc)) from None
    if row is None:
        raise DatasetNotFound(f"dataset.id: no data set with id {table_id!r}")
    rows, columns_json, numbers_blob, texts_json = row
    pairs: list[tuple[str, ColumnKind]] = [(name, kind) for name, kind in json.loads(columns_json)]
    flat = np.frombuffer(numbers_blob, dtype=FLOAT)
    numeric = [name for name, kind in pairs if kind == "number"]
    numbers = {name: flat[k * rows : (k + 1) * rows].copy() for k, name in enumerate(numeric)}
    texts = {name: tuple(cells) for name, cells in json.loads(texts_json).items()}
    names = tuple(name for name, _ in pairs)
    return Table(names, tuple(kind for _, kind in pairs), numbers, texts, rows)


def table_exists(path: Path, table_id: str) -> bool:
    with closing(open_reader(path)) as conn:
        row = conn.execute("SELECT 1 FROM datasets WHERE id = ?", (table_id,)).fetchone()
    return row is not None
