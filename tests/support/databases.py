"""Real database files for the tests that check what the server does with a file it is given."""

from __future__ import annotations

from pathlib import Path

from app.store import RunStore
from tests.store.conftest import make_run


def filled_database(path: Path) -> Path:
    """A real file of a few hundred runs and their losses: about 2.5 MB of b-tree pages."""
    store = RunStore(path, flush_interval=0.05)
    store.open()
    for i in range(300):
        store.create_run(make_run(f"r{i}"))
        for k in range(10):
            store.add_losses(f"r{i}", k * 100, [0.5] * 100)
    store.close()
    return path


def damage(path: Path) -> None:
    """Overwrite two pages' worth of bytes in the middle of the file with other bytes."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 8192] = bytes(range(256)) * 32
    path.write_bytes(bytes(data))
