"""Torch custom ops for unpool, max_pool and max_unpool (see :mod:`upsampling.nn._dispatch`)."""

from __future__ import annotations

import itertools
import math

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
from ._dispatch import as_numpy, define, from_numpy, numba_ok


# ------------------------------------------------------------------------------------- unpool
def _unpool_impl(x: Tensor, scale: list[int], offset: list[int], bed_of_nails: bool) -> Tensor:
    if numba_ok(x):
        return from_numpy(unpool_array(as_numpy(x), scale, offset, bed_of_nails))
    n, c, *size = x.shape
    out_size = [a * s for a, s in zip(size, scale, strict=True)]
    if bed_of_nails:
        out = x.new_zeros((n, c, *out_size))
        out[(..., *(slice(o, None, s) for o, s in zip(offset, scale, strict=True)))] = x
        return out
    blocks = [n, c, *itertools.chain.from_iterable((a, 1) for a in size)]
    spread = [n, c, *itertools.chain.from_iterable(zip(size, scale, strict=True))]
    out = x.reshape(blocks).expand(spread).reshape(n, c, *out_size)
    # a view of x where nothing is expanded (scale 1, size-1 axes, empty x), which a custom op
    # may not return
    return out.clone(memory_format=torch.contiguous_format) if out._is_view() else out


def _unpool_fake(x, scale, offset, bed_of_nails):
    n, c, *size = x.shape
    return x.new_empty((n, c, *(a * s for a, s in zip(size, scale, strict=True))))


