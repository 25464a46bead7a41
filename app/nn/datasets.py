"""Seeded data sets: the article's teacher network, a 1-D function, and the 2-D sets people
know from TensorFlow Playground. Each has noise and a train/test split.

Two-dimensional inputs lie in [-1, 1]². Classification labels are 0 or 1 in one output column
(read with a threshold of ½); regression targets lie in [0, 1] so a sigmoid output can fit them.
Tables (an uploaded CSV, iris, digits) are built in app/nn/tabular.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from app.nn.activations import Array
from app.nn.network import Network
from app.nn.tabular import TABLE_KINDS, TableSource, tabular_parts

CLASSIFICATION_KINDS = ("xor", "circle", "gaussians", "spiral")
REGRESSION_KINDS = ("plane", "multi_gaussian")
KINDS = ("teacher", "function", *CLASSIFICATION_KINDS, *REGRESSION_KINDS)  # generated
TEACHER_SCALE = 3.0  # standard deviation of a teacher's random weights


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
    table_id: str = ""  # csv: the uploaded table
    inputs: tuple[str, ...] = ()  # csv: input columns
    targets: tuple[str, ...] = ()  # csv: target columns
    labels: bool = False  # csv: the one target column holds class labels, even if numeric
    # csv: where the table is read from; not part of what the data set is.
    tables: TableSource | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Dataset:
    """Training and test rows: x is N × inputs, y is N × outputs.

    Tables' inputs are rescaled (app/nn/tabular.py): then x_train_raw and x_test_raw hold the
    values before, and the network sees (raw − input_shift) / input_scale. `class_names` names
    the classes of a classification data set (one-hot targets, or one 0/1 column for two).
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
    rng = np.random.default_rng(spec.seed)
    x, y = _MAKERS[spec.kind](spec, rng)
    names = ("0", "1") if spec.kind in CLASSIFICATION_KINDS else None
    return replace(_split(x, y, spec.test_fraction, rng), class_names=names)


def _tabular(spec: DatasetSpec) -> Dataset:
    if not 0.0 <= spec.test_fraction < 1.0:
        raise ValueError("test_fraction must be at least 0 and below 1")
    return Dataset(**tabular_parts(spec))


def _split(x: Array, y: Array, test_fraction: float, rng: np.random.Generator) -> Dataset:
    order = rng.permutation(len(x))
    test_count = round(len(x) * test_fraction)
    train_count = max(1, len(x) - test_count)
    train, test = order[:train_count], order[train_count:]
    return Dataset(x[train], y[train], x[test], y[test])


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


def _gaussians(spec: DatasetSpec, rng: np.random.Generator) -> tuple[Array, Array]:
    label = (rng.random(spec.samples) < 0.5).astype(float)
    centre = np.where(label[:, None] > 0, 0.45, -0.45) * np.ones((1, 2))
    x = np.clip(centre + rng.normal(0.0, 0.2, (spec.samples, 2)), -1.0, 1.0)
    return _jitter(x, spec, rng), label[:, None]


def _spiral(spec: DatasetSpec, rng: np.random.Generator) -> tuple[Array, Array]:
    label = (np.arange(spec.samples) % 2).astype(float)
    t = rng.uniform(0.0, 1.0, spec.samples)
    # Two arms, half a turn apart, each winding 1.75 times from the centre outwards.
    angle = 1.75 * 2 * np.pi * t + np.pi * label
    radius = 0.95 * t
    x = np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])
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
    "plane": _plane,
    "multi_gaussian": _multi_gaussian,
}


def with_samples(spec: DatasetSpec, samples: int) -> DatasetSpec:
    return replace(spec, samples=samples)
