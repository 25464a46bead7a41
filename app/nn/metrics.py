"""Scores of a network on its data: accuracy and a confusion matrix for classes, R² otherwise.

- A class is read from the output as the data set's targets encode it: with one output,
  class 1 when the output is above ½; with several, the output with the largest value.
  accuracy = correct / rows; confusion[i][j] counts rows of true class i predicted as j.
- R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)², summed over every row and output, with ȳ each output
  column's mean over the rows scored (1 is a perfect fit, 0 is no better than the mean;
  None when the targets do not vary).
A split without rows has no score (None).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.nn.activations import Array
from app.nn.datasets import Dataset
from app.nn.network import Network


@dataclass(frozen=True)
class Scores:
    """Train and test scores: accuracy and confusion for classes, r2 for regression."""

    class_names: tuple[str, ...] | None
    accuracy: float | None = None
    test_accuracy: float | None = None
    confusion: list[list[int]] | None = None  # training rows
    test_confusion: list[list[int]] | None = None
    r2: float | None = None
    test_r2: float | None = None

    def as_metrics(self) -> dict[str, float | None]:
        """The current step's figures as GET /api/runs/{id} carries them."""
        if self.class_names is not None:
            return {"accuracy": self.accuracy, "test_accuracy": self.test_accuracy}
        return {"r2": self.r2, "test_r2": self.test_r2}


def scores(network: Network, data: Dataset) -> Scores:
    """Score `network` on both splits of `data` (data.class_names says whether it classifies)."""
    train = network.forward(data.x_train).output
    test = network.forward(data.x_test).output if len(data.x_test) else None
    if data.class_names is not None:
        count = len(data.class_names)
        train_matrix = confusion(data.y_train, train, count)
        test_matrix = None if test is None else confusion(data.y_test, test, count)
        return Scores(
            data.class_names,
            accuracy=_accuracy(train_matrix),
            test_accuracy=None if test_matrix is None else _accuracy(test_matrix),
            confusion=train_matrix.tolist(),
            test_confusion=None if test_matrix is None else test_matrix.tolist(),
        )
    return Scores(
        None,
        r2=r2_score(data.y_train, train),
        test_r2=None if test is None else r2_score(data.y_test, test),
    )


def predicted_class(output: Array) -> Array:
    """Each row's class index: output > ½ for one output, argmax for several."""
    if output.shape[1] == 1:
        return (output[:, 0] > 0.5).astype(np.int64)
    classes: Array = np.argmax(output, axis=1)
    return classes


def confusion(targets: Array, output: Array, count: int) -> Array:
    """count × count matrix: rows the true class, columns the predicted one."""
    matrix = np.zeros((count, count), dtype=np.int64)
    np.add.at(matrix, (predicted_class(targets), predicted_class(output)), 1)
    return matrix


def r2_score(targets: Array, output: Array) -> float | None:
    if not len(targets):
        return None
    residual = float(np.sum((targets - output) ** 2))
    spread = float(np.sum((targets - targets.mean(axis=0)) ** 2))
    if spread == 0.0:
        return None
    value = 1.0 - residual / spread
    return value if np.isfinite(value) else None


def _accuracy(matrix: Array) -> float | None:
    total = int(matrix.sum())
    return float(np.trace(matrix)) / total if total else None
