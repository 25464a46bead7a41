"""Seeded data sets: the article's teacher network, a 1-D function, and the 2-D sets people
know from TensorFlow Playground. Each has noise and a train/test split.

Two-dimensional inputs lie in [-1, 1]². Classification with two classes labels 0 or 1 in one
output column (read with a threshold of ½); with K > 2 classes (gaussians, spiral) each target
row is one-hot over K columns. Regression targets lie in [0, 1] so a sigmoid output can fit them.
Tables (an uploaded CSV, iris, digits) are built in app/nn/tabular.py.

Features: the network's inputs can be named functions of the raw points, as in TensorFlow
Playground (`x1*x2`, `sin(x1)`, ...); a Dataset then holds both the inputs and the raw points.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from app.nn.activations import Array
from app.nn.network import Network
from app.nn.tabular import TABLE_KINDS, TableSource, tabular_parts

CLASSIFICATION_KINDS = ("xor", "circle", "gaussians", "spiral", "boundary")
MULTI_CLASS_KINDS = ("gaussians", "spiral")  # the kinds that can have more than two classes
REGRESSION_KINDS = ("plane", "multi_gaussian")
KINDS = ("teacher", "function", *CLASSIFICATION_KINDS, *REGRESSION_KINDS)  # generated
TEACHER_SCALE = 3.0  # standard deviation of a teacher's random weights
MAX_CLASSES = 6

Feature = Callable[[Array], Array]  # raw points (N × dimensions) -> one input column (N)
# The features of 2-D points (x1, x2) and of 1-D points (x); the first names are the raw inputs.
FEATURES: dict[int, dict[str, Feature]] = {
    2: {
        "x1": lambda p: p[:, 0],
        "x2": lambda p: p[:, 1],
        "x1^2": lambda p: p[:, 0] ** 2,
        "x2^2": lambda p: p[:, 1] ** 2,
        "x1*x2": lambda p: p[:, 0] * p[:, 1],
        "sin(x1)": lambda p: np.sin(p[:, 0]),
        "sin(x2)": lambda p: np.sin(p[:, 1]),
    },
    1: {
        "x": lambda p: p[:, 0],
        "x^2": lambda p: p[:, 0] ** 2,
        "x^3": lambda p: p[:, 0] ** 3,
        "sin(x)": lambda p: np.sin(p[:, 0]),
        "cos(x)": lambda p: np.cos(p[:, 0]),
    },
}


@dataclass(frozen=True)
class DatasetSpec:
    """What a data set is made of; fields a kind does not use are ignored."""

    kind: str = "teacher"
    samples: int = 200
    noise: float = 0.0
    seed: int = 1
    test_fraction: float = 0.2
    layers: tuple[int, ...] = (2, 3, 1)  # teacher
    activation: str = "sigmoid"  # teacher
    expr: str = "sin(3*x)"  # function
    x_min: float = -1.0  # function
    x_max: float = 1.0  # function
    classes: int = 2  # gaussians and spiral; the other classification kinds have two
    features: tuple[str, ...] | None = None  # names from FEATURES; None: the raw inputs
    table_id: str = ""  # csv: the uploaded table
    inputs: tuple[str, ...] = ()  # csv: input columns
    targets: tuple[str, ...] = ()  # csv: target columns
    labels: bool = False  # csv: the one target column holds class labels, even if numeric
    # csv: where the table is read from; not part of what the data set is.
    tables: TableSource | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Dataset:
    """Training and test rows: x is N × inputs (the network's inputs), y is N × outputs.

    Where the inputs are features of the raw points, or a table's rescaled columns
    (app/nn/tabular.py: the network sees (raw − input_shift) / input_scale), x_train_raw and
    x_test_raw hold the raw points row for row; None where the inputs are the raw points.
    `class_names` names the classes of a classification data set (one-hot targets, or one 0/1
    column for two).
    """

    x_train: Array
    y_train: Array
    x_test: Array
    y_test: Array
    x_train_raw: Array | None = None
    x_test_raw: Array | None = None
    input_shift: Array | None = None
    input_scale: Array | None = None
    class_names: tuple[str, ...] | None = None

    @property
    def inputs(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def outputs(self) -> int:
        return int(self.y_train.shape[1])

    def as_dtype(self, dtype: str) -> Dataset:
        """The same rows with the inputs and targets in `dtype` (the raw points as they are)."""
        x_train, y_train, x_test, y_test = (
            np.ascontiguousarray(a, dtype=dtype) for a in self.arrays()
        )
        return replace(self, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)

    def arrays(self) -> tuple[Array, Array, Array, Array]:
        return self.x_train, self.y_train, self.x_test, self.y_test


def make_dataset(spec: DatasetSpec) -> Dataset:
    """Build the data set that `spec` describes, deterministically from its seed."""
    if spec.kind in TABLE_KINDS:
        return _tabular(spec)
    if spec.kind not in KINDS:
        known = ", ".join((*KINDS, *TABLE_KINDS))
        raise ValueError(f"unknown data set kind {spec.kind!r}; known: {known}")
    if spec.samples < 2:
        raise ValueError("a data set needs at least 2 samples")
    if not 0.0 <= spec.test_fraction < 1.0:
        raise ValueError("test_fraction must be at least 0 and below 1")
    if not 2 <= spec.classes <= MAX_CLASSES:
        raise ValueError(f"classes must be from 2 to {MAX_CLASSES}, got {spec.classes}")
    if spec.classes > 2 and spec.kind not in MULTI_CLASS_KINDS:
        raise ValueError(f"only {' and '.join(MULTI_CLASS_KINDS)} can have more than 2 classes")
    rng = np.random.default_rng(spec.seed)
    points, y = _MAKERS[spec.kind](spec, rng)
    names = _class_names(spec)
    order = rng.permutation(len(points))
    test_count = round(len(points) * spec.test_fraction)
    train, test = np.split(order, [max(1, len(points) - test_count)])
    if spec.features is None or spec.features == raw_features(points.shape[1]):
        return Dataset(points[train], y[train], points[test], y[test], class_names=names)
    x = expand_features(points, spec.features)
    raw = points[train], points[test]
    return Dataset(x[train], y[train], x[test], y[test], *raw, class_names=names)


def _class_names(spec: DatasetSpec) -> tuple[str, ...] | None:
    """ "0", "1", ... for a classification kind's classes; None for regression."""
    if spec.kind not in CLASSIFICATION_KINDS:
        return None
    return tuple(str(k) for k in range(spec.classes))


def _tabular(spec: DatasetSpec) -> Dataset:
    if not 0.0 <= spec.test_fraction < 1.0:
        raise ValueError("test_fraction must be at least 0 and below 1")
    return Dataset(**tabular_parts(spec))


def raw_features(dimensions: int) -> tuple[str, ...]:
    """The names of the raw inputs of points of 1 or 2 dimensions: ("x",) or ("x1", "x2")."""
    return tuple(FEATURES.get(dimensions, {}))[:dimensions]


def expand_features(points: Array, names: Sequence[str]) -> Array:
    """The network's inputs from raw points (N × 1 or N × 2): one column per named feature."""
    known = FEATURES.get(points.shape[1], {})
    unknown = [name for name in names if name not in known]
    if unknown or not known:
        raise ValueError(
            f"unknown features {unknown} for {points.shape[1]}-D points; known: {', '.join(known)}"
        )
    return np.column_stack([known[name](points) for name in names])


def _teacher(spec: DatasetSpec, rng: np.random.Generator) -> tuple[Array, Array]:
    # The article's proof: a network with random weights makes the targets. Its weights are
    # N(0, 3²), far larger than a student's start: with N(0, 1) a sigmoid teacher's targets
    # barely vary (standard deviation ~0.04), and the student has nothing visible to learn.
    teacher = Network.create(spec.layers, spec.activation, seed=spec.seed)
    teacher.weights = [rng.normal(0.0, TEACHER_SCALE, w.shape) for w in teacher.weights]
    teacher.biases = [rng.normal(0.0, TEACHER_SCALE / 2, b.shape) for b in teacher.biases]
    x = rng.uniform(-1.0, 1.0, (spec.samples, spec.layers[0]))
    y = teacher.forward(x).output
    return x, y + spec.noise * rng.normal(size=y.shape)


def _function(spec: DatasetSpec, rng: np.random.Generator) -> tuple[Array, Array]:
    from app.nn.expr import parse_expression  # the parser is only needed for this kind

    if not spec.x_min < spec.x_max:
        raise ValueError("x_min must be below x_max")
    expression = parse_expression(spec.expr)
    x = np.sort(rng.uniform(spec.x_min, spec.x_max, spec.samples))
    with np.errstate(all="ignore"):
        y = np.asarray(expression.value(x), dtype=float) * np.ones_like(x)
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{spec.expr!r} is not finite everywhere on [{spec.x_min}, {spec.x_max}]")
    y = y + spec.noise * rng.normal(size=y.shape)
    return x[:, None], y[:, None]


def _square(spec: DatasetSpec, rng: np.random.Generator) -> Array:
    return rng.uniform(-1.0, 1.0, (spec.samples, 2))


def _jitter(x: Array, spec: DatasetSpec, rng: np.random.Generator) -> Array:
    return x + spec.noise * rng.normal(size=x.shape)


def _xor(spec: DatasetSpec, rng: np.random.Generator) -> tuple[Array, Array]:
    x = _square(spec, rng)
    x += np.sign(x) * 0.05  # a small gap along the axes, so the classes are separable
    label = (x[:, 0] * x[:, 1] > 0).astype(float)
    return _jitter(x, spec, rng), label[:, None]


def _circle(spec: DatasetSpec, rng: np.random.Generator) -> tuple[Array, Array]:
    inside = rng.random(spec.samples) < 0.5
    near = rng.uniform(0.0, 0.45, spec.samples)
    far = rng.uniform(0.65, 1.0, spec.samples)
    radius = np.where(inside, near, far)
    angle = rng.uniform(0.0, 2 * np.pi, spec.samples)
    x = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    return _jitter(x, spec, rng), inside.astype(float)[:, None]


def _targets(label: Array, classes: int) -> Array:
    """Class indices as targets: one column of 0 and 1 for two classes, else one-hot rows."""
    if classes == 2:
        return label.astype(float)[:, None]
    one_hot: Array = np.eye(classes)[label.astype(int)]
    return one_hot


def _gaussians(spec: DatasetSpec, rng: np.random.Generator) -> tuple[Array, Array]:
    if spec.classes == 2:
        # Two blobs on the diagonal, drawn as they always were (runs stored with them replay).
        label = (rng.random(spec.samples) < 0.5).astype(float)
        centre = np.where(label[:, None] > 0, 0.45, -0.45) * np.ones((1, 2))
    else:
        # K blobs evenly around a circle of radius 0.6.
        label = rng.integers(0, spec.classes, spec.samples)
        angle = 2 * np.pi * label / spec.classes + np.pi / 4
        centre = 0.6 * np.column_stack([np.cos(angle), np.sin(angle)])
    x = np.clip(centre + rng.normal(0.0, 0.2, (spec.samples, 2)), -1.0, 1.0)
    return _jitter(x, spec, rng), _targets(label, spec.classes)


def _spiral(spec: DatasetSpec, rng: np.random.Generator) -> tuple[Array, Array]:
    label = np.arange(spec.samples) % spec.classes
    t = rng.uniform(0.0, 1.0, spec.samples)
    # K arms, a K-th of a turn apart, each winding 1.75 times from the centre outwards.
    angle = 1.75 * 2 * np.pi * t + 2 * np.pi * label / spec.classes
    radius = 0.95 * t
    x = np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])
    return _jitter(x, spec, rng), _targets(label, spec.classes)


