"""The bytes of a training snapshot: a small JSON header, then the arrays' raw bytes.

A run stores a snapshot after each of its first hundred updates and then on a thinning
schedule, in its worker process, so writing one must cost a few updates at most. numpy's
npz (a zip archive of .npy files) took ~220 µs for a 2-4-4-1 network, three of its updates;
this layout takes a few µs and is as exact (the arrays' own bytes, in their own dtype).

    MAGIC (4 bytes) | header length (u32, little-endian) | header (UTF-8 JSON) | padding to 8 |
    the arrays' bytes, C order, one after another in the order the header lists them

The header holds the step, the learning rate, the dtype and, per named series, the shape of
each array. Snapshots written as npz by earlier versions still load.
"""

from __future__ import annotations

import io
import json
import math
import struct

import numpy as np

from app.nn.activations import Array

MAGIC = b"BPS1"
_LENGTH = struct.Struct("<I")
_ALIGN = 8
NPZ_MAGIC = b"PK"  # a zip archive: what earlier versions stored


class SnapshotFormatError(ValueError):
    """The bytes are not a snapshot this version can read."""


def encode(step: int, learning_rate: float, series: dict[str, list[Array]]) -> bytes:
    """Snapshot bytes for `series` (name → arrays), all of one dtype."""
    arrays = [array for arrays in series.values() for array in arrays]
    dtype = arrays[0].dtype.str if arrays else "<f8"
    header = {
        "step": int(step),  # plain numbers: json cannot write numpy's scalars
        "learning_rate": float(learning_rate),
        "dtype": dtype,
        "shapes": {name: [list(a.shape) for a in arrays] for name, arrays in series.items()},
    }
    head = json.dumps(header, separators=(",", ":")).encode()
    padding = b"\0" * (-(len(MAGIC) + _LENGTH.size + len(head)) % _ALIGN)
    body = [np.ascontiguousarray(array, dtype=dtype).tobytes() for array in arrays]
    return b"".join([MAGIC, _LENGTH.pack(len(head)), head, padding, *body])


def decode(blob: bytes) -> tuple[int, float, dict[str, list[Array]]]:
    """(step, learning_rate, series) from `encode`'s bytes, or an earlier version's npz."""
    if blob.startswith(NPZ_MAGIC):
        return _decode_npz(blob)
    if not blob.startswith(MAGIC):
        raise SnapshotFormatError("not a snapshot: unknown leading bytes")
    start = len(MAGIC) + _LENGTH.size
    try:
        (length,) = _LENGTH.unpack_from(blob, len(MAGIC))
        header = json.loads(blob[start : start + length])
        step, rate = int(header["step"]), float(header["learning_rate"])
        dtype, shapes = np.dtype(header["dtype"]), dict(header["shapes"])
    except (struct.error, ValueError, KeyError, TypeError) as error:
        # json's errors are ValueErrors; a header that is not a dict raises TypeError.
        raise SnapshotFormatError(f"snapshot header unreadable: {error!r}") from error
    if dtype.kind != "f":
        raise SnapshotFormatError(f"snapshot arrays of dtype {dtype} (floats expected)")
    offset = start + length
    offset += -offset % _ALIGN
    series: dict[str, list[Array]] = {}
    for name, arrays in shapes.items():
        series[name] = []
        for shape in arrays:
            count = math.prod(shape)
            if offset + count * dtype.itemsize > len(blob):
                raise SnapshotFormatError("snapshot ends before its arrays do")
            # A copy: the arrays must be writable and must not keep the blob alive.
            array = np.frombuffer(blob, dtype, count, offset).reshape(shape).copy()
            series[name].append(array)
            offset += count * dtype.itemsize
    if offset != len(blob):
        raise SnapshotFormatError(f"snapshot has {len(blob) - offset} bytes past its arrays")
    return step, rate, series


def _decode_npz(blob: bytes) -> tuple[int, float, dict[str, list[Array]]]:
    """Earlier versions: np.savez with arrays w0.., b0.., vw0.., vb0.., step, learning_rate."""
    with np.load(io.BytesIO(blob), allow_pickle=False) as saved:
        series: dict[str, list[Array]] = {}
        for prefix in ("w", "b", "vw", "vb"):
            count = sum(1 for name in saved.files if name.rstrip("0123456789") == prefix)
            series[prefix] = [saved[f"{prefix}{i}"] for i in range(count)]
        return int(saved["step"]), float(saved["learning_rate"]), series
