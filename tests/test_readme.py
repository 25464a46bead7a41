"""The README opens with the two commands, and CI runs the second one word for word."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def opening_commands() -> list[str]:
    """The indented command lines of the README before its first section."""
    head = (ROOT / "README.md").read_text().split("\n## ")[0]
    return [line.strip() for line in head.splitlines() if line.startswith("    ")]


def test_the_readme_opens_with_install_and_run_then_install_and_test() -> None:
    run_app, run_tests = opening_commands()
    assert run_app.startswith("pip install") and "backprop-live serve" in run_app
    assert "pip install" in run_tests and "apt-get install -y chromium" in run_tests
    assert 'pytest -m "not load"' in run_tests and "pytest -m load" in run_tests
    assert "npm ci" in run_tests and "npx biome ci static" in run_tests
    assert "ruff check ." in run_tests and "python -m mypy" in run_tests


def test_ci_runs_the_readme_test_command() -> None:
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert opening_commands()[1] in ci_lines
