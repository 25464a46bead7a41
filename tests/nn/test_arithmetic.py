"""The name of this process's arithmetic, which runs record."""

from __future__ import annotations

import numpy as np
import pytest

from app.nn.arithmetic import ENGINE_VERSION, current_arithmetic


def test_it_names_the_engine_numpy_its_cpu_features_and_blas() -> None:
    config = np.show_config(mode="dicts")
    blas = config["Build Dependencies"]["blas"]
    features = " ".join(config["SIMD Extensions"]["found"])
    assert current_arithmetic() == (
        f"engine {ENGINE_VERSION}; numpy {np.__version__} ({features}); "
        f"{blas['name']} {blas['version']}"
    )


def test_an_openblas_core_type_forced_from_outside_is_part_of_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    plain = current_arithmetic()
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    assert current_arithmetic() == plain + "; OPENBLAS_CORETYPE=Haswell"
