"""Data sets: seeded, the right shapes and split, noise that shows, labels that mean something."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from app.nn.datasets import (
    CLASSIFICATION_KINDS,
    KINDS,
    REGRESSION_KINDS,
    DatasetSpec,
    expand_features,
    make_dataset,
)
from app.nn.expr import ExpressionError, parse_expression

TWO_D_KINDS = CLASSIFICATION_KINDS + REGRESSION_KINDS


def spec_for(kind: str, **changes: object) -> DatasetSpec:
    # A curve through the square for `boundary`, so that both labels occur.
    expr = "x**2 - 0.5" if kind == "boundary" else "x**2 + 1"
    return replace(DatasetSpec(kind=kind, expr=expr), **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_data_other_seed_other_data(kind: str) -> None:
    first = make_dataset(spec_for(kind, seed=3))
    again = make_dataset(spec_for(kind, seed=3))
    other = make_dataset(spec_for(kind, seed=4))
    for a, b in zip(first.arrays(), again.arrays(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.x_train, other.x_train)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("samples", "test_fraction", "train", "test"),
    [(200, 0.2, 160, 40), (50, 0.0, 50, 0), (11, 0.5, 5, 6)],
)
def test_split_sizes(kind: str, samples: int, test_fraction: float, train: int, test: int) -> None:
    data = make_dataset(spec_for(kind, samples=samples, test_fraction=test_fraction))
    assert (len(data.x_train), len(data.y_train)) == (train, train)
    assert (len(data.x_test), len(data.y_test)) == (test, test)
    # The split is a partition: no sample is in both halves or lost.
    rows = np.concatenate([data.x_train, data.x_test])
    assert len(np.unique(rows, axis=0)) == samples


@pytest.mark.parametrize("kind", TWO_D_KINDS)
def test_two_dimensional_sets_have_two_inputs_and_one_output(kind: str) -> None:
    data = make_dataset(spec_for(kind))
    assert (data.inputs, data.outputs) == (2, 1)
    assert data.x_train.shape == (160, 2) and data.y_train.shape == (160, 1)


@pytest.mark.parametrize("kind", CLASSIFICATION_KINDS)
def test_classification_labels_are_zero_or_one_and_both_occur(kind: str) -> None:
    data = make_dataset(spec_for(kind))
    labels = np.concatenate([data.y_train, data.y_test]).ravel()
    assert set(labels.tolist()) == {0.0, 1.0}
    assert 0.3 < labels.mean() < 0.7


@pytest.mark.parametrize("kind", REGRESSION_KINDS)
def test_noise_free_regression_targets_lie_in_the_unit_interval(kind: str) -> None:
    data = make_dataset(spec_for(kind))
    targets = np.concatenate([data.y_train, data.y_test])
    assert targets.min() >= 0.0 and targets.max() <= 1.0
    assert targets.std() > 0.05


@pytest.mark.parametrize("kind", KINDS)
def test_noise_changes_the_values(kind: str) -> None:
    clean = make_dataset(spec_for(kind, noise=0.0))
    noisy = make_dataset(spec_for(kind, noise=0.1))
    assert [a.shape for a in clean.arrays()] == [a.shape for a in noisy.arrays()]
    moved = np.abs(
        np.concatenate(
            [(noisy.x_train - clean.x_train).ravel(), (noisy.y_train - clean.y_train).ravel()]
        )
    )
    # Noise of σ = 0.1 moves inputs (classification) or targets (regression) by ~0.08 on average.
    assert 0.02 < moved[moved > 0].mean() < 0.2


def test_xor_labels_follow_the_quadrant() -> None:
    data = make_dataset(spec_for("xor"))
    same_sign = data.x_train[:, 0] * data.x_train[:, 1] > 0
    np.testing.assert_array_equal(data.y_train.ravel(), same_sign.astype(float))


def test_circle_labels_inside_near_the_centre() -> None:
    data = make_dataset(spec_for("circle"))
    radius = np.hypot(data.x_train[:, 0], data.x_train[:, 1])
    np.testing.assert_array_equal(data.y_train.ravel(), (radius < 0.55).astype(float))


def test_teacher_respects_its_layer_sizes() -> None:
    data = make_dataset(spec_for("teacher", layers=(3, 5, 2), activation="tanh", samples=100))
    assert (data.inputs, data.outputs) == (3, 2)
    assert np.abs(data.x_train).max() <= 1.0
    assert np.abs(data.y_train).max() < 1.0  # a tanh output
    assert data.y_train.std(axis=0).min() > 0.01  # the targets depend on the inputs


def test_teacher_targets_are_a_function_of_the_inputs() -> None:
    # The sigmoid teacher's targets lie in (0, 1); equal inputs would give equal targets.
    data = make_dataset(spec_for("teacher", layers=(2, 3, 1), samples=300))
    assert data.y_train.min() > 0.0 and data.y_train.max() < 1.0
    assert len(np.unique(data.y_train)) == len(data.y_train)


def test_function_kind_evaluates_the_expression_over_its_range() -> None:
    data = make_dataset(spec_for("function", expr="x**2 + 1", x_min=-2.0, x_max=3.0))
    assert (data.inputs, data.outputs) == (1, 1)
    x = np.concatenate([data.x_train, data.x_test])
    assert x.min() >= -2.0 and x.max() <= 3.0
    np.testing.assert_allclose(data.y_train, data.x_train**2 + 1, rtol=1e-14)
    np.testing.assert_allclose(data.y_test, data.x_test**2 + 1, rtol=1e-14)


def test_function_kind_refuses_a_non_finite_function() -> None:
    with pytest.raises(ValueError, match="not finite"):
        make_dataset(spec_for("function", expr="log(x)", x_min=-1.0, x_max=1.0))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "moons"}, "unknown data set kind 'moons'"),
        ({"samples": 1}, "at least 2 samples"),
        ({"test_fraction": 1.0}, "test_fraction"),
        ({"kind": "function", "x_min": 1.0, "x_max": 1.0}, "x_min must be below x_max"),
    ],
)
def test_bad_specs_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_dataset(replace(DatasetSpec(), **changes))  # type: ignore[arg-type]


def test_as_dtype() -> None:
    data = make_dataset(spec_for("plane", samples=30)).as_dtype("float32")
    assert {a.dtype for a in data.arrays()} == {np.dtype(np.float32)}
    assert len(data.x_train) + len(data.x_test) == 30
    assert all(a.flags.c_contiguous for a in data.arrays())


def test_the_default_teacher_draws_a_function_worth_learning() -> None:
    # With N(0, 1) teacher weights the targets varied by ~0.04 and the student started almost
    # at its goal; the default teacher must give a curve that visibly varies.
    data = make_dataset(DatasetSpec(kind="teacher", layers=(2, 3, 1), samples=200, seed=1))
    assert float(data.y_train.std()) > 0.1


def test_features_expand_the_raw_points_and_keep_them() -> None:
    names = ("x1", "x2", "x1*x2", "x1^2", "x2^2", "sin(x1)", "sin(x2)")
    plain = make_dataset(spec_for("circle", seed=5))
    data = make_dataset(spec_for("circle", seed=5, features=names))
    assert data.x_train_raw is not None and data.x_test_raw is not None
    np.testing.assert_array_equal(data.x_train_raw, plain.x_train)  # the same points
    np.testing.assert_array_equal(data.y_train, plain.y_train)
    for x, raw in ((data.x_train, data.x_train_raw), (data.x_test, data.x_test_raw)):
        x1, x2 = raw[:, 0], raw[:, 1]
        expected = np.column_stack([x1, x2, x1 * x2, x1**2, x2**2, np.sin(x1), np.sin(x2)])
        np.testing.assert_array_equal(x, expected)
    assert plain.x_train_raw is None  # no features: the inputs are the raw points


def test_one_dimensional_features_and_the_raw_names() -> None:
    data = make_dataset(spec_for("function", features=("x", "x^2", "x^3", "sin(x)", "cos(x)")))
    assert data.x_train_raw is not None
    x = data.x_train_raw[:, 0]
    expected = np.column_stack([x, x**2, x**3, np.sin(x), np.cos(x)])
    np.testing.assert_array_equal(data.x_train, expected)
    same = make_dataset(spec_for("function", features=("x",)))
    assert same.x_train_raw is None  # the raw input named as a feature is the raw input


@pytest.mark.parametrize(("dimensions", "names"), [(1, ["x1"]), (2, ["x", "x1"]), (3, ["x1"])])
def test_unknown_features_are_refused(dimensions: int, names: list[str]) -> None:
    with pytest.raises(ValueError, match="unknown features"):
        expand_features(np.zeros((4, dimensions)), names)


@pytest.mark.parametrize("classes", [3, 4, 6])
@pytest.mark.parametrize("kind", ["gaussians", "spiral"])
def test_k_classes_are_one_hot_and_each_occurs(kind: str, classes: int) -> None:
    data = make_dataset(spec_for(kind, classes=classes, samples=300))
    targets = np.concatenate([data.y_train, data.y_test])
    assert targets.shape == (300, classes)
    assert set(targets.ravel().tolist()) == {0.0, 1.0}
    np.testing.assert_array_equal(targets.sum(axis=1), np.ones(300))
    counts = targets.sum(axis=0)
    assert counts.min() >= 300 / classes / 2  # every class well represented


def test_the_spiral_has_k_arms_a_kth_of_a_turn_apart() -> None:
    data = make_dataset(spec_for("spiral", classes=3, samples=30, test_fraction=0.0))
    label = data.y_train.argmax(axis=1)
    x1, x2 = data.x_train[:, 0], data.x_train[:, 1]
    radius = np.hypot(x1, x2)
    t = radius / 0.95
    # The angle measured from the x2 axis (x = r·(sin θ, cos θ)), less the arm's winding.
    offset = np.arctan2(x1, x2) - 1.75 * 2 * np.pi * t
    expected = 2 * np.pi * label / 3
    turn = np.angle(np.exp(1j * (offset - expected)))  # the difference folded into (−π, π]
    np.testing.assert_allclose(turn, 0.0, atol=1e-9)


def test_two_classes_keep_one_output_column() -> None:
    for kind in ("gaussians", "spiral"):
        data = make_dataset(spec_for(kind, classes=2))
        assert data.outputs == 1


@pytest.mark.parametrize("classes", [1, 7])
def test_classes_out_of_range_are_refused(classes: int) -> None:
    with pytest.raises(ValueError, match="classes must be from 2 to 6"):
        make_dataset(spec_for("spiral", classes=classes))


def test_more_than_two_classes_only_for_gaussians_and_spiral() -> None:
    with pytest.raises(ValueError, match="only gaussians and spiral"):
        make_dataset(spec_for("xor", classes=3))


@pytest.mark.parametrize("expr", ["sin(3*x)", "x**2 - 0.5", "-x", "0.3"])
def test_boundary_labels_are_whether_y_lies_above_f_of_x(expr: str) -> None:
    data = make_dataset(spec_for("boundary", expr=expr, samples=400))
    curve = parse_expression(expr)
    for x, y in ((data.x_train, data.y_train), (data.x_test, data.y_test)):
        above = x[:, 1] > curve.value(x[:, 0]) * np.ones(len(x))
        np.testing.assert_array_equal(y[:, 0], above.astype(float))
    labels = np.concatenate([data.y_train, data.y_test])
    assert 0.1 < labels.mean() < 0.9


def test_a_boundary_that_is_not_finite_on_the_square_is_refused() -> None:
    with pytest.raises(ExpressionError, match="not finite"):
        make_dataset(spec_for("boundary", expr="log(x)"))
