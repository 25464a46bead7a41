"""The network's forward and backward passes, checked against the maths.

Every gradient the float64 backward pass returns (∂L/∂W, ∂L/∂b and the per-sample deltas
∂L/∂net) is compared with a central finite difference of the loss, the weight penalty of a
regularization included. The difference quotient is
evaluated in extended precision (numpy's longdouble, 64-bit mantissa): in float64 it has a
rounding floor of about ε·L/h ≈ 1e-11, which is already 1e-5 of the ~1e-6 gradients of a deep
sigmoid network, so it could not tell a right gradient from a wrong one at 1e-6.

The error measure is the largest absolute difference over an array divided by the largest
magnitude in it, so tiny entries next to large ones are judged on the array's scale.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from app.nn.activations import SIGMOID, Array
from app.nn.datasets import FEATURES, expand_features
from app.nn.losses import loss_named
from app.nn.network import Network
from app.nn.regularizers import L1, L2, Regularizer, regularizer_named

# numpy reports overflow, invalid values and division by zero as RuntimeWarning.
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

EXTENDED = np.longdouble
# A loss: one scalar in its arrays' precision (float64, or EXTENDED for the reference).
Loss = np.floating[Any]
STEP = 1e-6  # truncation error ~STEP² ≈ 1e-12, rounding ~1e-19·L/STEP ≈ 1e-14
TOLERANCE = 1e-6
SHAPES = [(1, 1), (2, 1), (2, 3, 1), (3, 4, 2), (2, 5, 3), (3, 5, 5, 5, 2)]
ACTIVATION_CHOICES = ["sigmoid", "tanh", "relu", "linear", "mixed"]
MIXED_CYCLE = ("tanh", "relu", "sigmoid", "linear")
REGULARIZATIONS = [None, "l1", "l2"]
PENALTY_RATE = 0.05


def relative_error(computed: Array, expected: Array) -> float:
    scale = max(float(np.abs(computed).max()), float(np.abs(expected).max()))
    return 0.0 if scale == 0.0 else float(np.abs(computed - expected).max()) / scale


def activation_names(choice: str, layers: tuple[int, ...]) -> list[str]:
    count = len(layers) - 1
    if choice == "mixed":
        return [MIXED_CYCLE[i % len(MIXED_CYCLE)] for i in range(count)]
    return [choice] * count


def random_problem(
    layers: tuple[int, ...],
    names: list[str],
    loss: str,
    bias: bool,
    seed: int,
    samples: int = 4,
    soft_targets: bool = False,
    regularization: str | None = None,
) -> tuple[Network, Array, Array]:
    """A network with random (non-zero) biases, and a batch with targets fitting the loss:
    in [0, 1], and one-hot for softmax unless `soft_targets` (rows that do not sum to 1)."""
    penalty = None if regularization is None else regularizer_named(regularization, PENALTY_RATE)
    network = Network.create(
        layers, names, loss=loss, use_bias=bias, seed=seed, regularizer=penalty
    )
    rng = np.random.default_rng(seed + 1000)
    network.biases = [rng.normal(0.0, 0.5, b.shape) for b in network.biases]
    x = rng.uniform(-1.0, 1.0, (samples, layers[0]))
    outputs = layers[-1]
    if loss == "cross_entropy" and outputs > 1 and not soft_targets:
        y = np.eye(outputs)[rng.integers(0, outputs, samples)]  # one-hot for softmax
    else:
        y = rng.uniform(0.0, 1.0, (samples, outputs))  # in [0, 1] for sigmoid + BCE too
    return network, x, y


def near_relu_kink(network: Network, x: Array) -> bool:
    """Whether a relu layer's net input is so close to 0 that a finite difference crosses it."""
    forward = network.forward(x)
    return any(
        activation.name == "relu" and float(np.abs(net).min()) < 1e-4
        for net, activation in zip(forward.nets, network.activations, strict=True)
    )


