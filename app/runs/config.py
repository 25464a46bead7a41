"""A run's config as the API accepts it, validated, and turned into the engine's types."""

from __future__ import annotations

from itertools import pairwise
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.nn.datasets import FEATURES, MAX_CLASSES, MULTI_CLASS_KINDS, DatasetSpec
from app.nn.tabular import SHIPPED_SHAPES, TableSource
from app.nn.trainer import RegularizationSpec, TrainingConfig

ActivationName = Literal["sigmoid", "tanh", "relu", "linear"]
DatasetKind = Literal[
    "teacher",
    "function",
    "xor",
    "circle",
    "gaussians",
    "spiral",
    "boundary",
    "plane",
    "multi_gaussian",
    "csv",
    "iris",
    "digits",
]
TWO_D_KINDS = ("xor", "circle", "gaussians", "spiral", "boundary", "plane", "multi_gaussian")
TABLE_KINDS = ("csv", "iris", "digits")
FeatureName = Literal[
    "x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)", "x", "x^2", "x^3", "sin(x)", "cos(x)"
]
Size = Annotated[int, Field(ge=1, le=1_000_000)]
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
# A run's name is a label for people (runs list, page title), so a line's worth is plenty.
NAME_MAX_LENGTH = 80
RunName = Annotated[str, Field(min_length=1, max_length=NAME_MAX_LENGTH)]
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
    classes: Annotated[int, Field(ge=2, le=MAX_CLASSES)] = Field(
        2, description="gaussians and spiral: K classes, one-hot over K outputs when K > 2"
    )
    features: Annotated[list[FeatureName], Field(min_length=1, max_length=16)] | None = Field(
        None,
        description="the network's inputs as named functions of the raw points; "
        "null: the raw inputs (x1, x2 for 2-D data, x for 1-D)",
    )
    # csv only: the uploaded data set (POST /api/datasets) and which of its columns to use.
    id: Annotated[str, Field(pattern=r"^[0-9a-f]{1,64}$")] | None = None
    inputs: ColumnNames | None = None
    targets: ColumnNames | None = None
    labels: bool = False  # the one target column holds class labels even though numeric

    @property
    def dimensions(self) -> int:
        """How many coordinates a raw point of a generated kind (not teacher) has."""
        return 1 if self.kind == "function" else 2


class RegularizationConfig(BaseModel):
    """A weight penalty added to the loss: (λ/2)·Σw² for l2, λ·Σ|w| for l1 (weights only)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    kind: Literal["l2", "l1"]
    rate: Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)] = Field(
        description="λ, the penalty's weight against the data loss"
    )


class RunConfig(BaseModel):
    """Everything that fixes a run (docs/architecture.md lists the fields' meaning)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    # What people call the run; it takes no part in training (the page defaults it to the preset).
    name: RunName | None = None
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
    regularization: RegularizationConfig | None = None

    @model_validator(mode="after")
    def _dataset_fits(self) -> Self:
        """The data set's inputs and outputs must match the student's first and last layer."""
        data, inputs, outputs = self.dataset, self.layers[0], self.layers[-1]
        if isinstance(self.activation, list) and len(self.activation) != len(self.layers) - 1:
            raise ValueError(
                f"activation: needs one name per non-input layer ({len(self.layers) - 1}), "
                f"got {len(self.activation)}"
            )
        if data.classes > 2 and data.kind not in MULTI_CLASS_KINDS:
            raise ValueError(
                f"dataset.classes: only {' and '.join(MULTI_CLASS_KINDS)} can have more than "
                f"2 classes, not {data.kind!r}"
            )
        if data.kind == "teacher":
            if data.features is not None:
                raise ValueError("dataset.features: a teacher's inputs are its own; no features")
            teacher = data.layers or [inputs, 3, outputs]
            if teacher[0] != inputs or teacher[-1] != outputs:
                raise ValueError(
                    f"dataset.layers: the teacher {teacher} must have the student's input size "
                    f"{inputs} and output size {outputs}"
                )
            self.dataset.layers = teacher
        elif data.kind in TABLE_KINDS:
            if data.features is not None:
                raise ValueError("dataset.features: a table's inputs are its columns; no features")
            if data.kind == "csv":
                self._check_columns()
            else:
                self._need_shape(*SHIPPED_SHAPES[data.kind])
        else:
            outputs = data.classes if data.classes > 2 else 1
            self._need_shape(self._inputs(), outputs)
        if data.kind == "function" and not data.x_min < data.x_max:
            raise ValueError("dataset.x_min: must be below dataset.x_max")
        if isinstance(self.activation, str):
            self.activation = [self.activation] * (len(self.layers) - 1)
        return self

    def _inputs(self) -> int:
        """The network's inputs: one per feature, after checking the features fit the data."""
        data, dimensions = self.dataset, self.dataset.dimensions
        if data.features is None:
            return dimensions
        known = list(FEATURES[dimensions])
        wrong = [name for name in data.features if name not in known]
        if wrong:
            raise ValueError(
                f"dataset.features: {wrong} are not features of {dimensions}-D points; "
                f"known: {', '.join(known)}"
            )
        if len(set(data.features)) != len(data.features):
            raise ValueError("dataset.features: each feature can be listed once")
        if self.layers[0] != len(data.features):
            raise ValueError(
                f"layers: layers[0] is {self.layers[0]}, but dataset.features names "
                f"{len(data.features)} input(s)"
            )
        return len(data.features)

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
        penalty = self.regularization
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
            regularization=None
            if penalty is None
            else RegularizationSpec(penalty.kind, penalty.rate),
        )

    def dataset_spec(self, tables: TableSource | None = None) -> DatasetSpec:
        """The data set's description for the engine; `tables`: where a csv kind's uploaded
        table is read from (the server's store)."""
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
            classes=data.classes,
            features=None if data.features is None else tuple(data.features),
            table_id=data.id or "",
            inputs=tuple(data.inputs or ()),
            targets=tuple(data.targets or ()),
            labels=data.labels,
            tables=tables,
        )
