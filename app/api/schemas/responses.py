"""Answers of the API. Floats are `float | None`: a non-finite value is written as null."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.runs.config import RegularizationConfig, RunConfig

StatusName = Literal["paused", "running", "finished", "stopped", "diverged", "interrupted"]
Matrix = list[list[float | None]]


class EngineChange(BaseModel):
    from_step: int = Field(description="the first update made under this arithmetic")
    engine: str = Field(description="engine version, numpy and its CPU features, BLAS")


class RunOut(BaseModel):
    """A run as clients see it."""

    id: str
    status: StatusName
    step: int = Field(description="updates made so far")
    loss: float | None = Field(description="training loss of the weights after `step` updates")
    test_loss: float | None
    config: RunConfig = Field(description="the config, with `activation` as one name per layer")
    created_at: str = Field(description="ISO 8601, UTC")
    learning_rate: float = Field(description="the rate of the next update")
    speed: float | None = Field(description="at most this many updates a second; null: no limit")
    message: str | None = Field(description="why the run stopped, finished or diverged")
    busy: bool = Field(
        description="a worker is making updates (free training, or a manual step still in "
        "progress while `status` stays paused): step, resume and explain answer 409 meanwhile"
    )
    engines: list[EngineChange] = Field(
        description="which arithmetic made the run's updates, oldest first; empty for a run "
        "stored before it was recorded. A past step is recomputed exactly only under the "
        "arithmetic that made it"
    )
    metrics: dict[str, float | None] | None = Field(
        default=None,
        description="GET /api/runs/{id} only: scores at the current step, "
        '{"accuracy", "test_accuracy"} for classes or {"r2", "test_r2"} for regression '
        "(null where a split has no rows)",
    )


class WeightsOut(BaseModel):
    step: int
    weights: list[Matrix] = Field(description="weights[l][i][j] joins neuron i of layer l to j")
    biases: list[list[float | None]]
    exact: bool = Field(
        description="bit for bit the run's weights at `step`; false when they were recomputed "
        "under another arithmetic than the one that made them (see the run's `engines`), "
        "and may differ from the original in the last bits"
    )


class DatasetOut(BaseModel):
    """The run's data: x rows are the network's inputs, y rows its targets."""

    x_train: Matrix = Field(
        description="the network's inputs, one row per sample (features expanded, tables "
        "standardised)"
    )
    y_train: Matrix
    x_test: Matrix
    y_test: Matrix
    x_train_raw: Matrix | None = Field(
        description="the raw points behind x_train, row for row, where features or "
        "standardisation make the inputs differ from them (a table: x = (raw − input_shift) / "
        "input_scale); null where x_train holds the raw points"
    )
    x_test_raw: Matrix | None
    input_shift: list[float] | None = Field(description="per input: the training rows' mean")
    input_scale: list[float] | None = Field(description="per input: the training rows' std")
    class_names: list[str] | None = Field(description="the classes of a classification set")


class ScoresOut(BaseModel):
    step: int
    class_names: list[str] | None = Field(description="null for regression")
    accuracy: float | None
    test_accuracy: float | None
    confusion: list[list[int]] | None = Field(description="[true class][predicted class]")
    test_confusion: list[list[int]] | None
    r2: float | None
    test_r2: float | None


class ExplainOut(BaseModel):
    """One update, from `step` to `step + 1`, seen through one sample (app.nn.explain).

    Per-layer lists: index l belongs to the weights between layer l and l+1; `activation[0]`
    is the input. `deltas` are summed over the batch, `sample_deltas` are this sample's.
    """

    step: int
    learning_rate: float
    momentum: float
    loss_name: str
    activations: list[str]
    output_activation: str
    variant: str
    bias: bool = Field(description="whether the network has biases; without, b is 0 and stays 0")
    batch_size: int
    sample: int
    row: int = Field(description="the sample's row in the training set")
    x: list[float | None]
    y: list[float | None]
    net: list[list[float | None]]
    activation: list[list[float | None]]
    derivative: list[list[float | None]]
    loss: float | None = Field(
        description="the batch's loss before the update: data_loss + regularization_loss"
    )
    data_loss: float | None = Field(description="the loss of the outputs against the targets")
    regularization: RegularizationConfig | None = Field(
        description="the weight penalty the loss includes; null without one"
    )
    regularization_loss: float | None = Field(
        description="the penalty R of the weights before the update: (λ/2)·Σw² for l2, "
        "λ·Σ|w| for l1; 0 without one"
    )
    sample_deltas: list[list[float | None]]
    deltas: list[list[float | None]]
    gradients: list[Matrix]
    weights: list[Matrix]
    biases: list[list[float | None]]
    new_weights: list[Matrix]
    new_biases: list[list[float | None]]
    previous_velocity: list[Matrix] | None = Field(
        description="with momentum, the weights' velocity v before this update; else null"
    )
    velocity: list[Matrix] | None = Field(
        description="with momentum, v ← μ·v + ∂L/∂W, the velocity W moves by (W ← W − α·v)"
    )
    regularization_gradients: list[Matrix] | None = Field(
        description="with a regularization, ∂R/∂W per layer (λ·w for l2, λ·sign(w) for l1), "
        "the term each of `gradients` holds besides aᵀ·δ; else null"
    )


class DescentPointOut(BaseModel):
    step: int
    x: float
    y: float
    slope: float


class DescentOut(BaseModel):
    trace: list[DescentPointOut]
    stopped: str | None = Field(
        description="why the trace has fewer than steps + 1 points (the next move would leave "
        "the finite numbers); null when it has them all"
    )


class DescentCurveOut(BaseModel):
    x: list[float]
    y: list[float | None] = Field(description="f(x); null where f is not a finite number")


class LoopLagOut(BaseModel):
    """How late the event loop ran: a server task sleeps `loop_lag_interval` seconds again and
    again; each sample is how much later than due it woke. Over the last `loop_lag_window`
    seconds; null while there is no sample yet."""

    p50: float | None = Field(description="median lateness, ms")
    p99: float | None = Field(description="99th percentile lateness, ms")
    max: float | None = Field(description="worst lateness, ms")
    samples: int = Field(description="samples in the window")


class WorkerOut(BaseModel):
    """A process that trains runs, and the runs it trains now."""

    pid: int
    runs: list[str]


class HealthOut(BaseModel):
    status: Literal["ok"]
    loop_lag_ms: LoopLagOut
    storage: str | None = Field(
        None, description="why the store cannot write now (runs are paused meanwhile); null: ok"
    )
    workers: list[WorkerOut] = Field(default_factory=list)


class ErrorOut(BaseModel):
    detail: str
