"""A loss history thinned to at most N buckets of consecutive steps, each with its min and max.

For charts a few hundred pixels wide (the home page's sparklines): a run of a million steps is
answered as a few hundred numbers instead of three lists of a million. Min and max, not a
sample or a mean, so a spike in a bucket still shows. Computed with numpy straight from the
stored float64 chunks (LossArrays): no Python float is made per step.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from app.store.losses import LossArrays


class Thinned(NamedTuple):
    """Bucket k holds steps steps[k] .. steps[k] + bucket_steps - 1 (up to last_step).

    Buckets without a step held are left out. A min or max is None when the bucket has no
    finite value (a diverged run's NaN, or no test loss measured in it).
    """

    bucket_steps: int
    last_step: int | None
    steps: list[int]
    loss_min: list[float | None]
    loss_max: list[float | None]
    test_loss_min: list[float | None]
    test_loss_max: list[float | None]


def thin(history: LossArrays, points: int) -> Thinned:
    """`history` in at most `points` buckets of equal width (in steps), from its first step."""
    if points < 1:
        raise ValueError(f"points must be 1 or more, not {points}")
    steps = history.steps
    if not len(steps):
        return Thinned(1, None, [], [], [], [], [])
    first, last = int(steps[0]), int(steps[-1])
    width = -(-(last - first + 1) // points)  # ceil: at most `points` buckets
    if last - first + 1 == len(steps):  # every step held (the usual case): buckets by index
        starts = np.arange(0, len(steps), width)
        bucket_firsts = first + starts
    else:
        bucket = (steps - first) // width
        starts = np.flatnonzero(np.concatenate(([True], bucket[1:] != bucket[:-1])))
        bucket_firsts = first + bucket[starts] * width
    return Thinned(
        bucket_steps=width,
        last_step=last,
        steps=bucket_firsts.tolist(),
        # fmin/fmax skip NaN (absent or not finite); a bucket of NaN only stays NaN.
        loss_min=_none_for_nan(np.fmin.reduceat(history.loss, starts)),
        loss_max=_none_for_nan(np.fmax.reduceat(history.loss, starts)),
        test_loss_min=_none_for_nan(np.fmin.reduceat(history.test, starts)),
        test_loss_max=_none_for_nan(np.fmax.reduceat(history.test, starts)),
    )


def _none_for_nan(values: npt.NDArray[np.float64]) -> list[float | None]:
    out: list[float | None] = list(values.tolist())
    for i in np.flatnonzero(np.isnan(values)).tolist():
        out[i] = None
    return out
