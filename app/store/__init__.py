"""Persistence: runs, their loss history and weight snapshots in one SQLite file (stdlib only).

One writer thread commits queued writes in one transaction per flush interval; reads use
their own connections beside it (WAL).
"""

from app.store.errors import StoreError, StoreUnavailable
from app.store.models import StoredRun, WeightEdit
from app.store.schedule import should_snapshot
from app.store.store import RunStore

__all__ = [
    "RunStore",
    "StoreError",
    "StoreUnavailable",
    "StoredRun",
    "WeightEdit",
    "should_snapshot",
]
