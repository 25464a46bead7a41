"""The app factory: settings in, a FastAPI app out, with the RunManager made in its lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute

from app.api import datasets, descent, docs, health, history, preview, runs, stream
from app.api.descent_pool import DescentPool
from app.api.errors import install_error_handlers
from app.api.lag import LoopLagSampler
from app.api.responses import OrjsonResponse
from app.api.scores import ScoresCache
from app.runs.manager import RunManager
from app.runs.messages import Pacing
from app.runs.process_pool import ProcessPool, WorkerLimits
from app.security import SecurityPolicy, install_security
from app.settings import Settings
from app.store import RunStore
from app.store.claim import DatabaseClaim, claim_database
from app.web import pages


def create_app(settings: Settings | None = None, claim: DatabaseClaim | None = None) -> FastAPI:
    """`claim`: the database already claimed by the caller (the CLI, which holds it for the
    process's life); without one the lifespan claims the file and releases it at the end."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # What is opened here is closed in reverse order, however the server ends.
        async with AsyncExitStack() as stack:
            if claim is None:
                stack.callback(claim_database(settings.db_path).release)
            store = open_store(settings)
            stack.callback(store.close)
            app.state.descent_pool = DescentPool(
                settings.max_descent_requests, settings.descent_cpu_seconds
            )
            stack.callback(app.state.descent_pool.close)
            app.state.loop_lag.start()
            stack.push_async_callback(app.state.loop_lag.stop)
            manager = RunManager(settings, store)
            await manager.start(process_pool(settings, manager))
            app.state.manager = manager
            yield
            await manager.shutdown()

    app = FastAPI(
        title="backprop-live",
        summary="Watch a neural network learn, live: drive runs over REST, watch them stream.",
        version="1",
        lifespan=lifespan,
        default_response_class=OrjsonResponse,
        docs_url=None,  # app/api/docs.py serves /docs without a CDN
        redoc_url=None,
        generate_unique_id_function=operation_id,
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
        preview.router,
        descent.router,
        stream.router,
        docs.router,
    )
    for router in (*routers, pages.router):
        app.include_router(router)
    pages.mount_static(app)
    pages.install_not_found(app)
    docs.mount_docs_assets(app)
    return app


def operation_id(route: APIRoute) -> str:
    """The route function's name (`create_run`, `get_weights`): what a generated client's
    functions are called, so renaming a route function renames them."""
    return route.name


def begin_shutdown(app: FastAPI) -> None:
    """What must stop as soon as a shutdown begins, before the server waits for open requests.

    uvicorn lets every open request finish before it runs the lifespan's shutdown; a descent
    trace in a worker must not hold that wait, so its workers are killed first (the requests
    answer 503). Safe to call before the lifespan started and more than once.
    """
    pool: DescentPool | None = getattr(app.state, "descent_pool", None)
    if pool is not None:
        pool.close()


def security_policy(settings: Settings) -> SecurityPolicy:
    """Who may talk to the server: its allowed hosts (plus the one it binds), origins, token."""
    return SecurityPolicy(
        allowed_hosts=(*settings.allowed_hosts, settings.host),
        allowed_origins=tuple(settings.allowed_origins),
        token=settings.token,
    )


def process_pool(settings: Settings, manager: RunManager) -> ProcessPool:
    """The executor that trains the manager's runs in local worker processes."""
    pacing = Pacing(
        test_loss_every=settings.test_loss_every,
        progress_interval=settings.flush_interval,
        step_frame_backlog=settings.step_frame_backlog,
        turn=settings.training_turn,
        snapshot_bytes_in_flight=settings.max_unstored_snapshot_bytes,
        snapshot_rate=settings.snapshot_bytes_per_second,
    )
    return ProcessPool(
        settings.worker_processes,
        pacing,
        WorkerLimits(settings.worker_memory_slack_bytes, settings.worker_niceness),
        manager.on_event,
        asyncio.get_running_loop(),
    )


def open_store(settings: Settings) -> RunStore:
    """Open the SQLite store, creating its directory on first start; raises StoreError."""
    settings.db_path.parent.mkdir(parents=True, exist_ok=True)
    store = RunStore(
        settings.db_path,
        flush_interval=settings.flush_interval,
        snapshot_budget_bytes=settings.snapshot_budget_bytes,
        write_timeout=settings.store_write_timeout,
        retry_interval=settings.store_retry_interval,
    )
    store.open()
    return store
