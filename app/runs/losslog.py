"""The recent train losses of one run, step by step, shared by its worker and its viewers.

The worker appends one float per update (no lock: a list append is atomic under the GIL) and
viewers read slices from the event loop. To stay bounded the worker drops the older half once
the log holds twice its capacity; it rebinds a new (first step, list) pair rather than editing
the old one, so a reader that took the pair keeps a consistent view.
"""

from __future__ import annotations

from collections import deque


class LossLog:
    """Losses of steps `first_step` .. `last_step`, contiguous."""

    def __init__(self, first_step: int, capacity: int) -> None:
        self.capacity = capacity
        self._data: tuple[int, list[float]] = (first_step, [])
        # Test losses are sparse (every N steps and at frames); the recent ones suffice.
        self._tests: deque[tuple[int, float]] = deque(maxlen=4096)

    @property
    def values(self) -> list[float]:
        """The list the worker appends to; step of values[i] is first_step + i."""
        return self._data[1]

    @property
    def last_step(self) -> int:
        first, values = self._data
        return first + len(values) - 1

    def append(self, loss: float) -> None:
        self._data[1].append(loss)

    def trim(self) -> None:
        """Keep the newest `capacity` losses once twice that many have piled up (worker only)."""
        first, values = self._data
        if len(values) >= 2 * self.capacity:
            dropped = len(values) - self.capacity
            self._data = (first + dropped, values[dropped:])

    def add_test(self, step: int, loss: float) -> None:
        self._tests.append((step, loss))

    def tests_between(self, first: int, last: int) -> dict[int, float]:
        # tuple() copies in one C call, so the worker's appends cannot interleave.
        return {step: loss for step, loss in tuple(self._tests) if first <= step <= last}

    def reset(self, first_step: int) -> None:
        """Start again at `first_step` (a run rewound to a snapshot)."""
        self._data = (first_step, [])
        self._tests.clear()

    def between(self, first: int, last: int) -> tuple[int, list[float]]:
        """(step of the first loss returned, losses of steps first..last that are still held)."""
        start, values = self._data
        lo = max(first, start)
        hi = min(last, start + len(values) - 1)
        if hi < lo:
            return lo, []
        return lo, values[lo - start : hi - start + 1]

    def pairs(self, first: int, last: int) -> list[tuple[int, float]]:
        """[(step, loss), ...] for steps first..last still held."""
        lo, values = self.between(first, last)
        return list(zip(range(lo, lo + len(values)), values, strict=True))
