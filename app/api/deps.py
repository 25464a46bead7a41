"""Dependencies as Annotated aliases: the RunManager and the Settings live on app.state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from app.runs.manager import RunManager
from app.settings import Settings


def get_manager(connection: HTTPConnection) -> RunManager:
    manager: RunManager = connection.app.state.manager
    return manager


def get_settings(connection: HTTPConnection) -> Settings:
    settings: Settings = connection.app.state.settings
    return settings


Manager = Annotated[RunManager, Depends(get_manager)]
AppSettings = Annotated[Settings, Depends(get_settings)]
