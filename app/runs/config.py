"""A run's config as the API accepts it, validated, and turned into the engine's types."""

from __future__ import annotations

from itertools import pairwise
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from app.nn.datasets import DatasetSpec
from app.nn.tabular import SHIPPED_SHAPES, TableSource
from app.nn.trainer import TrainingConfig

ActivationName = Literal["sigmoid", "tanh", "relu", "linear"]
DatasetKind = Literal[
    "teacher",
    "function",
    "xor",
    "circle",
    "gaussians",
    "spiral",
    "plane",
    "multi_gaussian",
    "csv",
    "iris",
    "digits",
]
TWO_D_KINDS = ("xor", "circle", "gaussians", "spiral", "plane", "multi_gaussian")
Size = Annotated[int, Field(ge=1, le=1_000_000)]
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
ColumnName = Annotated[str, Field(min_length=1, max_length=200)]
ColumnNames = Annotated[list[ColumnName], Field(min_length=1, max_length=4096)]


def parameter_count(layers: list[int], bias: bool) -> int:
    return sum(a * b + (b if bias else 0) for a, b in pairwise(layers))


class DatasetConfig(BaseModel):
    """The data a run learns; fields a kind does not use are ignored."""

    model_config = ConfigDict(extra="forbid", strict=True)

    kind: DatasetKind = "teacher"
    samples: Annotated[int, Field(ge=2, le=10_000_000)] = 200
    noise: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] = 0.0
    seed: Seed = 1
    test_fraction: Annotated[float, Field(ge=0, lt=1)] = 0.2
    # Teacher only; None means [student inputs, 3, student outputs].
    layers: Annotated[list[Size], Field(min_length=2, max_length=64)] | None = None
    activation: ActivationName = "sigmoid"
    expr: Annotated[str, Field(min_length=1, max_length=200)] = "sin(3*x)"
    x_min: Finite = -1.0
    x_max: Finite = 1.0
    # csv only: the uploaded data set (POST /api/datasets) and which of its columns to use.
    id: Annotated[str, Field(pattern=r"^[0-9a-f]{1,64}$")] | None = None
    inputs: ColumnNames | None = None
    targets: ColumnNames | None = None
    labels: bool = False  # the one target column holds class labels even though numeric
    # Where an uploaded table is read from: handed in by the server, never part of the config.
    _tables: TableSource | None = PrivateAttr(default=None)

    def use_tables(self, tables: TableSource) -> None:
        """Read the `csv` kind's table from `tables` when the data set is built."""
        self._tables = tables


class RunConfig(BaseModel):
    """Everything that fixes a run (docs/architecture.md lists the fields' meaning)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    layers: Annotated[list[Size], Field(min_length=2, max_length=64)]
    activation: ActivationName | Annotated[list[ActivationName], Field(max_length=64)] = "sigmoid"
    bias: bool = True
    loss: Literal["mse", "cross_entropy"] = "mse"
    learning_rate: Annotated[float, Field(gt=0, le=1e12, allow_inf_nan=False)] = 0.5
    batch_size: Size | None = None
    variant: Literal["standard", "no_activation_derivative"] = "standard"
    momentum: Annotated[float, Field(ge=0, lt=1)] = 0.0
    seed: Seed = 0
    dtype: Literal["float64", "float32"] = "float64"
    dataset: DatasetConfig = Field(default_factory=DatasetConfig)
    max_steps: Annotated[int, Field(ge=1, le=10**12)] | None = None
    start: Literal["paused", "running"] = "paused"
    # Updates a second at most while running; None trains as fast as it can.
    speed: Annotated[float, Field(gt=0, le=1e9, allow_inf_nan=False)] | None = None

    @model_validator(mode="after")
    def _dataset_fits(self) -> Self:
        """The data set's inputs and outputs must match the student's first and last layer."""
        data, inputs, outputs = self.dataset, self.layers[0], self.layers[-1]
        if isinstance(self.activation, list) and len(self.activation) != len(self.layers) - 1:
            raise ValueError(
                f"activation: needs one name per non-input layer ({len(self.layers) - 1}), "
                f"got {len(self.activation)}"
            )
        if data.kind == "teacher":
            teacher = data.layers or [inputs, 3, outputs]
            if teacher[0] != inputs or teacher[-1] != outputs:
                raise ValueError(
                    f"dataset.layers: the teacher {teacher} must have the student's input size "
                    f"{inputs} and output size {outputs}"
                )
            self.dataset.layers = teacher
        elif data.kind == "function":
            self._need_shape(1, 1)
        elif data.kind == "csv":
            self._check_columns()
        elif data.kind in SHIPPED_SHAPES:
            self._need_shape(*SHIPPED_SHAPES[data.kind])
        else:
            self._need_shape(2, 1)
        if data.kind == "function" and not data.x_min < data.x_max:
            raise ValueError("dataset.x_min: must be below dataset.x_max")
        if isinstance(self.activation, str):
            self.activation = [self.activation] * (len(self.layers) - 1)
        return self

    def _check_columns(self) -> None:
        """The columns' count against the input layer; outputs are checked against the table
        when the data set is built (class labels make one output per class)."""
        data = self.dataset
        if data.id is None or data.inputs is None or data.targets is None:
            raise ValueError("dataset.id: a csv data set needs `id`, `inputs` and `targets`")
        if len(data.inputs) != self.layers[0]:
            raise ValueError(
                f"layers: {len(data.inputs)} input column(s) need {len(data.inputs)} inputs, "
                f"got {self.layers[0]}"
            )
        for field, names in (("inputs", data.inputs), ("targets", data.targets)):
            if len(set(names)) != len(names):
                raise ValueError(f"dataset.{field}: a column is named twice")

    def _need_shape(self, inputs: int, outputs: int) -> None:
        if self.layers[0] != inputs or self.layers[-1] != outputs:
            raise ValueError(
                f"layers: the {self.dataset.kind!r} data set needs {inputs} input(s) and "
                f"{outputs} output(s), got {self.layers[0]} and {self.layers[-1]}"
            )

    @property
    def activations(self) -> tuple[str, ...]:
        names = self.activation
        return tuple(names) if isinstance(names, list) else (names,) * (len(self.layers) - 1)

    @property
    def parameter_count(self) -> int:
        return parameter_count(self.layers, self.bias)

    @property
    def teacher_parameter_count(self) -> int:
        """The teacher's weights and biases (0 for other data sets): it too is built and run."""
        teacher = self.dataset.layers if self.dataset.kind == "teacher" else None
        return parameter_count(teacher, bias=True) if teacher else 0

    def training_config(self) -> TrainingConfig:
        return TrainingConfig(
            layers=tuple(self.layers),
            activations=self.activations,
            bias=self.bias,
            loss=self.loss,
            learning_rate=self.learning_rate,
            batch_size=self.batch_size,
            variant=self.variant,
            momentum=self.momentum,
            seed=self.seed,
            dtype=self.dtype,
        )

    def dataset_spec(self) -> DatasetSpec:
        data = self.dataset
        return DatasetSpec(
            kind=data.kind,
            samples=data.samples,
            noise=data.noise,
            seed=data.seed,
            test_fraction=data.test_fraction,
            layers=tuple(data.layers or (self.layers[0], 3, self.layers[-1])),
            activation=data.activation,
            expr=data.expr,
            x_min=data.x_min,
            x_max=data.x_max,
            table_id=data.id or "",
            inputs=tuple(data.inputs or ()),
            targets=tuple(data.targets or ()),
            labels=data.labels,
            tables=data._tables,
        )
