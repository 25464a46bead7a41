"""The two losses: values by hand, output deltas against finite differences, and stability."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.nn.activations import LINEAR, SIGMOID, SOFTMAX, TANH
from app.nn.losses import CrossEntropy, MeanSquaredError, loss_named

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


# Overflow, division by zero and invalid results raise; underflow to 0 is the right answer
# (e^-2000 is 0 in floating point) and numpy does not warn about it by default either.
def strict() -> np.errstate:
    return np.errstate(all="raise", under="ignore")


MSE = MeanSquaredError()
CE = CrossEntropy()


def test_mse_is_half_the_squared_error_averaged_over_the_batch() -> None:
    output = np.array([[0.2, 0.4], [1.0, -1.0]])
    target = np.array([[0.0, 0.0], [1.0, 1.0]])
    # Sample 1: ½(0.04 + 0.16) = 0.1; sample 2: ½(0 + 4) = 2; mean = 1.05.
    assert MSE.value(output, output, target) == pytest.approx(1.05, rel=1e-15)


def test_binary_cross_entropy_by_hand() -> None:
    net = np.array([[0.0], [2.0]])
    target = np.array([[1.0], [0.25]])
    p = 1 / (1 + math.exp(-2.0))
    expected = (-math.log(0.5) - (0.25 * math.log(p) + 0.75 * math.log(1 - p))) / 2
    assert CE.value(net, SIGMOID.function(net), target) == pytest.approx(expected, rel=1e-14)


def test_softmax_cross_entropy_by_hand() -> None:
    net = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    target = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    total = math.exp(1) + math.exp(2) + math.exp(3)
    expected = (-math.log(math.exp(3) / total) - math.log(1 / 3)) / 2
    assert CE.value(net, SOFTMAX.function(net), target) == pytest.approx(expected, rel=1e-14)


def test_cross_entropy_picks_sigmoid_or_softmax_whatever_is_listed() -> None:
    assert CE.output_activation(TANH, 1) is SIGMOID
    assert CE.output_activation(LINEAR, 3) is SOFTMAX
    assert MSE.output_activation(TANH, 3) is TANH


def numerical_net_gradient(loss: MeanSquaredError | CrossEntropy, activation, net, target):  # type: ignore[no-untyped-def]
    step = 1e-6
    gradient = np.zeros_like(net)
    for index in np.ndindex(net.shape):
        up, down = net.copy(), net.copy()
        up[index] += step
        down[index] -= step
        above = loss.value(up, activation.function(up), target)
        below = loss.value(down, activation.function(down), target)
        gradient[index] = (above - below) / (2 * step)
    return gradient


@pytest.mark.parametrize(
    ("loss", "outputs", "activation", "one_hot"),
    [
        (MSE, 2, TANH, False),
        (MSE, 1, SIGMOID, False),
        (CE, 1, SIGMOID, False),
        (CE, 3, SOFTMAX, True),
        (CE, 3, SOFTMAX, False),  # rows that do not sum to 1, as a sigmoid teacher makes
    ],
    ids=["mse-tanh", "mse-sigmoid", "bce", "softmax-ce", "softmax-ce-soft"],
)
def test_output_delta_is_the_derivative_of_the_loss(loss, outputs, activation, one_hot) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(7)
    net = rng.normal(0.0, 1.5, (5, outputs))
    if one_hot:
        target = np.eye(outputs)[rng.integers(0, outputs, 5)]
    else:
        target = rng.uniform(0.0, 1.0, (5, outputs))
    output = activation.function(net)
    delta = loss.output_delta(net, output, target, activation, True)
    expected = numerical_net_gradient(loss, activation, net, target)
    np.testing.assert_allclose(delta, expected, rtol=1e-7, atol=1e-10)


def test_softmax_delta_of_one_hot_targets_is_exactly_the_error_over_n() -> None:
    rng = np.random.default_rng(3)
    net = rng.normal(0.0, 2.0, (6, 4))
    target = np.eye(4)[rng.integers(0, 4, 6)]
    output = SOFTMAX.function(net)
    delta = CE.output_delta(net, output, target, SOFTMAX, True)
    np.testing.assert_array_equal(delta, (output - target) * (1 / 6))


@pytest.mark.parametrize(
    ("target", "needed"),
    [
        ([[0.5], [-0.25]], "between 0 and 1"),
        ([[1.5], [0.25]], "between 0 and 1"),
        ([[0.5, -0.1], [0.2, 0.3]], "of at least 0"),
    ],
)
def test_cross_entropy_refuses_targets_without_a_minimum(
    target: list[list[float]], needed: str
) -> None:
    with pytest.raises(ValueError, match=f"cross_entropy needs targets {needed}") as raised:
        CE.check_targets(np.array(target))
    values = np.array(target)
    assert f"run from {values.min():.3g} to {values.max():.3g}" in str(raised.value)


@pytest.mark.parametrize(
    "target",
    [[[0.0], [1.0]], [[0.2, 0.9], [1.0, 0.0]], [[3.0, 0.5], [0.0, 0.0]], np.zeros((0, 2))],
)
def test_cross_entropy_accepts_targets_with_a_minimum(target: object) -> None:
    CE.check_targets(np.array(target))  # several outputs: any targets of at least 0


def test_mse_without_the_derivative_is_the_plain_error() -> None:
    net = np.array([[0.5], [-0.5]])
    output = SIGMOID.function(net)
    target = np.array([[1.0], [0.0]])
    delta = MSE.output_delta(net, output, target, SIGMOID, False)
    np.testing.assert_allclose(delta, (output - target) / 2, rtol=1e-15)


@pytest.mark.parametrize("outputs", [1, 3])
def test_cross_entropy_is_finite_for_huge_nets(outputs: int) -> None:
    net = np.array([[1e3, -1e3, 5e2][:outputs], [-1e3, 1e3, -5e2][:outputs]])
    activation = CE.output_activation(LINEAR, outputs)
    if outputs == 1:
        target = np.array([[0.0], [1.0]])  # both samples confidently wrong
    else:
        target = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    with strict():
        output = activation.function(net)
        value = CE.value(net, output, target)
        delta = CE.output_delta(net, output, target, activation, True)
    # Confidently wrong by a margin m costs m per sample (1000, or 2000 between two softmax
    # outputs), not log(0) = ∞.
    assert value == pytest.approx(1e3 if outputs == 1 else 2e3, rel=1e-12)
    assert np.all(np.isfinite(delta))
    np.testing.assert_allclose(np.abs(delta).sum(axis=1), [1.0, 1.0] if outputs > 1 else [0.5] * 2)


def test_cross_entropy_of_a_confident_right_answer_is_near_zero() -> None:
    net = np.array([[800.0], [-800.0]])
    with strict():
        value = CE.value(net, SIGMOID.function(net), np.array([[1.0], [0.0]]))
    assert value == 0.0


def test_unknown_loss() -> None:
    assert loss_named("mse") == MSE
    with pytest.raises(ValueError, match="known: mse, cross_entropy"):
        loss_named("hinge")
