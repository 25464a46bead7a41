"""How fast the engine makes one update, as ratios measured in the same run.

    python -m bench.engine [--seconds 0.2] [--rounds 9] [--clock wall|cpu]

Prints Markdown tables, the last one the engine's targets with today's figures:
- every small network (2-4-4-1, 1-8-8-1, 784-128-64-10) takes at most 1.05× the time of a plain
  textbook numpy MLP making the same update (`plain_numpy_step`);
- 2-4-4-1 is at least 4× faster than PyTorch CPU autograd (the `bench` extra);
- the 1024-wide float32 network reaches a share of numpy's matrix-product peak at least plain
  numpy's share minus 5 points.

An update is what `Trainer.update` does: forward pass over the batch, its loss, backward pass,
W ← W − α·dW, and the engine's divergence check (which the baseline and torch leave out).
Every network uses sigmoid layers and the mse loss on the whole batch, with the same initial
weights and data in every engine.

Each measurement is a number of rounds. In a round every step of a table row (the engine, the
plain numpy baseline, torch, and for the large network numpy's peak) runs for one window, back
to back, so all of them meet the same load from other jobs on a shared machine. Ratios are taken
within a round; the tables give their median over the rounds, with the range. Times per update
are medians over the rounds too.

On a machine that other jobs keep busy, wall-clock windows differ by several times from one to
the next. Then time the process's CPU time on one thread, which leaves out the waits for a core
(with more threads it would count the time BLAS's and torch's helper threads spin):

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python -m bench.engine --clock cpu
"""

from __future__ import annotations

import os

# Before numpy loads its BLAS: after each threaded product openblas keeps its idle threads
# spinning for about 0.1 s (2^28 cycles, the default), and in the window after the engine's
# that took a core from torch's threads. With 2^4 they sleep at once: torch's 1024-wide update
# went from 42-54 % of the peak to 84-87 %, while the engine's stayed within the noise
# (63-67 %). Set OPENBLAS_THREAD_TIMEOUT yourself to measure otherwise.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

import argparse
import platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from app.nn.datasets import Dataset
from app.nn.trainer import Trainer, TrainingConfig

ROUNDS = 9
RATE = 0.1


@dataclass(frozen=True)
class Case:
    layers: tuple[int, ...]
    samples: int

    @property
    def name(self) -> str:
        return "-".join(map(str, self.layers)) + f" on {self.samples}"

    def matmul_flops(self) -> int:
        """Multiply-adds ×2 of the products in one update: forward, ∂L/∂W, and the deltas
        carried back into every layer but the input."""
        pairs = list(zip(self.layers[:-1], self.layers[1:], strict=False))
        forward = sum(2 * self.samples * i * o for i, o in pairs)
        backward = sum(2 * self.samples * i * o for i, o in pairs[1:])
        return 2 * forward + backward


CASES = [Case((2, 4, 4, 1), 200), Case((1, 8, 8, 1), 64), Case((784, 128, 64, 10), 64)]
LARGE = Case((1024, 1024, 1024, 10), 256)


def make_trainer(case: Case, dtype: str) -> Trainer:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1.0, 1.0, (case.samples, case.layers[0]))
    y = rng.uniform(0.0, 1.0, (case.samples, case.layers[-1]))
    data = Dataset(x, y, x[:0], y[:0])
    activations = ("sigmoid",) * (len(case.layers) - 1)
    config = TrainingConfig(case.layers, activations, learning_rate=RATE, dtype=dtype)
    return Trainer(config, data)


Clock = Callable[[], float]
CLOCKS: dict[str, Clock] = {"wall": time.perf_counter, "cpu": time.process_time}


def calls_per_window(step: Callable[[], object], window: float, clock: Clock) -> int:
    step()  # warm up (first-call allocations, torch's lazy set-up)
    calls, start = 0, clock()
    while clock() - start < window:
        step()
        calls += 1
    return max(1, calls)


