"""Own data: upload a CSV table (POST /api/datasets) that runs then name as `kind: "csv"`."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from fastapi import APIRouter, Request, status

from app.api.deps import AppSettings
from app.api.responses import OrjsonResponse
from app.api.schemas.datasets import ColumnOut, DatasetInfoOut
from app.api.schemas.responses import ErrorOut
from app.nn.table import Table, TableError, TableLimits, parse_csv
from app.settings import Settings
from app.store.datasets import DatasetNotFound, load_table, store_table

router = APIRouter(prefix="/api/datasets", tags=["datasets"])

CSV_TYPES = ("text/csv", "application/csv", "application/octet-stream")
LIMIT_SETTINGS = {"max_rows": "max_csv_rows", "max_columns": "max_csv_columns"}
UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorOut, "description": "the file is above max_csv_bytes"},
    415: {"model": ErrorOut, "description": "the body is not text/csv"},
    422: {"description": "what is wrong with the file, naming its row and column"},
}


def info(table_id: str, table: Table) -> DatasetInfoOut:
    columns = [
        ColumnOut(name=name, kind=kind, distinct=len(np.unique(np.asarray(table.column(name)))))
        for name, kind in zip(table.names, table.kinds, strict=True)
    ]
    return DatasetInfoOut(id=table_id, columns=columns, rows=table.rows)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=UPLOAD_ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            # text/csv is what the page and curl send; generated clients (which cannot send a
            # text/csv body) send the same bytes as application/octet-stream.
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def upload_dataset(request: Request, settings: AppSettings) -> Any:
    """Store a CSV file sent as the body (`content-type: text/csv`, or
    `application/octet-stream`): a header row, then rows of numbers; a column whose first value
    is not a number holds class labels (text).

    Refused files get a 422 naming the row (1 is the header) and the column at fault, and
    nothing of them is stored. The same file uploaded twice has the same id.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in CSV_TYPES:
        detail = (
            f"send the file as the body with content-type text/csv (or "
            f"application/octet-stream), not {kind or 'none'!r}"
        )
        return OrjsonResponse({"detail": detail}, status_code=415)
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > settings.max_csv_bytes:
            limit = settings.max_csv_bytes
            env = settings.env_name("max_csv_bytes")
            detail = f"file too large: above the limit max_csv_bytes={limit} bytes (setting {env})"
            return OrjsonResponse({"detail": detail}, status_code=413)
    try:
        table, table_id = await asyncio.to_thread(_parse_and_store, bytes(data), settings)
    except TableError as error:
        return OrjsonResponse({"detail": [_table_error(error, settings)]}, status_code=422)
    return OrjsonResponse(info(table_id, table).model_dump(), status_code=201)


@router.get("/{dataset_id}", responses={404: {"model": ErrorOut}})
async def get_dataset_info(dataset_id: str, settings: AppSettings) -> DatasetInfoOut:
    """An uploaded data set's columns (name and kind, "number" or "text") and row count."""
    try:
        table = await asyncio.to_thread(load_table, settings.db_path, dataset_id)
    except DatasetNotFound:
        return OrjsonResponse(  # type: ignore[return-value]
            {"detail": f"no data set with id {dataset_id!r}"}, status_code=404
        )
    return info(dataset_id, table)


def _parse_and_store(data: bytes, settings: Settings) -> tuple[Table, str]:
    limits = TableLimits(max_rows=settings.max_csv_rows, max_columns=settings.max_csv_columns)
    table = parse_csv(data, limits)
    return table, store_table(settings.db_path, table)


def _above(settings: Settings, setting: str) -> str:
    limit = getattr(settings, setting)
    return f"above the limit {setting}={limit} (setting {settings.env_name(setting)})"


def _table_error(error: TableError, settings: Settings) -> dict[str, Any]:
    message = str(error)
    if error.limit is not None:
        setting = LIMIT_SETTINGS[error.limit]
        what = "data rows" if error.limit == "max_rows" else "columns"
        message = f"row {error.row}: more {what} than allowed: {_above(settings, setting)}"
    return {
        "loc": ["body"],
        "field": "body",
        "type": "value_error",
        "msg": message,
        "row": error.row,
        "column": error.column,
    }
