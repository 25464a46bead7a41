"""Liveness (the test harness waits on it), and how late the event loop runs (app/api/lag.py)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request

from app.api.lag import LoopLagSampler
from app.api.schemas.responses import HealthOut, LoopLagOut, WorkerOut
from app.runs.manager import RunManager

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(request: Request) -> HealthOut:
    sampler: LoopLagSampler = request.app.state.loop_lag
    manager: RunManager = request.app.state.manager
    executor = manager.executor
    workers = [] if executor is None else executor.workers()
    return HealthOut(
        status="ok",
        loop_lag_ms=LoopLagOut(**asdict(sampler.figures())),
        storage=manager.storage_trouble,
        workers=[WorkerOut(pid=pid, runs=runs) for pid, runs in workers],
    )
