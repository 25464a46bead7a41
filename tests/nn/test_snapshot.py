"""Snapshot bytes: exact round trips in both dtypes, the npz of earlier versions, bad bytes."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from app.nn import snapshot
from app.nn.datasets import DatasetSpec, make_dataset
from app.nn.trainer import Trainer, TrainerState, TrainingConfig

DATA = make_dataset(DatasetSpec(kind="teacher", layers=(3, 2, 2), samples=60, seed=3))
CONFIG = TrainingConfig(
    layers=(3, 5, 2), activations=("tanh", "sigmoid"), learning_rate=0.3, seed=9
)


def trained_state(config: TrainingConfig, updates: int = 3) -> TrainerState:
    trainer = Trainer(config, DATA)
    for _ in range(updates):
        trainer.update()
    return trainer.state()


def all_arrays(state: TrainerState) -> list[np.ndarray]:
    return [*state.weights, *state.biases, *state.weight_velocity, *state.bias_velocity]


def assert_same_state(first: TrainerState, second: TrainerState) -> None:
    assert (first.step, first.learning_rate) == (second.step, second.learning_rate)
    assert [len(first.weights), len(first.biases)] == [len(second.weights), len(second.biases)]
    assert len(first.weight_velocity) == len(second.weight_velocity)
    for a, b in zip(all_arrays(first), all_arrays(second), strict=True):
        assert (a.dtype, a.shape) == (b.dtype, b.shape)
        np.testing.assert_array_equal(a, b)  # bit for bit


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_a_state_round_trips_exactly(dtype: str, bias: bool, momentum: float) -> None:
    state = trained_state(replace(CONFIG, dtype=dtype, bias=bias, momentum=momentum))
    blob = state.to_bytes()
    assert blob.startswith(snapshot.MAGIC)
    copy = TrainerState.from_bytes(blob)
    assert_same_state(state, copy)
    assert len(copy.weight_velocity) == (2 if momentum else 0)
    assert all(a.flags.writeable and a.flags.owndata for a in all_arrays(copy))


def test_a_restored_state_trains_on_exactly_like_the_original() -> None:
    config = replace(CONFIG, momentum=0.5, batch_size=20)
    original = Trainer(config, DATA)
    for _ in range(4):
        original.update()
    resumed = Trainer(config, DATA)
    resumed.restore(TrainerState.from_bytes(original.state().to_bytes()))
    for _ in range(5):
        original.update()
        resumed.update()
    for a, b in zip(original.network.weights, resumed.network.weights, strict=True):
        np.testing.assert_array_equal(a, b)


def earlier_versions_npz(state: TrainerState) -> bytes:
    """The bytes that versions before the raw layout stored for `state`."""
    arrays: dict[str, object] = {f"w{i}": w for i, w in enumerate(state.weights)}
    arrays |= {f"b{i}": b for i, b in enumerate(state.biases)}
    arrays |= {f"vw{i}": v for i, v in enumerate(state.weight_velocity)}
    arrays |= {f"vb{i}": v for i, v in enumerate(state.bias_velocity)}
    arrays |= {"step": state.step, "learning_rate": state.learning_rate}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_snapshots_stored_by_earlier_versions_still_load(momentum: float) -> None:
    state = trained_state(replace(CONFIG, momentum=momentum))
    assert_same_state(state, TrainerState.from_bytes(earlier_versions_npz(state)))


def test_a_large_state_is_smaller_than_its_npz_and_exact() -> None:
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=(784, 128)).astype(np.float32)]
    state = TrainerState(step=7, learning_rate=0.01, weights=weights, biases=[])
    blob = state.to_bytes()
    assert len(blob) < len(earlier_versions_npz(state))
    assert len(blob) - weights[0].nbytes < 200  # the header and padding only
    assert_same_state(state, TrainerState.from_bytes(blob))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda blob: b"XXXX" + blob[4:], "unknown leading bytes"),
        (lambda blob: blob + b"\0" * 8, "8 bytes past its arrays"),
        (lambda blob: blob[:-1], "ends before its arrays do"),
        (lambda blob: blob[:6], "header unreadable"),
        (lambda blob: blob[:20], "header unreadable"),
        (lambda blob: blob.replace(b'"step"', b'"stop"'), "header unreadable"),
        (lambda blob: blob.replace(b'"<f8"', b'"|O8"'), "dtype object"),
        (lambda blob: blob[:8] + b"[" + blob[9:], "header unreadable"),
    ],
)
def test_damaged_bytes_are_refused_with_a_reason(
    damage: Callable[[bytes], bytes], message: str
) -> None:
    blob = trained_state(CONFIG).to_bytes()
    with pytest.raises(snapshot.SnapshotFormatError, match=message):
        TrainerState.from_bytes(damage(blob))


def test_numpy_scalars_for_step_and_rate_are_written_as_plain_numbers() -> None:
    state = trained_state(CONFIG)
    # Off the annotated contract, but what a caller holding numpy's scalars would pass.
    step, rate = np.int64(4), np.float32(0.25)
    blob = snapshot.encode(step, rate, {"w": state.weights})  # type: ignore[arg-type]
    assert snapshot.decode(blob)[:2] == (4, 0.25)
