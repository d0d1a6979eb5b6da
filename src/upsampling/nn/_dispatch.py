"""How the torch custom ops are made, shared by every ``nn/_*_ops.py`` module.

An op is declared from its implementations (:func:`define`): a plain-PyTorch one for every device
and dtype, whose annotations are the op's schema, and optionally a NumPy-level one that runs our
numba kernels. CPU tensors of a dtype numba computes in run the NumPy-level one on zero-copy
views; anything else (CUDA, float16, bfloat16) runs the plain-PyTorch one, the same algorithm.
That choice is made here and nowhere else (:func:`numba_runs`). Ops are registered with
``torch.library.custom_op`` (opaque to ``torch.compile``, with fake implementations for tracing)
and fall back to ``torch.autograd.Function`` on torch releases that lack it. Autograd formulas
gather (or add in a fixed order), so gradients are the same bit for bit on every run.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

_NUMBA_DTYPES = frozenset(
    {torch.float32, torch.float64, torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8}
)


def numba_ok(*tensors: Tensor) -> bool:
    return all(t.device.type == "cpu" and t.dtype in _NUMBA_DTYPES for t in tensors)


def numba_runs(args: tuple) -> bool:
    """Whether an op called with ``args`` runs its NumPy-level implementation: its first argument
    (the data) is of a dtype numba computes in and every tensor argument is on the CPU (an index
    or flag tensor may be of any dtype)."""
    return numba_ok(args[0]) and all(
        a.device.type == "cpu" for a in args[1:] if isinstance(a, Tensor)
    )


def triton_kernel(name: str, args: tuple) -> Callable | None:
    """The Triton implementation of op ``name`` for ``args``, or ``None``: CUDA data, or CPU data
    under ``UPSAMPLING_KERNELS=triton`` (Triton's interpreter, ``TRITON_INTERPRET=1``: how the
    CUDA kernels are tested without a GPU). :mod:`upsampling._triton` is imported only then, and
    answers ``None`` where Triton is not installed or has no kernel for the call."""
    x = args[0]
    if not isinstance(x, Tensor):
        return None
    if x.device.type != "cuda" and os.environ.get("UPSAMPLING_KERNELS") != "triton":
        return None
    from .. import _triton

    return _triton.kernel(name, args)


def as_numpy(t: Tensor):
    return t.detach().numpy()


def from_numpy(a) -> Tensor:
    return torch.from_numpy(a)


def _numpy_argument(a: Any) -> Any:
    """A tensor as a zero-copy NumPy view, a list (an ``int[]`` of the schema) as a tuple."""
    if isinstance(a, Tensor):
        return as_numpy(a)
    return tuple(a) if isinstance(a, list) else a


def _torch_result(r: Any) -> Any:
    """A NumPy array as a tensor on the same memory; tuples item by item; tensors as they are."""
    if isinstance(r, np.ndarray):
        return from_numpy(r)
    return tuple(map(_torch_result, r)) if isinstance(r, tuple) else r


def _unaliased(result: Any, args: tuple) -> Any:
    """``result`` with every tensor that shares memory with a tensor argument cloned: a custom op
    may not return a view of its input, which a plain-PyTorch implementation shared with the
    export path may (a reshape that moves nothing: a scale of 1, an empty tensor)."""
    inputs = {a.untyped_storage().data_ptr() for a in args if isinstance(a, Tensor)}

    def fresh(t: Any) -> Any:
        if isinstance(t, Tensor) and t.untyped_storage().data_ptr() in inputs:
            return t.clone(memory_format=torch.contiguous_format)
        return t

    return tuple(map(fresh, result)) if isinstance(result, tuple) else fresh(result)


def implementation(impl: Callable, numba: Callable | None = None, name: str = "") -> Callable:
    """The function an op runs: the Triton kernel where :func:`triton_kernel` has one, else
    ``numba`` on NumPy views where :func:`numba_runs`, else ``impl``; outputs that alias an input
    are cloned (see :func:`define`)."""

    @functools.wraps(impl)
    def run(*args):
        triton = triton_kernel(name, args)
        if triton is not None:
            result = triton(*args)
        elif numba is not None and numba_runs(args):
            result = _torch_result(numba(*map(_numpy_argument, args)))
        else:
            result = impl(*args)
        return _unaliased(result, args)

    return run


def _schema(impl: Callable) -> str:
    infer = getattr(torch.library, "infer_schema", None)
    if infer is None:  # pragma: no cover - torch 2.4
        from torch._library.infer_schema import infer_schema as infer
    return infer(impl, mutates_args=())


def define(
    name: str,
    impl: Callable,
    fake: Callable,
    backward: Callable | None = None,
    setup_context: Callable | None = None,
    *,
    numba: Callable | None = None,
):
    """Register the op ``upsampling::name`` from its implementations.

    Parameters
    ----------
    name : str
        The op's name in the ``upsampling`` namespace.
    impl : callable
        The plain-PyTorch implementation, for every device and dtype (with ``numba``: for those
        :func:`numba_runs` refuses). Its annotations are the op's schema (``list[int]`` or
        ``Sequence[int]`` is ``int[]``). It may return a view of an input: such an output is
        cloned, as a custom op must not alias its inputs.
    fake : callable
        The output's shape, dtype and device from the arguments (``register_fake``).
    backward, setup_context : callable, optional
        The autograd formula and what it saves (``register_autograd``); without them the op is
        not differentiable.
    numba : callable, optional, keyword-only
        The NumPy-level implementation (numba kernels), run where :func:`numba_runs`: tensor
        arguments arrive as zero-copy NumPy views and ``int[]`` lists as tuples; the NumPy arrays
        it returns (alone or in a tuple) become tensors on the same memory.

    Returns
    -------
    The op: ``op(*args)`` with the schema's arguments.

    Notes
    -----
    ``define(name, impl, fake, backward, setup_context)`` without ``numba`` registers ``impl``
    as the only implementation, so an ``impl`` that chooses its own path still works. On torch
    releases without ``torch.library.custom_op`` (before 2.4) the op is an
    ``autograd.Function`` instead.
    """
    run = implementation(impl, numba, name)
    if hasattr(torch.library, "custom_op"):
        op = torch.library.custom_op(
            f"upsampling::{name}", run, mutates_args=(), schema=_schema(impl)
        )
        op.register_fake(fake)
        if backward is not None:
            op.register_autograd(backward, setup_context=setup_context)
        return op
    if backward is None:  # pragma: no cover - torch < 2.4
        return run

    class _Function(torch.autograd.Function):  # pragma: no cover - torch < 2.4
        @staticmethod
        def forward(ctx, *inputs):
            output = run(*inputs)
            setup_context(ctx, inputs, output)
            return output

        @staticmethod
        def backward(ctx, *grads):
            return backward(ctx, *grads)

    _Function.__name__ = name
    return _Function.apply
