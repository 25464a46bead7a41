"""Scores: accuracy and confusion counted by hand, R² against its definition."""

from __future__ import annotations

import numpy as np

from app.nn.datasets import Dataset
from app.nn.metrics import confusion, r2_score, scores
from app.nn.network import Network


def test_one_output_reads_classes_at_one_half() -> None:
    targets = np.array([[0.0], [1.0], [1.0], [0.0]])
    output = np.array([[0.2], [0.7], [0.4], [0.6]])
    assert confusion(targets, output, 2).tolist() == [[1, 1], [1, 1]]


def test_several_outputs_read_the_largest() -> None:
    targets = np.eye(3)[[0, 1, 2, 2]]
    output = np.array([[0.9, 0.1, 0.0], [0.1, 0.2, 0.7], [0.0, 0.1, 0.8], [0.5, 0.4, 0.1]])
    assert confusion(targets, output, 3).tolist() == [[1, 0, 0], [0, 0, 1], [1, 0, 1]]


def test_r2_is_one_minus_residual_over_spread() -> None:
    y = np.array([[1.0], [2.0], [3.0], [4.0]])
    out = np.array([[1.5], [2.0], [2.5], [4.0]])
    assert r2_score(y, out) == 1 - 0.5 / 5.0
    assert r2_score(y, y) == 1.0 and r2_score(np.ones((3, 1)), np.zeros((3, 1))) is None


def test_scores_of_a_network_match_its_forward_pass() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(40, 2))
    y = (x[:, :1] > 0).astype(float)
    data = Dataset(x[:30], y[:30], x[30:], y[30:], class_names=("0", "1"))
    network = Network.create((2, 3, 1), ("tanh", "sigmoid"), seed=1)
    result = scores(network, data)
    predicted = network.forward(x).output[:, 0] > 0.5
    correct = predicted == (y[:, 0] > 0.5)
    assert result.accuracy == correct[:30].mean() and result.test_accuracy == correct[30:].mean()
    assert (
        result.confusion is not None
        and np.sum(result.confusion) == 30
        and result.as_metrics().keys()
        == {
            "accuracy",
            "test_accuracy",
        }
    )
    regression = scores(network, Dataset(x[:30], y[:30], x[:0], y[:0]))
    assert regression.test_r2 is None and regression.as_metrics().keys() == {"r2", "test_r2"}
