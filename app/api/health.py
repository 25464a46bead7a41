"""Liveness (the test harness waits on it), and how late the event loop runs (app/api/lag.py)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request

from app.api.lag import LoopLagSampler
from app.api.schemas.responses import HealthOut, LoopLagOut

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(request: Request) -> HealthOut:
    sampler: LoopLagSampler = request.app.state.loop_lag
    return HealthOut(status="ok", loop_lag_ms=LoopLagOut(**asdict(sampler.figures())))
