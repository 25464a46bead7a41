"""How fast the engine makes one update, next to PyTorch doing the same update.

    python -m bench.engine [--seconds 0.3]

Prints Markdown tables. An update is what `Trainer.update` does: forward pass over the batch,
loss, backward pass, W ← W − α·∂L/∂W (plus the engine's divergence check). Every network uses
sigmoid layers and the mse loss on the whole batch (plain gradient descent), with the same
initial weights and data in both engines. PyTorch (CPU, autograd, torch.optim.SGD) is an
optional extra; without it the torch columns say so.

Engine and torch timings alternate, several rounds each, and the fastest round counts: on a
shared machine the minimum is the figure least disturbed by other jobs. The large network's
matrix-product rate is set beside numpy's own peak for a plain matrix product, measured in the
same run, and beside the rate of its five large products run alone.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.nn.datasets import Dataset
from app.nn.trainer import Trainer, TrainingConfig

ROUNDS = 5
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


def calls_per_round(step: Callable[[], object], seconds: float) -> int:
    step()  # warm up (first-call allocations, torch's lazy set-up)
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds / ROUNDS:
        step()
        calls += 1
    return max(1, calls)


def fastest(steps: dict[str, Callable[[], object]], seconds: float) -> dict[str, float]:
    """Seconds per call of each step: rounds alternate between the steps, so a burst of load
    from other jobs hits them all alike, and each step's fastest round counts."""
    counts = {name: calls_per_round(step, seconds) for name, step in steps.items()}
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(ROUNDS):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(counts[name]):
                step()
            best[name] = min(best[name], (time.perf_counter() - start) / counts[name])
    return best


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
    """The baseline: the textbook numpy update (no bookkeeping, no views, no checks), written
    out the way a tutorial MLP does it, on copies of the trainer's weights and data."""
    weights = [w.copy() for w in trainer.network.weights]
    biases = [b.copy() for b in trainer.network.biases]
    x, y = trainer.data.x_train, trainer.data.y_train

    def step() -> None:
        activations = [x]
        for weight, bias in zip(weights, biases, strict=True):
            activations.append(1.0 / (1.0 + np.exp(-(activations[-1] @ weight + bias))))
        out = activations[-1]
        delta = (out - y) / len(y) * out * (1.0 - out)
        for layer in range(len(weights) - 1, -1, -1):
            weight_gradient = activations[layer].T @ delta
            bias_gradient = delta.sum(axis=0)
            if layer:
                below = activations[layer]
                delta = (delta @ weights[layer].T) * below * (1.0 - below)
            weights[layer] -= RATE * weight_gradient
            biases[layer] -= RATE * bias_gradient

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


def update_row(case: Case, dtype: str, seconds: float) -> list[str]:
    steps: dict[str, Callable[[], object]] = {"engine": make_trainer(case, dtype).update}
    steps["plain"] = plain_numpy_step(make_trainer(case, dtype))
    torch = torch_step(make_trainer(case, dtype))
    if torch is not None:
        steps["torch"] = torch
    times = fastest(steps, seconds)
    ours, plain = times["engine"], times["plain"]
    cells = [case.name, dtype, f"{ours * 1e6:,.1f}", f"{plain * 1e6:,.1f}", f"{ours / plain:.2f}"]
    if torch is None:
        return [*cells, "torch not installed", ""]
    theirs = times["torch"]
    return [*cells, f"{theirs * 1e6:,.1f}", f"{theirs / ours:.2f}"]


def large_row(dtype: str, seconds: float) -> list[str]:
    """The large network's update, the plain numpy baseline's, torch's, and numpy's
    matrix-product peak, interleaved."""
    steps: dict[str, Callable[[], object]] = {"engine": make_trainer(LARGE, dtype).update}
    steps["plain"] = plain_numpy_step(make_trainer(LARGE, dtype))
    steps |= {f"peak {n}": square_product(dtype, n) for n in (1024, 2048)}
    steps["products"], product_flops = big_products(make_trainer(LARGE, dtype))
    torch = torch_step(make_trainer(LARGE, dtype))
    if torch is not None:
        steps["torch"] = torch
    times = fastest(steps, seconds)
    peak = max(2 * n**3 / times[f"peak {n}"] / 1e9 for n in (1024, 2048))
    flops = LARGE.matmul_flops()
    rate, plain_rate = flops / times["engine"] / 1e9, flops / times["plain"] / 1e9
    theirs = "torch not installed"
    if torch is not None:
        theirs = f"{times['torch'] * 1e3:.1f} ms, {flops / times['torch'] / 1e9:.0f} GFLOP/s"
    cells = [f"{times['engine'] * 1e3:.1f}", f"{rate:.0f}", f"{peak:.0f}", f"{rate / peak:.0%}"]
    products_rate = product_flops / times["products"] / 1e9
    cells += [f"{times['products'] * 1e3:.1f} ms, {products_rate / peak:.0%}"]
    cells += [f"{times['plain'] * 1e3:.1f} ms, {plain_rate / peak:.0%}"]
    return [LARGE.name, dtype, *cells, theirs]


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
    try:
        from threadpoolctl import threadpool_info  # type: ignore[import-untyped]
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
    parser.add_argument("--seconds", type=float, default=0.3, help="time per measurement")
    seconds = parser.parse_args().seconds
    print(machine(), end="\n\n")
    rows = [update_row(case, dtype, seconds) for case in CASES for dtype in ("float64", "float32")]
    header = ["network, samples", "dtype", "engine µs/update", "plain numpy µs/update"]
    header += ["engine/plain", "torch µs/update", "torch/engine"]
    print(table(header, rows), end="\n\n")
    large = [large_row(dtype, seconds) for dtype in ("float32", "float64")]
    header = ["network, samples", "dtype", "engine ms/update", "engine GFLOP/s"]
    header += ["numpy matmul peak GFLOP/s", "engine share of peak"]
    header += ["its five 1024² products alone, share of peak"]
    header += ["plain numpy, share of peak", "torch"]
    print(table(header, large))


if __name__ == "__main__":
    main()
