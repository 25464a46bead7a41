"""Which weight snapshots to take, and which to drop when a run outgrows its byte budget."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Sequence
from typing import NamedTuple


def should_snapshot(step: int) -> bool:
    """Whether the regular snapshot schedule keeps the weights after `step` updates.

    Every step up to 100 (the first steps change the most and are scrubbed the most), every
    10th up to 1,000, every 100th up to 10,000 and every 1,000th after that. A thinned-out
    step is recomputed from the nearest earlier snapshot, so the gap bounds the replay cost:
    at most 999 updates. Snapshots taken at a pause, stop or interrupt come on top of these.
    """
    if step < 0:
        return False
    if step <= 100:
        return True
    if step <= 1_000:
        return step % 10 == 0
    if step <= 10_000:
        return step % 100 == 0
    return step % 1_000 == 0


class SnapshotInfo(NamedTuple):
    """A stored snapshot, without its bytes."""

    step: int
    pinned: bool
    size: int


def snapshots_to_drop(snapshots: Sequence[SnapshotInfo], budget: int) -> list[int]:
    """The steps to delete so that the sizes left fit within `budget` bytes.

    The earliest snapshot (step 0) and the newest are never dropped, even if they alone
    exceed the budget. Unpinned snapshots go first; pinned ones (taken at a pause, stop or
    interrupt) only once no unpinned one is left. Within each kind the snapshot whose removal
    leaves the smallest hole goes first (the older on a tie), so what is kept stays spread
    over the whole run and replaying any step from the one before it stays cheap.
    """
    ordered = sorted(snapshots, key=lambda s: s.step)
    excess = sum(s.size for s in ordered) - budget
    if excess <= 0 or len(ordered) <= 2:
        return []
    dropped: list[int] = []
    chain = _Chain([s.step for s in ordered])
    for pinned in (False, True):
        removable = {s.step: s.size for s in ordered[1:-1] if s.pinned == pinned}
        excess = chain.thin(removable, excess, dropped)
        if excess <= 0:
            break
    return dropped


class _Chain:
    """Snapshot steps as a doubly linked list, so each removal updates two neighbours only."""

    def __init__(self, steps: list[int]) -> None:
        self.after = dict(itertools.pairwise(steps))
        self.before = {nxt: prev for prev, nxt in self.after.items()}

    def hole(self, step: int) -> int:
        """The gap between the neighbours of `step` once it is gone."""
        return self.after[step] - self.before[step]

    def thin(self, removable: dict[int, int], excess: int, dropped: list[int]) -> int:
        """Remove from `removable` (step -> size) until `excess` bytes are gone; return the rest."""
        heap = [(self.hole(step), step) for step in removable]
        heapq.heapify(heap)
        while heap and excess > 0:
            hole, step = heapq.heappop(heap)
            if step not in removable or hole != self.hole(step):
                continue  # stale entry: the step went, or a neighbour went and its hole grew
            excess -= removable.pop(step)
            dropped.append(step)
            self._unlink(step, removable, heap)
        return excess

    def _unlink(self, step: int, removable: dict[int, int], heap: list[tuple[int, int]]) -> None:
        prev, nxt = self.before.pop(step), self.after.pop(step)
        self.after[prev], self.before[nxt] = nxt, prev
        for neighbour in (prev, nxt):
            if neighbour in removable:
                heapq.heappush(heap, (self.hole(neighbour), neighbour))
