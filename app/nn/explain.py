"""One update explained: every number behind the next step, for the step-through view.

`explain_next_update` makes the trainer's next update on a copy of it, so the trainer is left
exactly as it was, and the new weights shown are bit for bit those that `Trainer.update` will
make (the same code computes them, momentum included).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from app.nn.activations import Array
from app.nn.trainer import Trainer

# Nested lists of floats, as the page receives them: a vector, a matrix, or one of each per layer.
Vector = list[float]
Matrix = list[list[float]]


@dataclass(frozen=True)
class UpdateExplained:
    """One update, taking the trainer from `step` to `step + 1`, seen through one sample.

    Per-layer lists follow app/nn/network.py: index l of `net`, `derivative`, `sample_deltas`,
    `deltas`, `gradients`, `weights` and `biases` belongs to the weights between layer l and
    layer l+1 (so `net[0]` is the first hidden layer's); `activation[0]` is the input itself.
    `derivative` is f'(net) even under `no_activation_derivative`, which leaves it out of the
    deltas; `deltas` are summed over the batch (= ∂L/∂b), `sample_deltas` are this sample's.
    With a regularization R, `loss` is the data loss + R, and each of `gradients` is
    aᵀ·δ + ∂R/∂W, its second term given alone in `regularization_gradients`.
    """

    step: int
    learning_rate: float
    momentum: float
    loss_name: str
    activations: list[str]  # as configured, one per non-input layer
    output_activation: str  # the one really applied (sigmoid or softmax under cross_entropy)
    variant: str
    bias: bool  # whether the network has biases (without, every b is 0 and never moves)
    batch_size: int  # N, the samples in this update's batch
    sample: int  # index into the batch
    row: int  # index of that sample in the training set
    x: Vector
    y: Vector
    net: list[Vector]
    activation: list[Vector]
    derivative: list[Vector]
    loss: float  # the batch's loss before the update: data_loss + regularization_loss
    data_loss: float
    regularization: dict[str, Any] | None  # {"kind": "l2" or "l1", "rate": λ}; None without
    regularization_loss: float  # R of the weights before the update; 0 without
    sample_deltas: list[Vector]
    deltas: list[Vector]
    gradients: list[Matrix]
    weights: list[Matrix]
    biases: list[Vector]
    new_weights: list[Matrix]
    new_biases: list[Vector]
    # With momentum: the weights' velocity v before this update and the v it moves them by
    # (v ← μ·v + ∂L/∂W, W ← W − α·v); None without momentum.
    previous_velocity: list[Matrix] | None
    velocity: list[Matrix] | None
    # ∂R/∂W per layer: λ·W for l2, λ·sign(W) for l1; None without a regularization.
    regularization_gradients: list[Matrix] | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def explain_next_update(trainer: Trainer, sample: int = 0) -> UpdateExplained:
    """Every intermediate of the trainer's next update, following sample `sample` of its batch.

    Raises IndexError for a sample outside the batch, and Diverged if the update would diverge.
    """
    network = trainer.network
    weights = _lists(network.weights)
    biases = _lists(network.biases)
    # No velocity before the first update with momentum: it starts at 0.
    zeros = [np.zeros_like(w) for w in network.weights]
    previous_velocity = trainer.state().weight_velocity or zeros
    twin = trainer.copy()
    result = twin.update()
    moving = trainer.config.momentum > 0
    forward, backward = result.forward, result.backward
    batch_size = len(forward.activations[0])
    if not 0 <= sample < batch_size:
        raise IndexError(f"sample {sample} is outside the batch of {batch_size}")
    row = sample if result.batch_indices is None else int(result.batch_indices[sample])
    penalty = network.regularizer
    indices = result.batch_indices
    targets = trainer.data.y_train if indices is None else trainer.data.y_train[indices]
    regularization_loss = network.regularization_loss()
    derivatives = [
        activation.derivative(net, output)
        for activation, net, output in zip(
            network.activations, forward.nets, forward.activations[1:], strict=True
        )
    ]
    return UpdateExplained(
        step=trainer.step,
        learning_rate=trainer.learning_rate,
        momentum=trainer.config.momentum,
        loss_name=network.loss.name,
        activations=list(trainer.config.activations),
        output_activation=network.activations[-1].name,
        variant=network.variant,
        bias=network.use_bias,
        batch_size=batch_size,
        sample=sample,
        row=row,
        x=forward.activations[0][sample].tolist(),
        y=trainer.data.y_train[row].tolist(),
        net=_rows(forward.nets, sample),
        activation=_rows(forward.activations, sample),
        derivative=_rows(derivatives, sample),
        loss=result.batch_loss,
        data_loss=network.data_loss(forward, targets),
        regularization=None if penalty is None else {"kind": penalty.name, "rate": penalty.rate},
        regularization_loss=regularization_loss,
        sample_deltas=_rows(backward.deltas, sample),
        deltas=_lists(backward.bias_gradients),
        gradients=_lists(backward.weight_gradients),
        weights=weights,
        biases=biases,
        new_weights=_lists(twin.network.weights),
        new_biases=_lists(twin.network.biases),
        previous_velocity=_lists(previous_velocity) if moving else None,
        velocity=_lists(twin.state().weight_velocity) if moving else None,
        regularization_gradients=(
            None if penalty is None else _lists([penalty.gradient(W) for W in network.weights])
        ),
    )


def _rows(arrays: list[Array], sample: int) -> list[Vector]:
    return [array[sample].tolist() for array in arrays]


def _lists(arrays: list[Array]) -> list[Any]:
    return [array.tolist() for array in arrays]
