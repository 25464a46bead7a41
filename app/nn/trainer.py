"""Training: a network, its data and the rule that picks each update's batch.

Everything here is deterministic: the same config and seed give bit-identical weights step for
step on the same machine, which is what lets the server replay any past step exactly from the
nearest earlier snapshot. A mini-batch's samples depend only on (seed, epoch, position), not
on a generator's running state, so a snapshot needs only the step, weights and velocities.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from app.nn import snapshot
from app.nn.activations import Array
from app.nn.datasets import Dataset
from app.nn.network import BackwardPass, ForwardPass, Network


@dataclass(frozen=True)
class TrainingConfig:
    """What fixes a training run, apart from its data."""

    layers: tuple[int, ...]
    activations: tuple[str, ...]  # one per non-input layer
    bias: bool = True
    loss: str = "mse"
    learning_rate: float = 0.5
    batch_size: int | None = None  # None: the whole training set (plain gradient descent)
    variant: str = "standard"
    momentum: float = 0.0
    seed: int = 0
    dtype: str = "float64"


class Diverged(Exception):
    """Training met a non-finite loss or weight; `step` is where, `reason` says what."""

    def __init__(self, step: int, reason: str) -> None:
        super().__init__(f"diverged at step {step}: {reason}")
        self.step = step
        self.reason = reason


# slots, not frozen, like ForwardPass and BackwardPass (app/nn/network.py says why).
@dataclass(slots=True)
class UpdateResult:
    """One update: the step it produced, and the forward and backward pass behind it.

    The gradient vector (and the per-layer gradient views into it) is the trainer's own
    buffer, written afresh by each update: copy what must outlive the next one. A new
    vector per update costs a large network page faults on every update.
    """

    step: int  # updates made so far, this one included
    batch_loss: float  # loss of the batch under the weights before the update
    batch_indices: Array | None  # rows of the training set used; None for the whole set
    forward: ForwardPass
    backward: BackwardPass  # its gradients are overwritten by the trainer's next update


@dataclass
class TrainerState:
    """Everything needed to continue training exactly: a snapshot."""

    step: int
    learning_rate: float
    weights: list[Array]
    biases: list[Array]
    weight_velocity: list[Array] = field(default_factory=list)
    bias_velocity: list[Array] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        """The snapshot's bytes (app/nn/snapshot.py has the layout)."""
        series = {
            "w": self.weights,
            "b": self.biases,
            "vw": self.weight_velocity,
            "vb": self.bias_velocity,
        }
        return snapshot.encode(self.step, self.learning_rate, series)

    @classmethod
    def from_bytes(cls, blob: bytes) -> TrainerState:
        step, learning_rate, series = snapshot.decode(blob)
        return cls(
            step=step,
            learning_rate=learning_rate,
            weights=series["w"],
            biases=series["b"],
            weight_velocity=series.get("vw", []),
            bias_velocity=series.get("vb", []),
        )