def per_sample(losses: Array, y: Array) -> Loss:
    """The sum of `losses` over every entry, divided by the number of samples."""
    total: Loss = losses.sum()
    return total / len(y)


def reference_loss(name: str, net: Array, output: Array, y: Array) -> Loss:
    """The loss written out again, kept in the arrays' own (extended) precision."""
    if name == "mse":
        return 0.5 * per_sample((output - y) ** 2, y)
    if net.shape[1] == 1:  # −[y log σ(z) + (1−y) log(1−σ(z))] = log(1 + e^z) − y·z
        return per_sample(np.logaddexp(0.0, net) - y * net, y)
    top = net.max(axis=1, keepdims=True)
    log_sum = top + np.log(np.exp(net - top).sum(axis=1, keepdims=True))
    return per_sample(y * (log_sum - net), y)


def reference_penalty(penalty: Regularizer | None, weights: list[Array]) -> Loss:
    """The weight penalty written out again: (λ/2)·Σw² or λ·Σ|w| over the weights."""
    if penalty is None:
        return EXTENDED(0.0)
    terms = [(w**2).sum() / 2 if penalty.name == "l2" else np.abs(w).sum() for w in weights]
    total: Loss = penalty.rate * np.sum(terms)
    return total


def extended_copy(network: Network) -> Network:
    return Network(
        [w.astype(EXTENDED) for w in network.weights],
        [b.astype(EXTENDED) for b in network.biases],
        network.activations,
        network.loss,
        use_bias=network.use_bias,
    )


def loss_from_net(network: Network, layer: int, net: Array, y: Array) -> Loss:
    """The loss when layer `layer + 1`'s net input is `net`: the forward pass from there on."""
    activation = network.activations[layer].function(net)
    for index in range(layer + 1, len(network.weights)):
        net = activation @ network.weights[index]
        if network.use_bias:
            net = net + network.biases[index]
        activation = network.activations[index].function(net)
    return reference_loss(network.loss.name, net, activation, y)


def numerical_gradient(loss_of: Callable[[], Loss], array: Array) -> Array:
    """Central differences of `loss_of()` with respect to every entry of `array` (in place)."""
    gradient = np.zeros(array.shape)
    for index in np.ndindex(array.shape):
        original = array[index]
        array[index] = original + STEP
        above = loss_of()
        array[index] = original - STEP
        below = loss_of()
        array[index] = original
        gradient[index] = (above - below) / (2 * STEP)
    return gradient


def assert_gradients_match(network: Network, x: Array, y: Array) -> None:
    forward = network.forward(x)
    backward = network.backward(forward, y)
    exact = extended_copy(network)
    x_exact, y_exact = x.astype(EXTENDED), y.astype(EXTENDED)

    def loss() -> Loss:
        data = loss_from_net(exact, 0, x_exact @ exact.weights[0] + bias_of(exact, 0), y_exact)
        return data + reference_penalty(network.regularizer, exact.weights)

    for layer, weight in enumerate(exact.weights):
        expected = numerical_gradient(loss, weight)
        assert relative_error(backward.weight_gradients[layer], expected) < TOLERANCE, layer
    for layer, bias in enumerate(exact.biases):
        summed = backward.deltas[layer].sum(axis=0)
        np.testing.assert_allclose(backward.bias_gradients[layer], summed, rtol=1e-12, atol=1e-15)
        if network.use_bias:
            expected = numerical_gradient(loss, bias)
            assert relative_error(backward.bias_gradients[layer], expected) < TOLERANCE, layer
    for layer, net in enumerate(forward.nets):
        net_exact = net.astype(EXTENDED)
        expected = numerical_gradient(
            lambda: loss_from_net(exact, layer, net_exact, y_exact),  # noqa: B023
            net_exact,
        )
        assert relative_error(backward.deltas[layer], expected) < TOLERANCE, layer


def bias_of(network: Network, layer: int) -> Array:
    return network.biases[layer] if network.use_bias else np.zeros_like(network.biases[layer])


