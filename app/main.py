"""The app factory: settings in, a FastAPI app out, with the RunManager made in its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api import datasets, descent, docs, health, history, runs, stream
from app.api.errors import install_error_handlers
from app.api.lag import LoopLagSampler
from app.api.responses import OrjsonResponse
from app.api.scores import ScoresCache
from app.runs.manager import RunManager
from app.security import SecurityPolicy, install_security
from app.settings import Settings
from app.store import RunStore
from app.store.datasets import DatasetTables
from app.web import pages


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(settings)
        manager = RunManager(settings, store)
        app.state.loop_lag.start()
        try:
            await manager.start()
            # Runs on uploaded data read their table from this file when they are built.
            for run in manager.runs.values():
                run.config.dataset.use_tables(DatasetTables(settings.db_path))
            app.state.manager = manager
            yield
            await manager.shutdown()
        finally:
            await app.state.loop_lag.stop()
            store.close()

    app = FastAPI(
        title="backprop-live",
        summary="Watch a neural network learn, live: drive runs over REST, watch them stream.",
        version="1",
        lifespan=lifespan,
        default_response_class=OrjsonResponse,
        docs_url=None,  # app/api/docs.py serves /docs without a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.scores = ScoresCache()
    app.state.loop_lag = LoopLagSampler(settings.loop_lag_interval, settings.loop_lag_window)
    install_error_handlers(app)
    install_security(
        app,
        security_policy(settings),
        settings.max_body_bytes,
        docs_paths=("/docs",),
        limit_env=settings.env_name("max_body_bytes"),
    )
    routers = (
        health.router,
        runs.router,
        history.router,
        datasets.router,
        descent.router,
        stream.router,
        docs.router,
    )
    for router in (*routers, pages.router):
        app.include_router(router)
    pages.mount_static(app)
    docs.mount_docs_assets(app)
    return app


def security_policy(settings: Settings) -> SecurityPolicy:
    """Who may talk to the server: its allowed hosts (plus the one it binds), origins, token."""
    return SecurityPolicy(
        allowed_hosts=(*settings.allowed_hosts, settings.host),
        allowed_origins=tuple(settings.allowed_origins),
        token=settings.token,
    )


def open_store(settings: Settings) -> RunStore:
    """Open the SQLite store, creating its directory on first start; raises StoreError."""
    settings.db_path.parent.mkdir(parents=True, exist_ok=True)
    store = RunStore(
        settings.db_path,
        flush_interval=settings.flush_interval,
        snapshot_budget_bytes=settings.snapshot_budget_bytes,
    )
    store.open()
    return store
