"""One server per file (an OS lock beside it) and a damaged file refused before it is served."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest

from app.store import StoreError
from app.store.claim import claim_database, lock_database, lock_path
from tests.support.databases import damage, filled_database


def test_a_second_claim_on_the_file_names_the_file_and_the_holder(db_path: Path) -> None:
    claim = claim_database(db_path)
    with pytest.raises(StoreError) as refused:
        claim_database(db_path)
    message = str(refused.value)
    assert str(db_path) in message and f"pid {os.getpid()}" in message
    assert lock_path(db_path).read_text().strip() == str(os.getpid())
    claim.release()
    again = claim_database(db_path)  # released: the next server may have it
    assert again.held
    again.release()
    assert not again.held


def test_the_lock_is_per_file(tmp_path: Path) -> None:
    first, second = claim_database(tmp_path / "a.db"), claim_database(tmp_path / "b.db")
    assert first.held and second.held
    first.release()
    second.release()


def test_a_sound_file_is_claimed(tmp_path: Path) -> None:
    path = filled_database(tmp_path / "runs.db")
    claim_database(path).release()


def test_a_damaged_file_is_refused_with_the_command_that_inspects_it(tmp_path: Path) -> None:
    path = filled_database(tmp_path / "my runs.db")
    damage(path)
    with pytest.raises(StoreError) as refused:
        claim_database(path)
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"cannot open database {path}: the file is damaged (")
    assert message.endswith(f"sqlite3 {shlex.quote(str(path))} 'PRAGMA integrity_check'")
    # The refusal let go of the lock.
    lock_database(path).release()