def problem_away_from_kinks(
    layers: tuple[int, ...],
    names: list[str],
    loss: str,
    bias: bool,
    soft_targets: bool = False,
    regularization: str | None = None,
) -> tuple[Network, Array, Array]:
    for seed in range(50):
        network, x, y = random_problem(
            layers,
            names,
            loss,
            bias,
            seed,
            soft_targets=soft_targets,
            regularization=regularization,
        )
        if not near_relu_kink(network, x):
            return network, x, y
    raise AssertionError("no seed kept every relu net input away from 0")


@pytest.mark.parametrize("regularization", REGULARIZATIONS)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(
    ("loss", "soft_targets"),
    [("mse", False), ("cross_entropy", False), ("cross_entropy", True)],
    ids=["mse", "cross_entropy", "cross_entropy-soft"],
)
@pytest.mark.parametrize("choice", ACTIVATION_CHOICES)
@pytest.mark.parametrize("layers", SHAPES, ids=lambda s: "-".join(map(str, s)))
def test_gradients_match_finite_differences(
    layers: tuple[int, ...],
    choice: str,
    loss: str,
    soft_targets: bool,
    bias: bool,
    regularization: str | None,
) -> None:
    names = activation_names(choice, layers)
    network, x, y = problem_away_from_kinks(layers, names, loss, bias, soft_targets, regularization)
    assert_gradients_match(network, x, y)


@pytest.mark.parametrize("regularization", REGULARIZATIONS)
@pytest.mark.parametrize("dimensions", [1, 2])
def test_gradients_match_finite_differences_on_feature_inputs(
    dimensions: int, regularization: str | None
) -> None:
    names = list(FEATURES[dimensions])  # every feature of 1-D or 2-D points as the inputs
    layers = (len(names), 4, 2)
    network, _, y = problem_away_from_kinks(
        layers, ["tanh", "sigmoid"], "cross_entropy", True, regularization=regularization
    )
    points = np.random.default_rng(dimensions).uniform(-1.0, 1.0, (4, dimensions))
    assert_gradients_match(network, expand_features(points, names), y)


@pytest.mark.parametrize("regularization", REGULARIZATIONS)
@pytest.mark.parametrize("layers", [(2, 1), (3, 4, 2), (2, 5, 3, 1)], ids=str)
def test_without_the_derivative_the_output_weights_still_follow_cross_entropy(
    layers: tuple[int, ...], regularization: str | None
) -> None:
    """Under cross-entropy the output delta has no f'(net) factor to leave out, so the variant
    `no_activation_derivative` gives the true ∂L/∂W of the last layer (checked against finite
    differences); below it, its gradients differ (the hand-computed test below has them)."""
    names = activation_names("sigmoid", layers)
    network, x, y = problem_away_from_kinks(
        layers, names, "cross_entropy", True, regularization=regularization
    )
    network.variant = "no_activation_derivative"
    backward = network.backward(network.forward(x), y)
    exact = extended_copy(network)
    hidden = x.astype(EXTENDED)
    for weight, bias, activation in zip(
        exact.weights[:-1], exact.biases[:-1], exact.activations, strict=False
    ):
        hidden = activation.function(hidden @ weight + bias)
    y_exact = y.astype(EXTENDED)

    def loss() -> Loss:
        net = hidden @ exact.weights[-1] + exact.biases[-1]
        data = loss_from_net(exact, len(exact.weights) - 1, net, y_exact)
        return data + reference_penalty(network.regularizer, exact.weights)

    expected = numerical_gradient(loss, exact.weights[-1])
    assert relative_error(backward.weight_gradients[-1], expected) < TOLERANCE


