"""Interpolation of integer arrays (uint8, uint16, ...) by integer kernels.

:func:`interpolate` is called by :func:`upsampling.interpolate.interpolate_array` for every
integer input before its float path; it returns ``None`` where it has no kernel for the plan, and
the float path runs.
"""

from __future__ import annotations

import numpy as np

from .filters import Plan, Table


def interpolate(
    x: np.ndarray,
    plan: Plan,
    tables: list[Table] | None = None,
    order: tuple[int, ...] | None = None,
    rows: list[tuple[int, int]] | None = None,
    *,
    gather: bool | None = None,
) -> np.ndarray | None:
    """The interpolation of integer ``x`` ``(N, C, *spatial)`` by ``plan`` (arguments as
    :func:`upsampling.interpolate.interpolate_array`), or ``None`` to use the float path."""
    return None