def in_rounds(
    steps: dict[str, Callable[[], object]], window: float, rounds: int, clock: Clock
) -> dict[str, list[float]]:
    """Seconds per call of each step in each round: a round runs every step for about one
    window, one after another (see the module docstring)."""
    counts = {name: calls_per_window(step, window, clock) for name, step in steps.items()}
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = clock()
            for _ in range(counts[name]):
                step()
            times[name].append((clock() - start) / counts[name])
    return times


def median(values: list[float]) -> float:
    return float(np.median(values))


def ratio(numerators: list[float], denominators: list[float], form: str = ".2f") -> str:
    """The median of the within-round ratios, with their range."""
    ratios = [n / d for n, d in zip(numerators, denominators, strict=True)]
    return f"{median(ratios):{form}} ({min(ratios):{form}}-{max(ratios):{form}})"


def torch_step(trainer: Trainer) -> Callable[[], object] | None:
    """The same update in PyTorch, from the trainer's own weights and data; None without torch."""
    try:
        import torch
    except ImportError:
        return None
    dtype = getattr(torch, trainer.config.dtype)
    layers: list[Any] = []
    for weight, bias in zip(trainer.network.weights, trainer.network.biases, strict=True):
        fan_in, fan_out = weight.shape
        linear = torch.nn.Linear(fan_in, fan_out, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weight.T.copy()))
            linear.bias.copy_(torch.from_numpy(bias.copy()))
        layers += [linear, torch.nn.Sigmoid()]
    model = torch.nn.Sequential(*layers)
    optimiser = torch.optim.SGD(model.parameters(), lr=RATE)
    x = torch.from_numpy(trainer.data.x_train)
    y = torch.from_numpy(trainer.data.y_train)
    count = len(x)

    def step() -> float:
        optimiser.zero_grad(set_to_none=True)
        loss = 0.5 * ((model(x) - y) ** 2).sum() / count
        loss.backward()
        optimiser.step()
        return float(loss.item())

    return step


def plain_numpy_step(trainer: Trainer) -> Callable[[], object]:
    """The baseline: the textbook numpy update written out the way a tutorial MLP does it (no
    bookkeeping, no checks), on copies of the trainer's weights and data. Like the engine's
    update it computes the batch's loss, which the engine reports with every update."""
    weights = [w.copy() for w in trainer.network.weights]
    biases = [b.copy() for b in trainer.network.biases]
    x, y = trainer.data.x_train, trainer.data.y_train

    def step() -> float:
        activations = [x]
        for weight, bias in zip(weights, biases, strict=True):
            activations.append(1.0 / (1.0 + np.exp(-(activations[-1] @ weight + bias))))
        out = activations[-1]
        loss = 0.5 * np.sum((out - y) ** 2) / len(y)
        delta = (out - y) / len(y) * out * (1.0 - out)
        for layer in range(len(weights) - 1, -1, -1):
            weight_gradient = activations[layer].T @ delta
            bias_gradient = delta.sum(axis=0)
            if layer:
                below = activations[layer]
                delta = (delta @ weights[layer].T) * below * (1.0 - below)
            weights[layer] -= RATE * weight_gradient
            biases[layer] -= RATE * bias_gradient
        return float(loss)

    return step


def big_products(trainer: Trainer) -> tuple[Callable[[], object], int]:
    """The large network's five 256×1024×1024 products alone (two forward, two ∂L/∂W, one delta
    carried back) on the engine's own arrays, and their FLOPs: the part of an update that runs
    near the matrix-product peak, against which the rest (memory-bound) can be read."""
    network = trainer.network
    forward = network.forward(trainer.data.x_train)
    deltas = network.backward(forward, trainer.data.y_train).deltas
    activations, weights = forward.activations, network.weights

    def step() -> None:
        for layer in (0, 1):
            np.matmul(activations[layer], weights[layer])
            np.matmul(activations[layer].T, deltas[layer])
        np.matmul(deltas[1], weights[1].T)

    samples, width = LARGE.samples, LARGE.layers[1]
    return step, 5 * 2 * samples * width * width


