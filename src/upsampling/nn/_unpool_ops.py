"""Torch custom ops for unpool, max_pool and max_unpool (see :mod:`upsampling.nn._dispatch`).

The plain-PyTorch algorithms here (:func:`unpool_torch`, :func:`max_unpool_torch` and the plan
:func:`last_writes` under it) are the only ones: the ops run them on CUDA, float16 and bfloat16,
the ONNX export path (:mod:`upsampling.nn._export_ops`) and the layers call them too, so they use
only operations that export (Reshape, Expand, Pad, TopK, GatherElements, ScatterElements) and
keep symbolic sizes symbolic.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .. import _backend, shapes
from ..unpool import (
    _live_taps,
    invalid_index,
    max_pool_array,
    max_pool_backward_array,
    max_unpool_array,
    max_unpool_backward_array,
    unpool_array,
    unpool_nearest_backward_array,
)
from ._dispatch import as_numpy, define, empty, memory_format, numpy_result, runs_here


def _nails(scale, offset) -> tuple:
    """The index of element ``offset`` of every ``scale`` block (the nails of bed-of-nails
    unpooling); its shape is the input's."""
    return (..., *(slice(o, None, s) for o, s in zip(offset, scale, strict=True)))


def _gather_planes(t: Tensor, indices: Tensor) -> Tensor:
    """``t[n, c].flatten()[indices[n, c]]`` for every plane, in the shape of ``indices``."""
    n, c, *size = indices.shape
    flat = t.reshape(n * c, math.prod(t.shape[2:]))
    idf = indices.reshape(n * c, math.prod(size)).long()
    return flat.gather(1, idf).reshape(indices.shape)


# ------------------------------------------------------------------------------------- unpool
def unpool_torch(
    x: Tensor, scale: Sequence[int], offset: Sequence[int], bed_of_nails: bool
) -> Tensor:
    """Unpooling in plain PyTorch. Nearest: each value expanded over a new axis of length ``s``
    after its own; bed of nails: that axis zero-padded instead, ``o`` before and ``s - 1 - o``
    after. One reshape back. Sizes stay symbolic, so ``dynamic_axes`` work. Where nothing is
    expanded the result is a view of ``x``."""
    n, c, *size = x.shape
    view, spread, pads = [n, c], [n, c], []
    for a, s, o in zip(size, scale, offset, strict=True):
        view += [a, 1]
        spread += [a, s]
        pads = [o, s - 1 - o, 0, 0, *pads]  # F.pad lists the last axis first
    y = x.reshape(view)
    y = F.pad(y, pads) if bed_of_nails else y.expand(spread)
    return y.reshape(n, c, *shapes.unpool_sizes(tuple(size), tuple(scale)))


def _unpool_fake(x, scale, offset, bed_of_nails):
    n, c, *size = x.shape
    return empty(x, (n, c, *shapes.unpool_sizes(tuple(size), tuple(scale))))


def _unpool_backward_torch(g: Tensor, scale: list[int]) -> Tensor:
    """The sum of each block in raster order inside the block, as the numba kernel adds: the
    same bits on every device (a reduction's order is its own); float16 and bfloat16 add in
    float32, as PyTorch's kernels do."""
    acc = torch.promote_types(g.dtype, torch.float32) if g.is_floating_point() else g.dtype
    zeros = (0,) * len(scale)
    gx = torch.zeros_like(g[_nails(scale, zeros)], dtype=acc, memory_format=torch.contiguous_format)
    for offset in itertools.product(*(range(s) for s in scale)):
        gx += g[_nails(scale, offset)]
    return gx.to(g.dtype)


def _unpool_backward_fake(g, scale):
    return empty(g, g[_nails(scale, (0,) * len(scale))].shape)


def _unpool_backward_setup(ctx, inputs, output):
    ctx.scale = inputs[1]
    ctx.memory_format = memory_format(inputs[0])


def _unpool_double_backward(ctx, ggx):
    """The block sum is linear: its gradient is nearest unpooling again."""
    ggx = ggx.contiguous(memory_format=ctx.memory_format)
    return _unpool_op(ggx, ctx.scale, [0] * len(ctx.scale), False), None


_unpool_backward_op = define(
    "unpool_backward",
    _unpool_backward_torch,
    _unpool_backward_fake,
    _unpool_double_backward,
    _unpool_backward_setup,
    numba=unpool_nearest_backward_array,
)


def _unpool_setup(ctx, inputs, output):
    _, ctx.scale, ctx.offset, ctx.bed_of_nails = inputs
    ctx.memory_format = memory_format(inputs[0])


