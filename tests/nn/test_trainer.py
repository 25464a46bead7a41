"""Training: determinism, snapshots, dtypes, momentum, divergence, and that it really learns."""

from __future__ import annotations

import re
import warnings
from dataclasses import replace

import numpy as np
import pytest

from app.nn.activations import Array
from app.nn.datasets import Dataset, DatasetSpec, make_dataset
from app.nn.network import Network
from app.nn.trainer import (
    Diverged,
    RegularizationSpec,
    Trainer,
    TrainerState,
    TrainingConfig,
)

TEACHER = DatasetSpec(kind="teacher", layers=(2, 3, 1), samples=200, seed=1)
BASE = TrainingConfig(layers=(2, 4, 4, 1), activations=("sigmoid",) * 3, learning_rate=0.5)
# Divergence must surface as Diverged even where numpy's overflow warnings are errors.
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

MINI_BATCH = replace(BASE, batch_size=30, momentum=0.9, seed=5)  # 160 rows: 6 batches an epoch
L1_FLOAT32 = replace(
    MINI_BATCH, dtype="float32", regularization=RegularizationSpec("l1", 0.01), bias=False
)
L2_FULL = replace(BASE, regularization=RegularizationSpec("l2", 0.05), momentum=0.5)
CONFIGS = [BASE, MINI_BATCH, L1_FLOAT32, L2_FULL]
CONFIG_IDS = ["full-batch", "mini-batch", "l1-float32-no-bias", "l2-momentum"]


@pytest.fixture(scope="module")
def teacher_data() -> Dataset:
    return make_dataset(TEACHER)


def parameters(trainer: Trainer) -> list[np.ndarray]:
    return [*trainer.network.weights, *trainer.network.biases]


def assert_same_parameters(first: Trainer, second: Trainer) -> None:
    for a, b in zip(parameters(first), parameters(second), strict=True):
        np.testing.assert_array_equal(a, b)  # bit for bit, not approximately


@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_same_config_and_seed_give_identical_weights_step_for_step(
    config: TrainingConfig, teacher_data: Dataset
) -> None:
    first, second = Trainer(config, teacher_data), Trainer(config, teacher_data)
    for _ in range(50):
        one, two = first.update(), second.update()
        assert one.batch_loss == two.batch_loss
        assert_same_parameters(first, second)
    assert first.step == 50


def test_mini_batches_cover_each_epoch_once(teacher_data: Dataset) -> None:
    trainer = Trainer(MINI_BATCH, teacher_data)
    batches = [trainer.update().batch_indices for _ in range(6)]
    assert [len(b) for b in batches if b is not None] == [30, 30, 30, 30, 30, 10]
    rows = np.concatenate([b for b in batches if b is not None])
    np.testing.assert_array_equal(np.sort(rows), np.arange(160))
    seventh, first = trainer.update().batch_indices, batches[0]
    assert seventh is not None and first is not None
    assert not np.array_equal(seventh, first)  # a new shuffle


@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_restoring_a_snapshot_continues_exactly(
    config: TrainingConfig, teacher_data: Dataset
) -> None:
    uninterrupted = Trainer(config, teacher_data)
    for _ in range(50):
        uninterrupted.update()
    interrupted = Trainer(config, teacher_data)
    for _ in range(20):  # step 20 is in the middle of an epoch of 6 mini-batches
        interrupted.update()
    blob = interrupted.state().to_bytes()
    resumed = Trainer(config, teacher_data)
    resumed.restore(TrainerState.from_bytes(blob))
    assert resumed.step == 20
    for _ in range(30):
        resumed.update()
    assert resumed.step == 50
    assert_same_parameters(resumed, uninterrupted)
    assert resumed.train_loss() == uninterrupted.train_loss()


def test_state_is_a_copy_and_round_trips_through_bytes(teacher_data: Dataset) -> None:
    trainer = Trainer(MINI_BATCH, teacher_data)
    trainer.update()
    state = trainer.state()
    trainer.update()
    assert not np.array_equal(state.weights[0], trainer.network.weights[0])
    copy = TrainerState.from_bytes(state.to_bytes())
    assert (copy.step, copy.learning_rate) == (1, 0.5)
    for a, b in zip(
        state.weights + state.biases + state.weight_velocity + state.bias_velocity,
        copy.weights + copy.biases + copy.weight_velocity + copy.bias_velocity,
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)
    assert len(copy.weight_velocity) == 3


