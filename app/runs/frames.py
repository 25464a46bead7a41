"""Stream frames, serialised once however many viewers see them.

An update frame is built by the training thread from copies of the arrays. Its big part
(weights, biases, deltas, gradients) is serialised once per encoding in use; what differs per
viewer is only `losses` (every loss since that viewer's previous frame), which is spliced onto
the pre-serialised bytes. Viewers whose previous frame was the same share the whole message.

Every update frame also says `learning_rate`, the rate that made that update (stamped by the
stream as it sends the frame, from the run's recorded rate changes; it may differ from the
run's current rate after a PATCH). A `settings` frame tells viewers that a PATCH changed the
rate or the speed: `{"type": "settings", "learning_rate", "speed", "step"}`, where `step` is
the step the run had reached then (the `state` frame carries both in its `run`).

Binary encoding: uint32 little-endian header length H, H bytes of UTF-8 JSON header (the
update frame without its arrays, plus "arrays": [[field, layer, shape], ...] in payload order),
zero bytes up to a multiple of 4, then the arrays as float32 little-endian, row-major, one
after another in "arrays" order.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import orjson

from app.nn.activations import Array
from app.runs.losslog import LossLog

Encoding = Literal["json", "binary"]
ENCODINGS: tuple[Encoding, ...] = ("json", "binary")
ARRAY_FIELDS = ("weights", "biases", "deltas", "gradients")
_NUMPY = orjson.OPT_SERIALIZE_NUMPY


def dumps(value: Any) -> bytes:
    """orjson with numpy arrays; NaN and ±Infinity become null, never bare tokens."""
    return orjson.dumps(value, option=_NUMPY)


def finite_or_none(value: float | None) -> float | None:
    return None if value is None or value != value or value in (np.inf, -np.inf) else value


def arrays_json(arrays: Iterable[Array]) -> list[Array]:
    # orjson serialises only C-contiguous arrays of native dtypes; copies already are.
    return [np.ascontiguousarray(a) for a in arrays]


@dataclass
class UpdateFrame:
    """One update as viewers see it; `live` frames (free training) are newest-wins."""

    step: int
    loss: float | None
    test_loss: float | None
    arrays: dict[str, list[Array]]  # field -> one array per layer
    live: bool
    time: float = 0.0  # wall clock (Unix seconds) when built, right after its update
    # The rate of this update; set (once) before the first message, see `message`.
    learning_rate: float | None = None
    _json_head: bytes | None = None
    _binary_head: bytes | None = None
    _payload: bytes | None = None
    _messages: dict[tuple[str, int], str | bytes] = field(default_factory=dict)

    kind = "update"

    def prepare(self, encodings: Iterable[str]) -> None:
        """Serialise the shared part for each encoding in use (called by the training thread)."""
        for encoding in encodings:
            if encoding == "json" and self._json_head is None:
                self._json_head = self._head({f: arrays_json(a) for f, a in self.arrays.items()})
            elif encoding == "binary" and self._payload is None:
                self._prepare_binary()

    def _head(self, extra: dict[str, Any]) -> bytes:
        frame = {"type": "update", "step": self.step, "loss": self.loss}
        frame |= {"test_loss": self.test_loss, "time": self.time, **extra}
        # Drop the closing brace so each viewer's `losses` can be appended.
        return dumps(frame)[:-1] + b',"losses":'

    def _prepare_binary(self) -> None:
        spec = []
        parts = []
        for name in ARRAY_FIELDS:
            for layer, array in enumerate(self.arrays.get(name, [])):
                spec.append([name, layer, list(array.shape)])
                parts.append(np.ascontiguousarray(array, dtype="<f4").tobytes())
        self._binary_head = self._head({"arrays": spec})
        self._payload = b"".join(parts)

    def message(self, encoding: str, log: LossLog, since: int) -> str | bytes:
        """The frame for a viewer whose previous frame was at step `since`.

        `losses` and `learning_rate` end the message, after the pre-serialised head: every
        viewer gets the same rate (it is the one that made this update), so the cache holds.
        """
        key = (encoding, since)
        cached = self._messages.get(key)
        if cached is not None:
            return cached
        self.prepare([encoding])
        tail = dumps(log.pairs(since + 1, self.step))
        if self.learning_rate is not None:
            tail += b',"learning_rate":' + dumps(finite_or_none(self.learning_rate))
        message: str | bytes
        if encoding == "binary":
            assert self._binary_head is not None and self._payload is not None
            header = self._binary_head + tail + b"}"
            padding = b"\0" * (-(4 + len(header)) % 4)
            message = struct.pack("<I", len(header)) + header + padding + self._payload
        else:
            assert self._json_head is not None
            message = (self._json_head + tail + b"}").decode()
        self._messages[key] = message
        return message


@dataclass
class StatusFrame:
    """A change of status; always JSON text, never dropped."""

    status: str
    step: int
    message: str | None
    live: bool = False
    kind = "status"

    def text(self) -> str:
        frame = {"type": "status", "status": self.status, "step": self.step}
        return dumps(frame | {"message": self.message}).decode()


@dataclass
class SettingsFrame:
    """A PATCH changed the learning rate and/or the speed; always JSON text.

    `step` is the step the run had reached when the change was made: an idle run's next update
    uses the new rate; a training run takes it up from the update after the one in progress
    (each update frame says the rate that made it). A newer settings frame replaces one not yet
    sent (each carries both settings whole), and neither displaces update or status frames.
    """

    learning_rate: float
    speed: float | None
    step: int
    live: bool = False
    kind = "settings"

    def text(self) -> str:
        frame = {"type": "settings", "learning_rate": self.learning_rate, "speed": self.speed}
        return dumps(frame | {"step": self.step}).decode()


Frame = UpdateFrame | StatusFrame | SettingsFrame


def decode_binary(message: bytes) -> dict[str, Any]:
    """The inverse of the binary encoding (for tests, benchmarks and Python clients)."""
    (length,) = struct.unpack_from("<I", message)
    header: dict[str, Any] = orjson.loads(message[4 : 4 + length])
    offset = 4 + length + (-(4 + length) % 4)
    for name, layer, shape in header.pop("arrays"):
        count = int(np.prod(shape))
        array = np.frombuffer(message, dtype="<f4", count=count, offset=offset).reshape(shape)
        header.setdefault(name, []).append(array)
        offset += 4 * count
        assert layer == len(header[name]) - 1
    return header
