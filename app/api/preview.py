"""A data set's points before any run exists, so the form can draw them as its sliders move."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from pydantic import ValidationError

from app.api.deps import AppSettings
from app.api.responses import big_json, dataset_content
from app.api.schemas.responses import DatasetOut
from app.nn.datasets import make_dataset
from app.nn.expr import ExpressionError
from app.runs.config import DatasetConfig, RunConfig
from app.runs.errors import InvalidRequest, LimitExceeded
from app.runs.limits import check_config

router = APIRouter(prefix="/api/datasets", tags=["datasets"])


def preview_config(data: DatasetConfig) -> RunConfig:
    """The smallest run config that holds `data`: the run's own checks then apply to it as is.

    The student's shape is the one the data set fixes (a teacher's ends; else one input per
    feature or raw coordinate, and one output, or K for K > 2 classes), so a preview is refused
    exactly when a run of it would be.
    """
    if data.kind == "teacher":
        teacher = data.layers or [2, 3, 1]
        shape = [teacher[0], teacher[-1]]
    else:
        inputs = len(data.features) if data.features else data.dimensions or 2
        shape = [inputs, data.classes if data.classes > 2 else 1]
    try:
        return RunConfig(layers=shape, dataset=data.model_copy())
    except ValidationError as exc:
        # A check across the data set's own fields (x_min below x_max): its message names them.
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        field = message.split(":", 1)[0]
        raise InvalidRequest(
            message.replace("dataset.", ""), field.removeprefix("dataset.")
        ) from exc


@router.post("/preview", response_model=DatasetOut)
async def preview_dataset(data: DatasetConfig, settings: AppSettings) -> Response:
    """The training and test points `data` makes (as `GET /api/runs/{id}/dataset` would give).

    Held to the same limits as a run's data set (`max_samples`, and `max_parameters` for a
    teacher), each refused with a 422 naming the field and the setting.
    """
    config = preview_config(data)
    try:
        check_config(config, settings)
    except LimitExceeded as exc:
        # The body is the data set itself, so its fields are named without the "dataset." prefix.
        field = (exc.field or "body").removeprefix("dataset.")
        raise LimitExceeded(exc.detail, field) from exc
    try:
        dataset = await asyncio.to_thread(make_dataset, config.dataset_spec())
    except ExpressionError as error:  # the `function` kind's expression
        raise InvalidRequest(str(error), "expr") from None
    except ValueError as error:
        raise InvalidRequest(str(error), "body") from None
    return await big_json(dataset_content(dataset))
