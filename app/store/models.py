"""What the store keeps about a run, as the rest of the app sees it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple


@dataclass(frozen=True)
class StoredRun:
    """A run's row: its config and its latest status.

    Losses are None when unknown or not finite (the store never hands out NaN or infinity).
    """

    id: str
    config: dict[str, Any]
    status: str
    step: int
    loss: float | None
    test_loss: float | None
    created_at: str  # ISO 8601, UTC
    message: str | None
    learning_rate: float
    speed: float | None  # updates a second, when known


class WeightEdit(NamedTuple):
    """A weight (or, with `from_neuron` None, a bias) set by hand while the run stood at
    `step`: replays apply it there, before the update that follows."""

    step: int
    layer: int  # the weight layer: 0 connects the inputs to the first hidden layer
    to_neuron: int
    from_neuron: int | None
    value: float
