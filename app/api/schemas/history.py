"""The thinned history: GET /api/runs/{id}/history?points=N (app.store.thin says how)."""

from __future__ import annotations

from typing import Annotated

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