@settings(max_examples=50, deadline=None)
@given(
    layers=st.lists(st.integers(1, 5), min_size=2, max_size=5).map(tuple),
    data=st.data(),
    loss=st.sampled_from(["mse", "cross_entropy"]),
    bias=st.booleans(),
    seed=st.integers(0, 2**31),
    samples=st.integers(1, 6),
    soft_targets=st.booleans(),
    regularization=st.sampled_from(REGULARIZATIONS),
)
def test_gradients_match_for_any_shape(
    layers: tuple[int, ...],
    data: st.DataObject,
    loss: str,
    bias: bool,
    seed: int,
    samples: int,
    soft_targets: bool,
    regularization: str | None,
) -> None:
    names = data.draw(
        st.lists(
            st.sampled_from(["sigmoid", "tanh", "relu", "linear"]),
            min_size=len(layers) - 1,
            max_size=len(layers) - 1,
        )
    )
    network, x, y = random_problem(
        layers, names, loss, bias, seed, samples, soft_targets, regularization
    )
    assume(not near_relu_kink(network, x))
    assert_gradients_match(network, x, y)


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def test_no_activation_derivative_matches_the_formula_by_hand() -> None:
    """A [2, 2, 1] sigmoid network, mse, two samples: every delta without its f'(net) factor."""
    network = Network.create([2, 2, 1], "sigmoid", variant="no_activation_derivative")
    w0 = [[0.5, -0.3], [0.8, 0.2]]
    b0 = [0.1, -0.2]
    w1 = [[0.7], [-0.6]]
    b1 = [0.05]
    network.weights = [np.array(w0), np.array(w1)]
    network.biases = [np.array(b0), np.array(b1)]
    x = [[1.0, 2.0], [-0.5, 0.25]]
    y = [0.9, 0.1]
    n = len(x)

    hidden_delta = [[0.0, 0.0] for _ in range(n)]
    output_delta = [0.0] * n
    hidden = [[0.0, 0.0] for _ in range(n)]
    for s in range(n):
        for j in range(2):
            hidden[s][j] = sigmoid(x[s][0] * w0[0][j] + x[s][1] * w0[1][j] + b0[j])
        output = sigmoid(hidden[s][0] * w1[0][0] + hidden[s][1] * w1[1][0] + b1[0])
        # ∂L/∂ŷ = (ŷ − y)/N, with the sigmoid's ŷ(1 − ŷ) left out.
        output_delta[s] = (output - y[s]) / n
        # Carried back through w1, again with no h(1 − h) factor.
        hidden_delta[s] = [output_delta[s] * w1[j][0] for j in range(2)]
    grad_w1 = [[sum(hidden[s][j] * output_delta[s] for s in range(n))] for j in range(2)]
    grad_b1 = [sum(output_delta)]
    grad_w0 = [
        [sum(x[s][i] * hidden_delta[s][j] for s in range(n)) for j in range(2)] for i in (0, 1)
    ]
    grad_b0 = [sum(hidden_delta[s][j] for s in range(n)) for j in range(2)]

    forward = network.forward(np.array(x))
    backward = network.backward(forward, np.array(y)[:, None])
    np.testing.assert_allclose(backward.deltas[1], np.array(output_delta)[:, None], rtol=1e-14)
    np.testing.assert_allclose(backward.deltas[0], np.array(hidden_delta), rtol=1e-14)
    np.testing.assert_allclose(backward.weight_gradients[1], grad_w1, rtol=1e-14)
    np.testing.assert_allclose(backward.weight_gradients[0], grad_w0, rtol=1e-14)
    np.testing.assert_allclose(backward.bias_gradients[1], grad_b1, rtol=1e-14)
    np.testing.assert_allclose(backward.bias_gradients[0], grad_b0, rtol=1e-14)


def test_variants_differ_only_by_the_derivative_factor() -> None:
    standard, x, y = random_problem((2, 3, 1), ["tanh", "sigmoid"], "mse", True, seed=3)
    shortcut = Network(
        standard.weights, standard.biases, standard.activations, standard.loss,
        variant="no_activation_derivative",
    )  # fmt: skip
    forward = standard.forward(x)
    exact, rough = standard.backward(forward, y), shortcut.backward(forward, y)
    output = forward.output
    np.testing.assert_allclose(exact.deltas[1], rough.deltas[1] * output * (1 - output))
    assert not np.allclose(exact.weight_gradients[0], rough.weight_gradients[0])


