"""Bodies the API accepts. The run config itself lives with the runs (app.runs.config)."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.runs.config import RunConfig, RunName

__all__ = ["DescentCurveQuery", "DescentRequest", "RunConfig", "RunPatch", "StepRequest"]

Rate = Annotated[float, Field(gt=0, le=1e12, allow_inf_nan=False)]


class StepRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    count: Annotated[int, Field(ge=1, le=10**12)] = 1


class RunPatch(BaseModel):
    """Changes to a live run, applied from its next update on; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid", strict=True)

    # Left out: unchanged. Null is refused: a run always has a rate.
    learning_rate: Rate | None = None
    # Updates a second at most; null removes the limit.
    speed: Rate | None = None
    # The run's new name (config.name); null removes it. Renaming is allowed in any status.
    name: RunName | None = None

    @model_validator(mode="after")
    def _rate_is_a_number(self) -> Self:
        if "learning_rate" in self.model_fields_set and self.learning_rate is None:
            raise ValueError("learning_rate: must be a number above 0 (leave it out to keep it)")
        return self


Expr = Annotated[str, Field(min_length=1, max_length=200)]
# Any finite x: a page continues a diverging trace from wherever its last point flew.
FiniteX = Annotated[float, Field(allow_inf_nan=False)]
# Far enough apart for any picture, close enough that x_max - x_min stays finite.
CurveX = Annotated[float, Field(ge=-1e300, le=1e300, allow_inf_nan=False)]


class DescentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    expr: Expr = "(x + 2)**2"
    x0: FiniteX = 0.0
    learning_rate: Annotated[float, Field(gt=0, le=1e6, allow_inf_nan=False)] = 0.1
    steps: Annotated[int, Field(ge=0, le=10_000)] = 50


class DescentCurveQuery(BaseModel):
    """y = f(x) sampled at `points` evenly spaced x from x_min to x_max, for drawing."""

    model_config = ConfigDict(extra="forbid")

    expr: Expr = "(x + 2)**2"
    x_min: CurveX = -4.0
    x_max: CurveX = 4.0
    # At most max_descent_curve_points (a setting), checked by the route.
    points: Annotated[int, Field(ge=2)] = 200

    @model_validator(mode="after")
    def _range_is_not_empty(self) -> Self:
        if not self.x_min < self.x_max:
            raise ValueError(f"x_max: must be greater than x_min ({self.x_min})")
        return self


class WeightEditRequest(BaseModel):
    """One weight (`from` → `to` in weight layer `layer`) or, with `bias: true`, the bias of
    neuron `to` in layer `layer` + 1, set by hand on a paused run."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    layer: Annotated[int, Field(ge=0, le=10_000)]
    to: Annotated[int, Field(ge=0, le=10_000_000)]
    from_: Annotated[int | None, Field(ge=0, le=10_000_000, alias="from")] = None
    bias: bool = False
    value: Annotated[float, Field(allow_inf_nan=False, ge=-1e12, le=1e12)]

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if self.bias and self.from_ is not None:
            raise ValueError("from: a bias has no `from` (leave it out with bias: true)")
        if not self.bias and self.from_ is None:
            raise ValueError("from: needed for a weight (or say bias: true)")
        return self
