"""Triton kernels for CUDA tensors (and CPU tensors under Triton's interpreter).

:func:`kernel` is asked by :func:`upsampling.nn._dispatch.triton_kernel` for every op call on a
CUDA tensor (or on a CPU tensor under ``UPSAMPLING_KERNELS=triton``); it returns the function that
computes the op from the op's own arguments, or ``None`` (Triton not installed, no kernel for this
op, dtype or layout), and the plain-PyTorch implementation runs.
"""

from __future__ import annotations

from collections.abc import Callable


def kernel(name: str, args: tuple) -> Callable | None:
    """The Triton implementation of op ``upsampling::name`` for ``args``, or ``None``."""
    return None
