"""Torch custom ops for interpolation (see :mod:`upsampling.nn._dispatch`).

The op carries the call's arguments after ``x`` as a string, a constant whatever the input's
shape: ``torch.compile`` sees one opaque call whose output shape the fake implementation
computes from the arguments (symbolic sizes included), and the plan is made, checked and cached
from the real shape when the op runs. CPU
tensors of a numba dtype run :func:`upsampling.interpolate.interpolate_array` on zero-copy
views; anything else (CUDA, float16, bfloat16) applies the same per-axis tables with
``index_select`` and weighted sums in the same order. The backward applies the transposed tables
(each input gathers the outputs that read it): deterministic on every device, never
``index_add`` or a scatter.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import Tensor

from .. import _backend, _checks
from ..filters import Plan, is_identity, outside_rows, table
from ..interpolate import interpolate_array, interpolate_backward_array, plan_for
from ..spec import ResizeSpec, key_of
from ._dispatch import as_numpy, define, empty, memory_format, numpy_result, runs_here


@functools.lru_cache(maxsize=256)
def _device_table(t, device: str, dtype: torch.dtype):
    """A table's arrays on ``device`` (cached per table object)."""
    index = torch.from_numpy(t.index).to(device)
    weight = torch.from_numpy(t.weight).to(device=device, dtype=dtype)
    valid = torch.from_numpy(np.arange(t.index.shape[1])[None, :] < t.count[:, None]).to(device)
    return index, weight, valid


def _apply_torch(x: Tensor, tables: list, compute: torch.dtype, round_each=None) -> Tensor:
    """``apply_tables`` in plain PyTorch: per axis, a sum over taps of gathered slices times
    weights, in tap order (the numba kernel's order). ``round_each`` rounds after every axis."""
    y = x if x.dtype == compute else x.to(compute)
    for i in reversed(range(len(tables))):
        t = tables[i]
        if is_identity(t):
            continue
        dim = 2 + i
        index, weight, valid = _device_table(t, str(y.device), compute)
        shape = [1] * y.ndim
        shape[dim] = t.out_size
        acc = None
        for k in range(index.shape[1]):
            term = y.index_select(dim, index[:, k]) * weight[:, k].reshape(shape)
            term = torch.where(
                valid[:, k].reshape(shape), term, torch.zeros((), dtype=compute, device=y.device)
            )
            acc = term if acc is None else acc + term
        y = acc if round_each is None else round_each(acc)
    return y


def _forward_torch(x: Tensor, plan: Plan) -> Tensor:
    tables = [table(a) for a in plan.axes]
    if all(t.is_gather for t in tables):
        y = x
        for i, t in enumerate(tables):
            if not is_identity(t):
                y = y.index_select(2 + i, torch.from_numpy(t.index[:, 0]).to(x.device))
        return y.contiguous() if y is not x else x.clone()
    if x.is_floating_point():
        compute = torch.float64 if x.dtype == torch.float64 else torch.float32
        return _apply_torch(x, tables, compute).to(x.dtype)
    info = torch.iinfo(x.dtype)
    compute = torch.float64 if x.element_size() >= 4 else torch.float32

    def saturate(v: Tensor) -> Tensor:
        return v.clamp(info.min, info.max)

    if plan.integer_rounding == "torch":
        y = _apply_torch(x, tables, compute, lambda v: saturate(torch.floor(v + 0.5)))
    else:
        y = saturate(torch.round(_apply_torch(x, tables, compute)))
    return y.to(x.dtype)


def fill_outside(out: Tensor, plan: Plan) -> Tensor:
    """``out`` with the rows outside the region of interest (``tf_crop_and_resize``) set to the
    plan's extrapolation value, in place (also the Triton path's)."""
    for i, a in enumerate(plan.axes):
        rows = outside_rows(a)
        if rows is not None and rows.any():
            where = torch.from_numpy(np.flatnonzero(rows)).to(out.device)
            out.index_fill_(2 + i, where, plan.extrapolation)
    return out


# The op carries the spec (:class:`upsampling.spec.ResizeSpec`) as its JSON ``key`` (plain Python
# values: a constant for torch.compile, which folds ``key_of`` of the traced ``key_parts()``) and
# the values of ``size`` and ``scale_factor`` as lists of ints and floats that may be symbolic (a
# size read from another tensor's shape, a factor passed in, in a graph over dynamic values).


@functools.lru_cache(maxsize=256)
def _plan(
    shape: tuple[int, ...],
    itemsize: int,
    double: bool,
    key: str,
    size: tuple,
    scale: tuple,
    host: bool = True,
    last: bool = False,
) -> Plan:
    """The checked plan of a call whose spec is ``key``, ``size``, ``scale`` (``host``: the
    data is in this machine's memory, not on an accelerator; ``last``: it is channels_last,
    whose scratch holds every channel)."""
    spec = ResizeSpec.from_key(key, size, scale)
    return plan_for(spec, shape, itemsize, double, host=host, last=last)