class Trainer:
    """Makes updates one at a time and reports the loss of the weights after each."""

    def __init__(self, config: TrainingConfig, data: Dataset) -> None:
        self.config = config
        self.data = data.as_dtype(config.dtype)
        self.network = Network.create(
            config.layers,
            config.activations,
            loss=config.loss,
            use_bias=config.bias,
            variant=config.variant,
            seed=config.seed,
            dtype=config.dtype,
        )
        self.step = 0
        self.learning_rate = config.learning_rate
        # Momentum's velocity, laid out like network.parameters; None until the first update.
        self._velocity: Array | None = None
        # ∂L/∂θ of the latest update, laid out like network.parameters (see UpdateResult).
        self._gradient = np.empty_like(self.network.parameters)
        # The forward pass of the whole training set under the current weights and its loss:
        # the loss at this step, and (in full-batch mode) the first half of the next update
        # and its batch loss, so a training loop's update-then-train_loss computes each once.
        self._current: tuple[ForwardPass, float] | None = None
        self._epoch_order: tuple[int, Array] | None = None
        # The training set as the first layer's input, made once: it never changes, and making
        # it costs a small network three numpy calls an update (~3 % of it).
        self._train_rows = self.network.batch_rows(self.data.x_train)
        self.diverged: Diverged | None = None  # set once training has diverged

    def train_loss(self) -> float:
        """The loss over the whole training set of the weights after `step` updates."""
        if self._current is None:
            self._current = self._forward(self.data.x_train, self.data.y_train, self._train_rows)
        return self._current[1]

    def test_loss(self) -> float | None:
        if len(self.data.x_test) == 0:
            return None
        return self.network.loss_value(self.network.forward(self.data.x_test), self.data.y_test)

    def update(self) -> UpdateResult:
        """One update: forward, loss, backward, W ← W − α·∂L/∂W. Raises Diverged.

        After a divergence every further update raises the same Diverged, until `restore`.
        """
        if self.diverged is not None:
            raise Diverged(self.diverged.step, self.diverged.reason)
        try:
            return self._update()
        except Diverged as diverged:
            self.diverged = diverged
            raise
        except (FloatingPointError, RuntimeWarning) as error:
            # Where numpy's overflow warnings are errors (np.errstate, python -W error), the
            # overflow itself is the first sign of divergence.
            self.diverged = Diverged(self.step, f"numpy reported {error} in update {self.step + 1}")
            raise self.diverged from error

    def _update(self) -> UpdateResult:
        indices = self._batch_indices()
        if indices is None:
            y = self.data.y_train
            whole = self.data.x_train, y, self._train_rows
            forward, batch_loss = self._current or self._forward(*whole)
        else:
            y = self.data.y_train[indices]
            forward, batch_loss = self._forward(self.data.x_train[indices], y)
        if not math.isfinite(batch_loss):
            raise Diverged(self.step, f"the loss became {batch_loss} before update {self.step + 1}")
        backward = self.network.backward(forward, y, self._gradient)
        parameter_sum = self._apply(backward)
        self.step += 1
        self._current = None
        self._check_weights(parameter_sum)
        return UpdateResult(self.step, batch_loss, indices, forward, backward)

    def _forward(self, x: Array, y: Array, rows: Array | None = None) -> tuple[ForwardPass, float]:
        """The forward pass of a batch (its first-layer input `rows` if made already) and its
        loss."""
        forward = self.network.forward(x, rows)
        return forward, self.network.loss_value(forward, y)

    def _apply(self, backward: BackwardPass) -> float:
        """θ ← θ − α·∂L/∂θ (or the momentum form); returns the sum of the new parameters."""
        momentum = self.config.momentum
        if not momentum:
            return self.network.descend(backward.gradient, self.learning_rate)
        # v ← μ·v + ∂L/∂θ, then θ ← θ − α·v, for all parameters θ at once.
        if self._velocity is None:
            self._velocity = np.zeros_like(self.network.parameters)
        self._velocity *= momentum
        self._velocity += backward.gradient
        return self.network.descend(self._velocity, self.learning_rate)

    def _check_weights(self, total: float) -> None:
        # `total` sums every parameter: inf and nan both survive a sum (and a sum that
        # overflows means weights near the dtype's maximum, diverged anyway), so a single bad
        # entry makes it non-finite.
        if not math.isfinite(total):
            raise Diverged(self.step, f"a weight overflowed to {total} in update {self.step}")

    def _batch_indices(self) -> Array | None:
        """The training rows of the next update; None means all of them."""
        size = self.config.batch_size
        count = len(self.data.x_train)
        if size is None or size >= count:
            return None
        per_epoch = math.ceil(count / size)
        epoch, position = divmod(self.step, per_epoch)
        if self._epoch_order is None or self._epoch_order[0] != epoch:
            # Seeded by (seed, epoch) alone, so any step's batch can be found without history.
            order = np.random.default_rng([self.config.seed, epoch]).permutation(count)
            self._epoch_order = (epoch, order)
        return self._epoch_order[1][position * size : (position + 1) * size]

    def state(self) -> TrainerState:
        """A copy of everything needed to continue exactly from this step."""
        weight_velocity: list[Array] = []
        bias_velocity: list[Array] = []
        if self._velocity is not None:
            weight_velocity, bias_velocity = self.network.split(self._velocity.copy())
        return TrainerState(
            step=self.step,
            learning_rate=self.learning_rate,
            weights=[w.copy() for w in self.network.weights],
            biases=[b.copy() for b in self.network.biases],
            weight_velocity=weight_velocity,
            bias_velocity=bias_velocity,
        )

    def restore(self, state: TrainerState) -> None:
        """Continue from a snapshot made by `state()` of a trainer with the same config."""
        dtype = self.config.dtype
        self.network.weights = state.weights  # copied into place, in the network's dtype
        self.network.biases = state.biases
        self._velocity = None
        if state.weight_velocity:
            velocity = self.network.pack(state.weight_velocity, state.bias_velocity)
            self._velocity = velocity.astype(dtype)
        self.step = state.step
        self.learning_rate = state.learning_rate
        self._current = None
        self.diverged = None

    def copy(self) -> Trainer:
        """An independent trainer at the same step: its own weights and velocities, the same
        config and (read-only) data. Updating the copy leaves this trainer as it was."""
        twin = copy.copy(self)
        twin.network = self.network.copy()
        twin._velocity = None if self._velocity is None else self._velocity.copy()
        twin._gradient = np.empty_like(self._gradient)
        return twin

    def accuracy(self, x: Array, y: Array) -> float:
        """Share of samples classified right: output > ½ for one output, else the argmax."""
        output = self.network.forward(x).output
        if output.shape[1] == 1:
            return float(np.mean((output > 0.5) == (y > 0.5)))
        return float(np.mean(output.argmax(axis=1) == y.argmax(axis=1)))


def as_activation_list(activation: str | Sequence[str], layers: Sequence[int]) -> tuple[str, ...]:
    """One activation name per non-input layer, from one name or a list."""
    if isinstance(activation, str):
        return (activation,) * (len(layers) - 1)
    return tuple(activation)
