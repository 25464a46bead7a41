"""`backprop-live serve [--host] [--port] [--db] [--token]`: one uvicorn process.
`backprop-live train CONFIG.json [--steps N] [--db PATH] [--export OUT.json]`: a run trained
without a server, into the same store (app/train_cli.py)."""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from app.access_log import install_log_filters
from app.main import begin_shutdown, create_app, open_store
from app.security import check_bind
from app.security.dead_peers import cut_off_dead_peers
from app.settings import Settings
from app.store import StoreError
from app.store.claim import DatabaseClaim, claim_database
from app.train_cli import train


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="backprop-live", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the app and its API")
    serve.add_argument("--host", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.add_argument("--db", type=Path, help="SQLite file (default: a per-user data dir)")
    serve.add_argument("--token", help="bearer token the API requires (or BACKPROP_TOKEN)")
    train = commands.add_parser("train", help="train one run without a server, into the store")
    train.add_argument("config", type=Path, help="a run config as JSON (as POST /api/runs takes)")
    train.add_argument(
        "--steps", type=int, help="updates to make (default: the config's max_steps)"
    )
    train.add_argument("--db", type=Path, help="SQLite file (default: the server's)")
    train.add_argument("--export", type=Path, help="write the run's export JSON here at the end")
    return parser.parse_args(argv)


def train_command(args: argparse.Namespace) -> int:
    if args.steps is not None and args.steps < 1:
        print("backprop-live: --steps must be 1 or more", file=sys.stderr)
        return 2
    try:
        settings = Settings(**({"db_path": args.db} if args.db is not None else {}))
    except ValueError as error:
        print(f"backprop-live: {error}".splitlines()[0], file=sys.stderr)
        return 2
    return train(args.config, args.steps, settings, args.export)


def settings_from(args: argparse.Namespace) -> Settings:
    """Environment (BACKPROP_*) first, then whatever the command line says."""
    given: dict[str, Any] = {"host": args.host, "port": args.port, "db_path": args.db}
    given["token"] = args.token
    return Settings(**{name: value for name, value in given.items() if value is not None})


class Server(uvicorn.Server):
    """uvicorn's server, telling the app (app.main.begin_shutdown) the moment shutdown begins."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self.app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        begin_shutdown(self.app)
        await super().shutdown(sockets)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command == "train":
        return train_command(args)
    try:
        settings = settings_from(args)
        refusal = check_bind(settings.host, settings.token)
        if refusal is not None:
            raise ValueError(refusal)
        # Fail here, in one line, rather than in the lifespan with a traceback. The claim (one
        # server per file) is held until this process ends.
        claim = claim_database(settings.db_path)
        open_store(settings).close()
    except (StoreError, OSError, ValueError) as error:
        print(f"backprop-live: {error}".splitlines()[0], file=sys.stderr)
        return 2
    try:
        serve(settings, claim)
    finally:
        claim.release()
    return 0


def serve(settings: Settings, claim: DatabaseClaim) -> None:
    app = create_app(settings, claim)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        workers=1,  # runs live in this process's memory
        ws_per_message_deflate=False,  # compression costs ~30x on large weight frames
        ws_max_size=max(settings.max_client_message_bytes, 4096),
        ws_ping_interval=settings.ws_ping_interval,
        ws_ping_timeout=settings.ws_ping_timeout,
        timeout_graceful_shutdown=int(settings.shutdown_timeout) + 1,
        log_level="info",
    )
    install_log_filters(settings.token, quiet=not settings.log_routine_requests)
    print(banner(settings), file=sys.stderr, flush=True)
    listening = config.bind_socket()
    # A peer that stopped reading is cut off by the kernel, not waited for.
    cut_off_dead_peers(listening, settings.ws_ping_timeout)
    Server(config, app).run(sockets=[listening])


def banner(settings: Settings) -> str:
    """Where to point a browser, where the runs are kept, and where the API is described."""
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    url = f"http://{host}:{settings.port}"
    first = f"{url}/?token=YOUR_TOKEN once" if settings.token else f"{url}/"
    return (
        f"backprop-live: open {first}\n  database: {settings.db_path}\n  API reference: {url}/docs"
    )
