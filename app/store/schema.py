"""Opening the database file: connections, pragmas, the versioned schema, and clear errors."""

from __future__ import annotations

import shlex
import sqlite3
from pathlib import Path

from app.store.errors import StoreError

SCHEMA_VERSION = 4  # PRAGMA user_version; bump with the statements that migrate to it
BUSY_TIMEOUT_MS = 5_000

# One statement a string: comments may hold any character, and no script parsing is needed.
# Version 1's tables, as created by every version of this program.
_SCHEMA_1 = (
    """
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    config TEXT NOT NULL,            -- JSON
    status TEXT NOT NULL,
    step INTEGER NOT NULL,
    loss REAL,
    test_loss REAL,
    created_at TEXT NOT NULL,        -- ISO 8601 UTC
    message TEXT,
    learning_rate REAL NOT NULL,
    speed REAL
)
""",
    """
CREATE TABLE loss_chunks (
    id INTEGER PRIMARY KEY,          -- write order: a later chunk wins where chunks overlap
    run_id TEXT NOT NULL,
    first_step INTEGER NOT NULL,
    count INTEGER NOT NULL,
    last_step INTEGER NOT NULL,
    losses BLOB NOT NULL,            -- float64 little-endian, steps first_step .. +count-1
    test_steps BLOB NOT NULL,        -- int64 little-endian
    test_losses BLOB NOT NULL        -- float64 little-endian, one per test step
)
""",
    """
CREATE INDEX loss_chunks_by_run ON loss_chunks (run_id, id)
""",
    """
CREATE TABLE learning_rates (
    run_id TEXT NOT NULL,
    step INTEGER NOT NULL,           -- the first update made with this rate
    learning_rate REAL NOT NULL,
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID
""",
    """
CREATE TABLE snapshots (
    run_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    pinned INTEGER NOT NULL,         -- 1: taken at a pause, stop or interrupt; dropped last
    size INTEGER NOT NULL,
    blob BLOB NOT NULL,              -- last, so reading the other columns skips its pages
    PRIMARY KEY (run_id, step)
)
""",
)
# Version 2: which arithmetic made a run's updates (app/nn/arithmetic.py). A version-1 file
# gains the table empty: the arithmetic of its runs' updates is unknown.
_SCHEMA_2 = (
    """
CREATE TABLE engines (
    run_id TEXT NOT NULL,
    step INTEGER NOT NULL,           -- the first update made under this arithmetic
    engine TEXT NOT NULL,            -- engine version, numpy and its CPU features, BLAS
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID
""",
)
# Version 3: weights and biases set by hand (PATCH /api/runs/{id}/weights), replayed exactly.
_SCHEMA_3 = (
    """
CREATE TABLE weight_edits (
    run_id TEXT NOT NULL,
    step INTEGER NOT NULL,           -- set while the run stood at this step, before its next update
    seq INTEGER NOT NULL,            -- the order of the edits made at one step
    layer INTEGER NOT NULL,          -- the weight layer (0: from the inputs)
    to_neuron INTEGER NOT NULL,
    from_neuron INTEGER,             -- NULL: the bias of to_neuron
    value REAL NOT NULL,
    PRIMARY KEY (run_id, step, seq)
) WITHOUT ROWID
""",
)
# Version 4: uploaded data sets (app/store/datasets.py), which csv runs name by id. A file of
# version 3 gains the table empty.
_SCHEMA_4 = (
    """
CREATE TABLE datasets (
    id TEXT PRIMARY KEY,             -- sha256 of what is stored, hex: the same file, the same id
    created_at TEXT NOT NULL,        -- ISO 8601 UTC
    rows INTEGER NOT NULL,
    columns TEXT NOT NULL,           -- JSON [[name, "number" | "text"], ...] in file order
    numbers BLOB NOT NULL,           -- float64 little-endian, numeric columns one after another
    texts TEXT NOT NULL              -- JSON {name: [cell, ...]} of the text columns
)
""",
)
# The statements that take a file from the version before each one to it.
_MIGRATIONS = {1: _SCHEMA_1, 2: _SCHEMA_2, 3: _SCHEMA_3, 4: _SCHEMA_4}
# The tables a file of each older version holds: anything else is not our file to migrate.
_TABLES_AT = {
    0: set(),
    1: {"runs", "loss_chunks", "learning_rates", "snapshots"},
    2: {"runs", "loss_chunks", "learning_rates", "snapshots", "engines"},
    3: {"runs", "loss_chunks", "learning_rates", "snapshots", "engines", "weight_edits"},
}


