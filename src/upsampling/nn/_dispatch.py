"""How the torch custom ops are made, shared by every ``nn/_*_ops.py`` module.

An op is declared from its implementations (:func:`define`): a plain-PyTorch one for every device
and dtype, whose annotations are the op's schema, and optionally a NumPy-level one that runs our
numba kernels. CPU tensors of a dtype numba computes in run the NumPy-level one on zero-copy
views; anything else (CUDA, float16, bfloat16) runs the plain-PyTorch one, the same algorithm.
That choice is made here and nowhere else (:func:`numba_runs`). Ops are registered with
``torch.library.custom_op`` (opaque to ``torch.compile``, with fake implementations for tracing)
and fall back to ``torch.autograd.Function`` on torch releases that lack it. A plain eager call
skips the op's dispatch (a Python-level cost many times a small call's work): :class:`Op` runs
the same implementation directly, through an ``autograd.Function`` with the same backward
where autograd records the call; traces, fake tensors and modes still go through the op.
Outputs come in the data's memory format (:func:`memory_format`). Autograd formulas gather (or
add in a fixed order), so gradients are the same bit for bit on every run.
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
    for t in tensors:
        if not (t.is_cpu and t.dtype in _NUMBA_DTYPES):
            return False
    return True


def numba_runs(args: tuple) -> bool:
    """Whether an op called with ``args`` runs its NumPy-level implementation: its first argument
    (the data) is of a dtype numba computes in and every tensor argument is on the CPU (an index
    or flag tensor may be of any dtype)."""
    if not numba_ok(args[0]):
        return False
    for a in args[1:]:
        if isinstance(a, Tensor) and not a.is_cpu:
            return False
    return True


def triton_kernel(name: str, args: tuple) -> Callable | None:
    """The Triton implementation of op ``name`` for ``args``, or ``None``: CUDA data, or CPU data
    under ``UPSAMPLING_KERNELS=triton`` (Triton's interpreter, ``TRITON_INTERPRET=1``: how the
    CUDA kernels are tested without a GPU). :mod:`upsampling._triton` is imported only then, and
    answers ``None`` where Triton is not installed or has no kernel for the call."""
    x = args[0]
    if not isinstance(x, Tensor) or not (x.is_cuda or kernels_setting() == "triton"):
        return None
    from .. import _triton

    return _triton.kernel(name, args)


def kernels_setting() -> str | None:
    """``UPSAMPLING_KERNELS`` as it is now (read on every call: tests switch it)."""
    return os.environ.get("UPSAMPLING_KERNELS")


def as_numpy(t: Tensor):
    """A zero-copy NumPy view of a CPU tensor (``detach`` only where needed: it costs a call)."""
    return t.detach().numpy() if t.requires_grad else t.numpy()


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


def _owned(r: Any) -> bool:
    """Whether ``r`` is a NumPy array on memory NumPy allocated (``np.empty`` and views of it):
    no tensor's, so not an input's (the zero-copy view of a tensor has the tensor as its base)."""
    if not isinstance(r, np.ndarray):
        return False
    while isinstance(r.base, np.ndarray):
        r = r.base
    return r.base is None


def _unaliased(result: Any, args: tuple) -> Any:
    """``result`` with every tensor that shares memory with a tensor argument cloned: a custom op
    may not return a view of its input, which a plain-PyTorch implementation shared with the
    export path may (a reshape that moves nothing: a scale of 1, an empty tensor), nor may the
    NumPy-level one (a tensor made from a NumPy view of an input has a storage of its own, inside
    the input's: storages are compared as byte ranges). The clone keeps the output's memory
    format (a channels-last view stays channels-last)."""
    inputs = [_span(a) for a in args if isinstance(a, Tensor)]

    def fresh(t: Any) -> Any:
        if isinstance(t, Tensor):
            lo, hi = _span(t)
            for a, b in inputs:
                if lo == a or (lo < b and a < hi):
                    return t.clone()  # preserve_format: dense strides are kept as they are
        return t

    return tuple(map(fresh, result)) if isinstance(result, tuple) else fresh(result)


def _span(t: Tensor) -> tuple[int, int]:
    """The addresses of ``t``'s storage: first byte and one past the last."""
    storage = t.untyped_storage()
    lo = storage.data_ptr()
    return lo, lo + storage.nbytes()


_CHANNELS_LAST = {4: torch.channels_last, 5: torch.channels_last_3d}


def memory_format(t: Tensor) -> torch.memory_format:
    """The memory format of an op's output for data ``t`` (PyTorch's rule): ``channels_last``
    (``channels_last_3d``) for a 4-d (5-d) tensor laid out that way and not also contiguous
    (an ambiguous layout, one channel or one pixel, reads as contiguous), else contiguous."""
    if t.is_contiguous():
        return torch.contiguous_format
    cl = _CHANNELS_LAST.get(t.dim())
    if cl is not None and t.is_contiguous(memory_format=cl):
        return cl
    return torch.contiguous_format


def empty(like: Tensor, shape, dtype: torch.dtype | None = None) -> Tensor:
    """A new tensor of ``shape`` on ``like``'s device, in ``like``'s :func:`memory_format`
    where it has ``like``'s rank: what a fake implementation returns for an output."""
    fmt = memory_format(like) if len(shape) == like.dim() else torch.contiguous_format
    dtype = like.dtype if dtype is None else dtype
    return torch.empty(shape, dtype=dtype, device=like.device, memory_format=fmt)


def in_format(result: Any, fmt: torch.memory_format, rank: int) -> Any:
    """``result`` with each tensor of ``rank`` dims in memory format ``fmt`` (copied where it is
    not; a no-op where the implementation already wrote that layout)."""
    if type(result) is Tensor and result.is_contiguous(memory_format=fmt):  # the usual output
        return result
    if isinstance(result, tuple):
        return tuple([in_format(r, fmt, rank) for r in result])
    if isinstance(result, Tensor) and result.dim() == rank:
        if not result.is_contiguous(memory_format=fmt):
            return result.contiguous(memory_format=fmt)
    return result


def implementation(impl: Callable, numba: Callable | None = None, name: str = "") -> Callable:
    """The function an op runs: the Triton kernel where :func:`triton_kernel` has one, else
    ``numba`` on NumPy views where :func:`numba_runs`, else ``impl``; outputs that alias an input
    are cloned (see :func:`define`), and outputs of the data's rank come in the data's
    :func:`memory_format` (the first argument's: ``channels_last`` in, ``channels_last``
    out)."""

    @functools.wraps(impl)
    def run(*args):
        triton = triton_kernel(name, args)
        if triton is not None:
            result = _unaliased(triton(*args), args)
        elif numba is not None and numba_runs(args):
            return numpy_result(numba(*[_numpy_argument(a) for a in args]), args)
        else:
            result = _unaliased(impl(*args), args)
        x = args[0]
        return in_format(result, memory_format(x), x.dim()) if isinstance(x, Tensor) else result

    return run


def numpy_result(result: Any, args: tuple) -> Any:
    """What an op returns for the NumPy-level implementation's ``result`` on ``args``: tensors
    on the same memory, cloned where they share an input's, in the data's memory format (see
    :func:`implementation`)."""
    # the usual outputs: new arrays, with no input's memory to look for
    owned = all(map(_owned, result)) if type(result) is tuple else _owned(result)
    result = _torch_result(result)
    if not owned:
        result = _unaliased(result, args)
    x = args[0]
    return in_format(result, memory_format(x), x.dim()) if isinstance(x, Tensor) else result


def runs_here(x: Tensor) -> bool:
    """Whether an op's call on data ``x`` (its only tensor argument) may run the NumPy-level
    implementation at once, without the op and without autograd: a plain eager call
    (:func:`plain_eager`) that autograd does not record, on data numba computes, with no Triton
    kernel for it. The result is the op's, bit for bit (:func:`numpy_result` is its tail)."""
    return (
        type(x) is Tensor
        and numba_ok(x)
        and not wants_grad((x,))
        and kernels_setting() != "triton"
        and plain_eager(())
    )


_C = torch._C


def plain_eager(args: tuple) -> bool:
    """Whether a call with ``args`` may skip the custom op's dispatch and run its implementation
    directly: no ``torch.compile`` or ``torch.export`` trace, no ``torch.jit`` trace, no
    dispatch or function mode (fake tensors, ``make_fx``, ``torch.device`` contexts), no
    ``torch.func`` transform, and every tensor argument a plain ``torch.Tensor`` (not a fake,
    functional or other subclass). Everything else goes through the op, which sees the same
    implementation, so the results are the same bit for bit."""
    if (
        torch.compiler.is_compiling()
        or _C._get_tracing_state() is not None
        or _C._len_torch_dispatch_stack()
        or _C._is_torch_function_mode_enabled()
        or _C._are_functorch_transforms_active()
    ):
        return False
    for a in args:
        if isinstance(a, Tensor) and type(a) is not Tensor:
            return False
    return True


def wants_grad(args: tuple) -> bool:
    """Whether autograd records a call with ``args`` (grad mode and a tensor that requires it)."""
    if not torch.is_grad_enabled():
        return False
    for a in args:
        if isinstance(a, Tensor) and a.requires_grad:
            return True
    return False


class Op:
    """A registered custom op with a shortcut for plain eager calls.

    ``op(*args)`` in eager mode (:func:`plain_eager`) runs the implementation directly, through
    an ``autograd.Function`` with the op's own backward where autograd records the call (the
    same formula the op registers, so double backward works as it does through the op);
    anywhere else (``torch.compile``, export, tracing, fake tensors) it calls the registered
    op. The registered op is :attr:`custom`; its attributes (``_opoverload``, ...) read
    through.
    """

    def __init__(self, run: Callable, custom: Any, function: type | None) -> None:
        self.run, self.custom, self.function = run, custom, function

    def __call__(self, *args, **kwargs):
        if kwargs or not plain_eager(args):  # (arguments by name: the op binds them)
            return self.custom(*args, **kwargs)
        if wants_grad(args):
            if self.function is None:  # not differentiable: let the op say so as it does
                return self.custom(*args)
            return self.function.apply(*args)
        return self.run(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.custom, name)


def _autograd_function(name: str, run: Callable, backward: Callable, setup_context) -> type:
    """``run`` with ``backward`` as an ``autograd.Function`` (``forward(ctx, ...)``: the form
    whose ``apply`` costs the least)."""

    class _Function(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *inputs):
            output = run(*inputs)
            if setup_context is not None:
                setup_context(ctx, inputs, output)
            return output

        @staticmethod
        def backward(ctx, *grads):
            return backward(ctx, *grads)

    _Function.__name__ = _Function.__qualname__ = name
    return _Function


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
    function = None if backward is None else _autograd_function(name, run, backward, setup_context)
    if hasattr(torch.library, "custom_op"):
        op = torch.library.custom_op(
            f"upsampling::{name}", run, mutates_args=(), schema=_schema(impl)
        )
        op.register_fake(fake)
        if backward is not None:
            op.register_autograd(backward, setup_context=setup_context)
        return Op(run, op, function)
    if function is None:  # pragma: no cover - torch < 2.4
        return run
    return function.apply  # pragma: no cover - torch < 2.4
