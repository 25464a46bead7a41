"""Dependencies as Annotated aliases: the RunManager, the Settings, the descent workers and
the scores kept live on app.state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from app.api.descent_pool import DescentPool
from app.api.scores import ScoresCache
from app.runs.manager import RunManager
from app.settings import Settings


def get_manager(connection: HTTPConnection) -> RunManager:
    manager: RunManager = connection.app.state.manager
    return manager


def get_settings(connection: HTTPConnection) -> Settings:
    settings: Settings = connection.app.state.settings
    return settings


def get_descent_pool(connection: HTTPConnection) -> DescentPool:
    pool: DescentPool = connection.app.state.descent_pool
    return pool


def get_scores_cache(connection: HTTPConnection) -> ScoresCache:
    cache: ScoresCache = connection.app.state.scores
    return cache


Manager = Annotated[RunManager, Depends(get_manager)]
ScoresKept = Annotated[ScoresCache, Depends(get_scores_cache)]
AppSettings = Annotated[Settings, Depends(get_settings)]
DescentWorkers = Annotated[DescentPool, Depends(get_descent_pool)]
