"""Activation functions, each paired with its derivative.

The derivative is written in terms of both the net input and the activation, because for
sigmoid and tanh it is cheapest from the activation the forward pass already holds. A function
writes into `out` when given one (the network's forward pass hands it rows of a larger array).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

# Arrays of any float dtype (float64 by default, float32 as an option); integer index arrays too.
Array = NDArray[Any]


class Function(Protocol):
    def __call__(self, net: Array, out: Array | None = None) -> Array: ...


@dataclass(frozen=True)
class Activation:
    """f(net) and f'(net) for one layer, applied elementwise to a whole batch at once."""

    name: str
    function: Function  # f(net), written into `out` if given, else into a new array
    derivative: Callable[[Array, Array], Array]  # (net, activation) -> f'(net)

    def __repr__(self) -> str:
        return f"Activation({self.name})"


def _sigmoid(net: Array, out: Array | None = None) -> Array:
    # 1/(1+e^-x) overflows in exp for large negative x; the tanh form is exact and never does.
    out = np.multiply(net, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def _sigmoid_derivative(net: Array, activation: Array) -> Array:
    return activation * (1.0 - activation)


def _tanh_derivative(net: Array, activation: Array) -> Array:
    return 1.0 - activation * activation


def _tanh(net: Array, out: Array | None = None) -> Array:
    return np.tanh(net, out=out)


def _relu(net: Array, out: Array | None = None) -> Array:
    return np.maximum(net, 0.0, out=out)


def _relu_derivative(net: Array, activation: Array) -> Array:
    # f'(0) is taken as 0, the usual subgradient choice.
    return (net > 0.0).astype(net.dtype)


def _identity(net: Array, out: Array | None = None) -> Array:
    if out is None:
        return net
    out[...] = net
    return out


def _ones(net: Array, activation: Array) -> Array:
    return np.ones_like(net)


def _softmax(net: Array, out: Array | None = None) -> Array:
    """Over each row (one sample per row)."""
    # Subtracting the row maximum keeps exp from overflowing without changing the result.
    shifted: Array = np.exp(net - net.max(axis=1, keepdims=True), out=out)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted


SIGMOID = Activation("sigmoid", _sigmoid, _sigmoid_derivative)
TANH = Activation("tanh", _tanh, _tanh_derivative)
RELU = Activation("relu", _relu, _relu_derivative)
LINEAR = Activation("linear", _identity, _ones)
# Softmax is only ever an output layer paired with cross-entropy, whose delta (ŷ - y) does not
# use this derivative; the diagonal of the Jacobian, a(1 - a), is what a viewer is shown as f'.
SOFTMAX = Activation("softmax", _softmax, _sigmoid_derivative)

HIDDEN_ACTIVATIONS: dict[str, Activation] = {a.name: a for a in (SIGMOID, TANH, RELU, LINEAR)}


def activation_named(name: str) -> Activation:
    """The activation called `name`; raises ValueError listing the known names otherwise."""
    try:
        return HIDDEN_ACTIVATIONS[name]
    except KeyError:
        known = ", ".join(sorted(HIDDEN_ACTIVATIONS))
        raise ValueError(f"unknown activation {name!r}; known: {known}") from None
