"""A run's scores now (app/nn/metrics.py), from its current weights and its data set.

Computed in a thread from `manager.parameters()` and `manager.dataset()`: a forward pass over
both splits, the cost of one full-batch update's first half.
"""

from __future__ import annotations

import asyncio

from app.nn.datasets import Dataset
from app.nn.metrics import Scores, scores
from app.nn.trainer import Trainer
from app.runs.config import RunConfig
from app.runs.errors import RunError
from app.runs.manager import RunManager
from app.runs.run import Parameters


async def run_scores(manager: RunManager, run_id: str) -> Scores | None:
    """The run's scores at its current step; None when its weights cannot be had now."""
    config = manager.get(run_id).config
    try:
        parameters = await manager.parameters(run_id)
        dataset = await manager.dataset(run_id)
    except RunError:
        return None
    return await asyncio.to_thread(score_parameters, config, parameters, dataset)


def score_parameters(config: RunConfig, parameters: Parameters, dataset: Dataset) -> Scores:
    trainer = Trainer(config.training_config(), dataset)
    trainer.network.weights = parameters.weights
    trainer.network.biases = parameters.biases
    return scores(trainer.network, trainer.data)
