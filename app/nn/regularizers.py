"""Weight penalties added to the loss, each pairing its value with its gradient.

Over the weights W of every layer (never the biases), with rate λ:

    L2:  R = (λ/2)·Σ w²,   ∂R/∂w = λ·w
    L1:  R = λ·Σ |w|,      ∂R/∂w = λ·sign(w), with sign(0) = 0

The loss training minimises is then the data loss + R, and ∂L/∂W gains ∂R/∂W.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.nn.activations import Array

KINDS = ("l2", "l1")


@dataclass(frozen=True)
class L2:
    rate: float
    name: str = "l2"

    def value(self, weights: list[Array]) -> float:
        return 0.5 * self.rate * sum(float(np.vdot(w, w)) for w in weights)

    def gradient(self, weight: Array) -> Array:
        return self.rate * weight


@dataclass(frozen=True)
class L1:
    rate: float
    name: str = "l1"

    def value(self, weights: list[Array]) -> float:
        return self.rate * sum(float(np.abs(w).sum()) for w in weights)

    def gradient(self, weight: Array) -> Array:
        return self.rate * np.sign(weight)


Regularizer = L2 | L1


def regularizer_named(kind: str, rate: float) -> Regularizer:
    """The penalty called `kind` at `rate`; raises ValueError listing the known kinds otherwise."""
    if kind == "l2":
        return L2(rate)
    if kind == "l1":
        return L1(rate)
    raise ValueError(f"unknown regularization {kind!r}; known: {', '.join(KINDS)}")
