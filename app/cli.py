"""`backprop-live serve [--host] [--port] [--db] [--token]`: one uvicorn process.
`backprop-live train CONFIG.json [--steps N] [--db PATH] [--export OUT.json]`: a run trained
without a server, into the same store (app/train_cli.py)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import uvicorn

from app.main import create_app, open_store
from app.security import check_bind
from app.security.dead_peers import dropping_protocol
from app.settings import Settings
from app.store import StoreError
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


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command == "train":
        return train_command(args)
    try:
        settings = settings_from(args)
        refusal = check_bind(settings.host, settings.token)
        if refusal is not None:
            raise ValueError(refusal)
        # Fail here, in one line, rather than in the lifespan with a traceback.
        open_store(settings).close()
    except (StoreError, OSError, ValueError) as error:
        print(f"backprop-live: {error}".splitlines()[0], file=sys.stderr)
        return 2
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        workers=1,  # runs live in this process's memory
        ws_per_message_deflate=False,  # compression costs ~30x on large weight frames
        ws_max_size=max(settings.max_client_message_bytes, 4096),
        ws_ping_interval=settings.ws_ping_interval,
        ws_ping_timeout=settings.ws_ping_timeout,
        # A viewer that stopped reading is cut off once its socket is closing, not waited for.
        ws=dropping_protocol(grace=settings.ws_ping_timeout),
        timeout_graceful_shutdown=int(settings.shutdown_timeout) + 1,
        log_level="info",
    )
    # The GIL's forced switch hands it from a training thread to the event loop; the default
    # 5 ms makes every await behind a busy trainer cost up to that much (app/runs/gate.py).
    sys.setswitchinterval(settings.gil_switch_interval)
    uvicorn.Server(config).run()
    return 0
