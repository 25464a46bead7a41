"""The default /history is bounded, zoomed ranges are exact, the CSV has every step, and an
export makes the same run again."""

from __future__ import annotations

import csv
import io
import tracemalloc
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from app.store import RunStore
from app.store.export import csv_lines, iter_history
from tests.store.conftest import make_run

CONFIG = {"layers": [2, 3, 1], "learning_rate": 0.5, "dataset": {"kind": "xor", "seed": 2}}


def short_settings(tmp_path: Path) -> Settings:
    return Settings(
        db_path=tmp_path / "runs.db",
        allowed_hosts=["testserver"],
        history_full_steps=48,
        history_buckets=16,
        history_recent_steps=32,
        test_loss_every=5,
    )


def stepped(client: TestClient, count: int, config: dict[str, Any] = CONFIG) -> str:
    run_id: str = client.post("/api/runs", json=config).json()["id"]
    client.post(f"/api/runs/{run_id}/step", json={"count": count})
    return run_id


def every_step(client: TestClient, run_id: str) -> list[dict[str, str]]:
    text = client.get(f"/api/runs/{run_id}/history?format=csv").text
    return list(csv.DictReader(io.StringIO(text)))


def test_a_long_run_answers_recent_steps_in_full_and_buckets_before(tmp_path: Path) -> None:
    with TestClient(create_app(short_settings(tmp_path))) as client:
        run_id = stepped(client, 200)
        answer = client.get(f"/api/runs/{run_id}/history").json()
        rows = every_step(client, run_id)
    assert len(rows) == 201 and [int(r["step"]) for r in rows] == list(range(201))
    loss = [float(r["loss"]) for r in rows]
    assert answer["steps"] == list(range(169, 201)) and answer["loss"] == loss[169:]
    earlier = answer["earlier"]
    width = earlier["bucket_steps"]
    assert width == 11 and len(earlier["steps"]) <= 16  # 169 steps in at most 16 buckets
    for first, low, high in zip(
        earlier["steps"], earlier["loss_min"], earlier["loss_max"], strict=True
    ):
        bucket = loss[first : min(first + width, 169)]
        assert (low, high) == (min(bucket), max(bucket))
    tests = {int(r["step"]): float(r["test_loss"]) for r in rows if r["test_loss"]}
    assert sorted(tests)[:3] == [0, 5, 10]
    assert answer["test_loss"][answer["steps"].index(170)] == tests[170]


def test_a_zoomed_range_of_few_steps_is_exact(client: TestClient) -> None:
    run_id = stepped(client, 120)
    rows = every_step(client, run_id)
    zoom = client.get(f"/api/runs/{run_id}/history?start=40&end=70&points=64").json()
    assert zoom["bucket_steps"] == 1 and zoom["steps"] == list(range(40, 71))
    assert zoom["loss_min"] == zoom["loss_max"] == [float(r["loss"]) for r in rows[40:71]]
    wide = client.get(f"/api/runs/{run_id}/history?start=0&end=119&points=4").json()
    assert wide["bucket_steps"] == 30 and wide["steps"] == [0, 30, 60, 90]
    bad = client.get(f"/api/runs/{run_id}/history?start=90&end=80")
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "start"


def test_the_csv_is_read_in_constant_memory(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    store = RunStore(path)
    store.open()
    store.create_run(make_run())
    for first in range(0, 1_000_000, 50_000):
        store.add_losses("r1", first, [0.1 + 1e-9 * s for s in range(first, first + 50_000)])
    store.close()
    tracemalloc.start()
    try:
        lines = 0
        for block in csv_lines(iter_history(path, "r1", 0, 10**9)):
            lines += block.count(b"\n")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert lines == 1_000_001
    # The whole history as three arrays would be 24 MB and its lines 30 MB more; read a window
    # (64 Ki steps) at a time it peaks at about 11 MiB, the same for any length of run.
    assert peak < 16 * 2**20


def test_an_export_recreates_the_same_run(client: TestClient) -> None:
    run_id = stepped(client, 37, CONFIG | {"batch_size": 8, "momentum": 0.5})
    client.patch(f"/api/runs/{run_id}", json={"learning_rate": 0.25})
    exported = client.get(f"/api/runs/{run_id}/export")
    assert "attachment" in exported.headers["content-disposition"]
    document = exported.json()
    assert document["weights"]["step"] == 37 and document["history"]["steps"][-1] == 37
    assert document["scores"]["class_names"] == ["0", "1"]
    again = client.post("/api/runs", json=document["config"])
    assert again.status_code == 201
    again_id = again.json()["id"]
    client.post(f"/api/runs/{again_id}/step", json={"count": 37})
    weights = client.get(f"/api/runs/{again_id}/weights").json()
    assert weights["weights"] == document["weights"]["weights"]
    assert weights["biases"] == document["weights"]["biases"]
