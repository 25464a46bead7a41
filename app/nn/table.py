"""A table of named columns read from CSV: what people upload as their own data set.

Rules, each refusal naming the row and column at fault (rows count from 1 at the header):
- the first row is the header: non-empty names, no name twice;
- every row has as many cells as the header; blank lines are refused too (a ragged file);
- a column is numeric when its first value is a number, else a text column (class labels);
  a numeric column holds only finite numbers (no text, NaN or infinity), and no cell is empty;
- at most `max_rows` data rows and `max_columns` columns (limits that name their setting).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from app.nn.activations import Array

ColumnKind = Literal["number", "text"]


class TableError(ValueError):
    """What is wrong with a file, and where: `row` counts from 1 at the header."""

    def __init__(
        self,
        message: str,
        row: int | None = None,
        column: str | None = None,
        limit: str | None = None,
    ) -> None:
        where = ", ".join(
            part
            for part in (
                f"row {row}" if row is not None else "",
                f"column {column!r}" if column is not None else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.row = row
        self.column = column
        self.limit = limit  # "max_rows" or "max_columns" when a limit was passed


@dataclass(frozen=True)
class Table:
    """Columns by name: numbers as float64, text as strings; `names` in file order."""

    names: tuple[str, ...]
    kinds: tuple[ColumnKind, ...]
    numbers: dict[str, Array]
    texts: dict[str, tuple[str, ...]]
    rows: int

    def column(self, name: str) -> Array | tuple[str, ...]:
        if name in self.numbers:
            return self.numbers[name]
        if name in self.texts:
            return self.texts[name]
        raise KeyError(name)


@dataclass(frozen=True)
class TableLimits:
    max_rows: int
    max_columns: int


def parse_csv(data: bytes, limits: TableLimits) -> Table:
    """The table in `data` (UTF-8 CSV with a header row); TableError says what is wrong."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise TableError(f"not UTF-8 text (byte {error.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise TableError("the file is empty: it needs a header row and data rows")
        names = _header(header, limits)
        columns: list[list[str]] = [[] for _ in names]
        for row_number, row in enumerate(reader, start=2):
            if row_number - 1 > limits.max_rows:
                raise TableError(
                    f"more than {limits.max_rows} data rows", row_number, limit="max_rows"
                )
            if len(row) != len(names):
                raise TableError(
                    f"{len(row)} cells where the header has {len(names)} (a ragged row)",
                    row_number,
                )
            for cells, cell in zip(columns, row, strict=True):
                cells.append(cell)
    except csv.Error as error:
        raise TableError(f"not valid CSV: {error}", reader.line_num) from None
    if not columns[0]:
        raise TableError("no data rows after the header", 2)
    return _typed(names, columns)


def _header(header: list[str], limits: TableLimits) -> tuple[str, ...]:
    names = tuple(name.strip() for name in header)
    if len(names) > limits.max_columns:
        raise TableError(
            f"{len(names)} columns, more than {limits.max_columns}", 1, limit="max_columns"
        )
    seen: set[str] = set()
    for index, name in enumerate(names, start=1):
        if not name:
            raise TableError(f"column {index} has no name", 1)
        if name in seen:
            raise TableError("this name appears twice in the header", 1, name)
        seen.add(name)
    return names


def _typed(names: tuple[str, ...], columns: list[list[str]]) -> Table:
    numbers: dict[str, Array] = {}
    texts: dict[str, tuple[str, ...]] = {}
    kinds: list[ColumnKind] = []
    for name, cells in zip(names, columns, strict=True):
        for row, cell in enumerate(cells, start=2):
            if not cell.strip():
                raise TableError("empty cell", row, name)
        if _number(cells[0]) is None:
            kinds.append("text")
            texts[name] = tuple(cell.strip() for cell in cells)
            continue
        values = np.empty(len(cells))
        for row, cell in enumerate(cells, start=2):
            value = _number(cell)
            if value is None:
                raise TableError(
                    f"{_shown(cell)} is not a number (the column is numeric from its first row)",
                    row,
                    name,
                )
            if not math.isfinite(value):
                raise TableError(f"{_shown(cell)} is not a finite number", row, name)
            values[row - 2] = value
        kinds.append("number")
        numbers[name] = values
    return Table(names, tuple(kinds), numbers, texts, len(columns[0]))


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _shown(cell: str) -> str:
    """The cell, short enough for a message."""
    return repr(cell if len(cell) <= 40 else cell[:37] + "...")