def _unpool_backward_impl(g: Tensor, scale: list[int]) -> Tensor:
    if numba_ok(g):
        return from_numpy(unpool_nearest_backward_array(as_numpy(g), scale))
    # the sum of each block in raster order inside the block, as the numba kernel adds: the
    # same bits on every device (a reduction's order is its own)
    # (float16 and bfloat16 add in float32, as PyTorch's kernels do)
    n, c, *size = g.shape
    acc = torch.promote_types(g.dtype, torch.float32) if g.is_floating_point() else g.dtype
    gx = g.new_zeros((n, c, *(a // s for a, s in zip(size, scale, strict=True))), dtype=acc)
    for offset in itertools.product(*(range(s) for s in scale)):
        gx += g[(..., *(slice(o, None, s) for o, s in zip(offset, scale, strict=True)))]
    return gx.to(g.dtype)


def _unpool_backward_fake(g, scale):
    n, c, *size = g.shape
    return g.new_empty((n, c, *(a // s for a, s in zip(size, scale, strict=True))))


def _unpool_backward_setup(ctx, inputs, output):
    ctx.scale = inputs[1]


def _unpool_double_backward(ctx, ggx):
    """The block sum is linear: its gradient is nearest unpooling again."""
    return _unpool_op(ggx.contiguous(), ctx.scale, [0] * len(ctx.scale), False), None


_unpool_backward_op = define(
    "unpool_backward",
    _unpool_backward_impl,
    _unpool_backward_fake,
    _unpool_double_backward,
    _unpool_backward_setup,
)


def _unpool_setup(ctx, inputs, output):
    _, ctx.scale, ctx.offset, ctx.bed_of_nails = inputs


def _unpool_backward(ctx, g):
    if ctx.bed_of_nails:
        nails = (..., *(slice(o, None, s) for o, s in zip(ctx.offset, ctx.scale, strict=True)))
        return g[nails].contiguous(), None, None, None
    return _unpool_backward_op(g.contiguous(), ctx.scale), None, None, None


_unpool_op = define("unpool", _unpool_impl, _unpool_fake, _unpool_backward, _unpool_setup)


def unpool(x: Tensor, scale, offset, bed_of_nails: bool) -> Tensor:
    return _unpool_op(x, list(scale), list(offset), bool(bed_of_nails))


# ----------------------------------------------------------------------------------- max_pool
def _max_pool_impl(
    x: Tensor,
    kernel: list[int],
    stride: list[int],
    padding: list[int],
    dilation: list[int],
    ceil_mode: bool,
) -> tuple[Tensor, Tensor]:
    args = (tuple(kernel), tuple(stride), tuple(padding), tuple(dilation), ceil_mode)
    if numba_ok(x):
        values, indices = max_pool_array(as_numpy(x), *args)
        return from_numpy(values), from_numpy(indices)
    pool = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[x.ndim - 3]
    return pool(x, *args, return_indices=True)


def _max_pool_fake(x, kernel, stride, padding, dilation, ceil_mode):
    n, c, *size = _backend.shape(x)
    out = shapes._pool(
        tuple(size),
        tuple(kernel),
        tuple(stride),
        tuple(padding),
        tuple(dilation),
        ceil_mode,
        "max_pool",
    )
    return x.new_empty((n, c, *out)), x.new_empty((n, c, *out), dtype=torch.int64)


def _max_pool_backward_impl(
    g: Tensor,
    indices: Tensor,
    input_size: list[int],
    kernel: list[int],
    stride: list[int],
    padding: list[int],
    dilation: list[int],
) -> Tensor:
    if numba_ok(g):
        gx = max_pool_backward_array(as_numpy(g), as_numpy(indices), tuple(input_size))
        return from_numpy(gx)
    return _max_pool_backward_torch(g, indices, input_size, kernel, stride, padding, dilation)


def _max_pool_backward_torch(g, indices, input_size, kernel, stride, padding, dilation):
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
    return g.new_empty((*g.shape[:2], *input_size))


def _max_pool_backward_setup(ctx, inputs, output):
    ctx.save_for_backward(inputs[1])


def _max_pool_double_backward(ctx, ggx):
    """Adding ``g[o]`` at ``indices[o]`` is linear in ``g``: its gradient gathers ``ggx`` there."""
    (indices,) = ctx.saved_tensors
    n, c, *size = indices.shape
    flat = ggx.reshape(n * c, math.prod(ggx.shape[2:]))
    gg = flat.gather(1, indices.reshape(n * c, math.prod(size))).reshape(indices.shape)
    return gg, None, None, None, None, None, None


_max_pool_backward_op = define(
    "max_pool_backward",
    _max_pool_backward_impl,
    _max_pool_backward_fake,
    _max_pool_double_backward,
    _max_pool_backward_setup,
)


def _max_pool_setup(ctx, inputs, output):
    x, ctx.kernel, ctx.stride, ctx.padding, ctx.dilation, _ = inputs
    ctx.input_size = list(x.shape[2:])
    ctx.save_for_backward(output[1])
    ctx.mark_non_differentiable(output[1])
    # the indices get no gradient: do not let autograd fill an int64 tensor of zeros for it
    ctx.set_materialize_grads(False)


def _max_pool_backward(ctx, g, _g_indices):
    if g is None:  # only reachable without materialized gradients: nothing flows back
        return None, None, None, None, None, None
    (indices,) = ctx.saved_tensors
    gx = _max_pool_backward_op(
        g.contiguous(),
        indices,
        ctx.input_size,
        ctx.kernel,
        ctx.stride,
        ctx.padding,
        ctx.dilation,
    )
    return gx, None, None, None, None, None


_max_pool_op = define(
    "max_pool", _max_pool_impl, _max_pool_fake, _max_pool_backward, _max_pool_setup
)


def max_pool(x: Tensor, kernel, stride, padding, dilation, ceil_mode) -> tuple[Tensor, Tensor]:
    return _max_pool_op(
        x, list(kernel), list(stride), list(padding), list(dilation), bool(ceil_mode)
    )


# --------------------------------------------------------------------------------- max_unpool
def _winners(idf: Tensor, plane: int) -> Tensor:
    """For each output element, the position of the last input that names it (-1: none).
    ``amax`` is order-independent, so this is deterministic on every device."""
    pos = torch.arange(idf.shape[1], device=idf.device).expand_as(idf)
    return torch.full(
        (idf.shape[0], plane), -1, dtype=torch.int64, device=idf.device
    ).scatter_reduce_(1, idf, pos, reduce="amax")


def _check_indices_torch(idf: Tensor, out_size) -> None:
    plane = math.prod(out_size)
    bad = (idf < 0) | (idf >= plane)
    if bool(bad.any()):
        flat = bad.flatten().nonzero()[0, 0].item()
        p, i = divmod(flat, idf.shape[1])
        marks = torch.full((idf.shape[0],), -1, dtype=torch.int64)
        marks[p] = i
        invalid_index(marks.numpy(), idf.cpu().numpy(), out_size, "max_unpool")


def _max_unpool_impl(x: Tensor, indices: Tensor, out_size: list[int]) -> tuple[Tensor, Tensor]:
    """The unpooled ``x`` and a 0-d bool: may an output element have been named twice (in some
    plane)? False only where the numba kernel looked and saw no such repeat (for an ``x`` that
    requires grad: otherwise no gradient comes to use it); the gradient is then a plain
    gather."""
    if numba_ok(x) and indices.device.type == "cpu":
        args = (as_numpy(x), as_numpy(indices), tuple(out_size))
        if not x.requires_grad:
            return from_numpy(max_unpool_array(*args)), torch.ones((), dtype=torch.bool)
        out, repeats = max_unpool_array(*args, repeats=True)
        return from_numpy(out), torch.tensor(repeats)
    n, c, *size = x.shape
    idf = indices.reshape(n * c, math.prod(size)).long()
    _check_indices_torch(idf, out_size)
    winner = _winners(idf, math.prod(out_size))
    values = x.reshape(n * c, math.prod(size)).gather(1, winner.clamp(min=0))
    out = torch.where(winner >= 0, values, x.new_zeros(()))
    return out.reshape(n, c, *out_size), torch.ones((), dtype=torch.bool, device=x.device)


def _max_unpool_fake(x, indices, out_size):
    return x.new_empty((*x.shape[:2], *out_size)), x.new_empty((), dtype=torch.bool)


def _max_unpool_backward_impl(g: Tensor, indices: Tensor, repeats: Tensor) -> Tensor:
    n, c, *size = indices.shape
    if numba_ok(g) and indices.device.type == "cpu":
        if not bool(repeats):  # one input per output element at most: gather, in parallel
            gf = g.reshape(n * c, math.prod(g.shape[2:]))
            idf = indices.reshape(n * c, math.prod(size)).long()
            return gf.gather(1, idf).reshape(indices.shape)
        return from_numpy(max_unpool_backward_array(as_numpy(g), as_numpy(indices)))
    idf = indices.reshape(n * c, math.prod(size)).long()
    gf = g.reshape(n * c, math.prod(g.shape[2:]))
    owner = _winners(idf, gf.shape[1]).gather(1, idf)
    mine = owner == torch.arange(idf.shape[1], device=idf.device)
    return torch.where(mine, gf.gather(1, idf), g.new_zeros(())).reshape(indices.shape)


def _max_unpool_backward_fake(g, indices, repeats):
    return g.new_empty(indices.shape)


def _max_unpool_backward_setup(ctx, inputs, output):
    g, indices, _ = inputs
    ctx.out_size = list(g.shape[2:])
    ctx.save_for_backward(indices)


def _max_unpool_double_backward(ctx, ggx):
    """The owner's gather is linear in ``g``; its adjoint puts each owner's ``ggx`` back at its
    index, which is max unpooling itself (the later input wins, as the owner is the later)."""
    (indices,) = ctx.saved_tensors
    return _max_unpool_op(ggx.contiguous(), indices, ctx.out_size)[0], None, None


_max_unpool_backward_op = define(
    "max_unpool_backward",
    _max_unpool_backward_impl,
    _max_unpool_backward_fake,
    _max_unpool_double_backward,
    _max_unpool_backward_setup,
)


def _max_unpool_setup(ctx, inputs, output):
    ctx.save_for_backward(inputs[1], output[1])
    ctx.mark_non_differentiable(output[1])
    ctx.set_materialize_grads(False)  # the flag gets no gradient: no zeros made for it


def _max_unpool_backward(ctx, g, _g_repeats):
    if g is None:  # only reachable without materialized gradients: nothing flows back
        return None, None, None
    indices, repeats = ctx.saved_tensors
    return _max_unpool_backward_op(g.contiguous(), indices, repeats), None, None


_max_unpool_op = define(
    "max_unpool", _max_unpool_impl, _max_unpool_fake, _max_unpool_backward, _max_unpool_setup
)


def max_unpool(x: Tensor, indices: Tensor, out_size) -> Tensor:
    return _max_unpool_op(x, indices, list(out_size))[0]
