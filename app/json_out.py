"""JSON as this app writes it: orjson with numpy arrays, and never a bare NaN or Infinity."""

from __future__ import annotations

import math
from typing import Any

import orjson

_NUMPY = orjson.OPT_SERIALIZE_NUMPY


def dumps(value: Any) -> bytes:
    """orjson with numpy arrays; NaN and ±Infinity become null, never bare tokens."""
    return orjson.dumps(value, option=_NUMPY)


def finite_or_none(value: float | None) -> float | None:
    """`value`, or None when it is missing, NaN or infinite (JSON null, SQL NULL)."""
    return None if value is None or not math.isfinite(value) else value