def open_writer(path: Path) -> sqlite3.Connection:
    """The one connection that writes: WAL, synchronous=NORMAL, schema created or checked."""
    make_parent(path)
    # Opened here so that errors reach the caller of open(), then handed to the writer thread,
    # which alone uses it from then on: never two threads at once.
    conn = _connect(path, check_same_thread=False)
    try:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"cannot open database {path}: write-ahead logging unavailable")
        # NORMAL in WAL mode: a process crash loses nothing committed; only an OS crash or
        # power cut can lose the last transactions, and the file stays consistent either way.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("BEGIN IMMEDIATE")  # also proves the file is writable now, not at first flush
        _migrate(conn, path)
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        conn.close()
        raise StoreError(describe(path, exc)) from None
    except StoreError:
        conn.close()
        raise
    return conn


def open_reader(path: Path) -> sqlite3.Connection:
    """A read connection; it may be handed between threads, one thread at a time."""
    conn = _connect(path, check_same_thread=False)
    conn.execute("PRAGMA query_only=ON")
    return conn


def check_integrity(path: Path) -> None:
    """Refuse a damaged file: StoreError with the first problem and the command to inspect it.

    `PRAGMA quick_check` reads every page and checks the b-trees' structure (not that indexes
    match their tables, which the full integrity_check adds at several times the cost). A file
    that does not exist yet passes: open_writer creates it.
    """
    if not path.is_file():
        return
    conn = _connect(path, check_same_thread=True)
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:
        if "malformed" not in str(exc):
            raise StoreError(describe(path, exc)) from None
        rows = [(str(exc),)]
    finally:
        conn.close()
    if [tuple(row) for row in rows] != [("ok",)]:
        first = " ".join(str(rows[0][0]).split())[:200]
        inspect = f"sqlite3 {shlex.quote(str(path))} 'PRAGMA integrity_check'"
        raise StoreError(
            f"cannot open database {path}: the file is damaged ({first}); "
            f"inspect it with: {inspect}"
        )


def _connect(path: Path, *, check_same_thread: bool) -> sqlite3.Connection:
    if path.is_dir():
        raise StoreError(f"cannot open database {path}: is a directory")
    try:
        conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=check_same_thread, timeout=0
        )
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    except sqlite3.Error as exc:
        raise StoreError(describe(path, exc)) from None
    return conn


def make_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise StoreError(
            f"cannot open database {path}: cannot create {path.parent}: {reason}"
        ) from None


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"cannot open database {path}: schema version {version} is newer than this "
            f"program's ({SCHEMA_VERSION}); upgrade backprop-live"
        )
    if version == SCHEMA_VERSION:
        return
    # Somebody else's SQLite file (of any user_version) must never get our tables. SQLite's
    # own tables (sqlite_stat1 after an ANALYZE, ...) belong to any file.
    listed = conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
    tables = {row[0] for row in listed if not row[0].startswith("sqlite_")}
    if tables != _TABLES_AT.get(version):
        raise StoreError(f"cannot open database {path}: not a backprop-live database")
    for reached in range(version + 1, SCHEMA_VERSION + 1):
        for statement in _MIGRATIONS[reached]:
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def describe(path: Path, exc: sqlite3.Error) -> str:
    """One line saying why the file cannot be used."""
    text = str(exc)
    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in text:
        return f"cannot open database {path}: not a SQLite database ({text})"
    if "readonly" in text or "read-only" in text:
        return f"cannot open database {path}: read-only ({text})"
    if "locked" in text or "busy" in text:
        return f"cannot open database {path}: in use by another process ({text})"
    return f"cannot open database {path}: {text}"