def test_float32_stays_float32_throughout(teacher_data: Dataset) -> None:
    trainer = Trainer(replace(MINI_BATCH, dtype="float32"), teacher_data)
    for _ in range(3):
        result = trainer.update()
    arrays = parameters(trainer) + list(trainer.data.arrays())
    arrays += [*result.forward.nets, *result.forward.activations, *result.backward.deltas]
    arrays += [*result.backward.weight_gradients, *result.backward.bias_gradients]
    state = trainer.state()
    arrays += state.weight_velocity + state.bias_velocity
    assert {a.dtype for a in arrays} == {np.dtype(np.float32)}
    restored = Trainer(replace(MINI_BATCH, dtype="float32"), teacher_data)
    restored.restore(TrainerState.from_bytes(state.to_bytes()))
    assert {a.dtype for a in parameters(restored)} == {np.dtype(np.float32)}


def test_without_momentum_an_update_is_exactly_w_minus_rate_times_gradient(
    teacher_data: Dataset,
) -> None:
    trainer = Trainer(BASE, teacher_data)
    before = trainer.state()
    result = trainer.update()
    for old, new, gradient in zip(
        before.weights, trainer.network.weights, result.backward.weight_gradients, strict=True
    ):
        np.testing.assert_array_equal(new, old - 0.5 * gradient)
    for old, new, gradient in zip(
        before.biases, trainer.network.biases, result.backward.bias_gradients, strict=True
    ):
        np.testing.assert_array_equal(new, old - 0.5 * gradient)


def test_momentum_accumulates_a_velocity(teacher_data: Dataset) -> None:
    trainer = Trainer(replace(BASE, momentum=0.9), teacher_data)
    first = [g.copy() for g in trainer.update().backward.weight_gradients]
    before = trainer.state().weights
    second = trainer.update().backward.weight_gradients
    for old, new, g1, g2 in zip(before, trainer.network.weights, first, second, strict=True):
        np.testing.assert_array_equal(new, old - 0.5 * (0.9 * g1 + g2))


def test_loss_at_step_k_is_the_loss_of_the_weights_after_k_updates(
    teacher_data: Dataset,
) -> None:
    trainer = Trainer(BASE, teacher_data)
    fresh = Network.create((2, 4, 4, 1), "sigmoid", seed=BASE.seed)
    x, y = teacher_data.x_train, teacher_data.y_train
    assert trainer.train_loss() == fresh.data_loss(fresh.forward(x), y)  # step 0: initial
    losses = [trainer.train_loss()]
    for k in range(1, 6):
        result = trainer.update()
        assert result.step == trainer.step == k
        assert result.batch_loss == losses[-1]  # full batch: the loss before this update
        trainer.network.forward(x)  # (a stray forward pass must not disturb the cache)
        recomputed = trainer.network.data_loss(trainer.network.forward(x), y)
        assert trainer.train_loss() == recomputed
        losses.append(recomputed)
    assert losses == sorted(losses, reverse=True)  # full-batch descent at a small rate
    test_x, test_y = teacher_data.x_test, teacher_data.y_test
    expected = trainer.network.data_loss(trainer.network.forward(test_x), test_y)
    assert trainer.test_loss() == expected


@pytest.mark.parametrize("config", [BASE, MINI_BATCH], ids=["full-batch", "mini-batch"])
def test_asking_for_the_train_loss_between_updates_changes_nothing(
    config: TrainingConfig, teacher_data: Dataset
) -> None:
    # In full-batch mode the next update reuses train_loss's forward pass and loss.
    asked, silent = Trainer(config, teacher_data), Trainer(config, teacher_data)
    for _ in range(8):
        loss = asked.train_loss()
        one, two = asked.update(), silent.update()
        assert one.batch_loss == two.batch_loss
        if config.batch_size is None:
            assert one.batch_loss == loss
        assert_same_parameters(asked, silent)
    assert asked.train_loss() == silent.train_loss()


