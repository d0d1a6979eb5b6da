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
import json
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .. import shapes
from ..conventions import call_output_size
from ..filters import Plan, is_identity, outside_rows, table
from ..interpolate import interpolate_array, interpolate_backward_array, plan_of
from ._dispatch import as_numpy, define, from_numpy, numba_ok


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


def _fill_outside(out: Tensor, plan: Plan) -> Tensor:
    for i, a in enumerate(plan.axes):
        rows = outside_rows(a)
        if rows is not None and rows.any():
            where = torch.from_numpy(np.flatnonzero(rows)).to(out.device)
            out.index_fill_(2 + i, where, plan.extrapolation)
    return out


# The op carries the call's arguments after ``x`` as a JSON string (``key``, plain Python values:
# a constant for torch.compile), except ``size`` and ``scale_factor``, which travel as lists of
# ints and floats that may be symbolic (a size read from another tensor's shape, a factor passed
# in, in a graph over dynamic values). ``key`` starts with how each was given: size "none",
# "int" (broadcast) or "tuple"; scale_factor "none", "number" or "tuple".
def _plain(value: Any) -> Any:
    """NumPy scalars and arrays and every sequence as Python values and tuples."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    return value


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _split(value: Any, single: str) -> tuple[str, list]:
    """``value`` (size or scale_factor) as its form and its list of entries."""
    value = _plain(value)
    if value is None:
        return "none", []
    if isinstance(value, tuple):
        return "tuple", list(value)
    return single, [value]


def _join(form: str, values: list) -> Any:
    return None if form == "none" else tuple(values) if form == "tuple" else values[0]


@torch.compiler.assume_constant_result
def _key(forms: tuple[str, str], arguments: tuple) -> str:
    return json.dumps([*forms, *(_plain(a) for a in arguments)])


def _arguments(key: str, size: list, scale: list) -> tuple:
    """The arguments after ``x``, back from ``key``, ``size`` and ``scale``."""
    size_form, scale_form, *rest = _tuples(json.loads(key))
    return (_join(size_form, size), _join(scale_form, scale), *rest)


@functools.lru_cache(maxsize=256)
def _plan(
    shape: tuple[int, ...], itemsize: int, double: bool, key: str, size: tuple, scale: tuple
) -> Plan:
    """The checked plan of a call whose arguments after ``x`` are ``key``, ``size``, ``scale``."""
    return plan_of((shape, itemsize, double, *_arguments(key, list(size), list(scale))))


def _plan_for(t: Tensor, shape, key: str, size, scale) -> Plan:
    double = t.dtype == torch.float64
    return _plan(tuple(shape), t.element_size(), double, key, tuple(size), tuple(scale))


def _interpolate_impl(x: Tensor, key: str, size: list[int], scale: list[float]) -> Tensor:
    p = _plan_for(x, x.shape, key, size, scale)
    if numba_ok(x):
        return from_numpy(interpolate_array(as_numpy(x), p))
    out = _forward_torch(x, p)
    return _fill_outside(out, p) if p.extrapolation is not None else out


def _interpolate_fake(x, key, size, scale):
    """The output shape from the arguments alone, so the sizes may be symbolic."""
    out = call_output_size("interpolate", tuple(x.shape[2:]), _arguments(key, size, scale))
    return x.new_empty((*x.shape[:2], *out))


def _backward_impl(
    g: Tensor, key: str, size: list[int], scale: list[float], input_shape: list[int]
) -> Tensor:
    p = _plan_for(g, input_shape, key, size, scale)
    if numba_ok(g):
        return from_numpy(interpolate_backward_array(as_numpy(g), p))
    return interpolate_backward_torch(g, p)


def _backward_fake(g, key, size, scale, input_shape):
    return g.new_empty((*g.shape[:2], *input_shape[2:]))


_backward_op = define("interpolate_backward", _backward_impl, _backward_fake)


def _setup(ctx, inputs, output):
    ctx.arguments = inputs[1:]
    ctx.input_shape = list(inputs[0].shape)


def _backward(ctx, g):
    return _backward_op(g.contiguous(), *ctx.arguments, ctx.input_shape), None, None, None


_interpolate_op = define("interpolate", _interpolate_impl, _interpolate_fake, _backward, _setup)


def interpolate(x: Tensor, spec: tuple) -> Tensor:
    """The op on ``x``; ``spec`` as :func:`upsampling.interpolate` builds it. Eager calls are
    checked here (a bad argument fails at the call, not inside the op); in a compiled graph the
    op checks them when it runs."""
    eager = not torch.compiler.is_compiling()
    if eager and spec[4] is not None:  # the factor's type, before it travels as floats
        shapes.interpolate_scales(spec[4], len(spec[0]) - 2, "interpolate")
    size_form, size = _split(spec[3], "int")
    scale_form, scale = _split(spec[4], "number")
    try:
        key = _key((size_form, scale_form), spec[5:])
    except TypeError:  # not a plain value: the checks say which argument and why
        plan_of(spec)
        raise
    scale = [float(s) for s in scale]
    if eager:
        _plan(*spec[:3], key, tuple(size), tuple(scale))
    return _interpolate_op(x, key, size, scale)


def interpolate_torch(x: Tensor, plan: Plan) -> Tensor:
    """The pure-PyTorch forward (what CUDA and float16/bfloat16 run), for tests on the CPU."""
    out = _forward_torch(x, plan)
    return _fill_outside(out, plan) if plan.extrapolation is not None else out


def interpolate_backward_torch(g: Tensor, plan: Plan) -> Tensor:
    """The pure-PyTorch backward, for tests on the CPU."""
    compute = torch.float64 if g.dtype == torch.float64 else torch.float32
    tables = [table(a).transposed() for a in plan.axes]
    return _apply_torch(g, tables, compute).to(g.dtype)
