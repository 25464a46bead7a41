"""What every benchmark module hands the runner (`python -m bench`): rows of one table.

A module takes part by defining `measure(options: Options) -> list[Row]`. Each row is one
figure; where the issue behind it sets a target, the row says the target and whether the
figure meets it. Targets are ratios measured in the same run against a baseline, or figures
read from the server itself (its loop lag), never an absolute time this machine must beat.
"""

from __future__ import annotations

import os
import platform
import statistics
from pathlib import Path
from typing import NamedTuple


class Options(NamedTuple):
    quick: bool  # a smoke run of seconds: every row, figures not worth quoting
    long: bool  # also the slow points (a run left to 10 million steps)


class Row(NamedTuple):
    benchmark: str
    measure: str
    figure: str
    target: str = ""
    met: str = ""  # "yes", "no", or "" where there is no target


def judged(benchmark: str, measure: str, figure: str, target: str, ok: bool | None) -> Row:
    """A row with a target; `ok` None when the figure could not be measured."""
    return Row(benchmark, measure, figure, target, "" if ok is None else "yes" if ok else "no")


def table(rows: list[Row]) -> str:
    lines = ["| benchmark | measure | figure | target | met |", "|---|---|---|---|---|"]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def machine() -> str:
    return f"{os.cpu_count()} CPUs ({cpu_model()}), Python {platform.python_version()}"


def percentile(values: list[float], fraction: float) -> float:
    """Nearest rank: a value that was measured."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))]


def per_round(numerators: list[float], denominators: list[float]) -> list[float]:
    return [n / d for n, d in zip(numerators, denominators, strict=True)]


def median_range(ratios: list[float], form: str = ".2f") -> str:
    """The median of per-round ratios, with their range."""
    middle = statistics.median(ratios)
    if len(ratios) == 1:
        return f"{middle:{form}}"
    return f"{middle:{form}} ({min(ratios):{form}}-{max(ratios):{form}})"


def megabytes(nbytes: float) -> str:
    return f"{nbytes / 1e6:,.1f} MB" if nbytes >= 1e5 else f"{nbytes / 1e3:,.1f} kB"


def resident_bytes(pid: int, field: str = "VmRSS") -> int:
    """A process's resident memory (or its peak, `VmHWM`), from /proc."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def reset_peak(pid: int) -> bool:
    """Start the process's VmHWM afresh from now; False if the kernel does not allow it."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True