def test_a_huge_learning_rate_diverges_with_a_step_and_a_reason(teacher_data: Dataset) -> None:
    config = TrainingConfig(layers=(2, 3, 1), activations=("linear",) * 2, learning_rate=1e6)
    trainer = Trainer(config, teacher_data)
    with pytest.raises(Diverged) as caught:
        for _ in range(10):
            trainer.update()
    diverged = caught.value
    assert 1 <= diverged.step <= 6
    # Numpy's overflow in the next update, or the weights' check at the end of this one.
    assert re.fullmatch(
        rf"numpy reported .* in update {diverged.step + 1}|.* overflowed in update "
        rf"{diverged.step} \(the sum of their squares is inf\)",
        diverged.reason,
    ), diverged.reason
    assert str(diverged).startswith(f"diverged at step {diverged.step}: ")
    # It never trains on: every later update refuses with the same report.
    step = trainer.step
    with pytest.raises(Diverged) as again:
        trainer.update()
    assert (again.value.step, trainer.step) == (diverged.step, step)


def test_divergence_is_caught_where_overflow_only_warns(teacher_data: Dataset) -> None:
    config = TrainingConfig(layers=(2, 3, 1), activations=("linear",) * 2, learning_rate=1e6)
    trainer = Trainer(config, teacher_data)
    with warnings.catch_warnings(), pytest.raises(Diverged) as caught:
        warnings.simplefilter("ignore", RuntimeWarning)
        for _ in range(10):
            trainer.update()
    # Measured: losses 0.13, 3e20, 1e86, then weights beyond 1e154 (their squares overflow)
    # after update 4, whose loss would have been 1e283.
    assert caught.value.step == 4 and trainer.diverged is caught.value
    expected = "the weights and biases overflowed in update 4 (the sum of their squares is inf)"
    assert caught.value.reason == expected


def test_infinite_weights_are_caught_even_when_the_loss_stays_finite(
    teacher_data: Dataset,
) -> None:
    # sigmoid(±∞) is 0 or 1, so an infinite weight can hide behind a finite loss.
    trainer = Trainer(BASE, teacher_data)
    state = trainer.state()
    state.weights[0][0, 0] = np.inf
    trainer.restore(state)
    with pytest.raises(Diverged, match="weight"):
        trainer.update()


def test_restore_clears_a_divergence(teacher_data: Dataset) -> None:
    trainer = Trainer(replace(BASE, learning_rate=1e6, activations=("linear",) * 3), teacher_data)
    good = trainer.state()
    with pytest.raises(Diverged):
        for _ in range(20):
            trainer.update()
    trainer.restore(good)
    trainer.learning_rate = 1e-3
    assert trainer.update().step == 1


def accuracy(trainer: Trainer, x: Array, y: Array) -> float:
    """Share of samples classified right: output > ½ for one output, else the argmax."""
    output = trainer.network.forward(x).output
    if output.shape[1] == 1:
        return float(np.mean((output > 0.5) == (y > 0.5)))
    return float(np.mean(output.argmax(axis=1) == y.argmax(axis=1)))


# Learning. Budgets and bounds below were measured on this machine kind (numbers in comments);
# the asserted bounds leave a margin, and each test runs in well under ten seconds.


def test_student_learns_the_teacher(teacher_data: Dataset) -> None:
    """A [2, 6, 6, 1] sigmoid student of the [2, 3, 1] sigmoid teacher, plain gradient descent."""
    config = TrainingConfig(layers=(2, 6, 6, 1), activations=("sigmoid",) * 3, learning_rate=2.0)
    trainer = Trainer(config, teacher_data)
    start = trainer.test_loss()
    assert start is not None
    for _ in range(2000):  # the step budget
        trainer.update()
    end = trainer.test_loss()
    assert end is not None
    # Measured: 3.16e-2 → 9.4e-5 after 2000 steps, a factor of about 340.
    assert start / end >= 200


