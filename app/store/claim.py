"""One server per database file, and a sound file: checked before a server serves it.

Two servers on one file would both train the same runs, each over the other's history. So a
server holds an exclusive `flock` on `<db>.lock` beside the file for as long as it lives, with
its pid written inside for the one it refuses. The kernel drops the lock when the process ends,
however it ends, so a stale lock file is harmless. The lock lives in its own file because SQLite
locks the database with fcntl record locks, which flock emulation (on NFS) would collide with.

The file is then checked with `PRAGMA quick_check` (docs/reliability.md gives its cost): a
damaged file is refused with one line and the command that inspects it, rather than served in
part.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from app.store.errors import StoreError
from app.store.schema import check_integrity, make_parent


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


class DatabaseClaim:
    """This process's exclusive hold on one database file; `release()` (or exit) ends it."""

    def __init__(self, db_path: Path, fd: int) -> None:
        self.db_path = db_path
        self._fd: int | None = fd

    def __repr__(self) -> str:
        state = "held" if self._fd is not None else "released"
        return f"DatabaseClaim({str(self.db_path)!r}, {state})"

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the only descriptor drops the flock


def claim_database(db_path: Path) -> DatabaseClaim:
    """Lock `db_path` for this process and check it; StoreError (one line) if either fails."""
    claim = lock_database(db_path)
    try:
        check_integrity(db_path)
    except StoreError:
        claim.release()
        raise
    return claim


def lock_database(db_path: Path) -> DatabaseClaim:
    """Take the exclusive lock beside `db_path`; StoreError naming the holder if it is taken."""
    make_parent(db_path)
    path = lock_path(db_path)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise StoreError(
            f"cannot open database {db_path}: cannot create {path}: {reason}"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_pid(fd)
        os.close(fd)
        who = f"pid {holder}" if holder else "pid unknown"
        raise StoreError(
            f"cannot open database {db_path}: another backprop-live server ({who}) is using it; "
            "stop that one or choose another --db"
        ) from None
    except OSError as exc:
        os.close(fd)
        raise StoreError(f"cannot open database {db_path}: cannot lock {path}: {exc}") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return DatabaseClaim(db_path, fd)


def _read_pid(fd: int) -> int | None:
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None
