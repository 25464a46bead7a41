"""Data sets made of tables: an uploaded CSV (`csv`), and two that people know, Fisher's iris
(`iris`: 150 flowers, 4 measurements in cm, 3 species) and 8×8 handwritten digits (`digits`:
1797 images, 64 pixels of 0..16, 10 digits), both as scikit-learn ships them (no download).

Inputs are rescaled before the network sees them, with figures from the training split only
(the test split must not leak into them):
- `csv` and `iris`: each input column standardised, x' = (x − mean) / std, with the mean and
  (population) standard deviation of the training rows; a constant column keeps std 1;
- `digits`: every pixel divided by 16, so the images stay images (z-scores of border pixels
  that are almost always 0 would blow up rare strokes), i.e. mean 0 and std 16 for all.
The raw values stay beside them (`Dataset.x_train_raw`).

Class labels, in one target column, become one-hot targets in the order of their sorted
values; two classes and a network with one output give one 0/1 column (the second class is 1).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from app.nn.activations import Array
from app.nn.table import Table

TABLE_KINDS = ("csv", "iris", "digits")
SHIPPED_SHAPES = {"iris": (4, 3), "digits": (64, 10)}  # inputs, outputs
NEEDS_SKLEARN = (
    "the {kind!r} data set comes from scikit-learn, which is not installed: "
    "pip install 'backprop-live[datasets]'"
)


class TableSource(Protocol):
    """Where uploaded tables are read from (app/store/datasets.py)."""

    def load_table(self, table_id: str) -> Table: ...


class Columns(Protocol):
    """What a tabular data set needs to know of its spec (app.nn.datasets.DatasetSpec)."""

    @property
    def kind(self) -> str: ...
    @property
    def seed(self) -> int: ...
    @property
    def test_fraction(self) -> float: ...
    @property
    def table_id(self) -> str: ...
    @property
    def inputs(self) -> tuple[str, ...]: ...
    @property
    def targets(self) -> tuple[str, ...]: ...
    @property
    def labels(self) -> bool: ...
    @property
    def layers(self) -> tuple[int, ...]: ...
    @property
    def tables(self) -> TableSource | None: ...


class Labelled:
    """Inputs, targets and class names (None for regression) before the split."""

    def __init__(self, x: Array, y: Array, class_names: tuple[str, ...] | None) -> None:
        self.x, self.y, self.class_names = x, y, class_names


def tabular_parts(spec: Columns) -> dict[str, Any]:
    """The fields of the data set's `Dataset` (app.nn.datasets): split by the spec's seed and
    test fraction, inputs rescaled with the training rows' figures, the raw values beside."""
    data = load_tabular(spec)
    if len(data.x) < 2:
        raise ValueError("a data set needs at least 2 samples")
    order = np.random.default_rng(spec.seed).permutation(len(data.x))
    train_count = max(1, len(data.x) - round(len(data.x) * spec.test_fraction))
    train, test = order[:train_count], order[train_count:]
    shift, scale = scaling(spec.kind, data.x[train])
    return {
        "x_train": (data.x[train] - shift) / scale,
        "y_train": data.y[train],
        "x_test": (data.x[test] - shift) / scale,
        "y_test": data.y[test],
        "x_train_raw": data.x[train],
        "x_test_raw": data.x[test],
        "input_shift": shift,
        "input_scale": scale,
        "class_names": data.class_names,
    }


def load_tabular(spec: Columns) -> Labelled:
    if spec.kind == "csv":
        return _from_table(spec)
    try:
        from sklearn import datasets as shipped  # type: ignore[import-untyped]
    except ImportError:
        raise ValueError(NEEDS_SKLEARN.format(kind=spec.kind)) from None
    bunch = shipped.load_iris() if spec.kind == "iris" else shipped.load_digits()
    names = tuple(str(name) for name in bunch.target_names)
    x = np.asarray(bunch.data, dtype=np.float64)
    return Labelled(x, _one_hot(np.asarray(bunch.target), len(names), spec.layers[-1]), names)


def scaling(kind: str, x_train: Array) -> tuple[Array, Array]:
    """Each input's shift and scale: the network sees (x − shift) / scale."""
    if kind == "digits":
        return np.zeros(x_train.shape[1]), np.full(x_train.shape[1], 16.0)
    if not len(x_train):
        return np.zeros(x_train.shape[1]), np.ones(x_train.shape[1])
    std = x_train.std(axis=0)
    return x_train.mean(axis=0), np.where(std > 0, std, 1.0)


def _from_table(spec: Columns) -> Labelled:
    if spec.tables is None:
        raise ValueError("dataset.id: uploaded data sets are not available here")
    table = spec.tables.load_table(spec.table_id)
    for field, names in (("inputs", spec.inputs), ("targets", spec.targets)):
        missing = [name for name in names if name not in table.names]
        if missing:
            raise ValueError(
                f"dataset.{field}: no column {missing[0]!r} in data set {spec.table_id} "
                f"(columns: {', '.join(table.names)})"
            )
    text_inputs = [name for name in spec.inputs if name in table.texts]
    if text_inputs:
        raise ValueError(f"dataset.inputs: column {text_inputs[0]!r} holds text, not numbers")
    x = np.column_stack([table.numbers[name] for name in spec.inputs])
    labels = len(spec.targets) == 1 and (spec.labels or spec.targets[0] in table.texts)
    if labels:
        y, names = _labels(table, spec.targets[0], spec.layers[-1])
        return Labelled(x, y, names)
    if spec.labels:
        raise ValueError("dataset.labels: class labels come from exactly one target column")
    text_targets = [name for name in spec.targets if name in table.texts]
    if text_targets:
        raise ValueError(f"dataset.targets: column {text_targets[0]!r} holds text, not numbers")
    y = np.column_stack([table.numbers[name] for name in spec.targets])
    _check_outputs(y.shape[1], spec.layers[-1], f"{y.shape[1]} target column(s)")
    return Labelled(x, y, None)


def _labels(table: Table, name: str, outputs: int) -> tuple[Array, tuple[str, ...]]:
    column = table.column(name)
    if isinstance(column, tuple):
        names = tuple(sorted(set(column)))
        index = {label: k for k, label in enumerate(names)}
        codes = np.array([index[label] for label in column])
    else:
        fractional = np.flatnonzero(column != np.round(column))
        if len(fractional):
            row = int(fractional[0])
            raise ValueError(
                f"dataset.targets: row {row + 2}, column {name!r}: class labels must be whole "
                f"numbers or text, not {column[row]}"
            )
        values, codes = np.unique(column, return_inverse=True)
        names = tuple(str(int(v)) for v in values)
    return _one_hot(codes, len(names), outputs), names


def _one_hot(codes: Array, count: int, outputs: int) -> Array:
    if count < 2:
        raise ValueError(f"dataset.targets: {count} class; classification needs at least 2")
    if count == 2 and outputs == 1:
        binary: Array = (codes == 1).astype(np.float64)[:, None]
        return binary
    _check_outputs(count, outputs, f"{count} classes")
    one_hot: Array = np.eye(count)[codes]
    return one_hot


def _check_outputs(count: int, outputs: int, what: str) -> None:
    if count != outputs:
        raise ValueError(f"layers: the data set has {what}, the network {outputs} output(s)")
