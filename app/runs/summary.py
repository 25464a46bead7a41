"""A run's whole loss history in a fixed number of buckets, kept up to date as it trains.

Bucket k holds steps k·b .. k·b + b − 1 (b = `bucket_steps`, a power of two) with the min and
max of the train and test losses in it, so spikes show at any zoom. When the buckets would
pass `capacity`, neighbours merge pairwise and b doubles: the summary's size never grows with
the run's age, and adding the losses of n steps costs O(n) numpy work. This is what the stream's
`state` frame carries of a long history, beside the recent steps in full.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from app.store.losses import LossArrays

Floats = npt.NDArray[np.float64]


class Buckets(NamedTuple):
    bucket_steps: int
    steps: list[int]  # the first step of each bucket
    loss_min: Floats
    loss_max: Floats
    test_min: Floats
    test_max: Floats


class HistorySummary:
    """Min and max per bucket of steps, from step 0 to `last_step` (see the module)."""

    def __init__(self, capacity: int) -> None:
        assert capacity >= 2 and capacity % 2 == 0
        self.capacity = capacity
        self.bucket_steps = 1
        self.last_step = -1
        self._mins = np.full((2, 0), np.nan)  # rows: train, test
        self._maxs = np.full((2, 0), np.nan)

    def add(self, history: LossArrays) -> None:
        """Take in the steps of `history` that come after `last_step` (they must be sorted)."""
        new = history.steps > self.last_step
        steps, loss, test = history.steps[new], history.loss[new], history.test[new]
        if not len(steps):
            return
        self.last_step = int(steps[-1])
        while self.last_step // self.bucket_steps >= self.capacity:
            self._halve()
        width = self.last_step // self.bucket_steps + 1
        if width > self._mins.shape[1]:
            grow = width - self._mins.shape[1]
            self._mins = np.pad(self._mins, ((0, 0), (0, grow)), constant_values=np.nan)
            self._maxs = np.pad(self._maxs, ((0, 0), (0, grow)), constant_values=np.nan)
        buckets = steps // self.bucket_steps
        for row, values in enumerate((loss, test)):
            np.fmin.at(self._mins[row], buckets, values)
            np.fmax.at(self._maxs[row], buckets, values)

    def _halve(self) -> None:
        """Merge neighbouring buckets: half as many, each twice as wide."""
        width = self._mins.shape[1]
        if width % 2:
            self._mins = np.pad(self._mins, ((0, 0), (0, 1)), constant_values=np.nan)
            self._maxs = np.pad(self._maxs, ((0, 0), (0, 1)), constant_values=np.nan)
        self._mins = np.fmin(self._mins[:, 0::2], self._mins[:, 1::2])
        self._maxs = np.fmax(self._maxs[:, 0::2], self._maxs[:, 1::2])
        self.bucket_steps *= 2

    def buckets(self, before: int) -> Buckets:
        """The buckets that end before step `before`, without those that hold no loss."""
        count = min(self._mins.shape[1], max(0, before // self.bucket_steps))
        held = np.flatnonzero(~np.isnan(self._mins[0, :count]) | ~np.isnan(self._mins[1, :count]))
        return Buckets(
            self.bucket_steps,
            (held * self.bucket_steps).tolist(),
            self._mins[0, held],
            self._maxs[0, held],
            self._mins[1, held],
            self._maxs[1, held],
        )
