"""Answers about uploaded data sets."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ColumnOut(BaseModel):
    name: str
    kind: Literal["number", "text"] = Field(
        description="number: finite numbers only; text: class labels"
    )
    distinct: int = Field(description="how many different values it holds (classes, if labels)")


class DatasetInfoOut(BaseModel):
    id: str = Field(description="what a run names as dataset.id, with kind csv")
    columns: list[ColumnOut] = Field(description="in file order")
    rows: int = Field(description="data rows, the header not counted")
