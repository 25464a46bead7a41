"""The hub's per-viewer queue: bounded in frames and in bytes, status frames kept, no loss hole.

Unit tests of app/runs/hub.py on its own (no loop needed: `offer` runs on the caller); the
same limits against a real server are in tests/reliability/test_viewers.py.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from app.runs.frames import StatusFrame, UpdateFrame, build_frame
from app.runs.hub import DEFAULT_BACKLOG_BYTES, Viewer, frame_bytes
from app.runs.recent_history import RecentHistory
from app.settings import Settings

LAYERS = [16, 32, 4]  # ~700 weights: a frame of about 6 kB of arrays, 3x that with its JSON


def update_frame(step: int, live: bool = False) -> UpdateFrame:
    rng = np.random.default_rng(step)
    weights = [rng.standard_normal((a, b)) for a, b in itertools.pairwise(LAYERS)]
    biases = [rng.standard_normal(b) for b in LAYERS[1:]]
    arrays = {"weights": weights, "biases": biases, "deltas": biases, "gradients": weights}
    # Serialised as a training process does before it reports the frame.
    return UpdateFrame(build_frame(step, 1.0 / step, None, 0.5, live, arrays, ["json"]))


def losses_of(message: str | bytes) -> list[int]:
    assert isinstance(message, str)
    return [step for step, _ in json.loads(message)["losses"]]


def test_the_budget_is_a_setting_with_the_default_the_viewer_uses() -> None:
    assert Settings().viewer_backlog_bytes == DEFAULT_BACKLOG_BYTES == 8 * 1024 * 1024


def test_a_frame_counts_twice_its_serialised_part() -> None:
    frame = update_frame(1)
    message = frame.message("json", RecentHistory(1, 1024), 0)
    assert message is not None
    # What a frame holds once it has been sent: the shared head and one message.
    assert frame_bytes(frame) == 2 * frame.nbytes >= frame.nbytes + len(message) - 64
    assert frame_bytes(StatusFrame("paused", 1, None)) < 1024


def test_a_viewer_that_never_reads_holds_at_most_its_byte_budget() -> None:
    size = frame_bytes(update_frame(1))
    budget = 10 * size + size // 2
    viewer = Viewer(30.0, "json", backlog=256, backlog_bytes=budget)
    for step in range(1, 301):  # a manual step of 300: every step's frame is offered
        viewer.offer(update_frame(step))
        assert viewer.pending.nbytes <= budget
    pending = list(viewer.pending)
    assert [f.step for f in pending if isinstance(f, UpdateFrame)] == list(range(291, 301))
    assert viewer.pending.nbytes == sum(frame_bytes(f) for f in pending)
    assert viewer.dropped == 290
    while viewer.pending:
        viewer.pending.popleft()  # as the sender does
    assert viewer.pending.nbytes == 0 and viewer.pending.updates == 0


def test_the_frame_count_still_bounds_small_frames() -> None:
    viewer = Viewer(30.0, "json", backlog=16, backlog_bytes=DEFAULT_BACKLOG_BYTES)
    for step in range(1, 101):
        viewer.offer(update_frame(step))
    assert len(viewer.pending) == 16 and viewer.pending[0].step == 85


def test_status_frames_are_never_dropped_for_bytes_and_the_newest_update_is_kept() -> None:
    viewer = Viewer(30.0, "json", backlog=256, backlog_bytes=1)  # smaller than any frame
    statuses = [StatusFrame("running", 0, None), StatusFrame("paused", 50, None)]
    viewer.offer(statuses[0])
    for step in range(1, 51):
        viewer.offer(update_frame(step))
    viewer.offer(statuses[1])
    pending = list(viewer.pending)
    assert pending[0] is statuses[0] and pending[-1] is statuses[1]
    # A frame bigger than the whole budget still goes out, alone: the viewer sees step 50.
    assert [f.step for f in pending if isinstance(f, UpdateFrame)] == [50]
    assert viewer.pending.updates == 1


def test_a_live_frame_replaces_the_live_one_and_the_bytes_follow() -> None:
    viewer = Viewer(30.0, "json", backlog=256, backlog_bytes=DEFAULT_BACKLOG_BYTES)
    viewer.offer(update_frame(1, live=True))
    viewer.offer(StatusFrame("running", 1, None))
    newest = update_frame(2, live=True)
    viewer.offer(newest)
    assert list(viewer.pending)[-1] is newest and viewer.pending.updates == 1
    assert viewer.pending.nbytes == sum(frame_bytes(f) for f in viewer.pending)
    assert viewer.dropped == 0  # replaced, not dropped


@pytest.mark.parametrize("reads_every", [1, 3, 25])
def test_frames_dropped_for_bytes_leave_no_hole_in_the_losses(reads_every: int) -> None:
    """A slow viewer during a manual step: the `losses` of what it is sent cover every step."""
    log = RecentHistory(1, 1024)
    size = frame_bytes(update_frame(1))
    viewer = Viewer(30.0, "json", backlog=256, backlog_bytes=2 * size)
    viewer.last_step = 0  # the state frame was at step 0
    seen: list[int] = []
    sent: list[int] = []

    def send_one() -> None:  # what app/api/stream.py does with the head of the queue
        frame = viewer.pending.popleft()
        assert isinstance(frame, UpdateFrame)
        message = frame.message("json", log, viewer.last_step)
        assert message is not None
        seen.extend(losses_of(message))
        viewer.last_step = frame.step
        sent.append(frame.step)

    for step in range(1, 201):
        log.append(1.0 / step)
        viewer.offer(update_frame(step))
        if step % reads_every == 0:
            send_one()
    while viewer.pending:
        send_one()
    assert seen == list(range(1, 201))  # every loss once, in order
    assert sent[-1] == 200
    if reads_every > 2:
        assert viewer.dropped > 0 and len(sent) < 200
