"""Triton kernels for CUDA tensors (and CPU tensors under Triton's interpreter).

:func:`kernel` is asked by :func:`upsampling.nn._dispatch.triton_kernel` for every op call on a
CUDA tensor (or on a CPU tensor under ``UPSAMPLING_KERNELS=triton``); it returns the function that
computes the op from the op's own arguments, or ``None`` (Triton not installed or not importable,
no kernel for this op or dtype, a CPU tensor without ``TRITON_INTERPRET=1``), and the
plain-PyTorch implementation runs. Triton is imported here, on the first such call, never by
``import upsampling``.

Covered: ``interpolate`` and ``interpolate_backward`` (every mode and option: the per-axis
tables are the kernels' inputs; float32, float64, float16, bfloat16, summed in float32 or
float64; uint8, int8 and int16 forward without a library preset, every integer dtype for
nearest), ``unpool`` and ``unpool_backward``, ``max_pool`` and ``max_pool_backward``,
``max_unpool`` and ``max_unpool_backward``. Inputs of any strides (``channels_last`` included)
are read in place; outputs are contiguous, as the ops' fake implementations say. Everything
else answers ``None``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable


@functools.cache
def _kernels() -> dict[str, tuple[Callable, Callable]] | None:
    """Op name to (implementation, whether it takes the arguments), or ``None`` where Triton
    cannot be imported."""
    try:
        from . import _interpolate as interp
        from . import _pool as pool
        from . import _runtime as rt
    except Exception:  # a missing or broken Triton (or its driver) means: no kernels
        return None

    def floats(t, *rest) -> bool:
        return t.dtype in rt.FLOATS

    def values(t, *rest) -> bool:
        return t.dtype in rt.FLOATS or t.dtype in rt.INTEGERS

    return {
        "interpolate": (interp.forward, interp.supports_forward),
        "interpolate_backward": (interp.backward, interp.supports_backward),
        "unpool": (pool.unpool, values),
        "unpool_backward": (pool.unpool_backward, floats),
        "max_pool": (pool.max_pool, values),
        "max_pool_backward": (pool.max_pool_backward, floats),
        "max_unpool": (pool.max_unpool, values),
        "max_unpool_backward": (pool.max_unpool_backward, floats),
    }


def kernel(name: str, args: tuple) -> Callable | None:
    """The Triton implementation of op ``upsampling::name`` for ``args``, or ``None``."""
    kernels = _kernels()
    if kernels is None or name not in kernels:
        return None
    from . import _runtime

    if not _runtime.runs_on(*(a for a in args if hasattr(a, "device") and hasattr(a, "dtype"))):
        return None
    fn, takes = kernels[name]
    return fn if takes(*args) else None
