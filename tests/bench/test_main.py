"""`python -m bench`: every benchmark runs and lands in one table (figures not checked)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import last_table, modules
from bench.report import Row

REPO = Path(__file__).resolve().parents[2]

# The rows each benchmark must print, by the start of their measure (the figures vary).
EXPECTED = {
    "engine": ["2-4-4-1 on 200 float64: engine / plain numpy"],
    "server": [
        "bare engine loop",
        "server, 0 viewers",
        "server, 20 viewers",
        "server, 100 viewers",
        "update → frame latency p99, 1 viewers",
        "update → frame latency p99, 20 viewers",
        "manual step of count 1",
        "2-4-4-1 frame through the pipe",
        "784-128-64-10 frame through the pipe",
    ],
    "workers": [
        "two 2-4-4-1 runs on two worker processes",
        "event loop lag p99, idle",
        "event loop lag p99, 8 runs training",
    ],
    "long runs": [
        "at 10⁴ steps: server memory",
        "at 10⁴ steps: open the stream after a restart",
        "at 10⁴ steps: default GET /history",
        "at 10⁴ steps: 10 viewers open the stream at once",
        "at 10⁷ steps",
    ],
    "store": ["raw SQLite inserts", "RunStore, add_losses with 1 loss", "flush()", "read a run"],
    "page draw": ["run page frame, 2-6-5-1", "loss chart redraw with 1,000,000 steps"],
}


def table_rows(stdout: str) -> list[list[str]]:
    lines = [line for line in stdout.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


@pytest.mark.slow
@pytest.mark.browser
def test_quick_run_prints_every_benchmarks_rows() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = table_rows(done.stdout)
    assert rows[0] == ["benchmark", "measure", "figure", "target", "met"]
    body = rows[1:]
    names = {row[0] for row in body}
    assert set(EXPECTED) <= names
    assert len(names) == len(modules())  # every module of bench/, each under one name
    assert not [row for row in body if row[1] == "failed"]
    for benchmark, starts in EXPECTED.items():
        measures = [row[1] for row in body if row[0] == benchmark]
        for start in starts:
            assert any(m.startswith(start) for m in measures), (benchmark, start, measures)
    # A row says whether it meets its target (or nothing, if it could not be measured); a
    # row without a target says nothing.
    for row in body:
        assert len(row) == 5
        assert row[4] in (("yes", "no", "") if row[3] else ("",)), row
    assert "Load average" in done.stdout


def test_only_an_unknown_name_is_refused_naming_the_benchmarks() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "nosuch"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "no benchmark named nosuch" in done.stderr
    for name in ("engine", "server", "workers", "long_runs", "store"):
        assert name in done.stderr


def test_modules_run_in_the_issues_order_then_the_others() -> None:
    assert modules()[:5] == ["engine", "server", "workers", "long_runs", "store"]
    assert "report" not in modules() and "__main__" not in modules()


def test_a_child_modules_targets_table_keeps_its_columns() -> None:
    printed = [
        "machine line\n",
        "| net | time |\n",
        "|---|---|\n",
        "| 2-4-4-1 | 50 µs |\n",
        "\n",
        "| target | wanted | median of the rounds (range) | met |\n",
        "|---|---|---|---|\n",
        "| 2-4-4-1: engine / plain | ≤ 1.05 | 0.98 (0.95 to 1.01) | yes |\n",
    ]
    assert last_table("engine", printed) == [
        Row("engine", "2-4-4-1: engine / plain", "0.98 (0.95 to 1.01)", "≤ 1.05", "yes")
    ]


def test_any_other_table_becomes_measure_and_figures() -> None:
    printed = ["| net | time | note |\n", "| --- | ---: | --- |\n", "| 2-4-4-1 | 50 µs | x |\n"]
    assert last_table("probe", printed) == [Row("probe", "2-4-4-1", "time: 50 µs; note: x")]
    said = ["a\n", "\n", "b: 1 ms\n", "c: 2 MB\n", "d\n"]
    assert last_table("probe", said) == [Row("probe", "its output", "b: 1 ms; c: 2 MB; d")]
