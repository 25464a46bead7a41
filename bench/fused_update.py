"""A probe, not part of the engine: the large network's weight update fused into its ∂L/∂W product.

    python -m bench.fused_update [--dtype float32] [--rounds 15]

numpy's matmul has no β, so the engine computes ∂L/∂W with one product and then moves the
weights with three more passes over them (α·Δ, the subtraction, the divergence sum). BLAS's
gemm computes C ← α·A·B + β·C in one call: with C = [W; b], α = −learning rate and β = 1 it
makes the update inside the product, W ← W − α·[aᵀ; 1]·δ, and only the sum is left. This probe
calls the gemm of the openblas bundled in numpy's wheel through ctypes (one BLAS thread pool:
scipy's own openblas would bring a second one), times that update against `Trainer.update`
in rounds, and prints both shares of the same round's matmul peak.

It is not in the engine because: it binds to a private library of numpy's wheel (its file name
and its symbols' prefix and suffix are the wheel's own, and a numpy built on a system BLAS has
neither); and a fused update never holds ∂L/∂W, which the page shows, so the engine would have
to compute it again whenever a frame is sent. Without numpy's bundled openblas it says so and
exits.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")  # as bench.engine does, for the same reason

import argparse
import ctypes
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from app.nn.activations import Array
from app.nn.trainer import Trainer
from bench.engine import LARGE, make_trainer

ROW_MAJOR, NO_TRANSPOSE, TRANSPOSE = 101, 111, 112


def bundled_gemm(dtype: str) -> Callable[..., None] | None:
    """cblas_?gemm (64-bit integers) of the openblas in numpy's wheel, or None."""
    libraries = sorted(
        (Path(np.__file__).parent.parent / "numpy.libs").glob("libscipy_openblas64_*")
    )
    if not libraries:
        return None
    library = ctypes.CDLL(str(libraries[0]))
    name = "scipy_cblas_sgemm64_" if dtype == "float32" else "scipy_cblas_dgemm64_"
    gemm = getattr(library, name, None)
    if gemm is None:
        return None
    scalar = ctypes.c_float if dtype == "float32" else ctypes.c_double
    size, pointer = ctypes.c_int64, ctypes.c_void_p
    gemm.argtypes = [ctypes.c_int] * 3 + [size] * 3 + [scalar, pointer, size, pointer, size]
    gemm.argtypes += [scalar, pointer, size]
    gemm.restype = None
    return gemm  # type: ignore[no-any-return]


def fused_step(trainer: Trainer, gemm: Callable[..., None]) -> Callable[[], float]:
    """Trainer.update's arithmetic with each [W; b] moved inside its gradient's product."""
    network, x, y = trainer.network, trainer.data.x_train, trainer.data.y_train
    rate = trainer.learning_rate
    ones = np.ones(len(network.parameters), dtype=network.parameters.dtype)

    def address(array: Array) -> int:
        return int(array.ctypes.data)

    def step() -> float:
        forward = network.forward(x)
        network.loss_value(forward, y)
        output = network.activations[-1]
        delta = network.loss.output_delta(forward.nets[-1], forward.output, y, output, True)
        delta_t = np.ascontiguousarray(delta.T)  # δᵀ, fan_out × N
        samples = delta_t.shape[1]
        for layer in range(len(network.layers) - 2, -1, -1):
            fan_in, fan_out = network.layers[layer], network.layers[layer + 1]
            below = None
            if layer:  # δ of the layer below, from the weights before they move
                below = network.product(network.weights[layer], delta_t)
                rows = forward.inputs[layer][:-1]
                below *= network.activations[layer - 1].derivative(rows, rows)
            rows = forward.inputs[layer]
            factor = address(delta_t), samples, 1.0  # B = δ (stored as δᵀ), then β
            if len(rows) > fan_in:  # [aᵀ; 1]: the whole block [W; b] moves in the product
                block = network._blocks[layer]
                shape = (ROW_MAJOR, NO_TRANSPOSE, TRANSPOSE, fan_in + 1, fan_out, samples)
                gemm(*shape, -rate, address(rows), samples, *factor, address(block), fan_out)
            else:  # the input batch as it is (xᵀ): W moves in the product, b on its own
                weights = network.weights[layer]
                shape = (ROW_MAJOR, TRANSPOSE, TRANSPOSE, fan_in, fan_out, samples)
                gemm(*shape, -rate, address(x), fan_in, *factor, address(weights), fan_out)
                network.biases[layer] -= rate * (delta_t @ np.ones(samples, delta_t.dtype))
            if below is not None:
                delta_t = below
        return float(np.dot(network.parameters, ones))

    return step


def in_rounds(
    steps: dict[str, Callable[[], object]], calls: int, rounds: int
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(calls):
                step()
            times[name].append((time.perf_counter() - start) / calls)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--rounds", type=int, default=15)
    arguments = parser.parse_args()
    dtype = arguments.dtype
    gemm = bundled_gemm(dtype)
    if gemm is None:
        raise SystemExit("numpy's wheel has no bundled openblas here: nothing to probe")
    engine, fused = make_trainer(LARGE, dtype), make_trainer(LARGE, dtype)
    for _ in range(3):
        engine.update()
        fused_step(fused, gemm)()
    pairs = zip(engine.network.weights, fused.network.weights, strict=True)
    differ = max(float(np.abs(ours - theirs).max()) for ours, theirs in pairs)
    square = np.random.default_rng(1).random((2048, 2048)).astype(dtype)
    steps: dict[str, Callable[[], object]] = {"engine": engine.update}
    steps |= {"fused": fused_step(fused, gemm), "peak": lambda: square @ square}
    times = in_rounds(steps, 10, arguments.rounds)
    flops = LARGE.matmul_flops()
    print(f"{LARGE.name}, {dtype}, {arguments.rounds} rounds; weights after 3 updates differ")
    print(f"by at most {differ:.2g}\n\n| update | ms | share of the round's peak |\n|---|---|---|")
    for name in ("engine", "fused"):
        peaks = [2 * 2048**3 / seconds for seconds in times["peak"]]
        shares = [flops / seconds / peak for seconds, peak in zip(times[name], peaks, strict=True)]
        median = float(np.median(times[name])) * 1e3
        spread = f"{np.median(shares):.0%} ({min(shares):.0%}-{max(shares):.0%})"
        print(f"| {name} | {median:.1f} | {spread} |")
    ratios = [f / e for f, e in zip(times["fused"], times["engine"], strict=True)]
    print(f"\nfused/engine, median of the rounds: {np.median(ratios):.3f}")


if __name__ == "__main__":
    main()
