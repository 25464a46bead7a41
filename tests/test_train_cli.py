"""`backprop-live train`: a run trained without a server lands in the store a server reads."""

from __future__ import annotations

import io
import json
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import httpx

from app.nn.datasets import make_dataset
from app.nn.trainer import Trainer
from app.runs.config import RunConfig
from app.store import RunStore
from app.train_cli import Progress
from tests.support.server import LiveServer

CONFIG = {"layers": [2, 4, 1], "learning_rate": 1.0, "dataset": {"kind": "xor", "seed": 3}}


def train(tmp_path: Path, config: object, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    command = [sys.executable, "-m", "app", "train", str(path), "--db", str(tmp_path / "runs.db")]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=120)


def test_a_trained_run_shows_on_a_server_started_afterwards(tmp_path: Path) -> None:
    export = tmp_path / "out.json"
    result = train(tmp_path, CONFIG, "--steps", "300", "--export", str(export))
    assert result.returncode == 0 and result.stderr == ""  # quiet: not a terminal
    run_id = result.stdout.strip()
    with LiveServer(tmp_path / "runs.db").start() as server:
        listed = httpx.get(f"{server.url}/api/runs").json()
        assert [(r["id"], r["step"], r["status"]) for r in listed] == [(run_id, 300, "paused")]
        history = httpx.get(f"{server.url}/api/runs/{run_id}/history").json()
        assert history["steps"] == list(range(301))
        weights = httpx.get(f"{server.url}/api/runs/{run_id}/weights?step=150").json()
    # The same updates as the engine makes, so the server replays them exactly.
    config = RunConfig.model_validate(CONFIG)
    trainer = Trainer(config.training_config(), make_dataset(config.dataset_spec()))
    for _ in range(150):
        trainer.update()
    assert weights["weights"] == [w.tolist() for w in trainer.network.weights]
    document = json.loads(export.read_text())
    assert document["weights"]["step"] == 300 and document["id"] == run_id
    assert history["loss"][-1] == document["history"]["loss"][-1]


def test_a_bad_config_exits_2_with_the_reason_in_one_line(tmp_path: Path) -> None:
    result = train(tmp_path, {"layers": [2, 0, 1]}, "--steps", "5")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "layers.1" in result.stderr
    no_steps = train(tmp_path, CONFIG)
    assert no_steps.returncode == 2 and "--steps" in no_steps.stderr


def test_divergence_exits_1_and_is_stored(tmp_path: Path) -> None:
    config = {"layers": [2, 4, 1], "activation": "linear", "learning_rate": 1e9}
    result = train(tmp_path, config, "--steps", "100")
    assert result.returncode == 1 and "diverged at step" in result.stderr
    store = RunStore(tmp_path / "runs.db")
    store.open()
    try:
        (run,) = store.list_runs()
        assert run.status == "diverged" and run.message
        assert store.history(run.id)[0] == list(range(run.step + 1))
    finally:
        store.close()


def started_training(db: Path) -> bool:
    if not db.exists():
        return False
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)) as conn:
            row = conn.execute("SELECT max(step) FROM runs").fetchone()
    except sqlite3.Error:
        return False
    return row is not None and row[0] is not None and row[0] > 0


def test_ctrl_c_stops_cleanly_with_the_run_saved(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(CONFIG))
    command = [sys.executable, "-m", "app", "train", str(path), "--steps", "100000000"]
    process = subprocess.Popen(
        [*command, "--db", str(tmp_path / "runs.db")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Interrupted once it trains: its run is stored, past step 0.
    deadline = time.monotonic() + 60
    while not started_training(tmp_path / "runs.db"):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130 and "saved" in err
    store = RunStore(tmp_path / "runs.db")
    store.open()
    try:
        run = store.get_run(out.strip())
        assert run is not None and run.status == "paused" and run.step > 0
        assert store.history(run.id)[0] == list(range(run.step + 1))
        assert store.latest_snapshot(run.id) is not None
        assert store.latest_snapshot(run.id)[0] == run.step  # type: ignore[index]
    finally:
        store.close()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_shows_step_loss_and_rate_on_a_terminal_only() -> None:
    shown = Terminal()
    Progress(shown, total=100).show(50, 0.125, time.monotonic() + 1.0, final=True)
    assert "step 50" in shown.getvalue() and "loss 0.125" in shown.getvalue()
    assert "updates/s" in shown.getvalue() and "#" * 12 in shown.getvalue()
    quiet = io.StringIO()
    Progress(quiet, total=100).show(50, 0.125, time.monotonic() + 1.0, final=True)
    assert quiet.getvalue() == ""


def test_a_database_a_server_is_serving_is_refused_in_one_line(tmp_path: Path) -> None:
    with LiveServer(tmp_path / "runs.db").start():
        result = train(tmp_path, CONFIG, "--steps", "10")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "runs.db" in result.stderr and result.stdout == ""
