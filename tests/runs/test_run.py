"""Run.made_under: whether replaying a stretch of updates reproduces them bit for bit."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from app.runs.config import RunConfig
from app.runs.hub import StreamHub
from app.runs.recent_history import RecentHistory
from app.runs.run import Run
from tests.support.runs import SMALL


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def run_with(loop: asyncio.AbstractEventLoop, engines: list[tuple[int, str]]) -> Run:
    config = RunConfig.model_validate(SMALL)
    hub, recent = StreamHub(30.0, lambda view: None), RecentHistory(0, 100)
    return Run("r", config, "2026-11-30T00:00:00Z", hub, recent, engines=engines)


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (0, 10, False),  # updates 0-9 were made under A
        (10, 20, True),  # 10-19 under B
        (15, 15, True),  # nothing replayed: a snapshot's own weights
        (12, 25, True),  # 12-24 under B, across no change
        (25, 35, False),  # 30-34 under C
        (30, 40, False),
        (29, 30, True),  # the last update under B
        (5, 15, False),  # 5-9 under A, then B
    ],
)
def test_made_under_b(
    loop: asyncio.AbstractEventLoop, first: int, last: int, expected: bool
) -> None:
    run = run_with(loop, [(0, "A"), (10, "B"), (30, "C")])
    assert run.made_under(first, last, "B") is expected


def test_with_nothing_recorded_only_an_empty_stretch_is_known(
    loop: asyncio.AbstractEventLoop,
) -> None:
    run = run_with(loop, [])
    assert run.made_under(4, 4, "A")
    assert not run.made_under(3, 4, "A")


def test_updates_before_the_first_record_are_unknown(loop: asyncio.AbstractEventLoop) -> None:
    # A run stored before arithmetic was recorded, trained on from step 50 under A.
    run = run_with(loop, [(50, "A")])
    assert not run.made_under(40, 55, "A")
    assert run.made_under(50, 55, "A")
