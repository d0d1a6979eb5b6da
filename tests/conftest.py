"""Shared fixtures: a seeded ``rng`` and the dtype -> tolerance table every parity test uses."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import settings

# Hypothesis: bounded and deterministic on CI (two cores, a 15-minute budget for the suite).
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile("ci")

# (rtol, atol) per dtype name, for comparisons of computed (not copied) values.
TOLERANCE = {
    "float64": (1e-10, 1e-12),
    "float32": (1e-5, 1e-6),
    "float16": (1e-2, 1e-3),
    "bfloat16": (2e-2, 1e-2),
}


def tolerance(dtype) -> dict[str, float]:
    """``rtol``/``atol`` keyword arguments for a NumPy or torch dtype."""
    name = str(dtype).removeprefix("torch.")
    rtol, atol = TOLERANCE.get(name, (0.0, 0.0))
    return {"rtol": rtol, "atol": atol}


def rebuild_layout(lay, dense: np.ndarray) -> np.ndarray:
    """The dense matrix a row kernel's layout says: its periodic run and band rows, the other
    rows (``lay.rest``, computed from the table) taken from ``dense``."""
    width = lay.phase_weight.shape[1]
    rebuilt = np.zeros_like(dense)
    for r in range(lay.period):
        for k in range(lay.repeats):
            row, at = lay.start + r + k * lay.period, lay.base[r] + k * lay.stride
            rebuilt[row, at : at + width] = lay.phase_weight[r, :, k]
    for row, at, w in zip(lay.band, lay.band_window, lay.band_weight, strict=True):
        rebuilt[row, at : at + width] = w
    rebuilt[lay.rest] = dense[lay.rest]
    return rebuilt


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261125)


@pytest.fixture
def split_small(monkeypatch):
    """Calls split over threads from a few thousand elements of work (the library's threshold
    is set for speed: the thread-invariance tests' small shapes would stay on one thread)."""
    from upsampling import _backend

    monkeypatch.setattr(_backend, "_PARALLEL_MIN_WORK", 1 << 12)
