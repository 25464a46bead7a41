"""The network's forward and backward passes, checked against the maths.

Every gradient the float64 backward pass returns (∂L/∂W, ∂L/∂b and the per-sample deltas
∂L/∂net) is compared with a central finite difference of the loss. The difference quotient is
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
from app.nn.losses import loss_named
from app.nn.network import DESCENT_BLOCK, Network

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
) -> tuple[Network, Array, Array]:
    """A network with random (non-zero) biases, and a batch with targets fitting the loss:
    in [0, 1], and one-hot for softmax unless `soft_targets` (rows that do not sum to 1)."""
    network = Network.create(layers, names, loss=loss, use_bias=bias, seed=seed)
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
        return loss_from_net(exact, 0, x_exact @ exact.weights[0] + bias_of(exact, 0), y_exact)

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
    layers: tuple[int, ...], names: list[str], loss: str, bias: bool, soft_targets: bool = False
) -> tuple[Network, Array, Array]:
    for seed in range(50):
        network, x, y = random_problem(layers, names, loss, bias, seed, soft_targets=soft_targets)
        if not near_relu_kink(network, x):
            return network, x, y
    raise AssertionError("no seed kept every relu net input away from 0")


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(
    ("loss", "soft_targets"),
    [("mse", False), ("cross_entropy", False), ("cross_entropy", True)],
    ids=["mse", "cross_entropy", "cross_entropy-soft"],
)
@pytest.mark.parametrize("choice", ACTIVATION_CHOICES)
@pytest.mark.parametrize("layers", SHAPES, ids=lambda s: "-".join(map(str, s)))
def test_gradients_match_finite_differences(
    layers: tuple[int, ...], choice: str, loss: str, soft_targets: bool, bias: bool
) -> None:
    names = activation_names(choice, layers)
    network, x, y = problem_away_from_kinks(layers, names, loss, bias, soft_targets)
    assert_gradients_match(network, x, y)


@settings(max_examples=50, deadline=None)
@given(
    layers=st.lists(st.integers(1, 5), min_size=2, max_size=5).map(tuple),
    data=st.data(),
    loss=st.sampled_from(["mse", "cross_entropy"]),
    bias=st.booleans(),
    seed=st.integers(0, 2**31),
    samples=st.integers(1, 6),
    soft_targets=st.booleans(),
)
def test_gradients_match_for_any_shape(
    layers: tuple[int, ...],
    data: st.DataObject,
    loss: str,
    bias: bool,
    seed: int,
    samples: int,
    soft_targets: bool,
) -> None:
    names = data.draw(
        st.lists(
            st.sampled_from(["sigmoid", "tanh", "relu", "linear"]),
            min_size=len(layers) - 1,
            max_size=len(layers) - 1,
        )
    )
    network, x, y = random_problem(layers, names, loss, bias, seed, samples, soft_targets)
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


def test_without_bias_the_biases_are_ignored_and_never_move() -> None:
    network = Network.create([2, 3, 1], "sigmoid", use_bias=False, seed=2)
    x = np.array([[0.3, -0.7]])
    before = network.forward(x).output.copy()
    network.biases = [np.full(3, 5.0), np.full(1, 5.0)]
    np.testing.assert_array_equal(network.forward(x).output, before)
    backward = network.backward(network.forward(x), np.array([[1.0]]))
    network.update(backward.weight_gradients, backward.bias_gradients, 0.5)
    np.testing.assert_array_equal(network.biases[0], np.full(3, 5.0))


def test_update_moves_against_the_gradient() -> None:
    network = Network.create([2, 2, 1], "tanh", seed=4)
    weights = [w.copy() for w in network.weights]
    biases = [b.copy() for b in network.biases]
    steps = [np.full(w.shape, 0.25) for w in weights]
    bias_steps = [np.full(b.shape, -1.0) for b in biases]
    network.update(steps, bias_steps, 0.1)
    for before, after in zip(weights, network.weights, strict=True):
        np.testing.assert_array_equal(after, before - 0.1 * 0.25)
    for before, after in zip(biases, network.biases, strict=True):
        np.testing.assert_array_equal(after, before + 0.1)


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


def test_repr_and_parameter_count() -> None:
    network = Network.create([2, 4, 1], ["relu", "sigmoid"])
    assert repr(network) == "Network(2-4-1, relu,sigmoid, loss=mse, bias=True)"
    assert network.parameter_count == 2 * 4 + 4 + 4 * 1 + 1
    no_bias = Network.create([2, 4, 1], "relu", use_bias=False)
    assert no_bias.parameter_count == 12


def test_weights_and_biases_are_views_of_one_parameter_vector() -> None:
    network = Network.create([2, 3, 1], "tanh", seed=1)
    assert network.parameters.size == 2 * 3 + 3 * 1 + 3 + 1
    network.weights = [np.full((2, 3), 2.0), np.full((3, 1), 3.0)]
    network.biases[1][0] = 4.0  # in place, as usual
    # Layer by layer, the block [W; b]: W's rows, then b.
    np.testing.assert_array_equal(network.parameters[:6], np.full(6, 2.0))
    np.testing.assert_array_equal(network.parameters[9:12], np.full(3, 3.0))
    assert network.parameters[-1] == 4.0
    with pytest.raises(ValueError, match="shapes"):
        network.weights = [np.zeros((3, 2)), np.zeros((3, 1))]
    twin = network.copy()
    twin.weights[0][0, 0] = -1.0
    assert network.weights[0][0, 0] == 2.0


@pytest.mark.parametrize("bias", [True, False])
def test_descend_on_the_flat_gradient_equals_the_per_layer_update(bias: bool) -> None:
    network, x, y = random_problem((3, 4, 2), ["tanh", "sigmoid"], "mse", bias, seed=2)
    backward = network.backward(network.forward(x), y)
    weights, biases = network.split(backward.gradient)
    per_layer = backward.weight_gradients + backward.bias_gradients
    for flat, layer in zip(weights + biases, per_layer, strict=True):
        np.testing.assert_array_equal(flat, layer)
    twin = network.copy()
    network.descend(backward.gradient, 0.7)
    twin.update(backward.weight_gradients, backward.bias_gradients, 0.7)
    np.testing.assert_array_equal(network.parameters, twin.parameters)
    assert network.parameter_count == (network.parameters.size if bias else 20)


@pytest.mark.parametrize("bias", [True, False])
def test_descend_in_blocks_equals_the_per_layer_update_and_sums_the_result(bias: bool) -> None:
    # 400·400 + 400·2 weights: several blocks of DESCENT_BLOCK and a partial last one.
    network, x, y = random_problem((400, 400, 2), ["tanh", "sigmoid"], "mse", bias, seed=5)
    assert network.parameter_count > 2 * DESCENT_BLOCK
    backward = network.backward(network.forward(x), y)
    twin = network.copy()
    total = network.descend(backward.gradient, 0.3)
    twin.update(backward.weight_gradients, backward.bias_gradients, 0.3)
    np.testing.assert_array_equal(network.parameters, twin.parameters)
    counted = network.weights + (network.biases if bias else [])
    expected = sum(float(array.sum()) for array in counted)
    assert total == pytest.approx(expected, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("layers", [(2, 1), (2, 3)])
def test_a_one_layer_network_without_biases_descends_its_weights_only(
    layers: tuple[int, int],
) -> None:
    # Its weights are one range starting at 0, like a whole small network's parameters with
    # biases, but the bias row after them must not move (nor break the one-block path).
    network, x, y = random_problem(layers, ["sigmoid"], "mse", False, seed=8)
    backward = network.backward(network.forward(x), y)
    twin = network.copy()
    biases_before = [b.copy() for b in network.biases]
    weights_before = network.weights[0].copy()
    network.descend(backward.gradient, 0.4)
    twin.update(backward.weight_gradients, backward.bias_gradients, 0.4)
    np.testing.assert_array_equal(network.parameters, twin.parameters)
    for before, after in zip(biases_before, network.biases, strict=True):
        np.testing.assert_array_equal(before, after)
    assert not np.array_equal(network.weights[0], weights_before)


def test_biases_of_the_wrong_shapes_are_refused_even_when_their_sizes_add_up() -> None:
    weights = [np.zeros((2, 3)), np.zeros((3, 1))]
    with pytest.raises(ValueError, match="biases of shapes"):
        Network(weights, [np.zeros(1), np.zeros(3)], [SIGMOID, SIGMOID], loss_named("mse"))


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_descend_of_a_network_in_one_block_sums_the_result_and_reports_non_finite(
    bad: float,
) -> None:
    network, x, y = random_problem((3, 4, 2), ["tanh", "sigmoid"], "mse", True, seed=4)
    assert network.parameters.size <= DESCENT_BLOCK  # the one-block path
    backward = network.backward(network.forward(x), y)
    twin = network.copy()
    total = network.descend(backward.gradient, 0.3)
    twin.update(backward.weight_gradients, backward.bias_gradients, 0.3)
    np.testing.assert_array_equal(network.parameters, twin.parameters)
    assert total == pytest.approx(float(network.parameters.sum()), rel=1e-12, abs=1e-12)
    step = np.zeros_like(network.parameters)
    step[-1] = bad
    assert not math.isfinite(network.descend(step, 1.0))


@pytest.mark.parametrize("bias", [True, False])  # without biases, each W is its own range
@pytest.mark.parametrize("dtype", ["float64", "float32"])  # each sums its blocks its own way
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_descend_reports_a_non_finite_parameter_in_any_block(
    bad: float, dtype: str, bias: bool
) -> None:
    network = Network.create((400, 400, 2), ["tanh", "sigmoid"], seed=6, dtype=dtype, use_bias=bias)
    # The last parameter descended: the last bias, or without biases the last weight (the bias
    # row that ends the last [W; b] block is then not descended).
    last = network.parameters.size - 1 - (0 if bias else network.layers[-1])
    for index in (0, DESCENT_BLOCK + 7, last):
        step = np.zeros_like(network.parameters)
        step[index] = bad
        assert not math.isfinite(network.copy().descend(step, 1.0)), index
    assert math.isfinite(network.copy().descend(np.zeros_like(network.parameters), 1.0))


def textbook_backward(network: Network, x: Array, y: Array) -> tuple[list[Array], list[Array]]:
    """∂L/∂W and ∂L/∂b of sigmoid layers under mse, written out as in a textbook."""
    activations = [x]
    for layer, weight in enumerate(network.weights):
        bias = bias_of(network, layer)
        activations.append(1.0 / (1.0 + np.exp(-(activations[-1] @ weight + bias))))
    out = activations[-1]
    delta = (out - y) / len(y) * out * (1.0 - out)
    weight_gradients: list[Array] = []
    bias_gradients: list[Array] = []
    for layer in range(len(network.weights) - 1, -1, -1):
        weight_gradients.insert(0, activations[layer].T @ delta)
        bias_gradients.insert(0, delta.sum(axis=0))
        below = activations[layer]
        delta = (delta @ network.weights[layer].T) * below * (1.0 - below)
    return weight_gradients, bias_gradients


@pytest.mark.parametrize(
    ("layers", "product"), [((3, 4, 2), np.dot), ((300, 256, 2), np.matmul)], ids=["dot", "matmul"]
)
def test_small_and_large_matrices_give_the_textbook_gradients(
    layers: tuple[int, ...], product: Callable[..., Array]
) -> None:
    # The network multiplies small matrices with np.dot and large ones with np.matmul.
    network, x, y = random_problem(layers, ["sigmoid", "sigmoid"], "mse", True, seed=3, samples=9)
    assert network.product is product
    backward = network.backward(network.forward(x), y)
    weight_gradients, bias_gradients = textbook_backward(network, x, y)
    for computed, expected in zip(
        backward.weight_gradients + backward.bias_gradients,
        weight_gradients + bias_gradients,
        strict=True,
    ):
        assert relative_error(computed, expected) < 1e-12


def test_backward_rewrites_a_reused_gradient_vector_in_full() -> None:
    # The per-layer views of a gradient vector are kept from one backward pass to the next.
    network, x, y = random_problem((3, 4, 2), ["tanh", "sigmoid"], "mse", True, seed=4, samples=6)
    buffer = np.full_like(network.parameters, np.nan)
    for rows in (slice(0, 6), slice(2, 5), slice(0, 1)):  # batch sizes 6, 3, 1
        reused = network.backward(network.forward(x[rows]), y[rows], buffer)
        fresh = network.backward(network.forward(x[rows]), y[rows])
        assert reused.gradient is buffer
        np.testing.assert_array_equal(buffer, fresh.gradient)
        for view, expected in zip(reused.weight_gradients, fresh.weight_gradients, strict=True):
            np.testing.assert_array_equal(view, expected)
            assert np.shares_memory(view, buffer)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("layers", [(3, 5, 2), (300, 256, 2)], ids=["small", "large"])
def test_textbook_gradients_for_any_batch_size_dtype_and_bias(
    layers: tuple[int, int, int], dtype: str, bias: bool
) -> None:
    # The layers' inputs [aᵀ; 1] are made per batch; without biases their last row is zeros
    # and ∂L/∂b (the summed delta) comes from a product of its own, as it does for a large
    # network's first layer, whose input is the batch itself.
    network = Network.create(layers, "sigmoid", use_bias=bias, seed=8, dtype=dtype)
    assert network.large == (layers[0] == 300)
    rng = np.random.default_rng(9)
    network.biases = [rng.normal(0.0, 0.5, b.shape) for b in network.biases]
    gradient = np.empty_like(network.parameters)
    for samples in (7, 2, 7, 1):
        x = rng.uniform(-1.0, 1.0, (samples, layers[0])).astype(dtype)
        y = rng.uniform(0.0, 1.0, (samples, layers[-1])).astype(dtype)
        forward = network.forward(x)
        expected_rows = np.ones(samples) if bias else np.zeros(samples)
        for layer, rows in enumerate(forward.inputs):
            if layer == 0 and network.large:
                assert np.shares_memory(rows, x)  # the batch itself, not a copy
                np.testing.assert_array_equal(rows, x.T)
                continue
            np.testing.assert_array_equal(rows[:-1], forward.activations[layer].T)
            np.testing.assert_array_equal(rows[-1], expected_rows)
        backward = network.backward(forward, y, gradient)
        exact = network.copy()
        exact.weights = [w.astype(np.float64) for w in network.weights]
        weights, biases = textbook_backward(exact, x.astype(np.float64), y.astype(np.float64))
        tolerance = 1e-12 if dtype == "float64" else 1e-5
        for computed, expected in zip(
            backward.weight_gradients + backward.bias_gradients, weights + biases, strict=True
        ):
            assert computed.dtype == np.dtype(dtype)
            assert relative_error(computed, expected) < tolerance


def test_without_bias_descend_leaves_the_biases_where_they_are() -> None:
    network, x, y = random_problem((3, 4, 2), ["tanh", "sigmoid"], "mse", False, seed=7)
    biases = [b.copy() for b in network.biases]
    twin = network.copy()
    backward = network.backward(network.forward(x), y)
    assert all(np.abs(g).max() > 0.0 for g in backward.bias_gradients)  # shown, not applied
    total = network.descend(backward.gradient, 0.5)
    for moved, kept in zip(network.biases, biases, strict=True):
        np.testing.assert_array_equal(moved, kept)
    twin.update(backward.weight_gradients, backward.bias_gradients, 0.5)
    np.testing.assert_array_equal(network.parameters, twin.parameters)
    assert total == pytest.approx(sum(float(w.sum()) for w in network.weights), rel=1e-12)


def test_a_float64_batch_into_a_float32_network_gives_float32_gradients() -> None:
    # The forward pass runs in the batch's wider dtype; the gradients are cast into place.
    network = Network.create((3, 4, 2), "sigmoid", dtype="float32", seed=10)
    rng = np.random.default_rng(11)
    x, y = rng.uniform(-1.0, 1.0, (6, 3)), rng.uniform(0.0, 1.0, (6, 2))
    forward = network.forward(x)
    assert forward.output.dtype == np.float64
    backward = network.backward(forward, y, np.empty_like(network.parameters))
    weights, biases = textbook_backward(network, x, y)
    for computed, expected in zip(
        backward.weight_gradients + backward.bias_gradients, weights + biases, strict=True
    ):
        assert computed.dtype == np.float32
        np.testing.assert_allclose(computed, expected, rtol=1e-6, atol=1e-9)