def test_xor_learned_by_a_small_tanh_network() -> None:
    data = make_dataset(DatasetSpec(kind="xor", samples=200, seed=1))
    config = TrainingConfig(
        layers=(2, 4, 1), activations=("tanh", "sigmoid"), loss="cross_entropy", learning_rate=1.0
    )
    trainer = Trainer(config, data)
    for _ in range(500):
        trainer.update()
    # Measured: 95% test accuracy after 200 steps, 100% from 400 on.
    assert accuracy(trainer, data.x_test, data.y_test) >= 0.95


def test_spiral_learned_by_a_larger_network() -> None:
    data = make_dataset(DatasetSpec(kind="spiral", samples=400, seed=1))
    config = TrainingConfig(
        layers=(2, 16, 16, 1),
        activations=("tanh", "tanh", "sigmoid"),
        loss="cross_entropy",
        learning_rate=0.3,
        momentum=0.9,
    )
    trainer = Trainer(config, data)
    start = trainer.test_loss()
    for _ in range(2000):
        trainer.update()
    # Measured after 2000 steps: test accuracy 97.5%, test loss 0.088 (from 0.69).
    assert accuracy(trainer, data.x_test, data.y_test) >= 0.95
    test_loss = trainer.test_loss()
    assert start is not None and test_loss is not None and test_loss < 0.15 < start


@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_a_copy_of_a_trainer_moves_on_its_own(
    config: TrainingConfig, teacher_data: Dataset
) -> None:
    trainer = Trainer(config, teacher_data)
    trainer.update()
    before = trainer.state()
    twin = trainer.copy()
    twin.update()
    twin_at_2 = twin.state()
    twin.update()
    assert_same_state(trainer.state(), before)  # the twin's updates left it as it was
    trainer.update()
    assert_same_state(trainer.state(), twin_at_2)  # and it makes the same update the twin made


def assert_same_state(first: TrainerState, second: TrainerState) -> None:
    assert (first.step, first.learning_rate) == (second.step, second.learning_rate)
    for a, b in zip(
        first.weights + first.biases + first.weight_velocity + first.bias_velocity,
        second.weights + second.biases + second.weight_velocity + second.bias_velocity,
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)


def test_a_one_layer_network_without_biases_trains(teacher_data: Dataset) -> None:
    config = replace(BASE, layers=(2, 1), activations=("sigmoid",), bias=False)
    trainer = Trainer(config, teacher_data)
    losses = [trainer.train_loss()]
    for _ in range(20):
        trainer.update()
        losses.append(trainer.train_loss())
    assert losses[-1] < losses[0]
    assert trainer.network.biases[0][0] == 0.0  # never moved


def test_three_class_spiral_learned_with_softmax_cross_entropy() -> None:
    data = make_dataset(DatasetSpec(kind="spiral", samples=450, seed=1, classes=3))
    config = TrainingConfig(
        layers=(2, 16, 16, 3),
        activations=("tanh", "tanh", "sigmoid"),  # the loss puts softmax on the output
        loss="cross_entropy",
        learning_rate=0.5,
        momentum=0.9,
    )
    trainer = Trainer(config, data)
    assert trainer.network.activations[-1].name == "softmax"
    for _ in range(1500):  # the step budget
        trainer.update()
    # Measured: test accuracy 80 % after 500 steps, 97.8 % from 1500 on (90 test samples).
    assert accuracy(trainer, data.x_test, data.y_test) >= 0.93


def nielsen_update(
    weights: list[Array],
    biases: list[Array],
    x: Array,
    y: Array,
    rate: float,
    penalty: str,
    lam: float,
) -> None:
    """One update of sigmoid layers under mse written sample by sample with column vectors, as
    in Nielsen's network.py, plus the penalty's gradient on the weights; in place."""
    nabla_w = [np.zeros_like(w) for w in weights]
    nabla_b = [np.zeros_like(b) for b in biases]
    for sample, target in zip(x, y, strict=True):
        activation = sample[:, None]
        activations, zs = [activation], []
        for w, b in zip(weights, biases, strict=True):
            z = w.T @ activation + b[:, None]
            zs.append(z)
            activation = 1.0 / (1.0 + np.exp(-z))
            activations.append(activation)
        delta = (activations[-1] - target[:, None]) * activations[-1] * (1 - activations[-1])
        for layer in range(len(weights) - 1, -1, -1):
            nabla_w[layer] += activations[layer] @ delta.T
            nabla_b[layer] += delta[:, 0]
            if layer:
                below = activations[layer]
                delta = (weights[layer] @ delta) * below * (1 - below)
    for w, b, dw, db in zip(weights, biases, nabla_w, nabla_b, strict=True):
        extra = lam * w if penalty == "l2" else lam * np.sign(w)
        w -= rate * (dw / len(x) + extra)
        b -= rate * db / len(x)


