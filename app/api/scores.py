"""A run's scores now (app/nn/metrics.py), from its current weights and its data set.

Computed in a thread from `manager.parameters()` and `manager.dataset()`: a forward pass over
both splits, the cost of one full-batch update's first half. The last scores of each run are
kept by step, so viewers polling a paused run cost nothing; a run whose forward pass over its
data is above `max_scores_work` (parameters × rows) is not scored at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from app.nn.datasets import Dataset
from app.nn.metrics import Scores, scores
from app.nn.trainer import Trainer
from app.runs.config import RunConfig
from app.runs.errors import RunError
from app.runs.manager import RunManager
from app.runs.run import Parameters


class ScoresCache:
    """The latest scores of each run and the step they are of; at most `size` runs."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._entries: dict[str, tuple[int, Scores]] = {}
        self._scoring: set[asyncio.Task[Scores | None]] = set()

    def start(self, scoring: Coroutine[Any, Any, Scores | None]) -> asyncio.Task[Scores | None]:
        """Run `scoring` as a task held here until done, so an answer may stop waiting for it
        and its result still lands in the cache."""
        task = asyncio.ensure_future(scoring)
        self._scoring.add(task)
        task.add_done_callback(self._scoring.discard)
        return task

    def get(self, run_id: str, step: int) -> Scores | None:
        entry = self._entries.get(run_id)
        return entry[1] if entry is not None and entry[0] == step else None

    def put(self, run_id: str, step: int, scores: Scores) -> None:
        self._entries.pop(run_id, None)
        self._entries[run_id] = (step, scores)
        while len(self._entries) > self.size:
            del self._entries[next(iter(self._entries))]  # the least recently scored


async def run_scores(manager: RunManager, run_id: str, cache: ScoresCache) -> Scores | None:
    """The run's scores at its current step; None when its weights cannot be had now or
    scoring it is above `max_scores_work`."""
    run = manager.get(run_id)
    try:
        parameters = await manager.parameters(run_id)
        kept = cache.get(run_id, parameters.step)
        if kept is not None:
            return kept
        dataset = await manager.dataset(run_id)
    except RunError:
        return None
    # What scoring costs, in multiply-adds: every parameter once for every row.
    rows = len(dataset.x_train) + len(dataset.x_test)
    if rows * run.config.parameter_count > manager.settings.max_scores_work:
        return None
    scores = await asyncio.to_thread(score_parameters, run.config, parameters, dataset)
    cache.put(run_id, parameters.step, scores)
    return scores


def score_parameters(config: RunConfig, parameters: Parameters, dataset: Dataset) -> Scores:
    trainer = Trainer(config.training_config(), dataset)
    trainer.network.weights = parameters.weights
    trainer.network.biases = parameters.biases
    return scores(trainer.network, trainer.data)
