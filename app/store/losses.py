"""Loss history stored compactly: one row ("chunk") of float64 bytes per run per flush.

A row per step would cost the writer one statement per step, which convoys with the training
thread under the GIL; a chunk costs one statement per flush however fast a run trains.

Overlaps: a run that resumes from an earlier snapshot re-emits the steps after it. A chunk of
train losses that starts at step s therefore replaces everything stored from s on (train and
test losses), and history reads the chunks in the order they were written, so later writes
win and there is one entry per step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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


class LossArrays(NamedTuple):
    """A run's loss history as arrays: what merge_history answers, without a Python float a step.

    `loss` and `test` hold NaN where merge_history has None (absent or not finite).
    """

    steps: npt.NDArray[np.int64]  # the steps held, increasing
    loss: npt.NDArray[np.float64]
    test: npt.NDArray[np.float64]

    @classmethod
    def of(cls, first_step: int, losses: Sequence[float], tests: Mapping[int, float]) -> LossArrays:
        """Steps first_step.. with `losses`, and the test losses of those steps."""
        empty = cls(np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
        return empty.extended(first_step, losses, tests)

    def up_to(self, last_step: int) -> LossArrays:
        """Only the steps up to `last_step`."""
        end = int(np.searchsorted(self.steps, last_step, side="right"))
        return LossArrays(self.steps[:end], self.loss[:end], self.test[:end])

    def extended(
        self, first_step: int, losses: Sequence[float], tests: Mapping[int, float]
    ) -> LossArrays:
        """These steps followed by steps first_step.. with `losses` (all after the last held).

        tests: test losses by step; those outside the new steps are ignored.
        """
        if not losses:
            return self
        steps = np.arange(first_step, first_step + len(losses), dtype=np.int64)
        loss = np.asarray(losses, dtype=np.float64)
        test = np.full(len(losses), np.nan)
        for step, value in tests.items():
            if first_step <= step < first_step + len(losses):
                test[step - first_step] = value
        return LossArrays(
            np.concatenate([self.steps, steps]),
            np.concatenate([self.loss, _finite_or_nan(loss)]),
            np.concatenate([self.test, _finite_or_nan(test)]),
        )


def merge_arrays(chunks: Iterable[Chunk]) -> LossArrays:
    """The history merge_history answers, as arrays. `chunks` must come in write order."""
    decoded = list(chunks)
    sequential = _merge_sequential(decoded)
    if sequential is not None:
        return sequential
    size = max((c.last_step + 1 for c in decoded), default=0)
    loss, has_loss = np.full(size, np.nan), np.zeros(size, dtype=bool)
    test, has_test = np.full(size, np.nan), np.zeros(size, dtype=bool)
    high = -1  # no step past this one is marked yet
    for c in decoded:
        if c.length:
            end = c.first_step + c.length
            # A rewind forgets everything marked from its first step on. Clearing only up to the
            # highest mark, not to the end of the arrays, keeps a run that never rewinds linear
            # (to the end, 250 chunks of a million steps cleared ~125M flags: ~40 ms).
            has_loss[c.first_step : high + 1] = False
            has_test[c.first_step : high + 1] = False
            loss[c.first_step : end] = np.frombuffer(c.losses, dtype=FLOAT)
            has_loss[c.first_step : end] = True
            high = max(high, end - 1)
        if c.test_steps:
            steps = np.frombuffer(c.test_steps, dtype=STEP)
            test[steps] = np.frombuffer(c.test_losses, dtype=FLOAT)
            has_test[steps] = True
            high = max(high, int(steps.max()))
    # A rewind unmarks values without erasing them: a step held for one kind only must not
    # show the other kind's stale value.
    loss[~has_loss] = np.nan
    test[~has_test] = np.nan
    where = np.flatnonzero(has_loss | has_test)
    if len(where) == size:  # every step held (the usual case): no copies needed
        return LossArrays(where, _finite_or_nan(loss), _finite_or_nan(test))
    return LossArrays(where, _finite_or_nan(loss[where]), _finite_or_nan(test[where]))


def _merge_sequential(chunks: list[Chunk]) -> LossArrays | None:
    """The merge of a run that never rewound, None for any other.

    The usual layout: each chunk of train losses starts where the one before ended and holds
    its test losses, increasing. Nothing overlaps, so the chunks are simply laid end to end:
    one copy of the losses, no per-step flags (a third of the time of the general merge).
    """
    if not chunks:
        return None
    first = chunks[0].first_step
    end = first
    for c in chunks:
        if not c.length or c.first_step != end or c.last_step != c.first_step + c.length - 1:
            return None
        end += c.length
    test_steps = np.concatenate([np.frombuffer(c.test_steps, dtype=STEP) for c in chunks])
    if len(test_steps) and (
        test_steps[0] < first or test_steps[-1] >= end or np.any(test_steps[1:] <= test_steps[:-1])
    ):
        return None  # tests outside the train losses, repeated or out of order
    loss = np.concatenate([np.frombuffer(c.losses, dtype=FLOAT) for c in chunks])
    test = np.full(len(loss), np.nan)
    test[test_steps - first] = np.concatenate(
        [np.frombuffer(c.test_losses, dtype=FLOAT) for c in chunks]
    )
    steps = np.arange(first, end, dtype=np.int64)
    return LossArrays(steps, _finite_or_nan(loss), _finite_or_nan(test))


def merge_history(
    chunks: Iterable[Chunk],
) -> tuple[list[int], list[float | None], list[float | None]]:
    """Steps, train losses and test losses (None where absent or not finite), one per step.

    `chunks` must come in write order.
    """
    return history_lists(merge_arrays(chunks))


def history_lists(
    arrays: LossArrays,
) -> tuple[list[int], list[float | None], list[float | None]]:
    """Steps, train losses and test losses as lists, None where a loss is absent or not finite."""
    return arrays.steps.tolist(), _finite_or_none(arrays.loss), _finite_or_none(arrays.test)


def _finite_or_nan(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """`values` with infinities as NaN (in place: callers hand over arrays of their own)."""
    values[np.isinf(values)] = np.nan
    return values


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