@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_weights_after_regularized_updates_equal_an_independent_computation(
    penalty: str, teacher_data: Dataset
) -> None:
    config = replace(BASE, regularization=RegularizationSpec(penalty, 0.03))
    trainer = Trainer(config, teacher_data)
    trainer.network.weights[1][0, 0] = 0.0  # sign(0) = 0: L1 leaves a zero weight to the data
    weights = [w.copy() for w in trainer.network.weights]
    biases = [b.copy() for b in trainer.network.biases]
    for _ in range(5):
        trainer.update()
        nielsen_update(
            weights, biases, teacher_data.x_train, teacher_data.y_train, 0.5, penalty, 0.03
        )
    for computed, expected in zip(
        trainer.network.weights + trainer.network.biases, weights + biases, strict=True
    ):
        np.testing.assert_allclose(computed, expected, rtol=1e-12, atol=1e-15)
    plain = Trainer(BASE, teacher_data)
    for _ in range(5):
        plain.update()
    assert not np.allclose(plain.network.weights[0], trainer.network.weights[0])


@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_the_loss_is_the_data_loss_plus_the_penalty(penalty: str, teacher_data: Dataset) -> None:
    trainer = Trainer(replace(BASE, regularization=RegularizationSpec(penalty, 0.1)), teacher_data)
    unregularized = Trainer(BASE, teacher_data)  # the same weights at step 0
    weights = trainer.network.weights
    if penalty == "l2":
        expected = 0.05 * sum(float((w**2).sum()) for w in weights)
    else:
        expected = 0.1 * sum(float(np.abs(w).sum()) for w in weights)
    data_loss = unregularized.train_loss()
    assert trainer.train_loss(data_only=True) == data_loss
    assert trainer.train_loss() == pytest.approx(data_loss + expected, rel=1e-14)
    test_data_loss = unregularized.test_loss()
    assert test_data_loss is not None
    assert trainer.test_loss(data_only=True) == test_data_loss
    assert trainer.test_loss() == pytest.approx(test_data_loss + expected, rel=1e-14)
    total = trainer.train_loss()
    assert trainer.update().batch_loss == total  # an update reports the loss it minimises


def test_an_infinite_bias_is_caught_as_a_divergence(teacher_data: Dataset) -> None:
    trainer = Trainer(BASE, teacher_data)
    state = trainer.state()
    state.biases[0][1] = -np.inf
    trainer.restore(state)
    with pytest.raises(Diverged, match="overflowed in update 1"):
        trainer.update()


def test_restoring_a_state_of_other_shapes_is_refused(teacher_data: Dataset) -> None:
    trainer = Trainer(BASE, teacher_data)
    state = Trainer(replace(BASE, layers=(2, 3, 4, 1)), teacher_data).state()
    with pytest.raises(ValueError, match="expected arrays of shapes"):
        trainer.restore(state)


def test_a_loss_that_overflows_before_the_weights_do_is_caught(teacher_data: Dataset) -> None:
    config = TrainingConfig(layers=(2, 3, 1), activations=("linear",) * 2)
    trainer = Trainer(config, teacher_data)
    state = trainer.state()
    state.weights = [np.full((2, 3), 1e100), np.full((3, 1), 1e100)]  # outputs near 1e200
    trainer.restore(state)
    with warnings.catch_warnings(), pytest.raises(Diverged) as caught:
        warnings.simplefilter("ignore", RuntimeWarning)
        trainer.update()
    assert caught.value.reason == "the loss became inf before update 1"
    assert caught.value.step == trainer.step == 0
