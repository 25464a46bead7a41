"""Training: a network, its data and the rule that picks each update's batch.

Everything here is deterministic: the same config and seed give bit-identical weights step for
step on the same machine, which is what lets the server replay any past step exactly from the
nearest earlier snapshot. A mini-batch's samples depend only on (seed, epoch, position), not
on a generator's running state, so a snapshot needs only the step, weights and velocities.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from app.nn import snapshot
from app.nn.activations import Array
from app.nn.datasets import Dataset
from app.nn.network import BackwardPass, ForwardPass, Network
from app.nn.regularizers import regularizer_named


@dataclass(frozen=True)
class RegularizationSpec:
    """A weight penalty: kind "l2" or "l1" at rate λ (app/nn/regularizers.py)."""

    kind: str
    rate: float


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
    regularization: RegularizationSpec | None = None


class Diverged(Exception):
    """Training met a non-finite loss or weight; `step` is where, `reason` says what."""

    def __init__(self, step: int, reason: str) -> None:
        super().__init__(f"diverged at step {step}: {reason}")
        self.step = step
        self.reason = reason


@dataclass(slots=True)  # not frozen, like ForwardPass (app/nn/network.py)
class UpdateResult:
    """One update: the step it produced, and the forward and backward pass behind it."""

    step: int  # updates made so far, this one included
    batch_loss: float  # the loss training minimises, of the batch under the weights before
    batch_indices: Array | None  # rows of the training set used; None for the whole set
    forward: ForwardPass
    backward: BackwardPass


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
    """Makes updates one at a time and reports the loss of the weights after each.

    The loss is the one training minimises: the data loss plus the weight penalty R of the
    config's regularization (0 without one). `data_only=True` asks for the data loss alone.
    """

    def __init__(self, config: TrainingConfig, data: Dataset) -> None:
        self.config = config
        self.data = data.as_dtype(config.dtype)
        penalty = config.regularization
        self.network = Network.create(
            config.layers,
            config.activations,
            loss=config.loss,
            use_bias=config.bias,
            variant=config.variant,
            regularizer=None if penalty is None else regularizer_named(penalty.kind, penalty.rate),
            seed=config.seed,
            dtype=config.dtype,
        )
        self.step = 0
        self.learning_rate = config.learning_rate
        # Momentum's velocities v, one per weight and bias array; None until the first update.
        self._velocity: tuple[list[Array], list[Array]] | None = None
        # The forward pass of the whole training set under the current weights and its losses:
        # the loss at this step and, in full-batch mode, the first half of the next update.
        self._current: tuple[ForwardPass, Losses] | None = None
        self._epoch_order: tuple[int, Array] | None = None
        self.diverged: Diverged | None = None  # set once training has diverged

    def train_loss(self, *, data_only: bool = False) -> float:
        """The loss over the whole training set of the weights after `step` updates."""
        if self._current is None:
            self._current = self._forward(self.data.x_train, self.data.y_train)
        return self._current[1].pick(data_only)

    def forget_passes(self) -> None:
        """Let go of the forward pass kept for the next update: a trainer that waits (a paused
        run's) holds no memory per sample beyond its data."""
        self._current = None

    def test_loss(self, *, data_only: bool = False) -> float | None:
        """The same over the test set; None without one."""
        if len(self.data.x_test) == 0:
            return None
        return self._forward(self.data.x_test, self.data.y_test)[1].pick(data_only)

    def update(self) -> UpdateResult:
        """One update: forward, loss, backward, W ← W − α·dW. Raises Diverged.

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
            forward, losses = self._current or self._forward(self.data.x_train, y)
        else:
            y = self.data.y_train[indices]
            forward, losses = self._forward(self.data.x_train[indices], y)
        if not math.isfinite(losses.total):
            raise Diverged(
                self.step, f"the loss became {losses.total} before update {self.step + 1}"
            )
        backward = self.network.backward(forward, y)
        self._descend(backward)
        self.step += 1
        self._current = None
        self._check_weights()
        return UpdateResult(self.step, losses.total, indices, forward, backward)

    def _forward(self, x: Array, y: Array) -> tuple[ForwardPass, Losses]:
        forward = self.network.forward(x)
        data = self.network.data_loss(forward, y)
        return forward, Losses(data, data + self.network.regularization_loss())

    def _descend(self, backward: BackwardPass) -> None:
        """W ← W − α·dW and b ← b − α·db; with momentum μ, v ← μ·v + dW and W ← W − α·v."""
        steps = backward.weight_gradients, backward.bias_gradients
        if self.config.momentum:
            steps = self._accelerate(*steps)
        rate, network = self.learning_rate, self.network
        for W, dW in zip(network.weights, steps[0], strict=True):
            W -= rate * dW
        if network.use_bias:
            for b, db in zip(network.biases, steps[1], strict=True):
                b -= rate * db

    def _accelerate(self, dW: list[Array], db: list[Array]) -> tuple[list[Array], list[Array]]:
        """v ← μ·v + ∂L/∂θ for the weights' and the biases' velocities; returns them."""
        if self._velocity is None:
            self._velocity = [np.zeros_like(g) for g in dW], [np.zeros_like(g) for g in db]
        for velocities, gradients in zip(self._velocity, (dW, db), strict=True):
            for v, g in zip(velocities, gradients, strict=True):
                v *= self.config.momentum
                v += g
        return self._velocity

    def _check_weights(self) -> None:
        # The squared norm Σθ² of every weight and bias moved is finite exactly when each of
        # them is finite and below the square root of the dtype's maximum (1e154 in float64,
        # 2e19 in float32), past which the network has diverged for any use (its squared
        # errors overflow too). The loss alone is not enough: a saturated sigmoid can hide an
        # infinite weight behind a finite loss. One BLAS dot a parameter array: cheaper than a
        # sum, and than copying them all into one vector.
        network = self.network
        moved = network.weights + (network.biases if network.use_bias else [])
        total = sum(float(np.vdot(p, p)) for p in moved)
        if not math.isfinite(total):
            reason = f"the weights and biases overflowed in update {self.step}"
            raise Diverged(self.step, f"{reason} (the sum of their squares is {total})")

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
        velocity = self._velocity or ([], [])
        return TrainerState(
            step=self.step,
            learning_rate=self.learning_rate,
            weights=[W.copy() for W in self.network.weights],
            biases=[b.copy() for b in self.network.biases],
            weight_velocity=[v.copy() for v in velocity[0]],
            bias_velocity=[v.copy() for v in velocity[1]],
        )

    def restore(self, state: TrainerState) -> None:
        """Continue from a snapshot made by `state()` of a trainer with the same config."""
        network = self.network
        network.weights = _copies(state.weights, like=network.weights)
        network.biases = _copies(state.biases, like=network.biases)
        self._velocity = None
        if state.weight_velocity:
            self._velocity = (
                _copies(state.weight_velocity, like=network.weights),
                _copies(state.bias_velocity, like=network.biases),
            )
        self.step = state.step
        self.learning_rate = state.learning_rate
        self._current = None
        self.diverged = None

    def copy(self) -> Trainer:
        """An independent trainer at the same step: its own weights and velocities, the same
        config and (read-only) data. Updating the copy leaves this trainer as it was."""
        twin = copy.copy(self)
        twin.network = self.network.copy()
        if self._velocity is not None:
            weight_velocity, bias_velocity = self._velocity
            twin._velocity = [v.copy() for v in weight_velocity], [v.copy() for v in bias_velocity]
        return twin


class Losses(NamedTuple):
    """A loss in its two parts' terms: the data loss alone, and with the weight penalty."""

    data: float
    total: float

    def pick(self, data_only: bool) -> float:
        return self.data if data_only else self.total


def _copies(arrays: list[Array], *, like: list[Array]) -> list[Array]:
    """Copies of `arrays` in the dtype of `like`, whose shapes they must have."""
    shapes = [np.shape(a) for a in arrays]
    if shapes != [a.shape for a in like]:
        raise ValueError(f"expected arrays of shapes {[a.shape for a in like]}, got {shapes}")
    return [np.array(a, dtype=t.dtype) for a, t in zip(arrays, like, strict=True)]
