"""Liveness: answers as soon as the app has started (the test harness waits on it)."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.schemas.responses import HealthOut

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> HealthOut:
    return HealthOut(status="ok")
