"""Every knob of the server in one pydantic-settings class (environment prefix BACKPROP_).

Each limit is a setting so that an over-limit answer can name the setting that would lift it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _memory_bytes() -> int:
    """The machine's physical memory."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def default_db_path() -> Path:
    """`$XDG_DATA_HOME/backprop-live/runs.db`, or `~/.local/share/backprop-live/runs.db`."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "backprop-live" / "runs.db"


class Settings(BaseSettings):
    """Server configuration; every field can be set as BACKPROP_<NAME> in the environment."""

    model_config = SettingsConfigDict(env_prefix="BACKPROP_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    db_path: Path = Field(default_factory=default_db_path)
    # Required before binding a non-loopback host; None means no auth.
    token: str | None = None
    # Origins (scheme://host:port) besides the server's own that may open the stream or change
    # state; in the environment a comma-separated list.
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Host header names (no port) the server answers, against DNS rebinding; "*" for any. The
    # --host address is added to them.
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.1", "localhost", "::1"]
    )
    max_body_bytes: int = Field(1_048_576, ge=1024)
    # Keepalive pings on every WebSocket: a viewer that misses one is dropped.
    ws_ping_interval: float = Field(20.0, gt=0)
    ws_ping_timeout: float = Field(20.0, gt=0)

    # Store and training.
    flush_interval: float = Field(0.2, gt=0, le=5)
    snapshot_budget_bytes: int = Field(64 * 1024 * 1024, ge=1024)
    test_loss_every: int = Field(10, ge=1)
    shutdown_timeout: float = Field(3.0, gt=0)
    # A failed write is kept and retried every `store_retry_interval` seconds; a call that
    # must wait for a commit answers 503 after `store_write_timeout` seconds.
    store_write_timeout: float = Field(5.0, gt=0, le=600)
    store_retry_interval: float = Field(0.5, gt=0, le=60)

    # Training in worker processes (app/runs/process_pool.py): at most this many processes
    # (by default one per core); runs sharing one take turns of `training_turn` seconds.
    worker_processes: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=256)
    training_turn: float = Field(0.002, gt=0, le=1)
    # Memory (app/runs/memory.py estimates a run's): per run, and for all runs training at
    # once (by default a quarter of the machine's memory). A worker process is held to its
    # runs' estimates plus this slack by a hard limit (RLIMIT_DATA).
    max_run_memory_bytes: int = Field(1 << 30, ge=1 << 20)
    max_training_memory_bytes: int = Field(default_factory=lambda: _memory_bytes() // 4, ge=1 << 20)
    worker_memory_slack_bytes: int = Field(256 << 20, ge=16 << 20)
    # Worker processes run this much below the server's priority (os.nice), so the event loop
    # and the store's writer get a core the moment they need one.
    worker_niceness: int = Field(5, ge=0, le=19)
    # Snapshots a run has sent and the store not yet written: past this, training waits.
    max_unstored_snapshot_bytes: int = Field(64 << 20, ge=1 << 20)
    # Regular snapshots (app/store/schedule.py) a run takes at most this many bytes a second
    # of: a tiny net snapshots on schedule, a big one less often (replays stay bounded by
    # max_replay_work).
    snapshot_bytes_per_second: float = Field(16 << 20, gt=0)
    # GET /weights?step=k replays from the nearest snapshot: at most this many updates x
    # parameters x batch samples (about 10 s of CPU), else a 422 naming the setting.
    max_replay_work: float = Field(2e10, gt=0)
    # Every run stops ("finished") at this many steps: what bounds a run's storage (about 10
    # bytes a step) when it is left playing.
    max_run_steps: int = Field(10_000_000, ge=1, le=10**12)

    # Limits on what one request may ask for.
    max_layers: int = Field(12, ge=2)
    max_neurons: int = Field(2048, ge=1)
    max_parameters: int = Field(4_000_000, ge=1)
    max_samples: int = Field(20_000, ge=2)
    max_step_count: int = Field(100_000, ge=1)
    max_training_runs: int = Field(8, ge=1)
    # GET /history?points=N: buckets of a thinned history. At least 256, what the home page's
    # sparklines may ask for.
    max_history_points: int = Field(4096, ge=256)

    # The stream.
    max_viewers: int = Field(200, ge=1)
    max_client_message_bytes: int = Field(4096, ge=64)
    default_fps: float = Field(30.0, gt=0)
    max_fps: float = Field(60.0, gt=0)
    send_timeout: float = Field(10.0, gt=0)
    # After a manual step every step's frame is sent, up to this many per viewer.
    step_frame_backlog: int = Field(256, ge=1)
    # ...and up to this many bytes per viewer (arrays and serialised messages of its queued
    # frames): past it the oldest update frames are dropped (never a status frame, never the
    # newest update; `losses` in the next frame sent covers the skipped steps).
    viewer_backlog_bytes: int = Field(8 * 1024 * 1024, ge=0)
    # Recent losses kept in memory for the stream's `losses`; older ones are in the store.
    recent_history_steps: int = Field(1 << 18, ge=1024)
    # The `state` frame's history: the last `state_recent_steps` steps in full, and before
    # them at most `state_history_buckets` buckets of steps with their min and max loss.
    state_recent_steps: int = Field(1024, ge=1, le=1 << 20)
    state_history_buckets: int = Field(2048, ge=16, le=1 << 16)

    # The event loop's lag (/healthz `loop_lag_ms`): a task sleeps this long, again and again,
    # and records how late it wakes; the figures cover the last `loop_lag_window` seconds
    # (at most 4096 samples).
    loop_lag_interval: float = Field(0.05, ge=0.001, le=10)
    loop_lag_window: float = Field(60.0, gt=0, le=3600)

    # The server's guards: log lines and input ranges.
    # Access log lines for successful static files and the home page's polling (app/access_log.py).
    log_routine_requests: bool = False
    # The `function` data set's |x_min| and |x_max| at most this; the cap keeps x_max - x_min a
    # finite float, which sampling the range needs.
    max_dataset_x: float = Field(1e6, gt=0, le=1e300)

    # /api/descent: traces and curves run in worker processes of their own
    # (app/api/descent_pool.py). At most this many requests at once, one per worker; past it 429.
    max_descent_requests: int = Field(4, ge=1, le=64)
    # CPU seconds one trace or curve may use; past it 422 (the kernel ends a worker stuck
    # inside one step a second later).
    descent_cpu_seconds: float = Field(1.0, gt=0, le=600)
    # Points of f one curve request may ask for.
    max_descent_curve_points: int = Field(2000, ge=2, le=1_000_000)

    # Own data (POST /api/datasets, docs/own-data.md): an uploaded CSV's limits. Bytes stay
    # below max_body_bytes, so the upload's own limit is the one a too-large file meets.
    max_csv_bytes: int = Field(1_000_000, ge=1024)
    max_csv_rows: int = Field(20_000, ge=2)
    max_csv_columns: int = Field(256, ge=2)
    # Bounded history (GET /history without `points`): a run of up to `history_full_steps`
    # steps answers every step; a longer one its last `history_recent_steps` in full and the
    # steps before in `history_buckets` buckets (each with its min and max).
    history_full_steps: int = Field(100_000, ge=1)
    history_buckets: int = Field(1024, ge=16)
    history_recent_steps: int = Field(2048, ge=1)
    # Scores (GET /api/runs/{id} `metrics`, /scores): a forward pass over every row; runs
    # costing more multiply-adds than this (parameters × rows) are not scored.
    max_scores_work: int = Field(2_000_000_000, ge=1)

    @field_validator("allowed_origins", "allowed_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        # BACKPROP_ALLOWED_HOSTS=a,b reads more naturally than a JSON list.
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    def env_name(self, field: str) -> str:
        """The environment variable that sets `field`, for messages that name a limit."""
        return f"BACKPROP_{field.upper()}"
