"""Interpolation as Triton kernels: one separable pass per axis over the per-axis tables.

A pass along axis ``a`` computes ``out[..., m, ...] = sum_k w[m, k] * x[..., index[m, k], ...]``
for ``k < count[m]`` (:class:`upsampling.filters.Table`), in tap order, one program per tile
of output elements; the axes run in :func:`upsampling.interpolate.pass_order`, the numba path's
order, with float32 (float64) intermediates, so every sum is the numba path's sum in the same
order. The backward is the same pass over the transposed tables (each input gathers the outputs
that read it, in output order): deterministic, no atomics. A gather plan (nearest) copies
values in their own dtype; integers round as the plan says (half up after every axis,
PyTorch's; or half to even once, ONNX's).
"""

from __future__ import annotations

import functools

import numpy as np
import torch
import triton.language as tl

from ..filters import Table, is_identity, table
from ..interpolate import pass_order
from ..nn._interpolate_ops import call_plan, fill_outside
from . import _runtime as rt

_NO_ROUND, _HALF_UP, _HALF_EVEN = 0, 1, 2


def _pass_kernel(
    x_ptr,
    out_ptr,
    index_ptr,
    weight_ptr,
    count_ptr,
    R,
    C,
    D,
    H,
    W,
    sxn,
    sxc,
    sxd,
    sxh,
    sxw,
    K,
    lo,
    hi,
    AXIS: tl.constexpr,
    GATHER: tl.constexpr,
    ROUND: tl.constexpr,
    COMPUTE: tl.constexpr,
    WIDE: tl.constexpr,
    ROWS: tl.constexpr,
    BLOCK: tl.constexpr,
):
    """One pass along ``AXIS`` (2, 3, 4: D, H, W) into the contiguous ``out`` of ``R`` rows
    (one per ``(n, c, d, h)``) of spatial size ``(D, H, W)``; ``x`` has that size except along
    ``AXIS`` and strides ``sx*``. Program ``(a, b)`` writes a tile of ``ROWS`` rows by ``BLOCK``
    elements: the row coordinates are computed once per row, and along D and H a row's lanes
    read the same taps."""
    r = tl.program_id(0) * ROWS + tl.arange(0, ROWS)[:, None]
    if WIDE:
        r = r.to(tl.int64)
    w = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)[None, :]
    inside = (r < R) & (w < W)
    i = r * W + w
    h = r % H
    t = r // H
    d = t % D
    t = t // D
    c = t % C
    n = t // C
    base = n * sxn + c * sxc
    zero = (r + w) * 0
    if AXIS == 2:
        m = d + zero
        base += h * sxh + w * sxw
        step = sxd
    elif AXIS == 3:
        m = h + zero
        base += d * sxd + w * sxw
        step = sxh
    else:
        m = w + zero
        base += d * sxd + h * sxh
        step = sxw
    if GATHER:
        j = tl.load(index_ptr + m * K, mask=inside, other=0)
        v = tl.load(x_ptr + base + j * step, mask=inside)
        tl.store(out_ptr + i, v, mask=inside)
    else:
        count = tl.load(count_ptr + m, mask=inside, other=0)
        acc = tl.full([ROWS, BLOCK], 0, COMPUTE)
        for k in range(K):
            live = inside & (k < count)
            j = tl.load(index_ptr + m * K + k, mask=live, other=0)
            wk = tl.load(weight_ptr + m * K + k, mask=live, other=0.0)
            v = tl.load(x_ptr + base + j * step, mask=live, other=0.0).to(COMPUTE)
            acc += tl.where(live, wk * v, 0.0)
        if ROUND == 1:  # half up, saturated (PyTorch's integer kernels, after every axis)
            acc = tl.minimum(tl.maximum(tl.floor(acc + 0.5), lo), hi)
        elif ROUND == 2:  # half to even, saturated (ONNX's reference, once)
            r = tl.floor(acc + 0.5)
            odd = (r - 2.0 * tl.floor(r * 0.5)) != 0.0
            r = tl.where(((r - acc) == 0.5) & odd, r - 1.0, r)
            acc = tl.minimum(tl.maximum(r, lo), hi)
        tl.store(out_ptr + i, acc.to(out_ptr.dtype.element_ty), mask=inside)


@functools.lru_cache(maxsize=256)
def _device_table(t: Table, device: torch.device, dtype: torch.dtype):
    """A table's index, weight and count arrays on ``device`` (cached per table object)."""
    index = torch.from_numpy(np.ascontiguousarray(t.index)).to(device)
    weight = torch.from_numpy(np.ascontiguousarray(t.weight)).to(device=device, dtype=dtype)
    count = torch.from_numpy(np.ascontiguousarray(t.count)).to(device)
    return index, weight, count