def _unpool_backward(ctx, g):
    """The gradient in the input's memory format (the backward op writes its data's)."""
    fmt = ctx.memory_format
    if ctx.bed_of_nails:
        return g[_nails(ctx.scale, ctx.offset)].contiguous(memory_format=fmt), None, None, None
    return _unpool_backward_op(g.contiguous(memory_format=fmt), ctx.scale), None, None, None


_unpool_op = define(
    "unpool", unpool_torch, _unpool_fake, _unpool_backward, _unpool_setup, numba=unpool_array
)


def unpool(x: Tensor, scale, offset, bed_of_nails: bool) -> Tensor:
    if runs_here(x):  # the op's own implementation, without its dispatch
        out = unpool_array(as_numpy(x), tuple(scale), tuple(offset), bool(bed_of_nails))
        return numpy_result(out, (x,))
    return _unpool_op(x, list(scale), list(offset), bool(bed_of_nails))


# ----------------------------------------------------------------------------------- max_pool
def _max_pool_torch(
    x: Tensor,
    kernel: list[int],
    stride: list[int],
    padding: list[int],
    dilation: list[int],
    ceil_mode: bool,
) -> tuple[Tensor, Tensor]:
    pool = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[x.ndim - 3]
    return pool(x, kernel, stride, padding, dilation, ceil_mode, return_indices=True)


def _max_pool_fake(x, kernel, stride, padding, dilation, ceil_mode):
    n, c, *size = _backend.shape(x)
    window = (tuple(kernel), tuple(stride), tuple(padding), tuple(dilation))
    out = shapes.pool_sizes(tuple(size), *window, ceil_mode, "max_pool")
    return empty(x, (n, c, *out)), empty(x, (n, c, *out), torch.int64)


