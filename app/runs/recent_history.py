"""The recent train and test losses of one run, step by step, for the stream's `losses`.

The manager extends it as its training process reports losses; viewers read slices of it. It
keeps at most twice `capacity` train losses (older ones are in the store) and the most recent
test losses, so its memory does not grow with the run's age.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence


class RecentHistory:
    """Losses of steps `first_step` .. `last_step`, contiguous."""

    def __init__(self, first_step: int, capacity: int) -> None:
        self.capacity = capacity
        self.first_step = first_step
        self.values: list[float] = []
        # Test losses are sparse (every N steps and at frames); the recent ones suffice.
        self._tests: deque[tuple[int, float]] = deque(maxlen=4096)

    @property
    def last_step(self) -> int:
        return self.first_step + len(self.values) - 1

    def append(self, loss: float) -> None:
        self.values.append(loss)

    def extend(self, first_step: int, losses: Sequence[float]) -> None:
        """Add the losses of steps first_step, first_step + 1, ...; they continue the log,
        or replace its end from `first_step` on (a run resumed from an earlier step)."""
        if first_step > self.last_step + 1 or first_step < self.first_step:
            self.reset(first_step)
        del self.values[first_step - self.first_step :]
        self.values.extend(losses)
        if len(self.values) >= 2 * self.capacity:
            dropped = len(self.values) - self.capacity
            self.first_step += dropped
            del self.values[:dropped]

    def add_test(self, step: int, loss: float) -> None:
        self._tests.append((step, loss))

    def tests_between(self, first: int, last: int) -> dict[int, float]:
        return {step: loss for step, loss in self._tests if first <= step <= last}

    def reset(self, first_step: int) -> None:
        """Start again at `first_step` (a run rewound to a snapshot)."""
        self.first_step, self.values = first_step, []
        self._tests.clear()

    def between(self, first: int, last: int) -> tuple[int, list[float]]:
        """(step of the first loss returned, losses of steps first..last that are still held)."""
        lo = max(first, self.first_step)
        hi = min(last, self.last_step)
        if hi < lo:
            return lo, []
        return lo, self.values[lo - self.first_step : hi - self.first_step + 1]

    def pairs(self, first: int, last: int) -> list[tuple[int, float]]:
        """[(step, loss), ...] for steps first..last still held."""
        lo, values = self.between(first, last)
        return list(zip(range(lo, lo + len(values)), values, strict=True))
