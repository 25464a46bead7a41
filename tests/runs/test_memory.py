"""A run's memory estimate: what decides whether it may be created or started."""

from __future__ import annotations

from collections.abc import Mapping

from app.runs.config import RunConfig
from app.runs.memory import run_memory_bytes
from app.settings import Settings

SNAPSHOTS = 64 << 20
ROWS = 20_000


def estimate(config: Mapping[str, object]) -> int:
    return run_memory_bytes(RunConfig.model_validate(config), SNAPSHOTS, ROWS)


def test_the_largest_run_within_every_shape_limit_is_over_the_default_budget() -> None:
    """12 layers of 600 neurons on 20,000 samples: about 1.2 GB of passes over the data."""
    big = {"layers": [2, *[600] * 10, 1], "dataset": {"kind": "spiral", "samples": 20_000}}
    assert estimate(big) > Settings().max_run_memory_bytes
    assert estimate({"layers": [2, 4, 4, 1]}) < 1 << 20  # the article's example: under 1 MB


def test_the_estimate_grows_with_the_data_and_the_network() -> None:
    small = {"layers": [2, 8, 1], "dataset": {"kind": "spiral", "samples": 200}}
    more_data = {"layers": [2, 8, 1], "dataset": {"kind": "spiral", "samples": 2000}}
    wider = {"layers": [2, 64, 1], "dataset": {"kind": "spiral", "samples": 200}}
    assert estimate(small) < estimate(more_data) and estimate(small) < estimate(wider)


def test_tables_are_estimated_by_their_rows() -> None:
    iris = {"layers": [4, 8, 3], "dataset": {"kind": "iris"}, "loss": "cross_entropy"}
    csv = {
        "layers": [4, 8, 3],
        "loss": "cross_entropy",
        "dataset": {"kind": "csv", "id": "ab", "inputs": ["a", "b", "c", "d"], "targets": ["y"]},
    }
    assert estimate(iris) < estimate(csv)  # 150 rows against the largest allowed table