def _max_pool_backward_torch(
    g: Tensor,
    indices: Tensor,
    input_size: list[int],
    kernel: list[int],
    stride: list[int],
    padding: list[int],
    dilation: list[int],
) -> Tensor:
    """Gather-style gradient: for each tap ``j`` of the window (in reverse raster order, so the
    sums run in the order of PyTorch's CPU kernel), the outputs whose maximum came from that
    tap add their gradient to a strided slice of the input. No scatter, no race. Taps that
    reach no input element for any output are skipped (a huge padded kernel costs nothing)."""
    n, c, *out_size = g.shape
    dims = len(out_size)
    gx = g.new_zeros((n, c, *input_size))
    plane_strides = [math.prod(input_size[i + 1 :]) for i in range(dims)]
    live = []  # per axis: the taps j whose position o * s - p + j * d is inside for some o
    for a, o, k, s, p, d in zip(
        input_size, out_size, kernel, stride, padding, dilation, strict=True
    ):
        live.append([int(j) for j in (_live_taps(a, o, k, s, p, d)[:, 0] + p) // d])
    zero = g.new_zeros(())
    for tap in reversed(list(itertools.product(*live))):
        flat = torch.zeros((), dtype=torch.int64, device=g.device)
        outs, ins = [], []
        for axis in range(dims):
            a, s, p = input_size[axis], stride[axis], padding[axis]
            shift = tap[axis] * dilation[axis] - p  # input position of output 0
            lo = max(0, -(shift // s))  # the first output whose position is >= 0
            hi = min(out_size[axis] - 1, (a - 1 - shift) // s)  # the last one < a
            if lo > hi:
                break
            shape = [1] * dims
            shape[axis] = hi - lo + 1
            pos = torch.arange(lo, hi + 1, device=g.device) * s + shift
            flat = flat + pos.reshape(shape) * plane_strides[axis]
            outs.append(slice(lo, hi + 1))
            ins.append(slice(lo * s + shift, hi * s + shift + 1, s))
        else:
            outs, ins = (..., *outs), (..., *ins)
            gx[ins] += torch.where(indices[outs] == flat, g[outs], zero)
    return gx


def _max_pool_backward_fake(g, indices, input_size, kernel, stride, padding, dilation):
    return empty(g, (*g.shape[:2], *input_size))


def _max_pool_backward_setup(ctx, inputs, output):
    ctx.save_for_backward(inputs[1])
    ctx.memory_format = memory_format(inputs[0])


def _max_pool_double_backward(ctx, ggx):
    """Adding ``g[o]`` at ``indices[o]`` is linear in ``g``: its gradient gathers ``ggx`` there
    (in the layout of ``g``)."""
    (indices,) = ctx.saved_tensors
    ggy = _gather_planes(ggx, indices).contiguous(memory_format=ctx.memory_format)
    return ggy, None, None, None, None, None, None


_max_pool_backward_op = define(
    "max_pool_backward",
    _max_pool_backward_torch,
    _max_pool_backward_fake,
    _max_pool_double_backward,
    _max_pool_backward_setup,
    numba=lambda g, indices, input_size, *window: max_pool_backward_array(g, indices, input_size),
)


def _max_pool_setup(ctx, inputs, output):
    x, ctx.kernel, ctx.stride, ctx.padding, ctx.dilation, _ = inputs
    ctx.input_size = list(x.shape[2:])
    ctx.memory_format = memory_format(x)
    ctx.save_for_backward(output[1])
    ctx.mark_non_differentiable(output[1])
    # the indices get no gradient: do not let autograd fill an int64 tensor of zeros for it
    ctx.set_materialize_grads(False)


def _max_pool_backward(ctx, g, _g_indices):
    if g is None:  # only reachable without materialized gradients: nothing flows back
        return None, None, None, None, None, None
    (indices,) = ctx.saved_tensors
    window = (ctx.kernel, ctx.stride, ctx.padding, ctx.dilation)
    g = g.contiguous(memory_format=ctx.memory_format)  # the gradient comes in g's layout
    gx = _max_pool_backward_op(g, indices, ctx.input_size, *window)
    return gx, None, None, None, None, None


_max_pool_op = define(
    "max_pool",
    _max_pool_torch,
    _max_pool_fake,
    _max_pool_backward,
    _max_pool_setup,
    numba=max_pool_array,
)


def max_pool(x: Tensor, kernel, stride, padding, dilation, ceil_mode) -> tuple[Tensor, Tensor]:
    if runs_here(x):  # the op's own implementation, without its dispatch
        window = (tuple(kernel), tuple(stride), tuple(padding), tuple(dilation))
        return numpy_result(max_pool_array(as_numpy(x), *window, bool(ceil_mode)), (x,))
    return _max_pool_op(
        x, list(kernel), list(stride), list(padding), list(dilation), bool(ceil_mode)
    )


# --------------------------------------------------------------------------------- max_unpool
def last_writes(idf: Tensor, plane: int) -> tuple[Tensor, Tensor]:
    """Where each input of the rows of ``idf`` goes, with the later-input-wins rule made
    explicit, so that the order of duplicate writes cannot matter (no atomics: the same result
    on every device and runtime): the inputs sorted by (index, position) (the keys are unique,
    so no tie is left to the sort; ONNX TopK), then the target of each, which is its index for
    the last input of a run of equal indices and the spare element ``plane`` for the others: no
    two inputs share a target inside the plane. An index outside the plane targets
    ``plane + 1``, past the spare element, which ScatterElements refuses at run time.

    (``scatter_reduce(..., "amax")`` of the positions finds the same writers without a sort,
    but exports only from opset 16, as an ONNX reduction that opset 18 introduced.)"""
    length = idf.shape[1]
    idf = torch.where((idf < 0) | (idf >= plane), plane + 1, idf)
    key = idf * length + torch.arange(length, device=idf.device)
    order = torch.sort(key, dim=1).indices
    ranked = idf.gather(1, order)
    last = torch.cat(
        [ranked[:, :-1] != ranked[:, 1:], torch.ones_like(ranked[:, :1], dtype=torch.bool)], 1
    )
    return order, torch.where(last, ranked, plane)


def max_unpool_torch(x: Tensor, indices: Tensor, out_size: Sequence[int]) -> Tensor:
    """Max unpooling in plain PyTorch: each plane's inputs scattered to their indices through
    :func:`last_writes`, into a plane with one spare element past the end that is cut off
    afterwards. The indices are not checked here (see :func:`last_writes`)."""
    n, c, *size = _backend.shape(x)
    length, plane = math.prod(size), math.prod(out_size)
    order, target = last_writes(indices.reshape(n * c, length).long(), plane)
    values = x.reshape(n * c, length).gather(1, order)
    y = x.new_zeros((n * c, plane + 1)).scatter(1, target, values)
    return y[:, :plane].reshape(n, c, *out_size)


def check_indices(idf: Tensor, out_size) -> None:
    """Raise as the NumPy path does (:func:`upsampling.unpool.invalid_index`) for the first
    index of ``idf`` ``(planes, length)`` outside the output plane (also the Triton path's)."""
    plane = math.prod(out_size)
    bad = (idf < 0) | (idf >= plane)
    if bool(bad.any()):
        flat = bad.flatten().nonzero()[0, 0].item()
        p, i = divmod(flat, idf.shape[1])
        marks = torch.full((idf.shape[0],), -1, dtype=torch.int64)
        marks[p] = i
        invalid_index(marks.numpy(), idf.cpu().numpy(), out_size, "max_unpool")


def _max_unpool_torch(
    x: Tensor, indices: Tensor, out_size: list[int], find_repeats: bool
) -> tuple[Tensor, Tensor]:
    """The unpooled ``x`` and a 0-d bool: may an output element have been named twice (in some
    plane)? False only where the numba kernel was asked to look (``find_repeats``: a gradient
    is to come) and saw no such repeat; the gradient is then a plain gather."""
    n, c, *size = x.shape
    check_indices(indices.reshape(n * c, math.prod(size)).long(), out_size)
    return max_unpool_torch(x, indices, out_size), x.new_ones((), dtype=torch.bool)


def _max_unpool_numba(x, indices, out_size, find_repeats):
    if not find_repeats:
        return max_unpool_array(x, indices, out_size), np.array(True)
    out, repeats = max_unpool_array(x, indices, out_size, repeats=True)
    return out, np.array(repeats)


def _max_unpool_fake(x, indices, out_size, find_repeats):
    return empty(x, (*x.shape[:2], *out_size)), x.new_empty((), dtype=torch.bool)


def _max_unpool_backward_torch(g: Tensor, indices: Tensor, repeats: Tensor) -> Tensor:
    """Each input gets the gradient at its index if the forward kept it (the last of the inputs
    that name that element, by :func:`last_writes` again), zero otherwise."""
    n, c, *size = indices.shape
    plane = math.prod(g.shape[2:])
    order, target = last_writes(indices.reshape(n * c, math.prod(size)).long(), plane)
    kept = torch.zeros_like(order, dtype=torch.bool).scatter(1, order, target < plane)
    return torch.where(kept.reshape(indices.shape), _gather_planes(g, indices), g.new_zeros(()))


def _max_unpool_backward_numba(g, indices, repeats):
    if repeats or _backend.channels_last(g):  # (a channels_last kernel: no copies to NCHW)
        return max_unpool_backward_array(g, indices)
    # one input per output element at most: a plain gather (PyTorch's, in parallel)
    return _gather_planes(torch.from_numpy(g), torch.from_numpy(indices))


def _max_unpool_backward_fake(g, indices, repeats):
    return empty(g, indices.shape)


def _max_unpool_backward_setup(ctx, inputs, output):
    g, indices, _ = inputs
    ctx.out_size = list(g.shape[2:])
    ctx.memory_format = memory_format(g)
    ctx.save_for_backward(indices)


def _wants_grad(t: Tensor) -> bool:
    return t.requires_grad and torch.is_grad_enabled()


def _max_unpool_double_backward(ctx, ggx):
    """The owner's gather is linear in ``g``; its adjoint puts each owner's ``ggx`` back at its
    index, which is max unpooling itself (the later input wins, as the owner is the later)."""
    (indices,) = ctx.saved_tensors
    ggx = ggx.contiguous(memory_format=ctx.memory_format)
    out = _max_unpool_op(ggx, indices, ctx.out_size, _wants_grad(ggx))
    return out[0], None, None


_max_unpool_backward_op = define(
    "max_unpool_backward",
    _max_unpool_backward_torch,
    _max_unpool_backward_fake,
    _max_unpool_double_backward,
    _max_unpool_backward_setup,
    numba=_max_unpool_backward_numba,
)


def _max_unpool_setup(ctx, inputs, output):
    ctx.memory_format = memory_format(inputs[0])
    ctx.save_for_backward(inputs[1], output[1])
    ctx.mark_non_differentiable(output[1])
    ctx.set_materialize_grads(False)  # the flag gets no gradient: no zeros made for it


def _max_unpool_backward(ctx, g, _g_repeats):
    if g is None:  # only reachable without materialized gradients: nothing flows back
        return None, None, None, None
    indices, repeats = ctx.saved_tensors
    g = g.contiguous(memory_format=ctx.memory_format)  # the gradient comes in g's layout
    return _max_unpool_backward_op(g, indices, repeats), None, None, None


_max_unpool_op = define(
    "max_unpool",
    _max_unpool_torch,
    _max_unpool_fake,
    _max_unpool_backward,
    _max_unpool_setup,
    numba=_max_unpool_numba,
)


def max_unpool(x: Tensor, indices: Tensor, out_size) -> Tensor:
    return _max_unpool_op(x, indices, list(out_size), _wants_grad(x))[0]