def test_forward_keeps_every_net_and_activation() -> None:
    network = Network.create([3, 4, 2], ["relu", "tanh"], seed=5)
    network.biases = [np.array([0.1, -0.2, 0.3, 0.0]), np.array([0.5, -0.5])]
    x = np.array([[1.0, -1.0, 0.5], [0.0, 2.0, -0.5]])
    forward = network.forward(x)
    assert forward.activations[0] is x
    net1 = x @ network.weights[0] + network.biases[0]
    np.testing.assert_array_equal(forward.nets[0], net1)
    np.testing.assert_array_equal(forward.activations[1], np.maximum(net1, 0.0))
    net2 = forward.activations[1] @ network.weights[1] + network.biases[1]
    np.testing.assert_allclose(forward.nets[1], net2, rtol=1e-15)
    np.testing.assert_allclose(forward.output, np.tanh(net2), rtol=1e-15)
    assert [a.shape for a in forward.activations] == [(2, 3), (2, 4), (2, 2)]


def test_without_bias_the_biases_are_ignored_but_their_gradients_are_the_summed_deltas() -> None:
    network = Network.create([2, 3, 1], "sigmoid", use_bias=False, seed=2)
    x = np.array([[0.3, -0.7], [0.1, 0.2]])
    before = network.forward(x).output.copy()
    network.biases = [np.full(3, 5.0), np.full(1, 5.0)]
    np.testing.assert_array_equal(network.forward(x).output, before)
    backward = network.backward(network.forward(x), np.array([[1.0], [0.0]]))
    for delta, db in zip(backward.deltas, backward.bias_gradients, strict=True):
        np.testing.assert_allclose(db, delta.sum(axis=0), rtol=1e-15)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "linear"])
def test_glorot_initialisation_stays_within_its_limit(activation: str) -> None:
    network = Network.create([30, 20, 10], activation, seed=0)
    for weight in network.weights:
        limit = math.sqrt(6.0 / sum(weight.shape))
        assert float(np.abs(weight).max()) <= limit
        assert float(np.abs(weight).max()) > 0.9 * limit  # uniform: its extremes are reached
    assert all(not b.any() for b in network.biases)


def test_he_initialisation_for_relu() -> None:
    network = Network.create([400, 300, 1], "relu", seed=0)
    assert float(network.weights[0].std()) == pytest.approx(math.sqrt(2.0 / 400), rel=0.02)


def test_initialisation_is_seeded() -> None:
    first, second = (Network.create([2, 4, 1], "tanh", seed=9) for _ in range(2))
    third = Network.create([2, 4, 1], "tanh", seed=10)
    for a, b, c in zip(first.weights, second.weights, third.weights, strict=True):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


def test_float32_network_computes_in_float32() -> None:
    network = Network.create([3, 4, 2], ["tanh", "sigmoid"], dtype="float32", seed=1)
    x = np.ones((5, 3), dtype=np.float32)
    forward = network.forward(x)
    backward = network.backward(forward, np.zeros((5, 2), dtype=np.float32))
    arrays = [*network.weights, *network.biases, *forward.nets, *forward.activations]
    arrays += [*backward.deltas, *backward.weight_gradients, *backward.bias_gradients]
    assert {a.dtype for a in arrays} == {np.dtype(np.float32)}


def test_cross_entropy_replaces_the_listed_output_activation() -> None:
    one = Network.create([2, 3, 1], "tanh", loss="cross_entropy")
    several = Network.create([2, 3, 4], "tanh", loss="cross_entropy")
    plain = Network.create([2, 3, 4], "tanh", loss="mse")
    assert [a.name for a in one.activations] == ["tanh", "sigmoid"]
    assert [a.name for a in several.activations] == ["tanh", "softmax"]
    assert [a.name for a in plain.activations] == ["tanh", "tanh"]
    output = several.forward(np.array([[0.2, -0.4], [1.0, 1.0]])).output
    np.testing.assert_allclose(output.sum(axis=1), [1.0, 1.0], rtol=1e-15)