def square_product(dtype: str, size: int) -> Callable[[], object]:
    a = np.random.default_rng(1).random((size, size)).astype(dtype)
    return lambda: a @ a


class Row(NamedTuple):
    """A table row's cells, and the within-round ratios the targets are judged on."""

    cells: list[str]
    figures: dict[str, list[float]]


def update_row(case: Case, dtype: str, window: float, rounds: int, clock: Clock) -> Row:
    steps: dict[str, Callable[[], object]] = {"engine": make_trainer(case, dtype).update}
    steps["plain"] = plain_numpy_step(make_trainer(case, dtype))
    torch = torch_step(make_trainer(case, dtype))
    if torch is not None:
        steps["torch"] = torch
    times = in_rounds(steps, window, rounds, clock)
    ours, plain = times["engine"], times["plain"]
    cells = [case.name, dtype, f"{median(ours) * 1e6:,.1f}", f"{median(plain) * 1e6:,.1f}"]
    cells.append(ratio(ours, plain))
    figures = {"engine/plain": per_round(ours, plain)}
    if torch is None:
        return Row([*cells, "torch not installed", ""], figures)
    cells += [f"{median(times['torch']) * 1e6:,.1f}", ratio(times["torch"], ours)]
    return Row(cells, figures | {"torch/engine": per_round(times["torch"], ours)})


def large_row(dtype: str, window: float, rounds: int, clock: Clock) -> Row:
    """The large network's update, the plain numpy baseline's, torch's, and numpy's
    matrix-product peak, in rounds; shares of peak are taken within each round."""
    steps: dict[str, Callable[[], object]] = {"engine": make_trainer(LARGE, dtype).update}
    steps["plain"] = plain_numpy_step(make_trainer(LARGE, dtype))
    steps |= {f"peak {n}": square_product(dtype, n) for n in (1024, 2048)}
    steps["products"], product_flops = big_products(make_trainer(LARGE, dtype))
    torch = torch_step(make_trainer(LARGE, dtype))
    if torch is not None:
        steps["torch"] = torch
    times = in_rounds(steps, window, rounds, clock)
    # A round's peak is the faster of its two square products (as a time for the update's FLOPs).
    flops = LARGE.matmul_flops()
    peak_rates = [
        max(2 * n**3 / times[f"peak {n}"][r] for n in (1024, 2048)) for r in range(rounds)
    ]
    at_peak = [flops / rate for rate in peak_rates]  # the update's FLOPs at the round's peak
    engine = median(times["engine"])
    cells = [f"{engine * 1e3:.1f}", f"{flops / engine / 1e9:.0f}"]
    cells.append(f"{median(peak_rates) / 1e9:.0f}")
    cells.append(ratio(at_peak, times["engine"], ".0%"))
    products_at_peak = [product_flops / rate for rate in peak_rates]
    cells.append(
        f"{median(times['products']) * 1e3:.1f} ms, "
        + ratio(products_at_peak, times["products"], ".0%")
    )
    cells.append(f"{median(times['plain']) * 1e3:.1f} ms, " + ratio(at_peak, times["plain"], ".0%"))
    theirs = "torch not installed"
    if torch is not None:
        theirs = f"{median(times['torch']) * 1e3:.1f} ms, " + ratio(at_peak, times["torch"], ".0%")
    engine_share = per_round(at_peak, times["engine"])
    plain_share = per_round(at_peak, times["plain"])
    points = [100 * (e - p) for e, p in zip(engine_share, plain_share, strict=True)]
    return Row([LARGE.name, dtype, *cells, theirs], {"share points over plain": points})


def per_round(numerators: list[float], denominators: list[float]) -> list[float]:
    return [n / d for n, d in zip(numerators, denominators, strict=True)]


