"""The thinned history: GET /api/runs/{id}/history?points=N (app.store.thin says how)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

# [step, rate] as an array of two numbers, not tuple[int, float]: a tuple's `prefixItems` is
# valid OpenAPI 3.1, but Schemathesis rewrites it into an invalid `items: [...]` and then
# cannot check the answer. The JSON sent is the same: [[103, 2.0], ...].
RateChange = Annotated[list[float], Field(min_length=2, max_length=2)]


class ThinnedHistoryOut(BaseModel):
    """At most `points` buckets of consecutive steps, each with the min and max loss in it.

    Bucket k holds steps `steps[k]` .. `steps[k] + bucket_steps - 1` (the last one ends at
    `last_step`); buckets without a step are left out. Min and max, so spikes show.
    """

    points: int = Field(description="the number of buckets asked for")
    bucket_steps: int = Field(description="steps per bucket")
    last_step: int | None = Field(description="the last step held; null before any")
    steps: list[int] = Field(description="the first step of each bucket")
    loss_min: list[float | None] = Field(description="null where no loss in it is finite")
    loss_max: list[float | None]
    test_loss_min: list[float | None] = Field(description="null where no test loss was measured")
    test_loss_max: list[float | None]
    learning_rates: list[RateChange] = Field(
        description="[step, rate] pairs, oldest first: the updates after `step` (an integer) "
        "use `rate` (changes made by PATCH)"
    )


class EarlierOut(BaseModel):
    """The steps before a long run's recent ones, in buckets (see ThinnedHistoryOut)."""

    bucket_steps: int
    last_step: int | None
    steps: list[int]
    loss_min: list[float | None]
    loss_max: list[float | None]
    test_loss_min: list[float | None]
    test_loss_max: list[float | None]


class BoundedHistoryOut(BaseModel):
    """Every step from `steps[0]` on, and before it (a long run) `earlier`'s buckets."""

    steps: list[int]
    loss: list[float | None]
    test_loss: list[float | None] = Field(description="null at steps without a test loss")
    learning_rates: list[RateChange] = Field(
        description="[step, rate] pairs, oldest first: the updates after `step` (an integer) "
        "use `rate` (changes made by PATCH)"
    )
    earlier: EarlierOut | None = Field(
        description="null when `steps` holds every step; else the steps before `steps[0]` "
        "in at most `history_buckets` buckets, each with its min and max"
    )


class ExportOut(BaseModel):
    """GET /api/runs/{id}/export: POST `config` to /api/runs to make the same run again."""

    format: str
    exported_at: str
    id: str
    status: str
    config: dict[str, Any]
    dataset: dict[str, Any] = Field(description="the config's data set; csv ones by their id")
    weights: dict[str, Any] = Field(description="as GET /weights answers, at the current step")
    history: BoundedHistoryOut
    scores: dict[str, Any] | None
