"""Losses over a batch of N samples, each pairing its value with the output layer's delta.

Both compute from the output layer's net input as well as its activation, so that
cross-entropy can use log-sum-exp and never takes log(0) or overflows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.nn.activations import SIGMOID, SOFTMAX, Activation, Array


@dataclass(frozen=True)
class MeanSquaredError:
    """L = (1/N) Σₙ ½‖ŷₙ − yₙ‖²."""

    name: str = "mse"

    def output_activation(self, listed: Activation, n_outputs: int) -> Activation:
        return listed

    def value(self, net: Array, output: Array, target: Array) -> float:
        error = output - target
        return float(0.5 * np.vdot(error, error) / len(target))

    def check_targets(self, target: Array) -> None:
        """Any targets will do: ½‖ŷ − y‖² has its minimum wherever y lies."""

    def output_delta(
        self, net: Array, output: Array, target: Array, activation: Activation, use_derivative: bool
    ) -> Array:
        """∂L/∂net of the output layer, one row per sample: (ŷ − y)/N ⊙ f'(net)."""
        delta = (output - target) * (1.0 / len(target))
        if use_derivative:
            delta *= activation.derivative(net, output)
        return delta


@dataclass(frozen=True)
class CrossEntropy:
    """Sigmoid + binary cross-entropy for one output, softmax + cross-entropy for several.

    The output layer applies sigmoid or softmax whatever activation is listed for it, and the
    f'(net) factor cancels against ∂L/∂ŷ: ∂L/∂net = (ŷ − y)/N for one output, and
    (ŷ·Σₖyₖ − y)/N for several, which is (ŷ − y)/N when each target row sums to 1 (one-hot
    labels, or a distribution) but not otherwise (a sigmoid teacher's outputs).
    """

    name: str = "cross_entropy"

    def output_activation(self, listed: Activation, n_outputs: int) -> Activation:
        return SIGMOID if n_outputs == 1 else SOFTMAX

    def value(self, net: Array, output: Array, target: Array) -> float:
        if net.shape[1] == 1:
            # −[y log σ(z) + (1−y) log(1−σ(z))] = log(1 + e^z) − y·z, stable via logaddexp.
            per_sample = np.logaddexp(0.0, net) - target * net
        else:
            # −Σ y log softmax(z) = Σ y · (logsumexp(z) − z) for targets that sum to 1.
            top = net.max(axis=1, keepdims=True)
            log_sum = top + np.log(np.exp(net - top).sum(axis=1, keepdims=True))
            per_sample = target * (log_sum - net)
        return float(per_sample.sum() / len(target))

    def check_targets(self, target: Array) -> None:
        """Refuse targets for which the loss has no minimum: below 0, or above 1 for one
        output. There −y·log ŷ (or −(1−y)·log(1−ŷ)) falls without end as ŷ → 0 (or 1), and
        training would drive the loss towards −∞. Raises ValueError saying so."""
        if target.size == 0:
            return
        low, high = float(target.min()), float(target.max())
        one_output = target.shape[1] == 1
        if low < 0.0 or (one_output and high > 1.0):
            needed = "between 0 and 1" if one_output else "of at least 0"
            raise ValueError(
                f"cross_entropy needs targets {needed}, or the loss has no minimum; this data "
                f"set's run from {low:.3g} to {high:.3g} (use mse, or data with such targets: "
                "a classification set or a sigmoid teacher)"
            )

    def output_delta(
        self, net: Array, output: Array, target: Array, activation: Activation, use_derivative: bool
    ) -> Array:
        if target.shape[1] == 1:
            return (output - target) * (1.0 / len(target))
        # ∂/∂zⱼ Σₖ yₖ·(logsumexp(z) − zₖ) = ŷⱼ·Σₖyₖ − yⱼ. For one-hot rows ŷ·1 is ŷ exactly,
        # so such targets get the same numbers as ŷ − y would give them.
        target_sums = np.sum(target, axis=1, keepdims=True)
        delta: Array = (output * target_sums - target) * (1.0 / len(target))
        return delta


Loss = MeanSquaredError | CrossEntropy

LOSSES: dict[str, Loss] = {"mse": MeanSquaredError(), "cross_entropy": CrossEntropy()}


def loss_named(name: str) -> Loss:
    """The loss called `name`; raises ValueError listing the known names otherwise."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; known: {', '.join(LOSSES)}") from None
