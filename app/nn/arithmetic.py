"""Which arithmetic computes the engine's numbers, named so that a run can record it.

Training is repeatable bit for bit only under the same arithmetic: the same engine code, the
same numpy, the same BLAS, and the same CPU features (numpy's elementwise loops and
openblas's kernels are both picked at run time by what the CPU offers). Replaying a stored
run's steps under another arithmetic gives results that can differ, usually in the last bits
(more where an engine version changed the maths, as version 3 did), so the server records
which arithmetic made each stretch of a run's updates (app/runs) and says whether a
recomputed step is exact.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

# Bump whenever a change can alter any value the engine computes, even in its last bit (an
# operation reordered, a product split or fused, another formula for an activation).
# 1: the bias added after each product. 2: the bias inside it (a [W; b] block).
# 3: softmax cross-entropy's output delta ŷ·Σy − y (it was ŷ − y, the gradient of another loss
#    for target rows that do not sum to 1; one-hot rows give the same bits as before).
# 4: weights and biases as separate arrays again: net = a·W, then + b; db = 1ᵀ·δ; each layer's
#    weights moved on their own.
ENGINE_VERSION = 4


def current_arithmetic() -> str:
    """This process's arithmetic in one line, for example
    'engine 4; numpy 2.4.6 (X86_V3 X86_V4 AVX512_ICL AVX512_SPR); scipy-openblas 0.3.31.188.0'.
    """
    config: dict[str, Any] = dict(np.show_config(mode="dicts"))
    simd = " ".join(config.get("SIMD Extensions", {}).get("found", []))
    blas = config.get("Build Dependencies", {}).get("blas", {})
    parts = [
        f"engine {ENGINE_VERSION}",
        f"numpy {np.__version__} ({simd})" if simd else f"numpy {np.__version__}",
        f"{blas.get('name', 'blas')} {blas.get('version', '')}".rstrip(),
    ]
    # openblas honours this to use another CPU's kernels than the one it detects.
    core = os.environ.get("OPENBLAS_CORETYPE")
    if core:
        parts.append(f"OPENBLAS_CORETYPE={core}")
    return "; ".join(parts)
