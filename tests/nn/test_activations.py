"""Activation functions and their derivatives, on values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.nn.activations import HIDDEN_ACTIVATIONS, RELU, SIGMOID, SOFTMAX, TANH, activation_named

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


# Overflow, division by zero and invalid results raise; underflow to 0 is the right answer
# (e^-2000 is 0 in floating point) and numpy does not warn about it by default either.
def strict() -> np.errstate:
    return np.errstate(all="raise", under="ignore")


def test_sigmoid_values() -> None:
    net = np.array([[-2.0, 0.0, 1.0, 3.0]])
    expected = [[1 / (1 + math.exp(2.0)), 0.5, 1 / (1 + math.exp(-1.0)), 1 / (1 + math.exp(-3.0))]]
    np.testing.assert_allclose(SIGMOID.function(net), expected, rtol=1e-15)


def test_sigmoid_of_huge_nets_saturates_without_warnings() -> None:
    net = np.array([[-1e4, -800.0, 800.0, 1e4]])
    with strict():
        output = SIGMOID.function(net)
        derivative = SIGMOID.derivative(net, output)
    np.testing.assert_array_equal(output, [[0.0, 0.0, 1.0, 1.0]])
    np.testing.assert_array_equal(derivative, [[0.0, 0.0, 0.0, 0.0]])


def test_sigmoid_keeps_float32() -> None:
    net = np.array([[-1e4, 0.5, 1e4]], dtype=np.float32)
    with strict():
        assert SIGMOID.function(net).dtype == np.float32


def test_relu_values_and_subgradient_at_zero() -> None:
    net = np.array([[-1.5, 0.0, 2.5]])
    output = RELU.function(net)
    np.testing.assert_array_equal(output, [[0.0, 0.0, 2.5]])
    np.testing.assert_array_equal(RELU.derivative(net, output), [[0.0, 0.0, 1.0]])


def test_tanh_and_linear_values() -> None:
    net = np.array([[-0.5, 0.0, 2.0]])
    np.testing.assert_allclose(TANH.function(net), [[math.tanh(-0.5), 0.0, math.tanh(2.0)]])
    np.testing.assert_array_equal(activation_named("linear").function(net), net)
    linear = activation_named("linear")
    np.testing.assert_array_equal(linear.derivative(net, net), np.ones_like(net))


@pytest.mark.parametrize("name", sorted(HIDDEN_ACTIVATIONS))
def test_derivative_matches_a_central_difference(name: str) -> None:
    activation = activation_named(name)
    # Away from relu's kink at 0, where the derivative is not defined.
    net = np.array([[-2.3, -0.7, -0.01, 0.02, 0.4, 1.9]])
    step = 1e-6
    numerical = (activation.function(net + step) - activation.function(net - step)) / (2 * step)
    analytic = activation.derivative(net, activation.function(net))
    np.testing.assert_allclose(analytic, numerical, rtol=1e-8, atol=1e-10)


def test_softmax_rows_sum_to_one_even_for_huge_nets() -> None:
    net = np.array([[1000.0, 999.0, -1000.0], [0.0, 0.0, 0.0]])
    with strict():
        output = SOFTMAX.function(net)
    e = math.exp(-1.0)
    np.testing.assert_allclose(output[0], [1 / (1 + e), e / (1 + e), 0.0], rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(output[1], [1 / 3] * 3, rtol=1e-15)


def test_softmax_does_not_change_its_input() -> None:
    net = np.array([[0.5, -0.5]])
    SOFTMAX.function(net)
    np.testing.assert_array_equal(net, [[0.5, -0.5]])


def test_unknown_names_list_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known: linear, relu, sigmoid, tanh"):
        activation_named("softmax")  # an output-only activation, never listed by name
    assert repr(SIGMOID) == "Activation(sigmoid)"


@pytest.mark.parametrize("name", sorted(HIDDEN_ACTIVATIONS))
def test_an_activation_writes_into_out_when_given_one(name: str) -> None:
    activation = activation_named(name)
    net = np.array([[-1.5, 0.0, 0.25], [2.0, -0.5, 3.0]])
    rows = np.full((3, 3), 7.0)  # the network hands out all rows but the last
    written = activation.function(net, out=rows[:-1])
    assert np.shares_memory(written, rows)
    np.testing.assert_array_equal(rows[:-1], activation.function(net))
    np.testing.assert_array_equal(rows[-1], [7.0, 7.0, 7.0])