def targets(small: list[Row], large: list[Row]) -> list[list[str]]:
    """One line per target: the figure it is judged on (median, range), and whether it is met."""
    lines = []
    for row in small:
        name = f"{row.cells[0]} {row.cells[1]}: engine / plain numpy"
        lines.append(judged(name, row.figures["engine/plain"], "≤ 1.05", lambda m: m <= 1.05))
    for row in small[:2]:  # 2-4-4-1 in both dtypes
        if "torch/engine" in row.figures:
            name = f"{row.cells[0]} {row.cells[1]}: torch / engine"
            lines.append(judged(name, row.figures["torch/engine"], "≥ 4", lambda m: m >= 4))
    for row in large:
        name = f"{row.cells[0]} {row.cells[1]}: engine's share of peak − plain numpy's, points"
        figures = row.figures["share points over plain"]
        lines.append(judged(name, figures, "≥ −5", lambda m: m >= -5, ".1f"))
    return lines


def judged(
    name: str, figures: list[float], target: str, met: Callable[[float], bool], form: str = ".3f"
) -> list[str]:
    middle = median(figures)
    figure = f"{middle:{form}} ({min(figures):{form}} to {max(figures):{form}})"
    return [name, target, figure, "yes" if met(middle) else "no"]


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join([*lines, *("| " + " | ".join(row) + " |" for row in rows)])


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = next(
            line.split(":", 1)[1].strip() for line in lscpu.splitlines() if "Model name" in line
        )
    except (OSError, subprocess.CalledProcessError, StopIteration):
        pass
    versions = f"numpy {np.__version__}"
    try:
        import torch

        versions += f", torch {torch.__version__} ({torch.get_num_threads()} threads)"
    except ImportError:
        versions += ", torch not installed"
    load = os.getloadavg()[0]
    return f"{model}, {os.cpu_count()} CPUs, load average {load:.1f}; {versions}; {blas()}"


def blas() -> str:
    core = os.environ.get("OPENBLAS_CORETYPE", "unset")
    core += f", OPENBLAS_THREAD_TIMEOUT={os.environ['OPENBLAS_THREAD_TIMEOUT']}"
    try:
        from threadpoolctl import threadpool_info  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        return f"OPENBLAS_CORETYPE={core} (threadpoolctl not installed)"
    libraries = [
        f"{i['internal_api']} {i.get('version')}, kernel {i.get('architecture')}, "
        f"{i['num_threads']} threads"
        for i in threadpool_info()
        if i["user_api"] == "blas"
    ]
    return f"OPENBLAS_CORETYPE={core}; BLAS: {'; '.join(libraries)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.2, help="window per step per round")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="rounds per table row")
    parser.add_argument(
        "--clock",
        choices=list(CLOCKS),
        default="wall",
        help="wall time, or the process's CPU time (all its threads): on a machine busy with "
        "other jobs CPU time leaves out the waits for a core",
    )
    arguments = parser.parse_args()
    window, rounds, clock = arguments.seconds, arguments.rounds, CLOCKS[arguments.clock]
    print(machine(), end="\n\n")
    print(
        f"{rounds} rounds of {window} s windows of {arguments.clock} time; medians over the "
        "rounds, (range)",
        end="\n\n",
    )
    small = [
        update_row(case, dtype, window, rounds, clock)
        for case in CASES
        for dtype in ("float64", "float32")
    ]
    header = ["network, samples", "dtype", "engine µs/update", "plain numpy µs/update"]
    header += ["engine/plain", "torch µs/update", "torch/engine"]
    print(table(header, [row.cells for row in small]), end="\n\n")
    large = [large_row(dtype, window, rounds, clock) for dtype in ("float32", "float64")]
    header = ["network, samples", "dtype", "engine ms/update", "engine GFLOP/s"]
    header += ["numpy matmul peak GFLOP/s", "engine share of peak"]
    header += ["its five 1024² products alone, share of peak"]
    header += ["plain numpy, share of peak", "torch, share of peak"]
    print(table(header, [row.cells for row in large]), end="\n\n")
    header = ["target", "wanted", "median of the rounds (range)", "met"]
    print(table(header, targets(small, large[:1])))


if __name__ == "__main__":
    main()
