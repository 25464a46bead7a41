"""The server measures its own event-loop lag (app/api/lag.py) and /healthz reports it (#3).

The figures over a window, the bound on what is kept, a loop really held up, and the real
server's answer. The figure under load is asserted by tests/reliability/test_load.py.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from app.api.lag import MAX_SAMPLES, LagFigures, LoopLagSampler
from tests.support.server import LiveServer


def test_figures_are_nearest_rank_over_the_window() -> None:
    sampler = LoopLagSampler(interval=0.05, window=120.0)
    assert sampler.figures(now=0.0) == LagFigures(None, None, None, 0)
    for i in range(100):  # one sample a second, 1 ms .. 100 ms late
        sampler.record(at=float(i), lateness=(i + 1) / 1000)
    assert sampler.figures(now=99.0) == LagFigures(50.0, 99.0, 100.0, 100)
    # 60 s later only the samples of the last 120 s are left (steps 39..99): 40 .. 100 ms.
    assert sampler.figures(now=159.0) == LagFigures(70.0, 100.0, 100.0, 61)


def test_what_is_kept_is_bounded() -> None:
    sampler = LoopLagSampler(interval=0.001, window=3600.0)
    for i in range(3 * MAX_SAMPLES):
        sampler.record(at=i * 0.001, lateness=0.0)
    assert sampler.figures(now=3 * MAX_SAMPLES * 0.001).samples == MAX_SAMPLES
    assert LoopLagSampler(interval=0.05, window=60.0).figures().samples == 0


def test_a_held_loop_shows_as_lag() -> None:
    async def hold_the_loop() -> LagFigures:
        sampler = LoopLagSampler(interval=0.01, window=60.0)
        sampler.start()
        await asyncio.sleep(0.2)
        time.sleep(0.3)  # a callback that blocks the loop, as a starved GIL would
        await asyncio.sleep(0.1)
        await sampler.stop()
        return sampler.figures()

    figures = asyncio.run(hold_the_loop())
    assert figures.samples >= 5 and figures.max is not None and figures.p50 is not None
    assert figures.max >= 250.0  # the 300 ms hold, less the interval it fell into
    assert figures.p50 < figures.max


def test_healthz_reports_the_server_loop_lag(shared_server: LiveServer) -> None:
    first = httpx.get(f"{shared_server.url}/healthz").json()
    time.sleep(0.3)
    lag = httpx.get(f"{shared_server.url}/healthz").json()["loop_lag_ms"]
    assert first["status"] == "ok"
    assert lag["samples"] > first["loop_lag_ms"]["samples"] >= 0
    assert 0 <= lag["p50"] <= lag["p99"] <= lag["max"]