@pytest.mark.parametrize(
    ("layers", "activations", "kwargs", "message"),
    [
        ([3], "tanh", {}, "at least two"),
        ([2, 0, 1], "tanh", {}, "at least two positive"),
        ([2, 3, 1], ["tanh"], {}, "need 2 activations"),
        ([2, 3, 1], "softplus", {}, "unknown activation 'softplus'"),
        ([2, 3, 1], "tanh", {"loss": "hinge"}, "unknown loss 'hinge'"),
        ([2, 3, 1], "tanh", {"variant": "fast"}, "unknown variant 'fast'"),
        ([2, 3, 1], "tanh", {"dtype": "float16"}, "unknown dtype 'float16'"),
    ],
)
def test_create_refuses_bad_configs(
    layers: list[int], activations: str | list[str], kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Network.create(layers, activations, **kwargs)  # type: ignore[arg-type]


def test_repr() -> None:
    network = Network.create([2, 4, 1], ["relu", "sigmoid"])
    assert repr(network) == "Network(2-4-1, relu,sigmoid, loss=mse, bias=True)"


def test_biases_of_the_wrong_shapes_are_refused() -> None:
    weights = [np.zeros((2, 3)), np.zeros((3, 1))]
    with pytest.raises(ValueError, match="biases of shapes"):
        Network(weights, [np.zeros(1), np.zeros(3)], [SIGMOID, SIGMOID], loss_named("mse"))


def test_a_copy_has_weights_of_its_own() -> None:
    network = Network.create([2, 3, 1], "tanh", seed=1, regularizer=L2(0.1))
    twin = network.copy()
    twin.weights[0][0, 0] += 1.0
    twin.biases[0][0] += 1.0
    assert network.weights[0][0, 0] != twin.weights[0][0, 0]
    assert network.biases[0][0] == 0.0
    assert twin.regularizer == network.regularizer


@pytest.mark.parametrize(
    ("penalty", "value", "gradient"),
    [
        (L2(0.5), 0.25 * (1 + 4 + 0 + 9 + 0.25), [[0.5, -1.0], [0.0, 1.5], [-0.25, 0.0]]),
        (L1(0.5), 0.5 * (1 + 2 + 0 + 3 + 0.5), [[0.5, -0.5], [0.0, 0.5], [-0.5, 0.0]]),
    ],
    ids=["l2", "l1"],
)
def test_regularizers_by_hand(
    penalty: Regularizer, value: float, gradient: list[list[float]]
) -> None:
    """(λ/2)·Σw² and λ·Σ|w| over every weight matrix; gradients λ·w and λ·sign(w), sign(0) = 0."""
    weights = [np.array([[1.0, -2.0], [0.0, 3.0]]), np.array([[-0.5], [0.0]])]
    assert penalty.value(weights) == pytest.approx(value, rel=1e-15)
    computed = np.vstack([penalty.gradient(weights[0]), penalty.gradient(weights[1]).T])
    np.testing.assert_array_equal(computed, np.array(gradient))


def test_an_unknown_regularization_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown regularization 'l3'; known: l2, l1"):
        regularizer_named("l3", 0.1)


def test_the_regularization_loss_covers_weights_only() -> None:
    network = Network.create([2, 3, 1], "tanh", seed=1, regularizer=L2(0.2))
    network.biases = [np.full(3, 10.0), np.full(1, 10.0)]
    expected = 0.1 * sum(float((w**2).sum()) for w in network.weights)
    assert network.regularization_loss() == pytest.approx(expected, rel=1e-14)
    assert Network.create([2, 3, 1], "tanh").regularization_loss() == 0.0
