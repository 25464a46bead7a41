"""A file the store cannot use gives one clear line, not a traceback."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from app.store import RunStore, StoreError


def open_error(path: Path) -> str:
    store = RunStore(path)
    with pytest.raises(StoreError) as caught:
        store.open()
    message = str(caught.value)
    assert "\n" not in message
    error = caught.value  # no chained sqlite3 or OS error to print above it
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    store.close()  # a store that failed to open closes quietly
    return message


def test_directory(tmp_path: Path) -> None:
    assert open_error(tmp_path) == f"cannot open database {tmp_path}: is a directory"


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "random.db"
    path.write_bytes(os.urandom(8192))
    assert open_error(path) == (
        f"cannot open database {path}: not a SQLite database (file is not a database)"
    )


def test_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("a shopping list, not a database\n" * 200)
    assert "not a SQLite database" in open_error(path)


def test_parent_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    path = blocker / "runs.db"
    message = open_error(path)
    assert message.startswith(f"cannot open database {path}: cannot create {blocker}: ")


def test_unwritable_location() -> None:
    # /proc refuses new directories even to root, which chmod cannot stop.
    path = Path("/proc/backprop-live-store-test/runs.db")
    message = open_error(path)
    assert message.startswith(f"cannot open database {path}: cannot create ")


def test_someone_elses_database(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.close()
    assert open_error(path) == f"cannot open database {path}: not a backprop-live database"


def test_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    assert "schema version 99 is newer" in open_error(path)


def test_open_twice(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.db")
    store.open()
    try:
        with pytest.raises(StoreError, match="already open"):
            store.open()
    finally:
        store.close()


def test_empty_file_becomes_a_store(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    store = RunStore(path)
    store.open()
    try:
        assert store.list_runs() == [] and store.integrity_ok()
    finally:
        store.close()
