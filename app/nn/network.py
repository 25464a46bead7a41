"""A fully-connected network as whole-layer matrices, with forward, backward and update.

Conventions (DESIGN.md): `layers` lists neuron counts, input first. `weights[l]` is a
fan_in × fan_out matrix joining layer l to layer l+1 and `biases[l]` belongs to layer l+1.
For a batch X with one sample per row:

    a⁽⁰⁾ = X,   net⁽ˡ⁺¹⁾ = a⁽ˡ⁾ · W⁽ˡ⁾ + b⁽ˡ⁾,   a⁽ˡ⁺¹⁾ = f(net⁽ˡ⁺¹⁾)

and backwards, with δ⁽ˡ⁺¹⁾ = ∂L/∂net⁽ˡ⁺¹⁾ (one row per sample):

    δ⁽ᴸ⁾ from the loss,   δ⁽ˡ⁾ = (δ⁽ˡ⁺¹⁾ · W⁽ˡ⁾ᵀ) ⊙ f'(net⁽ˡ⁾),
    ∂L/∂W⁽ˡ⁾ = a⁽ˡ⁾ᵀ · δ⁽ˡ⁺¹⁾,   ∂L/∂b⁽ˡ⁾ = Σₙ δ⁽ˡ⁺¹⁾ₙ.

The variant `no_activation_derivative` drops the f'(net) factor from every layer's delta.

Inside, a layer's weights and bias are one (fan_in + 1) × fan_out block [W; b] of the flat
parameter vector, and the forward pass keeps each layer's input feature-major, one column per
sample, with a row of ones under it: [aᵀ; 1]. Then

    net⁽ˡ⁺¹⁾ᵀ = [W⁽ˡ⁾; b⁽ˡ⁾]ᵀ · [a⁽ˡ⁾ᵀ; 1],   [∂L/∂W⁽ˡ⁾; ∂L/∂b⁽ˡ⁾] = [a⁽ˡ⁾ᵀ; 1] · δ⁽ˡ⁺¹⁾

are one matrix product each, the bias added and ∂L/∂b summed inside it: for a small network a
separate broadcast add and batch sum cost more than the product. The row of ones is a row of
zeros in a network without biases. A large network uses the input batch as it is (xᵀ, a
view), the first layer's bias added and summed on its own. Nets, activations and deltas are
handed out sample-major (N × n), as transposed views of the arrays computed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from app.nn.activations import RELU, Activation, Array, activation_named
from app.nn.losses import Loss, loss_named

VARIANTS = ("standard", "no_activation_derivative")
DESCENT_BLOCK = 65_536  # parameters updated at a time by `descend` (256 KB of float32)
DTYPES = ("float64", "float32")
# A network with a weight matrix of at least this many entries is large: its products use
# np.matmul rather than np.dot, and its input batch is not copied (see Network.__init__).
LARGE_MATRIX = 65_536


# slots, not frozen: a frozen dataclass costs ~0.9 µs more to build, and a small
# network's update builds three of these records (~3 % of it). Treat them as read-only.
@dataclass(slots=True)
class ForwardPass:
    """Every intermediate of one forward pass over a batch of N samples.

    nets[l]:        N × layers[l+1], the net input of layer l+1.
    activations[l]: N × layers[l], with activations[0] the input batch itself.
    inputs[l]:      (layers[l] + 1) × N, [a⁽ˡ⁾ᵀ; 1]: layer l's activations as the right-hand
                    factor of the layer's products (see the module docstring); in a large
                    network inputs[0] is the input batch xᵀ itself, with no row of ones.
    """

    nets: list[Array]
    activations: list[Array]
    inputs: list[Array]

    @property
    def output(self) -> Array:
        return self.activations[-1]


# slots, not frozen: see ForwardPass.
@dataclass(slots=True)
class BackwardPass:
    """Every intermediate of one backward pass.

    deltas[l]:           N × layers[l+1], ∂L/∂net of layer l+1 for each sample.
    weight_gradients[l]: layers[l] × layers[l+1], ∂L/∂W⁽ˡ⁾.
    bias_gradients[l]:   layers[l+1], ∂L/∂b⁽ˡ⁾ = the deltas summed over the batch (computed
                         even when the network has no biases: it is the summed delta shown).
    gradient:            all of ∂L/∂W and ∂L/∂b as one flat vector laid out like
                         `Network.parameters`; the per-layer gradients are views into it.
    """

    deltas: list[Array]
    weight_gradients: list[Array]
    bias_gradients: list[Array]
    gradient: Array


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
    """Weights, biases and the rules that relate them to a loss.

    All parameters live in one flat vector, `parameters` (layer by layer, the rows of the
    weight matrix and then the bias: the block [W; b]), and `weights[l]` and `biases[l]` are
    views into it. An update or a check that every parameter is finite is then one numpy call
    for the whole network rather than two per layer, which is most of the cost of a small
    network's update. Assigning a list to `weights` or `biases` copies the values into place;
    change single entries in place as usual.
    """

    def __init__(
        self,
        weights: list[Array],
        biases: list[Array],
        activations: Sequence[Activation],
        loss: Loss,
        *,
        use_bias: bool = True,
        variant: str = "standard",
    ) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
        self.loss = loss
        self.use_bias = use_bias
        self.variant = variant
        self.layers = (weights[0].shape[0], *(w.shape[1] for w in weights))
        expected = [(fan_out,) for fan_out in self.layers[1:]]
        shapes = [np.shape(b) for b in biases]
        if shapes != expected:
            # pack() would lay biases of the wrong shapes out silently if their sizes add up.
            raise ValueError(f"expected biases of shapes {expected}, got {shapes}")
        self._layout = _layout([(fan_in + 1, fan_out) for fan_in, fan_out in pairwise(self.layers)])
        self.parameters = self.pack(weights, biases)
        self.weight_count = sum(w.size for w in weights)
        self._blocks, self._weights, self._biases = self._split_blocks(self.parameters)
        self._descended = _descended(self._layout, use_bias)
        self._descent_block = min(
            max(stop - start for start, stop in self._descended), DESCENT_BLOCK
        )
        self._input_row = 1.0 if use_bias else 0.0  # under each layer's input, see the docstring
        self._batch_ones = np.ones(0, dtype=self.parameters.dtype)
        self._scaled_step = np.empty(0, dtype=self.parameters.dtype)
        self._block_ones = np.ones(0, dtype=self.parameters.dtype)
        self._gradient_views: tuple[Array, list[Array], list[Array], list[Array]] | None = None
        # Both call the same BLAS routine; numpy's matmul machinery costs ~1 µs more a call
        # (a third of a 200×4 product), while on 1024-wide layers np.dot ran 2-7 % slower.
        self.large = max(w.size for w in weights) >= LARGE_MATRIX
        self.product: Callable[..., Array] = np.matmul if self.large else np.dot
        listed = list(activations)
        # The loss may replace the output activation (cross-entropy applies sigmoid or softmax).
        self.activations = (*listed[:-1], loss.output_activation(listed[-1], self.layers[-1]))

    @property
    def weights(self) -> list[Array]:
        """weights[l], fan_in × fan_out, a view into `parameters`."""
        return self._weights

    @weights.setter
    def weights(self, values: list[Array]) -> None:
        _copy_into(self._weights, values)

    @property
    def biases(self) -> list[Array]:
        """biases[l], fan_out, a view into `parameters`."""
        return self._biases

    @biases.setter
    def biases(self, values: list[Array]) -> None:
        _copy_into(self._biases, values)

    def split(self, flat: Array) -> tuple[list[Array], list[Array]]:
        """Per-layer weight and bias views of a flat vector laid out like `parameters`."""
        _, weights, biases = self._split_blocks(flat)
        return weights, biases

    def pack(self, weights: Sequence[Array], biases: Sequence[Array]) -> Array:
        """A new flat vector laid out like `parameters`, from per-layer weights and biases."""
        blocks = zip(weights, biases, strict=True)
        return np.concatenate([np.ravel(a) for block in blocks for a in block])

    def _split_blocks(self, flat: Array) -> tuple[list[Array], list[Array], list[Array]]:
        """The [W; b] blocks of a flat vector laid out like `parameters`, and their W and b."""
        blocks = [flat[start:stop].reshape(shape) for start, stop, shape in self._layout]
        return blocks, [block[:-1] for block in blocks], [block[-1] for block in blocks]

    @classmethod
    def create(
        cls,
        layers: Sequence[int],
        activations: str | Sequence[str],
        *,
        loss: str = "mse",
        use_bias: bool = True,
        variant: str = "standard",
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
        return cls(weights, biases, chosen, loss_named(loss), use_bias=use_bias, variant=variant)

    @property
    def parameter_count(self) -> int:
        return self.parameters.size if self.use_bias else self.weight_count

    def forward(self, x: Array, rows: Array | None = None) -> ForwardPass:
        """Run the batch x (N × layers[0]) through every layer, keeping each net and activation.

        `rows` is `batch_rows(x)` made beforehand, for a caller that runs the same batch again
        and again (a trainer's whole training set): it is read, never written.
        """
        inputs = [self.batch_rows(x) if rows is None else rows]
        nets: list[Array] = []
        activations = [x]
        last = len(self._blocks) - 1
        for layer, activation in enumerate(self.activations):
            net = self._net(layer, inputs[-1])
            nets.append(net.T)
            if layer == last:
                # Given one sample per row, so that softmax normalises each sample.
                activations.append(activation.function(net.T))
            else:
                rows = self._input_rows(len(net), len(x), net.dtype)
                activations.append(activation.function(net, out=rows[:-1]).T)
                inputs.append(rows)
        return ForwardPass(nets, activations, inputs)

    def batch_rows(self, x: Array) -> Array:
        """The input batch as the first layer's input: [xᵀ; 1] for a small network, where
        one product costs less than a product, a bias add and a sum; xᵀ itself (a view) for a
        large one, where copying a big batch under a row of ones costs more (1024-wide, 256
        samples: 0.3-0.6 ms a copy, against ~0.15 ms for the add and the sum)."""
        if self.large:
            return x.T
        rows = self._input_rows(
            x.shape[1], len(x), np.promote_types(x.dtype, self.parameters.dtype)
        )
        rows[:-1] = x.T
        return rows

    def _net(self, layer: int, rows: Array) -> Array:
        """netᵀ of layer `layer` + 1 from its input rows: [W; b]ᵀ · [aᵀ; 1], or Wᵀ · xᵀ + b
        from a batch used as it is (see `batch_rows`)."""
        if len(rows) > self.layers[layer]:  # [aᵀ; 1]
            return self.product(self._blocks[layer].T, rows)
        net = self.product(self.weights[layer].T, rows)
        if self.use_bias:
            net += self.biases[layer][:, np.newaxis]
        return net

    def _input_rows(self, count: int, samples: int, dtype: np.dtype[Any]) -> Array:
        """A layer's input [aᵀ; 1], (count + 1) × samples, for the caller to fill in aᵀ: the
        last row is ones (zeros without biases)."""
        rows = np.empty((count + 1, samples), dtype=dtype)
        rows[-1] = self._input_row
        return rows

    def loss_value(self, forward: ForwardPass, target: Array) -> float:
        return self.loss.value(forward.nets[-1], forward.output, target)

    def backward(
        self, forward: ForwardPass, target: Array, gradient: Array | None = None
    ) -> BackwardPass:
        """Carry the error back from the output, layer by layer (the chain rule).

        ∂L/∂W and ∂L/∂b are written into `gradient` (laid out like `parameters`) if given,
        else into a new vector.
        """
        if gradient is None:
            gradient = np.empty_like(self.parameters)
        if forward.nets[-1].dtype != gradient.dtype:
            return self._backward_wide(forward, target, gradient)
        use_derivative = self.variant == "standard"
        delta = self.loss.output_delta(
            forward.nets[-1], forward.output, target, self.activations[-1], use_derivative
        )
        blocks, weight_gradients, bias_gradients = self._split_gradient(gradient)
        deltas = [delta]
        delta_t = delta.T  # δᵀ, one column per sample, like the layers' inputs
        for layer in range(len(blocks) - 1, -1, -1):
            # [∂L/∂W; ∂L/∂b] = [aᵀ; 1] · δ, or ∂L/∂W = xᵀ · δ alone from a batch used as it is
            rows = forward.inputs[layer]
            with_ones = len(rows) > self.layers[layer]
            self.product(
                rows, delta_t.T, out=blocks[layer] if with_ones else weight_gradients[layer]
            )
            if not (with_ones and self.use_bias):  # ∂L/∂b, the summed δ, on its own
                np.dot(delta_t, self._ones(delta_t.shape[1]), out=bias_gradients[layer])
            if layer == 0:
                break
            delta_t = self.product(self.weights[layer], delta_t)  # (δ · Wᵀ)ᵀ = W · δᵀ
            if use_derivative:
                net, activation = forward.nets[layer - 1].T, forward.inputs[layer][:-1]
                delta_t *= self.activations[layer - 1].derivative(net, activation)
            deltas.append(delta_t.T)
        return BackwardPass(deltas[::-1], weight_gradients, bias_gradients, gradient)

    def _backward_wide(self, forward: ForwardPass, target: Array, gradient: Array) -> BackwardPass:
        """The backward pass of a batch of a wider dtype than the network (float64 data, float32
        weights): computed in the batch's dtype like its forward pass, ∂L/∂θ then cast into
        `gradient` (np.dot writes only into an array of its result's own dtype)."""
        wide = np.empty(gradient.shape, dtype=forward.nets[-1].dtype)
        backward = self.backward(forward, target, wide)
        gradient[...] = wide
        return BackwardPass(backward.deltas, *self.split(gradient), gradient)

    def _split_gradient(self, gradient: Array) -> tuple[list[Array], list[Array], list[Array]]:
        """`_split_blocks(gradient)`, kept for the next call with the same vector: the trainer
        passes its one gradient buffer every update, and making the views anew costs a small
        network about as much as a layer's arithmetic."""
        if self._gradient_views is None or self._gradient_views[0] is not gradient:
            self._gradient_views = (gradient, *self._split_blocks(gradient))
        return self._gradient_views[1:]

    def _ones(self, count: int) -> Array:
        """A row of `count` ones, to sum a batch as the product δᵀ · ones: for the small batches
        streamed here numpy's reduction machinery (δ.sum(axis=0)) costs several times more
        than the arithmetic. Kept for the next call, since making it costs as much again."""
        if len(self._batch_ones) != count:
            self._batch_ones = np.ones(count, dtype=self.parameters.dtype)
        return self._batch_ones

    def update(self, weight_steps: list[Array], bias_steps: list[Array], rate: float) -> None:
        """W ← W − α·ΔW and b ← b − α·Δb in place, where Δ is a gradient (or a velocity)."""
        for weight, step in zip(self.weights, weight_steps, strict=True):
            weight -= rate * step
        if self.use_bias:
            for bias, step in zip(self.biases, bias_steps, strict=True):
                bias -= rate * step

    def descend(self, step: Array, rate: float) -> float:
        """The same update for a flat step laid out like `parameters`; returns the sum of the
        updated parameters, which is finite exactly when every one of them is (inf and nan
        both survive a sum), so the trainer checks for divergence without another pass.

        Entry for entry it computes exactly what `update` does, so the two agree bit for bit.
        """
        # Block by block, so each block of α·Δ is still in the CPU cache when it is subtracted
        # and the result when it is summed: three whole-vector passes of a large network each
        # go out to memory (1024-wide float32: 2.1 ms a descent, 1.5 ms in blocks). The α·Δ
        # buffer is kept from update to update: a fresh one costs page faults every update.
        block = self._descent_block
        if len(self._scaled_step) != block:
            self._scaled_step = np.empty(block, dtype=self.parameters.dtype)
            self._block_ones = np.ones(block, dtype=self.parameters.dtype)
        if block == len(self.parameters):  # one block, and it is every parameter (biases on)
            # The whole vector is one block (a small network with biases): the same three
            # calls without the loops and slices, which cost such a network ~1.4 µs of 3.5.
            np.multiply(step, rate, out=self._scaled_step)
            self.parameters -= self._scaled_step
            return float(np.dot(self.parameters, self._block_ones))
        total = 0.0
        for first, last in self._descended:  # all parameters, or without biases each W
            for start in range(first, last, block):
                stop = min(start + block, last)
                scaled = self._scaled_step[: stop - start]
                np.multiply(step[start:stop], rate, out=scaled)
                updated = self.parameters[start:stop]
                updated -= scaled
                total += self._sum(updated)
        return total

    def _sum(self, block: Array) -> float:
        """The sum of a block of parameters, the fastest way measured for its dtype (the sum is
        only a check), descents alternating in one process. float32: as a product with ones,
        BLAS's sdot (1024-1024-1024-10: 1.2 ms a descent, 1.5 ms with numpy's reduction).
        float64: numpy's reduction (784-128-64-10: 113-131 µs a descent, 283-340 µs with
        BLAS's ddot; 1024-wide: 2.5-2.8 ms against 2.8-2.9). A lone ddot of 65,536 doubles
        is faster than the reduction (11 µs against 18); only after the update's products
        does it lose, by more than the whole reduction costs. Why was not found."""
        if block.dtype == np.float64:
            return float(np.add.reduce(block))
        return float(np.dot(block, self._block_ones[: len(block)]))

    def copy(self) -> Network:
        # The constructor packs the arrays into a new parameter vector: a copy.
        return Network(
            self.weights,
            self.biases,
            self.activations,
            self.loss,
            use_bias=self.use_bias,
            variant=self.variant,
        )

    def __repr__(self) -> str:
        shape = "-".join(map(str, self.layers))
        names = ",".join(a.name for a in self.activations)
        return f"Network({shape}, {names}, loss={self.loss.name}, bias={self.use_bias})"


def _layout(shapes: Sequence[tuple[int, ...]]) -> list[tuple[int, int, tuple[int, ...]]]:
    """(start, stop, shape) of each array packed one after another into a flat vector."""
    layout = []
    start = 0
    for shape in shapes:
        stop = start + math.prod(shape)
        layout.append((start, stop, shape))
        start = stop
    return layout


def _descended(
    layout: list[tuple[int, int, tuple[int, ...]]], use_bias: bool
) -> list[tuple[int, int]]:
    """The ranges of the flat parameter vector that `descend` moves: all of it, or without
    biases the weight rows of each layer's [W; b] block."""
    if use_bias:
        return [(0, layout[-1][1])]
    return [(start, stop - shape[1]) for start, stop, shape in layout]


def _copy_into(targets: list[Array], values: list[Array]) -> None:
    shapes = [np.shape(v) for v in values]
    if shapes != [t.shape for t in targets]:
        raise ValueError(f"expected arrays of shapes {[t.shape for t in targets]}, got {shapes}")
    for target, value in zip(targets, values, strict=True):
        target[...] = value