# plans by (shape, dtype, on the host, the op's arguments): the lookup of every eager call
_PLANS: dict[tuple, Plan] = {}


def call_plan(t, shape, key: str, size, scale) -> Plan:
    """The cached plan for a tensor or NumPy view ``t`` read as an input of ``shape``."""
    host = _checks.on_host(t)
    if isinstance(t, np.ndarray):
        last = _backend.channels_last(t)
    else:
        last = memory_format(t) is not torch.contiguous_format
    shape, size, scale = tuple(shape), tuple(size), tuple(scale)
    found_key = (shape, t.dtype, host, last, key, size, scale)
    found = _PLANS.get(found_key)
    if found is None:
        double = _backend.dtype_name(t) == "float64"
        found = _plan(shape, _backend.itemsize(t), double, key, size, scale, host, last)
        if len(_PLANS) >= 1024:
            _PLANS.clear()
        _PLANS[found_key] = found
    return found


def _interpolate_torch(x: Tensor, key: str, size: list[int], scale: list[float]) -> Tensor:
    return interpolate_torch(x, call_plan(x, x.shape, key, size, scale))


def _interpolate_numba(x: np.ndarray, key: str, size, scale) -> np.ndarray:
    return interpolate_array(x, call_plan(x, x.shape, key, size, scale))


def _interpolate_fake(x, key, size, scale):
    """The output shape from the arguments alone, so the sizes may be symbolic."""
    spec = ResizeSpec.from_key(key, size, scale)
    out = spec.output_size(tuple(x.shape[2:]), "interpolate")
    return empty(x, (*x.shape[:2], *out))


def _backward_torch(
    g: Tensor, key: str, size: list[int], scale: list[float], input_shape: list[int]
) -> Tensor:
    return interpolate_backward_torch(g, call_plan(g, input_shape, key, size, scale))


def _backward_numba(g: np.ndarray, key: str, size, scale, input_shape) -> np.ndarray:
    return interpolate_backward_array(g, call_plan(g, input_shape, key, size, scale))


def _backward_fake(g, key, size, scale, input_shape):
    return empty(g, (*g.shape[:2], *input_shape[2:]))


_backward_op = define(
    "interpolate_backward", _backward_torch, _backward_fake, numba=_backward_numba
)


def _setup(ctx, inputs, output):
    ctx.arguments = inputs[1:]
    ctx.input_shape = list(inputs[0].shape)
    ctx.memory_format = memory_format(inputs[0])


def _backward(ctx, g):
    """The gradient in the input's memory format (the backward op writes its data's)."""
    g = g.contiguous(memory_format=ctx.memory_format)
    if runs_here(g):  # the op's own implementation, without its dispatch
        plan = call_plan(g, ctx.input_shape, *ctx.arguments)
        return numpy_result(interpolate_backward_array(as_numpy(g), plan), (g,)), None, None, None
    return _backward_op(g, *ctx.arguments, ctx.input_shape), None, None, None


_interpolate_op = define(
    "interpolate",
    _interpolate_torch,
    _interpolate_fake,
    _backward,
    _setup,
    numba=_interpolate_numba,
)


def interpolate(x: Tensor, spec: ResizeSpec) -> Tensor:
    """The op on ``x``. Eager calls make (and cache) the plan here, so a bad argument fails
    at the call, not inside the op; in a compiled graph the op checks it when it runs."""
    if torch.compiler.is_compiling():
        key, size, scale = key_of(spec.key_parts()), spec.size_values(), spec.scale_values()
        return _interpolate_op(x, key, size, scale)
    key, size, scale = spec.op_arguments()
    plan = call_plan(x, x.shape, key, size, scale)
    if runs_here(x):  # the op's own implementation, without its dispatch
        return numpy_result(interpolate_array(as_numpy(x), plan), (x,))
    return _interpolate_op(x, key, size, scale)


def interpolate_torch(x: Tensor, plan: Plan) -> Tensor:
    """The pure-PyTorch forward (what CUDA and float16/bfloat16 run), for tests on the CPU."""
    out = _forward_torch(x, plan)
    return fill_outside(out, plan) if plan.extrapolation is not None else out


def interpolate_backward_torch(g: Tensor, plan: Plan) -> Tensor:
    """The pure-PyTorch backward, for tests on the CPU."""
    compute = torch.float64 if g.dtype == torch.float64 else torch.float32
    tables = [table(a).transposed() for a in plan.axes]
    return _apply_torch(g, tables, compute).to(g.dtype)
