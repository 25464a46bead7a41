"""Tables as data sets: standardised inputs from the training split, one-hot class labels,
and the two shipped sets (iris, digits) from scikit-learn."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import pytest

from app.nn.datasets import DatasetSpec, make_dataset
from app.nn.metrics import scores
from app.nn.table import Table, TableLimits, parse_csv
from app.nn.trainer import Trainer, TrainingConfig

CSV = b"a,b,c,label\n" + b"".join(
    f"{i},{(i * 7) % 11},{i % 3},{'hi' if i % 3 else 'lo'}\n".encode() for i in range(30)
)


@dataclass(frozen=True)
class InMemory:
    table: Table

    def load_table(self, table_id: str) -> Table:
        assert table_id == "t1"
        return self.table


def csv_spec(**changes: object) -> DatasetSpec:
    table = parse_csv(CSV, TableLimits(100, 10))
    fields: dict[str, object] = {
        "kind": "csv",
        "table_id": "t1",
        "inputs": ("a", "b"),
        "targets": ("label",),
        "layers": (2, 3, 1),
        "tables": InMemory(table),
        "seed": 3,
    }
    return DatasetSpec(**(fields | changes))  # type: ignore[arg-type]


def test_inputs_are_z_scores_of_the_training_rows_with_the_raw_values_beside() -> None:
    data = make_dataset(csv_spec())
    assert data.x_train_raw is not None and data.x_test_raw is not None
    assert data.input_shift is not None and data.input_scale is not None
    mean, std = data.x_train_raw.mean(axis=0), data.x_train_raw.std(axis=0)
    np.testing.assert_allclose(data.input_shift, mean)
    np.testing.assert_allclose(data.input_scale, std)
    np.testing.assert_allclose(data.x_train, (data.x_train_raw - mean) / std)
    np.testing.assert_allclose(data.x_test, (data.x_test_raw - mean) / std)
    np.testing.assert_allclose(data.x_train.mean(axis=0), 0.0, atol=1e-12)
    assert len(data.x_train) == 24 and len(data.x_test) == 6


def test_two_text_classes_and_one_output_make_one_column_of_0_and_1() -> None:
    data = make_dataset(csv_spec())
    assert data.class_names == ("hi", "lo")
    assert data.x_train_raw is not None and data.x_test_raw is not None
    raw = np.concatenate([data.x_train_raw, data.x_test_raw])
    labels = np.concatenate([data.y_train, data.y_test])[:, 0]
    np.testing.assert_array_equal(labels, (raw[:, 0] % 3 == 0).astype(float))


def test_integer_labels_become_one_hot_with_one_output_per_class() -> None:
    data = make_dataset(csv_spec(targets=("c",), labels=True, layers=(2, 3, 3)))
    assert data.class_names == ("0", "1", "2") and data.y_train.shape[1] == 3
    assert data.x_train_raw is not None and data.x_test_raw is not None
    raw = np.concatenate([data.x_train_raw, data.x_test_raw])
    targets = np.concatenate([data.y_train, data.y_test])
    np.testing.assert_array_equal(targets.argmax(axis=1), raw[:, 0] % 3)


def test_numeric_targets_are_regression_and_must_match_the_outputs() -> None:
    data = make_dataset(csv_spec(targets=("c",)))
    assert data.class_names is None and data.y_train.shape == (24, 1)
    with pytest.raises(ValueError, match="layers: the data set has 3 classes, the network 1"):
        make_dataset(csv_spec(targets=("c",), labels=True))


def test_a_missing_or_text_input_column_is_named() -> None:
    with pytest.raises(ValueError, match=r"dataset\.inputs: no column 'zz'"):
        make_dataset(csv_spec(inputs=("a", "zz")))
    with pytest.raises(ValueError, match=r"dataset\.inputs: column 'label' holds text"):
        make_dataset(csv_spec(inputs=("a", "label")))


def test_the_same_spec_makes_the_same_split() -> None:
    first, again = make_dataset(csv_spec()), make_dataset(csv_spec())
    for a, b in zip(first.arrays(), again.arrays(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_iris_reaches_90_percent_test_accuracy_within_500_steps() -> None:
    spec = DatasetSpec(kind="iris", seed=1, test_fraction=0.2, layers=(4, 3, 3))
    data = make_dataset(spec)
    assert data.class_names == ("setosa", "versicolor", "virginica")
    assert (len(data.x_train), len(data.x_test)) == (120, 30)
    config = TrainingConfig(
        layers=(4, 8, 3),
        activations=("tanh", "sigmoid"),
        loss="cross_entropy",
        learning_rate=0.5,
        seed=0,
    )
    trainer = Trainer(config, data)
    for _ in range(500):
        trainer.update()
    result = scores(trainer.network, trainer.data)
    assert result.test_accuracy is not None and result.test_accuracy >= 0.9


def test_digits_are_pixels_over_16() -> None:
    data = make_dataset(DatasetSpec(kind="digits", layers=(64, 3, 10)))
    assert data.x_train.shape[1] == 64 and data.y_train.shape[1] == 10
    assert data.x_train_raw is not None
    np.testing.assert_array_equal(data.x_train, data.x_train_raw / 16)
    assert data.x_train.max() == 1.0 and data.class_names == tuple(str(d) for d in range(10))


def test_without_scikit_learn_the_message_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(ValueError, match=r"pip install 'backprop-live\[datasets\]'"):
        make_dataset(DatasetSpec(kind="iris", layers=(4, 3, 3)))
