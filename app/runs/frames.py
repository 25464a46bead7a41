"""Stream frames, serialised once however many viewers see them.

An update frame is built by the process that trains the run, right after the update. Its big
part (weights, biases, deltas, gradients) is serialised there once per encoding in use; what
differs per viewer is only `losses` (every loss since that viewer's previous frame), which the
server splices onto the pre-serialised bytes. Viewers whose previous frame was the same share
the whole message.

Every update frame also says `learning_rate`, the rate that made that update (it may differ
from the run's current rate after a PATCH). A `settings` frame tells viewers that a PATCH
changed the rate or the speed: `{"type": "settings", "learning_rate", "speed", "step"}`, where
`step` is the step the run had reached then (the `state` frame carries both in its `run`).

Binary encoding: uint32 little-endian header length H, H bytes of UTF-8 JSON header (the
update frame without its arrays, plus "arrays": [[field, layer, shape], ...] in payload order),
zero bytes up to a multiple of 4, then the arrays as float32 little-endian, row-major, one
after another in "arrays" order.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np
import orjson

from app.json_out import dumps, finite_or_none
from app.nn.activations import Array
from app.runs.recent_history import RecentHistory

Encoding = Literal["json", "binary"]
ENCODINGS: tuple[Encoding, ...] = ("json", "binary")
ARRAY_FIELDS = ("weights", "biases", "deltas", "gradients")


def arrays_json(arrays: Iterable[Array]) -> list[Array]:
    # orjson serialises only C-contiguous arrays of native dtypes; copies already are.
    return [np.ascontiguousarray(a) for a in arrays]


class FrameParts(NamedTuple):
    """An update frame as its training process builds it: serialised once, sent as bytes."""

    step: int
    live: bool
    json_head: bytes | None  # the JSON message up to `"losses":`, if JSON is in use
    binary_head: bytes | None  # the binary header up to `"losses":`, if binary is in use
    payload: bytes | None  # the binary encoding's float32 arrays


def build_frame(
    step: int,
    loss: float | None,
    test_loss: float | None,
    learning_rate: float | None,
    live: bool,
    arrays: dict[str, list[Array]],
    encodings: Iterable[str],
    data_loss: float | None = None,
) -> FrameParts:
    """Serialise an update frame for each encoding in use, from the trainer's arrays.

    learning_rate: the rate that made this update (None at step 0). data_loss: a regularized
    run's train loss without the penalty (`loss` is the total, what training minimises).
    """
    head = {
        "type": "update",
        "step": step,
        "loss": finite_or_none(loss),
        "data_loss": finite_or_none(data_loss),
        "test_loss": finite_or_none(test_loss),
        "learning_rate": finite_or_none(learning_rate),
        "time": time.time(),
    }
    json_head = binary_head = payload = None
    if "json" in encodings:
        json_head = _open_head(head | {f: arrays_json(a) for f, a in arrays.items()})
    if "binary" in encodings:
        spec, parts = [], []
        for name in ARRAY_FIELDS:
            for layer, array in enumerate(arrays.get(name, [])):
                spec.append([name, layer, list(array.shape)])
                parts.append(np.ascontiguousarray(array, dtype="<f4").tobytes())
        binary_head, payload = _open_head(head | {"arrays": spec}), b"".join(parts)
    return FrameParts(step, live, json_head, binary_head, payload)


def _open_head(frame: dict[str, Any]) -> bytes:
    # Drop the closing brace so each viewer's `losses` can be appended.
    return dumps(frame)[:-1] + b',"losses":'


@dataclass(frozen=True, eq=False)
class UpdateFrame:
    """One update as viewers see it; `live` frames (free training) are newest-wins.

    Immutable: everything it says was fixed by the process that made the update. Messages
    built for viewers are cached on it (one per encoding and previous step).
    """

    parts: FrameParts
    _messages: dict[tuple[str, int], str | bytes] = field(default_factory=dict)

    kind = "update"

    @property
    def step(self) -> int:
        return self.parts.step

    @property
    def live(self) -> bool:
        return self.parts.live

    @property
    def nbytes(self) -> int:
        parts = (self.parts.json_head, self.parts.binary_head, self.parts.payload)
        return sum(len(part) for part in parts if part is not None)

    def message(self, encoding: str, recent: RecentHistory, since: int) -> str | bytes | None:
        """The frame for a viewer whose previous frame was at step `since`; None if it was
        not built in `encoding` (the viewer switched since: its next frame will be)."""
        key = (encoding, since)
        cached = self._messages.get(key)
        if cached is not None:
            return cached
        tail = dumps(recent.pairs(since + 1, self.step)) + b"}"
        parts = self.parts
        message: str | bytes
        if encoding == "binary" and parts.binary_head is not None and parts.payload is not None:
            header = parts.binary_head + tail
            padding = b"\0" * (-(4 + len(header)) % 4)
            message = struct.pack("<I", len(header)) + header + padding + parts.payload
        elif encoding == "json" and parts.json_head is not None:
            message = (parts.json_head + tail).decode()
        else:
            return None
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


@dataclass
class EditFrame:
    """A weight (or bias, `from_neuron` None) was set by hand on the paused run at `step`;
    always JSON text, never dropped."""

    step: int
    layer: int
    to_neuron: int
    from_neuron: int | None
    value: float
    loss: float | None  # the run's loss with the new weight
    live: bool = False
    kind = "edit"

    def text(self) -> str:
        frame = {"type": "edit", "step": self.step, "layer": self.layer}
        frame |= {"from": self.from_neuron, "to": self.to_neuron, "bias": self.from_neuron is None}
        return dumps(frame | {"value": self.value, "loss": finite_or_none(self.loss)}).decode()


Frame = UpdateFrame | StatusFrame | SettingsFrame | EditFrame


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
