"""The file's schema version: a file of an older version is migrated and keeps its data."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from app.store import RunStore, StoreError
from app.store.schema import SCHEMA_VERSION
from tests.store.conftest import make_run


def table_names(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        return {row[0] for row in rows}


def user_version(path: Path) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


VERSION_1_TABLES = {"runs", "loss_chunks", "learning_rates", "snapshots"}


def make_version_1_file(path: Path) -> None:
    """A file as version 1 left it: the same four tables with a run's data, no `engines`."""
    store = RunStore(path, flush_interval=0.05)
    store.open()
    store.create_run(make_run("old", step=2))
    store.add_losses("old", 0, [0.5, 0.25, 0.125])
    store.add_snapshot("old", 2, b"weights", pinned=True)
    store.add_learning_rate_change("old", 1, 0.1)
    store.close()
    with closing(sqlite3.connect(path)) as conn, conn:
        for table in table_names(path) - VERSION_1_TABLES:
            conn.execute(f"DROP TABLE {table}")
        conn.execute("PRAGMA user_version = 1")


def test_a_new_file_is_made_at_the_current_version(db_path: Path) -> None:
    store = RunStore(db_path)
    store.open()
    store.close()
    assert user_version(db_path) == SCHEMA_VERSION
    assert table_names(db_path) == VERSION_1_TABLES | {"engines", "weight_edits", "datasets"}


def test_a_version_1_file_gains_the_engines_table_and_keeps_its_runs(db_path: Path) -> None:
    make_version_1_file(db_path)
    assert "engines" not in table_names(db_path)
    store = RunStore(db_path, flush_interval=0.05)
    store.open()
    try:
        assert user_version(db_path) == SCHEMA_VERSION
        run = store.get_run("old")
        assert run is not None and run.step == 2
        assert store.history("old") == ([0, 1, 2], [0.5, 0.25, 0.125], [None, None, None])
        assert store.latest_snapshot("old") == (2, b"weights")
        assert store.learning_rate_changes("old") == [(1, 0.1)]
        assert store.engine_changes("old") == []  # unknown: made before it was recorded
        store.add_engine("old", 2, "engine 2")
        store.flush()
        assert store.engine_changes("old") == [(2, "engine 2")]
    finally:
        store.close()


def test_a_foreign_file_that_says_version_1_is_left_untouched(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute("CREATE TABLE contacts (name TEXT)")
        conn.execute("PRAGMA user_version = 1")
    store = RunStore(db_path)
    with pytest.raises(StoreError, match="not a backprop-live database"):
        store.open()
    assert table_names(db_path) == {"contacts"} and user_version(db_path) == 1


def test_a_negative_version_is_not_ours(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute("PRAGMA user_version = -3")
    with pytest.raises(StoreError, match="not a backprop-live database"):
        RunStore(db_path).open()


def test_a_version_1_file_analyzed_by_sqlite_is_still_ours(db_path: Path) -> None:
    make_version_1_file(db_path)
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute("ANALYZE")  # adds sqlite_stat1
    store = RunStore(db_path, flush_interval=0.05)
    store.open()
    try:
        assert user_version(db_path) == SCHEMA_VERSION and store.get_run("old") is not None
    finally:
        store.close()


def test_a_version_3_file_gains_the_datasets_table_and_keeps_its_runs(db_path: Path) -> None:
    make_version_1_file(db_path)
    migrated = RunStore(db_path)
    migrated.open()  # to the current version, then back to what version 3 left
    migrated.close()
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute("DROP TABLE datasets")
        conn.execute("PRAGMA user_version = 3")
    store = RunStore(db_path, flush_interval=0.05)
    store.open()
    try:
        assert user_version(db_path) == 4 and "datasets" in table_names(db_path)
        assert store.history("old") == ([0, 1, 2], [0.5, 0.25, 0.125], [None, None, None])
    finally:
        store.close()
