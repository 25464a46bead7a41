"""Loss history stored compactly: one row ("chunk") of float64 bytes per run per flush.

A row per step would cost the writer one statement per step, which convoys with the training
thread under the GIL; a chunk costs one statement per flush however fast a run trains.

Overlaps: a run that resumes from an earlier snapshot re-emits the steps after it. A chunk of
train losses that starts at step s therefore replaces everything stored from s on (train and
test losses), and history reads the chunks in the order they were written, so later writes
win and there is one entry per step.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

FLOAT = np.dtype("<f8")
STEP = np.dtype("<i8")


class Chunk(NamedTuple):
    """A row of `loss_chunks`, as written and read."""

    first_step: int
    length: int  # train losses, for steps first_step .. first_step + count - 1
    losses: bytes  # `count` float64; non-finite values stay as they are and read back as None
    test_steps: bytes  # int64, sparse
    test_losses: bytes  # float64, one per test step
    last_step: int  # the highest step this chunk holds, train or test


@dataclass
class LossGroup:
    """Losses of one run gathered during a flush interval, contiguous from `first_step`."""

    first_step: int | None = None
    values: list[float] = field(default_factory=list)
    tests: list[tuple[int, float]] = field(default_factory=list)

    def accepts(self, first_step: int, count: int) -> bool:
        """Whether losses starting at `first_step` continue this group."""
        return count == 0 or self.first_step is None or first_step == self.next_step

    @property
    def next_step(self) -> int | None:
        return None if self.first_step is None else self.first_step + len(self.values)

    def add(
        self, first_step: int, values: Sequence[float], tests: Sequence[tuple[int, float]]
    ) -> None:
        if values and self.first_step is None:
            self.first_step = first_step
        self.values.extend(values)
        self.tests.extend(tests)

    def chunk(self) -> Chunk:
        first = self.first_step if self.first_step is not None else min(s for s, _ in self.tests)
        steps = [s for s, _ in self.tests]
        last = max([first + len(self.values) - 1, *steps])
        return Chunk(
            first_step=first,
            length=len(self.values),
            losses=np.asarray(self.values, dtype=FLOAT).tobytes(),
            test_steps=np.asarray(steps, dtype=STEP).tobytes(),
            test_losses=np.asarray([v for _, v in self.tests], dtype=FLOAT).tobytes(),
            last_step=last,
        )


def merge_history(
    chunks: Iterable[Chunk],
) -> tuple[list[int], list[float | None], list[float | None]]:
    """Steps, train losses and test losses (None where absent or not finite), one per step.

    `chunks` must come in write order.
    """
    decoded = list(chunks)
    size = max((c.last_step + 1 for c in decoded), default=0)
    loss, has_loss = np.full(size, np.nan), np.zeros(size, dtype=bool)
    test, has_test = np.full(size, np.nan), np.zeros(size, dtype=bool)
    for c in decoded:
        if c.length:
            end = c.first_step + c.length
            # Slicing to the end is cheap: for a run that never rewinds only this chunk lies there.
            has_loss[c.first_step :] = False
            has_test[c.first_step :] = False
            loss[c.first_step : end] = np.frombuffer(c.losses, dtype=FLOAT)
            has_loss[c.first_step : end] = True
        if c.test_steps:
            steps = np.frombuffer(c.test_steps, dtype=STEP)
            test[steps] = np.frombuffer(c.test_losses, dtype=FLOAT)
            has_test[steps] = True
    where = np.flatnonzero(has_loss | has_test)
    return where.tolist(), _finite_or_none(loss[where]), _finite_or_none(test[where])


def _finite_or_none(values: npt.NDArray[np.float64]) -> list[float | None]:
    out: list[float | None] = list(values.tolist())
    for i in np.flatnonzero(~np.isfinite(values)).tolist():
        out[i] = None
    return out


def trim_chunk(chunk: Chunk, last_step: int) -> Chunk | None:
    """`chunk` without anything after `last_step`; None if nothing is left."""
    count = max(0, min(chunk.length, last_step - chunk.first_step + 1))
    steps = np.frombuffer(chunk.test_steps, dtype=STEP)
    keep = steps <= last_step
    if count == 0 and not keep.any():
        return None
    kept_steps = steps[keep]
    return Chunk(
        first_step=chunk.first_step,
        length=count,
        losses=chunk.losses[: count * FLOAT.itemsize],
        test_steps=kept_steps.tobytes(),
        test_losses=np.frombuffer(chunk.test_losses, dtype=FLOAT)[keep].tobytes(),
        last_step=max([chunk.first_step + count - 1, *kept_steps.tolist()]),
    )