def _boundary(spec: DatasetSpec, rng: np.random.Generator) -> tuple[Array, Array]:
    """Points of the square labelled 1 above the curve y = f(x) of `expr`, 0 on or below it;
    noise then moves the points, not the labels."""
    from app.nn.expr import ExpressionError, parse_expression

    curve = parse_expression(spec.expr)
    x = _square(spec, rng)
    with np.errstate(all="ignore"):
        f = np.asarray(curve.value(x[:, 0]), dtype=float) * np.ones(len(x))
    if not np.all(np.isfinite(f)):
        raise ExpressionError(f"{spec.expr!r} is not finite everywhere on [-1, 1]")
    label = (x[:, 1] > f).astype(float)
    return _jitter(x, spec, rng), label[:, None]


def _plane(spec: DatasetSpec, rng: np.random.Generator) -> tuple[Array, Array]:
    x = _square(spec, rng)
    y = (x[:, 0] + x[:, 1] + 2.0) / 4.0
    return x, (y + spec.noise * rng.normal(size=y.shape))[:, None]


def _multi_gaussian(spec: DatasetSpec, rng: np.random.Generator) -> tuple[Array, Array]:
    x = _square(spec, rng)
    # Four bumps of either sign on a level of ½, like the Playground's regression set.
    centres = np.array([[-0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [0.5, -0.5]])
    signs = np.array([0.45, 0.45, -0.45, -0.45])
    squared = ((x[:, None, :] - centres[None]) ** 2).sum(axis=2)
    y = 0.5 + (signs * np.exp(-squared / (2 * 0.2**2))).sum(axis=1)
    return x, (y + spec.noise * rng.normal(size=y.shape))[:, None]


_MAKERS: dict[str, Callable[[DatasetSpec, np.random.Generator], tuple[Array, Array]]] = {
    "teacher": _teacher,
    "function": _function,
    "xor": _xor,
    "circle": _circle,
    "gaussians": _gaussians,
    "spiral": _spiral,
    "boundary": _boundary,
    "plane": _plane,
    "multi_gaussian": _multi_gaussian,
}
