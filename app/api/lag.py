"""How late the server's event loop runs, measured on the server (/healthz `loop_lag_ms`).

A task sleeps a fixed interval again and again and records how late it wakes: whatever held
the loop (a slow callback, a thread holding the GIL) delays every coroutine, and this sleeper
with them. Samples older than the window, and any beyond a fixed count, are dropped, so the
sampler's memory is bounded; the figures are computed when asked for, from what is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from dataclasses import dataclass

MAX_SAMPLES = 4096


@dataclass(frozen=True)
class LagFigures:
    """Lateness in milliseconds over the window; None while there is no sample yet."""

    p50: float | None
    p99: float | None
    max: float | None
    samples: int


class LoopLagSampler:
    """Start it on the loop to measure (`start`), `stop` it before the loop ends."""

    def __init__(self, interval: float, window: float) -> None:
        self.interval = interval
        self.window = window
        # (monotonic time of the wake-up, lateness in seconds)
        self._samples: deque[tuple[float, float]] = deque(
            maxlen=min(MAX_SAMPLES, math.ceil(window / interval) + 1)
        )
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._sample(), name="loop-lag")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _sample(self) -> None:
        while True:
            due = time.monotonic() + self.interval
            await asyncio.sleep(self.interval)
            woke = time.monotonic()
            self._samples.append((woke, max(0.0, woke - due)))

    def record(self, at: float, lateness: float) -> None:
        """Add one sample by hand (for tests)."""
        self._samples.append((at, lateness))

    def figures(self, now: float | None = None) -> LagFigures:
        """p50, p99 and max lateness (ms) of the samples within the window before `now`."""
        since = (time.monotonic() if now is None else now) - self.window
        while self._samples and self._samples[0][0] < since:
            self._samples.popleft()
        lags = sorted(lateness for _, lateness in self._samples)
        if not lags:
            return LagFigures(None, None, None, 0)

        def rank(q: float) -> float:  # nearest rank: a lateness that really happened
            return round(lags[max(0, math.ceil(q * len(lags)) - 1)] * 1000, 3)

        return LagFigures(rank(0.50), rank(0.99), round(lags[-1] * 1000, 3), len(lags))
