"""Run every benchmark in turn and print one table.

    python -m bench [--quick] [--long] [--only NAME[,NAME...]]

Modules run in the order engine, server, workers, long_runs, store, then any other module of
bench/ in alphabetical order. A module that defines `measure(options)` (bench/report.py) runs
in this process and returns its rows. Any other runs as `python -m bench.NAME` in a child
process (the engine does: it must set its BLAS environment before numpy loads); its output goes
to stderr as it comes, and the last Markdown table it prints becomes its rows (a table of
`target | wanted | figure | met` keeps those columns).

--quick is a smoke run of seconds, every row present, figures not worth quoting. --long adds
the 10⁷-step point of the long-run benchmark (several minutes more). The table goes to stdout;
progress and each module's own detail go to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench.report import Options, Row, load_average, machine, table

ORDER = ["engine", "server", "workers", "long_runs", "store"]
NOT_BENCHMARKS = {"__main__", "report"}
# Arguments of the modules run as child processes: (full run, quick run).
CHILD_ARGUMENTS: dict[str, tuple[list[str], list[str]]] = {
    "engine": ([], ["--seconds", "0.01", "--rounds", "1"]),
    "csv_upload": ([], ["--rounds", "1"]),
    "history": ([], ["--steps", "100000"]),
    "neuron_maps": ([], ["--repeat", "3"]),
    "train_cli": ([], ["--steps", "2000", "--rounds", "1"]),
}


def modules() -> list[str]:
    here = Path(__file__).resolve().parent
    present = [info.name for info in pkgutil.iter_modules([str(here)])]
    present = [name for name in present if name not in NOT_BENCHMARKS]
    return [name for name in ORDER if name in present] + sorted(set(present) - set(ORDER))


def run_module(name: str, options: Options) -> list[Row]:
    module = importlib.import_module(f"bench.{name}")
    measure = getattr(module, "measure", None)
    if measure is not None:
        rows: list[Row] = measure(options)
        return rows
    full, quick = CHILD_ARGUMENTS.get(name, ([], []))
    command = [sys.executable, "-m", f"bench.{name}", *(quick if options.quick else full)]
    output = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        for line in child.stdout:
            sys.stderr.write(line)
            output.append(line)
    if child.returncode:
        raise RuntimeError(f"{' '.join(command[1:])} exited with code {child.returncode}")
    return last_table(name, output)


def last_table(name: str, lines: list[str]) -> list[Row]:
    """The rows of the last Markdown table in `lines`; without one, its last lines."""
    blocks: list[list[list[str]]] = []
    previous_was_row = False
    for line in lines:
        is_row = line.startswith("|")
        if is_row:
            if not previous_was_row:
                blocks.append([])
            blocks[-1].append([cell.strip() for cell in line.strip().strip("|").split("|")])
        previous_was_row = is_row
    if not blocks:
        said = [line.strip() for line in lines if line.strip()][-3:]
        return [Row(name, "its output", "; ".join(said) or "nothing")]
    header, *body = blocks[-1]
    body = [cells for cells in body if not set("".join(cells)) <= set("-: ")]
    if [cell.lower() for cell in header[:2]] == ["target", "wanted"] and len(header) == 4:
        return [Row(name, cells[0], cells[2], cells[1], cells[3]) for cells in body]
    return [
        Row(
            name,
            cells[0],
            "; ".join(f"{h}: {c}" for h, c in zip(header[1:], cells[1:], strict=False)),
        )
        for cells in body
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of seconds")
    parser.add_argument("--long", action="store_true", help="add the 10⁷-step point")
    parser.add_argument("--only", default="", help="comma-separated module names")
    arguments = parser.parse_args()
    options = Options(quick=arguments.quick, long=arguments.long)
    chosen = modules()
    if arguments.only:
        wanted = [name.strip().replace("-", "_") for name in arguments.only.split(",")]
        unknown = sorted(set(wanted) - set(chosen))
        if unknown:
            parser.error(f"no benchmark named {', '.join(unknown)}; there are {', '.join(chosen)}")
        chosen = [name for name in chosen if name in wanted]
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load_before = load_average()
    rows: list[Row] = []
    failed = False
    for name in chosen:
        print(f"-- {name}", file=sys.stderr, flush=True)
        began = time.monotonic()
        try:
            rows += run_module(name, options)
        except Exception as error:
            traceback.print_exc()
            rows.append(Row(name, "failed", f"{type(error).__name__}: {error}"[:200], "", "no"))
            failed = True
        print(f"-- {name}: {time.monotonic() - began:.0f} s", file=sys.stderr, flush=True)
    command = " ".join(["python -m bench", *sys.argv[1:]])
    print(f"`{command}` on {machine()}, {started}.")
    print(f"Load average (1, 5, 15 min) {load_before} at the start, {load_average()} at the end.")
    print()
    print(table(rows))
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
