"""A fully-connected network: forward and backward passes in whole-layer matrices.

Conventions: `layers` lists neuron counts, input first. `weights[l]` (W) is a
layers[l] × layers[l+1] matrix joining layer l to layer l+1, and `biases[l]` (b) belongs to
layer l+1. A batch has one sample per row, so for N samples, with a⁽⁰⁾ = x (N × layers[0]):

    net⁽ˡ⁺¹⁾ = a⁽ˡ⁾ · W⁽ˡ⁾ + b⁽ˡ⁾,    a⁽ˡ⁺¹⁾ = f(net⁽ˡ⁺¹⁾)

and backwards, with δ = ∂L/∂net (one row per sample):

    δ⁽ᴸ⁾ from the loss,    δ⁽ˡ⁾ = (δ⁽ˡ⁺¹⁾ · W⁽ˡ⁾ᵀ) ⊙ f'(net⁽ˡ⁾),
    dW⁽ˡ⁾ = a⁽ˡ⁾ᵀ · δ⁽ˡ⁺¹⁾ + ∂R/∂W⁽ˡ⁾,    db⁽ˡ⁾ = Σₙ δ⁽ˡ⁺¹⁾ₙ,

where R is the weight penalty of app/nn/regularizers.py (0 without one). In the lists below
index l follows the weights: nets[l] and deltas[l] belong to layer l+1, activations[l] to
layer l. The variant `no_activation_derivative` leaves the f'(net) factor out of every delta.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.nn.activations import RELU, Activation, Array, activation_named
from app.nn.losses import Loss, loss_named
from app.nn.regularizers import Regularizer

VARIANTS = ("standard", "no_activation_derivative")
DTYPES = ("float64", "float32")


# Not frozen: freezing costs a small network's update ~3 % (three such records an update).
@dataclass(slots=True)
class ForwardPass:
    """Every intermediate of one forward pass over a batch of N samples.

    nets[l]:        N × layers[l+1], the net input of layer l+1.
    activations[l]: N × layers[l], with activations[0] the batch x itself.
    """

    nets: list[Array]
    activations: list[Array]

    @property
    def output(self) -> Array:
        return self.activations[-1]


@dataclass(slots=True)
class BackwardPass:
    """Every intermediate of one backward pass.

    deltas[l]:           N × layers[l+1], δ = ∂L/∂net of layer l+1 for each sample.
    weight_gradients[l]: layers[l] × layers[l+1], dW = ∂L/∂W⁽ˡ⁾ (the penalty's term included).
    bias_gradients[l]:   layers[l+1], db = ∂L/∂b⁽ˡ⁾, the deltas summed over the batch (computed
                         without biases too: it is the summed delta a viewer is shown).
    """

    deltas: list[Array]
    weight_gradients: list[Array]
    bias_gradients: list[Array]


def initial_weights(
    layers: Sequence[int], activations: Sequence[Activation], rng: np.random.Generator
) -> list[Array]:
    """Seeded starting weights, scaled so signals neither vanish nor explode at the start.

    relu layers use He initialisation, N(0, 2/fan_in); sigmoid, tanh and linear layers use
    Glorot (Xavier) uniform, U(±√(6/(fan_in + fan_out))). Biases start at zero.
    """
    weights = []
    for fan_in, fan_out, activation in zip(layers[:-1], layers[1:], activations, strict=True):
        if activation is RELU:
            weights.append(rng.normal(0.0, np.sqrt(2.0 / fan_in), (fan_in, fan_out)))
        else:
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            weights.append(rng.uniform(-limit, limit, (fan_in, fan_out)))
    return weights


class Network:
    """Weights, biases, and the rules that relate them to a loss."""

    def __init__(
        self,
        weights: list[Array],
        biases: list[Array],
        activations: Sequence[Activation],
        loss: Loss,
        *,
        use_bias: bool = True,
        variant: str = "standard",
        regularizer: Regularizer | None = None,
    ) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
        self.layers = (weights[0].shape[0], *(w.shape[1] for w in weights))
        expected = [(fan_out,) for fan_out in self.layers[1:]]
        if [np.shape(b) for b in biases] != expected:
            raise ValueError(
                f"expected biases of shapes {expected}, got {[b.shape for b in biases]}"
            )
        self.weights = weights
        self.biases = biases
        self.loss = loss
        self.use_bias = use_bias
        self.variant = variant
        self.regularizer = regularizer
        listed = list(activations)
        # The loss may replace the output activation (cross-entropy applies sigmoid or softmax).
        self.activations = (*listed[:-1], loss.output_activation(listed[-1], self.layers[-1]))

    @classmethod
    def create(
        cls,
        layers: Sequence[int],
        activations: str | Sequence[str],
        *,
        loss: str = "mse",
        use_bias: bool = True,
        variant: str = "standard",
        regularizer: Regularizer | None = None,
        seed: int = 0,
        dtype: str = "float64",
    ) -> Network:
        """A freshly initialised network; `activations` is one name or one per non-input layer."""
        if len(layers) < 2 or min(layers) < 1:
            raise ValueError(f"layers must be at least two positive sizes, got {list(layers)}")
        if dtype not in DTYPES:
            raise ValueError(f"unknown dtype {dtype!r}; known: {', '.join(DTYPES)}")
        names = [activations] * (len(layers) - 1) if isinstance(activations, str) else activations
        if len(names) != len(layers) - 1:
            raise ValueError(f"need {len(layers) - 1} activations (one per non-input layer)")
        chosen = [activation_named(name) for name in names]
        rng = np.random.default_rng(seed)
        weights = [w.astype(dtype) for w in initial_weights(layers, chosen, rng)]
        biases = [np.zeros(n, dtype=dtype) for n in layers[1:]]
        return cls(
            weights,
            biases,
            chosen,
            loss_named(loss),
            use_bias=use_bias,
            variant=variant,
            regularizer=regularizer,
        )

    def forward(self, x: Array) -> ForwardPass:
        """Run the batch x (N × layers[0]) through every layer: net = a·W + b, a = f(net)."""
        nets: list[Array] = []
        a = [x]
        for W, b, f in zip(self.weights, self.biases, self.activations, strict=True):
            net = np.dot(a[-1], W)
            if self.use_bias:
                net += b
            nets.append(net)
            a.append(f.function(net))
        return ForwardPass(nets, a)

    def backward(self, forward: ForwardPass, y: Array) -> BackwardPass:
        """Carry the error back from the output layer by layer (the chain rule); y is N × outputs.

        δ of the output layer comes from the loss; each layer below gets δ·Wᵀ ⊙ f'(net).
        """
        nets, a, f = forward.nets, forward.activations, self.activations
        with_derivative = self.variant == "standard"
        delta = self.loss.output_delta(nets[-1], a[-1], y, f[-1], with_derivative)
        deltas = [delta]
        for layer in range(len(self.weights) - 1, 0, -1):
            delta = np.dot(delta, self.weights[layer].T)
            if with_derivative:
                delta *= f[layer - 1].derivative(nets[layer - 1], a[layer])
            deltas.insert(0, delta)
        dW = [np.dot(a[layer].T, delta) for layer, delta in enumerate(deltas)]
        if self.regularizer is not None:
            dW = [g + self.regularizer.gradient(W) for g, W in zip(dW, self.weights, strict=True)]
        # db = Σₙ δₙ = 1ᵀ·δ: as a product, a small batch's sum costs a third of numpy's reduction.
        ones = np.ones(len(y), dtype=delta.dtype)
        db = [np.dot(ones, delta) for delta in deltas]
        return BackwardPass(deltas, dW, db)

    def data_loss(self, forward: ForwardPass, y: Array) -> float:
        """The loss of the forward pass's outputs against the targets y (N × outputs)."""
        return self.loss.value(forward.nets[-1], forward.output, y)

    def regularization_loss(self) -> float:
        """The weight penalty R of the current weights; 0 without a regularizer."""
        return 0.0 if self.regularizer is None else self.regularizer.value(self.weights)

    def copy(self) -> Network:
        return Network(
            [W.copy() for W in self.weights],
            [b.copy() for b in self.biases],
            self.activations,
            self.loss,
            use_bias=self.use_bias,
            variant=self.variant,
            regularizer=self.regularizer,
        )

    def __repr__(self) -> str:
        shape = "-".join(map(str, self.layers))
        names = ",".join(a.name for a in self.activations)
        return f"Network({shape}, {names}, loss={self.loss.name}, bias={self.use_bias})"
