"""Limits a run config must respect; each refusal names the limit and the setting behind it."""

from __future__ import annotations

from app.nn.activations import Array
from app.runs.config import RunConfig
from app.runs.errors import InvalidRequest, LimitExceeded
from app.settings import Settings
from app.store.models import WeightEdit


def over_limit(what: str, value: int | float, field: str, settings: Settings) -> str:
    limit = getattr(settings, field)
    return f"{what} {value} is above the limit {field}={limit} (setting {settings.env_name(field)})"


def check_config(config: RunConfig, settings: Settings) -> None:
    """Raise LimitExceeded (422) for the first limit `config` goes past."""
    layers = config.layers
    if len(layers) > settings.max_layers:
        raise LimitExceeded(
            over_limit("layer count", len(layers), "max_layers", settings), "layers"
        )
    if max(layers) > settings.max_neurons:
        raise LimitExceeded(
            over_limit("neurons in a layer", max(layers), "max_neurons", settings), "layers"
        )
    teacher = config.dataset.layers or []
    if len(teacher) > settings.max_layers or max(teacher, default=0) > settings.max_neurons:
        raise LimitExceeded(
            f"the teacher {teacher} is above the limits max_layers="
            f"{settings.max_layers} or max_neurons={settings.max_neurons}",
            "dataset.layers",
        )
    if config.parameter_count > settings.max_parameters:
        count = config.parameter_count
        raise LimitExceeded(
            over_limit("parameter count", count, "max_parameters", settings), "layers"
        )
    # A teacher of 10 layers of 2048 neurons fits the layer limits but is 38M weights and a
    # teraflop to label the samples: it is held to the student's parameter limit.
    if config.teacher_parameter_count > settings.max_parameters:
        count = config.teacher_parameter_count
        raise LimitExceeded(
            over_limit("teacher parameter count", count, "max_parameters", settings),
            "dataset.layers",
        )
    if config.dataset.samples > settings.max_samples:
        samples = config.dataset.samples
        raise LimitExceeded(
            over_limit("samples", samples, "max_samples", settings), "dataset.samples"
        )
    if config.dataset.kind == "function":
        check_x_range(config.dataset.x_min, config.dataset.x_max, settings)


def check_x_range(x_min: float, x_max: float, settings: Settings) -> None:
    """|x_min| and |x_max| within max_dataset_x: past it the range's width can overflow."""
    for name, value in (("x_min", x_min), ("x_max", x_max)):
        if abs(value) > settings.max_dataset_x:
            limit = settings.max_dataset_x
            raise LimitExceeded(
                f"|dataset.{name}| {abs(value):g} is above the limit max_dataset_x={limit:g} "
                f"(setting {settings.env_name('max_dataset_x')})",
                f"dataset.{name}",
            )


def check_step_count(count: int, settings: Settings) -> None:
    if count > settings.max_step_count:
        raise LimitExceeded(over_limit("count", count, "max_step_count", settings), "count")


def check_memory(estimate: int, field: str, settings: Settings, status_code: int = 422) -> None:
    """Refuse what would need more memory than the `field` setting allows (app/runs/memory.py
    says how it is estimated)."""
    limit = getattr(settings, field)
    if estimate > limit:
        raise LimitExceeded(
            f"estimated memory {estimate / 2**20:,.0f} MiB is above the limit {field}="
            f"{limit} bytes (setting {settings.env_name(field)}); a smaller network, fewer "
            "samples or a smaller batch need less",
            "layers",
            status_code=status_code,
        )


def check_edit(edit: WeightEdit, weights: list[Array], use_bias: bool) -> None:
    """A weight or bias set by hand must exist: InvalidRequest naming the index at fault."""
    if not 0 <= edit.layer < len(weights):
        raise InvalidRequest(
            f"layer {edit.layer} does not exist: the network has weight layers 0 to "
            f"{len(weights) - 1}",
            "layer",
        )
    inputs, outputs = weights[edit.layer].shape
    if not 0 <= edit.to_neuron < outputs:
        raise InvalidRequest(
            f"to {edit.to_neuron} does not exist: layer {edit.layer} leads to neurons 0 to "
            f"{outputs - 1}",
            "to",
        )
    if edit.from_neuron is None:
        if not use_bias:
            raise InvalidRequest("this network has no biases (its config says bias: false)", "bias")
    elif not 0 <= edit.from_neuron < inputs:
        raise InvalidRequest(
            f"from {edit.from_neuron} does not exist: layer {edit.layer} comes from neurons 0 "
            f"to {inputs - 1}",
            "from",
        )
