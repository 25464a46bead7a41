"""The next update explained: complete, exact, and without side effects on the trainer."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from app.nn.activations import Array
from app.nn.datasets import Dataset, DatasetSpec, make_dataset
from app.nn.explain import explain_next_update
from app.nn.trainer import Diverged, Trainer, TrainingConfig

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

BASE = TrainingConfig(layers=(2, 4, 3, 1), activations=("tanh", "relu", "sigmoid"))
CONFIGS = {
    "full-batch": BASE,
    "mini-batch-momentum": replace(BASE, batch_size=16, momentum=0.9, seed=3),
    "float32": replace(BASE, batch_size=16, momentum=0.5, dtype="float32"),
    "no-bias-variant": replace(BASE, bias=False, variant="no_activation_derivative"),
}


@pytest.fixture(scope="module")
def data() -> Dataset:
    return make_dataset(DatasetSpec(kind="teacher", layers=(2, 3, 1), samples=60, seed=2))


def snapshot(trainer: Trainer) -> list[np.ndarray]:
    state = trainer.state()
    return state.weights + state.biases + state.weight_velocity + state.bias_velocity


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_new_weights_are_what_the_update_then_makes(config: TrainingConfig, data: Dataset) -> None:
    trainer = Trainer(config, data)
    untouched = Trainer(config, data)
    for _ in range(5):  # so that momentum has a velocity and mini-batches are mid-epoch
        trainer.update()
        untouched.update()
    trainer.train_loss()  # with the forward pass cached, as the run loop leaves it
    before = snapshot(trainer)
    explained = explain_next_update(trainer, sample=3)
    for a, b in zip(before, snapshot(trainer), strict=True):
        np.testing.assert_array_equal(a, b)
    assert (trainer.step, trainer.diverged) == (5, None)

    result = trainer.update()
    dtype = trainer.network.weights[0].dtype
    for shown, real in zip(explained.new_weights, trainer.network.weights, strict=True):
        np.testing.assert_array_equal(np.array(shown, dtype=dtype), real)
    for shown_bias, real in zip(explained.new_biases, trainer.network.biases, strict=True):
        np.testing.assert_array_equal(np.array(shown_bias, dtype=dtype), real)
    for shown, real in zip(explained.gradients, result.backward.weight_gradients, strict=True):
        np.testing.assert_array_equal(np.array(shown, dtype=dtype), real)
    assert explained.loss == result.batch_loss
    assert explained.batch_size == len(result.forward.activations[0])
    # The explained left no trace: the trainer goes on exactly like one never looked at.
    untouched.update()
    for _ in range(3):
        trainer.update()
        untouched.update()
    for a, b in zip(snapshot(trainer), snapshot(untouched), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("updates_before", [0, 4])
def test_velocities_are_the_engines_before_and_after(data: Dataset, updates_before: int) -> None:
    config = CONFIGS["mini-batch-momentum"]
    trainer = Trainer(config, data)
    for _ in range(updates_before):
        trainer.update()
    before = trainer.state().weight_velocity
    explained = explain_next_update(trainer, sample=0)
    trainer.update()
    after = trainer.state().weight_velocity
    for layer, (shown_before, shown_after, real) in enumerate(
        zip(explained.previous_velocity or [], explained.velocity or [], after, strict=True)
    ):
        expected_before = before[layer] if before else np.zeros_like(real)
        np.testing.assert_array_equal(np.array(shown_before), expected_before)
        np.testing.assert_array_equal(np.array(shown_after), real)
        # v ← μ·v + ∂L/∂W, as the page's table lays it out.
        gradient = np.array(explained.gradients[layer])
        np.testing.assert_allclose(0.9 * expected_before + gradient, real, rtol=1e-12, atol=1e-15)
    assert explained.velocity is not None and len(explained.velocity) == 3


def test_without_momentum_there_are_no_velocities(data: Dataset) -> None:
    explained = explain_next_update(Trainer(BASE, data), sample=0)
    assert explained.previous_velocity is None and explained.velocity is None


def test_every_number_follows_the_maths(data: Dataset) -> None:
    config = replace(BASE, batch_size=16, momentum=0.9, learning_rate=0.3)
    trainer = Trainer(config, data)
    trainer.update()
    explained = explain_next_update(trainer, sample=5)
    assert (explained.step, explained.batch_size, explained.sample) == (1, 16, 5)
    assert (explained.learning_rate, explained.momentum) == (0.3, 0.9)
    assert explained.loss_name == "mse" and explained.variant == "standard"
    assert explained.activations == ["tanh", "relu", "sigmoid"]
    assert explained.output_activation == "sigmoid"
    np.testing.assert_array_equal(explained.x, data.x_train[explained.row])
    np.testing.assert_array_equal(explained.y, data.y_train[explained.row])
    assert explained.activation[0] == explained.x

    a = np.array(explained.x)
    functions: list[Callable[[Array], Array]] = [
        np.tanh,
        lambda z: np.maximum(z, 0.0),
        lambda z: 1 / (1 + np.exp(-z)),
    ]
    for layer, f in enumerate(functions):
        net = a @ np.array(explained.weights[layer]) + np.array(explained.biases[layer])
        np.testing.assert_allclose(explained.net[layer], net, rtol=1e-13)
        a = f(net)
        np.testing.assert_allclose(explained.activation[layer + 1], a, rtol=1e-13)
    tanh_out, relu_net, sigmoid_out = (
        np.array(explained.activation[1]),
        np.array(explained.net[1]),
        np.array(explained.activation[3]),
    )
    np.testing.assert_allclose(explained.derivative[0], 1 - tanh_out**2, rtol=1e-13)
    np.testing.assert_array_equal(explained.derivative[1], (relu_net > 0).astype(float))
    np.testing.assert_allclose(explained.derivative[2], sigmoid_out * (1 - sigmoid_out), rtol=1e-13)

    # Output delta of this sample: (ŷ − y)/N · f'(net); then back through the weights.
    output_delta = (sigmoid_out - np.array(explained.y)) / 16 * np.array(explained.derivative[2])
    np.testing.assert_allclose(explained.sample_deltas[2], output_delta, rtol=1e-13)
    hidden = np.array(explained.weights[2]) @ output_delta * np.array(explained.derivative[1])
    np.testing.assert_allclose(explained.sample_deltas[1], hidden, rtol=1e-13, atol=1e-18)

    # With momentum, the new weights are W − α(μv + g): check they moved against the gradient
    # plus the remembered velocity, by the trainer's own numbers.
    velocity = trainer.state().weight_velocity
    for layer in range(3):
        expected = np.array(explained.weights[layer]) - 0.3 * (
            0.9 * velocity[layer] + np.array(explained.gradients[layer])
        )
        np.testing.assert_array_equal(explained.new_weights[layer], expected)


def test_summed_deltas_and_gradients_cover_the_whole_batch(data: Dataset) -> None:
    trainer = Trainer(BASE, data)
    explained = explain_next_update(trainer)
    forward = trainer.network.forward(data.x_train)
    backward = trainer.network.backward(forward, data.y_train)
    assert explained.batch_size == len(data.x_train) == 48
    for shown_delta, real in zip(explained.deltas, backward.bias_gradients, strict=True):
        np.testing.assert_array_equal(shown_delta, real)
    for shown, real in zip(explained.gradients, backward.weight_gradients, strict=True):
        np.testing.assert_array_equal(shown, real)
    per_sample = [explain_next_update(trainer, sample=n).sample_deltas[0] for n in range(48)]
    np.testing.assert_allclose(np.sum(per_sample, axis=0), explained.deltas[0], rtol=1e-12)


def test_to_dict_is_plain_json(data: Dataset) -> None:
    trainer = Trainer(replace(BASE, dtype="float32"), data)
    shown = explain_next_update(trainer).to_dict()
    assert shown["new_weights"][0][1][2] == float(shown["new_weights"][0][1][2])
    text = json.dumps(shown, allow_nan=False)
    assert json.loads(text) == shown
    assert isinstance(shown["weights"][1][0][0], float)
    assert set(shown) >= {"step", "net", "activation", "derivative", "sample_deltas", "deltas"}


def test_cross_entropy_names_the_activation_really_applied(data: Dataset) -> None:
    classes = make_dataset(DatasetSpec(kind="xor", samples=20, seed=1))
    config = TrainingConfig(
        layers=(2, 3, 1), activations=("tanh", "tanh"), loss="cross_entropy", learning_rate=0.1
    )
    explained = explain_next_update(Trainer(config, classes))
    assert explained.activations == ["tanh", "tanh"]
    assert explained.output_activation == "sigmoid"
    assert explained.loss_name == "cross_entropy"


def test_a_sample_outside_the_batch_is_refused(data: Dataset) -> None:
    trainer = Trainer(replace(BASE, batch_size=16), data)
    with pytest.raises(IndexError, match="sample 16 is outside the batch of 16"):
        explain_next_update(trainer, sample=16)


def test_a_diverging_update_raises_and_leaves_the_trainer_as_it_was(data: Dataset) -> None:
    config = TrainingConfig(layers=(2, 3, 1), activations=("linear",) * 2, learning_rate=1e6)
    trainer = Trainer(config, data)
    with pytest.raises(Diverged) as shown:
        for _ in range(10):
            explain_next_update(trainer)
            trainer.update()
    assert trainer.diverged is None  # only the copy diverged
    with pytest.raises(Diverged) as real:
        trainer.update()
    assert real.value.step == shown.value.step and real.value.reason == shown.value.reason
    assert trainer.step == real.value.step