def _one_pass(x5: torch.Tensor, t: Table, axis: int, out_dtype, gather: bool, rounding, bounds):
    """``x5`` (5-D, any strides) resampled along ``axis`` (2, 3, 4) by ``t`` into a new
    contiguous 5-D tensor of ``out_dtype``."""
    shape = list(x5.shape)
    shape[axis] = t.out_size
    out = torch.empty(shape, dtype=out_dtype if gather else rt.stored(out_dtype), device=x5.device)
    total = out.numel()
    if total == 0:
        return rt.finish(out, out_dtype)
    compute = rt.torch_compute(x5.dtype) if not gather else torch.float32
    index, weight, count = _device_table(t, x5.device, compute)
    rt.launch_rows(
        _pass_kernel,
        total // shape[4],
        shape[4],
        x5,
        out,
        index,
        weight,
        count,
        total // shape[4],
        *shape[1:],
        *x5.stride(),
        index.shape[1],
        float(bounds[0]),
        float(bounds[1]),
        AXIS=axis,
        GATHER=gather,
        ROUND=rounding,
        COMPUTE=rt.compute_type(x5.dtype),
    )
    return rt.finish(out, out_dtype)


def _apply(x: torch.Tensor, tables: list[Table], order, final_dtype, gather=False, rounding=None):
    """Apply ``tables`` to ``x`` along the spatial axes in ``order``; the last pass writes
    ``final_dtype``, earlier ones the compute dtype. ``rounding`` (integers): ``"torch"`` or
    ``"onnx"``."""
    n, c, *size = x.shape
    pad = 5 - x.ndim
    y = rt.as5(x)
    if not order:
        return y.to(final_dtype, memory_format=torch.contiguous_format, copy=True).reshape(
            n, c, *size
        )
    inner = x.dtype if gather else rt.torch_compute(x.dtype)
    bounds = (0.0, 0.0)
    if rounding is not None:
        info = torch.iinfo(final_dtype)
        bounds = (info.min, info.max)
    for step, axis in enumerate(order):
        last = step == len(order) - 1
        mode = _NO_ROUND
        if rounding == "torch":
            mode = _HALF_UP
        elif rounding == "onnx" and last:
            mode = _HALF_EVEN
        out_dtype = final_dtype if last else inner
        y = _one_pass(y, tables[axis], 2 + pad + axis, out_dtype, gather, mode, bounds)
    return y.reshape(n, c, *(t.out_size for t in tables))


def _active(tables: list[Table]) -> tuple[int, ...]:
    return tuple(i for i, t in enumerate(tables) if not is_identity(t))


def forward(x: torch.Tensor, key: str, size, scale) -> torch.Tensor:
    """The op ``upsampling::interpolate`` on ``x`` (a dtype :func:`supports_forward` takes)."""
    plan = call_plan(x, x.shape, key, size, scale)
    tables = [table(a) for a in plan.axes]
    if all(t.is_gather for t in tables):
        out = _apply(x, tables, _active(tables), x.dtype, gather=True)
    elif x.dtype.is_floating_point:
        out = _apply(x, tables, pass_order(tuple(x.shape[2:]), tables), x.dtype)
    elif plan.integer_rounding == "torch":  # rounded after every axis, the last axis first
        out = _apply(
            x, tables, tuple(sorted(_active(tables), reverse=True)), x.dtype, False, "torch"
        )
    else:
        out = _apply(x, tables, pass_order(tuple(x.shape[2:]), tables), x.dtype, False, "onnx")
    return fill_outside(out, plan) if plan.extrapolation is not None else out


def backward(g: torch.Tensor, key: str, size, scale, input_shape) -> torch.Tensor:
    """The op ``upsampling::interpolate_backward``: the transposed tables, by gathering."""
    plan = call_plan(g, input_shape, key, size, scale)
    tables = [table(a).transposed() for a in plan.axes]
    return _apply(g, tables, pass_order(tuple(g.shape[2:]), tables), g.dtype)


def supports_forward(x: torch.Tensor, key: str, size, scale) -> bool:
    """Floats; integers in a copy (nearest), or of at most 16 bits (their float32 sums saturate
    at bounds float32 holds exactly) in a plan without a library preset (those keep their own
    fixed-point arithmetic on the PyTorch path)."""
    if x.dtype in rt.FLOATS:
        return True
    if x.dtype not in rt.INTEGERS or x.ndim < 3:
        return False
    plan = call_plan(x, x.shape, key, size, scale)
    if all(table(a).is_gather for a in plan.axes):
        return True
    return plan.preset is None and x.dtype.itemsize <= 2


def supports_backward(g: torch.Tensor, *args) -> bool:
    return g.dtype in rt.FLOATS
