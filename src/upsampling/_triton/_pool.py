"""Unpooling, max pooling and max unpooling as Triton kernels, forward and backward.

Every kernel is a flat loop over the elements it writes, one program per tile, each element
computed from what it reads (a gather): nothing races. Max pooling keeps PyTorch's rules (the
first maximum in window order, the last NaN); its gradient gathers at each input position the
outputs whose index names it, in output raster order (the numba kernel's order of adds). Max
unpooling finds, per output element, the last input in row-major order that names it (its
"owner", an ``atomic_max`` of input positions: the maximum does not depend on the order of the
atomics, so the result is the same on every run) and gathers from it; the gradient gives each
input the gradient at its index if it is the owner, zero otherwise.
"""

from __future__ import annotations

import math

import torch
import triton.language as tl

from .. import shapes
from ..nn._unpool_ops import check_indices
from . import _runtime as rt


# ---------------------------------------------------------------------------------- unpool
def _unpool_kernel(
    x_ptr, out_ptr, total, C, D, H, W, sn, sc, sd, sh, sw, fd, fh, fw, od, oh, ow,
    BED: tl.constexpr, WIDE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    """``out[n, c, d, h, w] = x[n, c, d // fd, h // fh, w // fw]`` (with ``BED``: only at
    offset ``(od, oh, ow)`` of each block, zero elsewhere); ``(D, H, W)`` is the output's."""
    pid = tl.program_id(0).to(tl.int64) if WIDE else tl.program_id(0)
    i = pid * BLOCK + tl.arange(0, BLOCK)
    inside = i < total
    w = i % W
    t = i // W
    h = t % H
    t = t // H
    d = t % D
    t = t // D
    c = t % C
    n = t // C
    src = n * sn + c * sc + (d // fd) * sd + (h // fh) * sh + (w // fw) * sw
    if BED:
        nail = (d % fd == od) & (h % fh == oh) & (w % fw == ow)
        v = tl.load(x_ptr + src, mask=inside & nail, other=0)
    else:
        v = tl.load(x_ptr + src, mask=inside)
    tl.store(out_ptr + i, v, mask=inside)


def _unpool_backward_kernel(
    g_ptr, out_ptr, total, C, D, H, W, sn, sc, sd, sh, sw, fd, fh, fw,
    COMPUTE: tl.constexpr, WIDE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    """The sum of each ``(fd, fh, fw)`` block of ``g`` in raster order; ``(D, H, W)`` is the
    output's (the input's of the unpooling)."""
    pid = tl.program_id(0).to(tl.int64) if WIDE else tl.program_id(0)
    i = pid * BLOCK + tl.arange(0, BLOCK)
    inside = i < total
    w = i % W
    t = i // W
    h = t % H
    t = t // H
    d = t % D
    t = t // D
    c = t % C
    n = t // C
    base = n * sn + c * sc + d * fd * sd + h * fh * sh + w * fw * sw
    acc = tl.full([BLOCK], 0, COMPUTE)
    for b in range(fd):
        for a in range(fh):
            for k in range(fw):
                v = tl.load(g_ptr + base + b * sd + a * sh + k * sw, mask=inside, other=0)
                acc += v.to(COMPUTE)
    tl.store(out_ptr + i, acc.to(out_ptr.dtype.element_ty), mask=inside)


def unpool(x: torch.Tensor, scale, offset, bed_of_nails: bool) -> torch.Tensor:
    n, c, *size = x.shape
    out_size = shapes.unpool_sizes(tuple(size), tuple(scale))
    out = torch.empty((n, c, *out_size), dtype=x.dtype, device=x.device)
    if out.numel():
        rt.launch(
            _unpool_kernel, out.numel(),
            x, out, out.numel(), c, *rt.sizes3(out_size), *rt.strides5(x),
            *rt.sizes3(scale), *((0,) * (3 - len(offset)) + tuple(offset)),
            BED=bool(bed_of_nails),
        )  # fmt: skip
    return out


def unpool_backward(g: torch.Tensor, scale) -> torch.Tensor:
    n, c, *size = g.shape
    in_size = tuple(a // s for a, s in zip(size, scale, strict=True))
    out = torch.empty((n, c, *in_size), dtype=rt.stored(g.dtype), device=g.device)
    if out.numel():
        rt.launch(
            _unpool_backward_kernel, out.numel(),
            g, out, out.numel(), c, *rt.sizes3(in_size), *rt.strides5(g), *rt.sizes3(scale),
            COMPUTE=rt.compute_type(g.dtype),
        )  # fmt: skip
    return rt.finish(out, g.dtype)


# -------------------------------------------------------------------------------- max_pool
def _max_pool_kernel(
    x_ptr, out_ptr, idx_ptr, total, C, D, H, W, iD, iH, iW, sn, sc, sd, sh, sw,
    kd, kh, kw, td, th, tw, pd, ph, pw, dd, dh, dw,
    FLOAT: tl.constexpr, CMP: tl.constexpr, WIDE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    """Window ``(d, h, w)`` of the output ``(D, H, W)`` over the input ``(iD, iH, iW)``: kernel
    ``k*``, stride ``t*``, padding ``p*``, dilation ``d*``. The running maximum starts at the
    window's first tap inside the input (PyTorch's index for an all ``-inf`` window); a later
    tap replaces it if greater or NaN."""
    pid = tl.program_id(0).to(tl.int64) if WIDE else tl.program_id(0)
    i = pid * BLOCK + tl.arange(0, BLOCK)
    inside = i < total
    w = i % W
    t = i // W
    h = t % H
    t = t // H
    d = t % D
    t = t // D
    c = t % C
    n = t // C
    plane = n * sn + c * sc
    z0 = d * td - pd
    y0 = h * th - ph
    x0 = w * tw - pw
    fz = tl.where(z0 < 0, z0 + ((-z0 + dd - 1) // dd) * dd, z0)
    fy = tl.where(y0 < 0, y0 + ((-y0 + dh - 1) // dh) * dh, y0)
    fx = tl.where(x0 < 0, x0 + ((-x0 + dw - 1) // dw) * dw, x0)
    best = tl.load(x_ptr + plane + fz * sd + fy * sh + fx * sw, mask=inside).to(CMP)
    best_i = (fz * iH + fy) * iW + fx
    for a in range(kd):
        z = z0 + a * dd
        for b in range(kh):
            y = y0 + b * dh
            for k in range(kw):
                x = x0 + k * dw
                live = inside & (z >= 0) & (z < iD) & (y >= 0) & (y < iH) & (x >= 0) & (x < iW)
                v = tl.load(x_ptr + plane + z * sd + y * sh + x * sw, mask=live, other=0).to(CMP)
                take = live & (v > best)
                if FLOAT:
                    take = take | (live & (v != v))
                best = tl.where(take, v, best)
                best_i = tl.where(take, (z * iH + y) * iW + x, best_i)
    tl.store(out_ptr + i, best.to(out_ptr.dtype.element_ty), mask=inside)
    tl.store(idx_ptr + i, best_i.to(tl.int64), mask=inside)


def _max_pool_backward_kernel(
    g_ptr, idx_ptr, out_ptr, total, C, D, H, W, oD, oH, oW,
    kd, kh, kw, td, th, tw, pd, ph, pw, dd, dh, dw, nd, nh, nw,
    COMPUTE: tl.constexpr, WIDE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    """Input position ``(d, h, w)`` of ``(D, H, W)`` sums the gradients of the outputs (of the
    contiguous ``(oD, oH, oW)``) whose index names it, in output raster order: along each axis
    the candidates are the at most ``n*`` windows that contain the position."""
    pid = tl.program_id(0).to(tl.int64) if WIDE else tl.program_id(0)
    i = pid * BLOCK + tl.arange(0, BLOCK)
    inside = i < total
    w = i % W
    t = i // W
    h = t % H
    t = t // H
    d = t % D
    t = t // D
    c = t % C
    n = t // C
    plane = (n * C + c) * oD * oH * oW
    me = (d * H + h) * W + w
    # the first window that can contain the position: ceil((pos + p - (k - 1) * dil) / stride)
    rz = d + pd - (kd - 1) * dd
    ry = h + ph - (kh - 1) * dh
    rx = w + pw - (kw - 1) * dw
    lz = tl.where(rz > 0, (rz + td - 1) // td, 0)
    ly = tl.where(ry > 0, (ry + th - 1) // th, 0)
    lx = tl.where(rx > 0, (rx + tw - 1) // tw, 0)
    acc = tl.full([BLOCK], 0, COMPUTE)
    for a in range(nd):
        oz = lz + a
        ez = d + pd - oz * td
        okz = (oz < oD) & (ez >= 0) & (ez % dd == 0) & (ez // dd < kd)
        for b in range(nh):
            oy = ly + b
            ey = h + ph - oy * th
            oky = okz & (oy < oH) & (ey >= 0) & (ey % dh == 0) & (ey // dh < kh)
            for k in range(nw):
                ox = lx + k
                ex = w + pw - ox * tw
                ok = inside & oky & (ox < oW) & (ex >= 0) & (ex % dw == 0) & (ex // dw < kw)
                at = plane + (oz * oH + oy) * oW + ox
                j = tl.load(idx_ptr + at, mask=ok, other=-1)
                hit = ok & (j == me)
                v = tl.load(g_ptr + at, mask=hit, other=0)
                acc += tl.where(hit, v.to(COMPUTE), 0.0)
    tl.store(out_ptr + i, acc.to(out_ptr.dtype.element_ty), mask=inside)


def _window5(values, fill) -> tuple[int, int, int]:
    return (fill,) * (3 - len(values)) + tuple(int(v) for v in values)


def max_pool(x, kernel, stride, padding, dilation, ceil_mode):
    n, c, *size = x.shape
    window = (tuple(kernel), tuple(stride), tuple(padding), tuple(dilation))
    out_size = shapes.pool_sizes(tuple(size), *window, bool(ceil_mode), "max_pool")
    out = torch.empty((n, c, *out_size), dtype=x.dtype, device=x.device)
    idx = torch.empty((n, c, *out_size), dtype=torch.int64, device=x.device)
    if out.numel():
        rt.launch(
            _max_pool_kernel, out.numel(),
            x, out, idx, out.numel(), c, *rt.sizes3(out_size), *rt.sizes3(size),
            *rt.strides5(x), *_window5(kernel, 1), *_window5(stride, 1), *_window5(padding, 0),
            *_window5(dilation, 1), FLOAT=x.dtype.is_floating_point, CMP=rt.compare_type(x.dtype),
        )  # fmt: skip
    return out, idx


def max_pool_backward(g, indices, input_size, kernel, stride, padding, dilation):
    n, c, *out_size = g.shape
    g, indices = g.contiguous(), indices.contiguous()
    out = torch.empty((n, c, *input_size), dtype=rt.stored(g.dtype), device=g.device)
    k5, s5 = _window5(kernel, 1), _window5(stride, 1)
    d5 = _window5(dilation, 1)
    reach = [(k - 1) * d // s + 1 for k, s, d in zip(k5, s5, d5, strict=True)]
    if out.numel():
        rt.launch(
            _max_pool_backward_kernel, out.numel(),
            g, indices, out, out.numel(), c, *rt.sizes3(input_size), *rt.sizes3(out_size),
            *k5, *s5, *_window5(padding, 0), *d5, *reach,
            COMPUTE=rt.compute_type(g.dtype),
        )  # fmt: skip
    return rt.finish(out, g.dtype)


# ------------------------------------------------------------------------------ max_unpool
def _owner_kernel(
    idx_ptr, owner_ptr, total, length, plane, WIDE: tl.constexpr, BLOCK: tl.constexpr
):
    """``owner[p, j] = max(i : idx[p, i] == j)`` over the inputs ``i`` of each plane ``p``
    (``owner`` holds -1 before); indices outside the plane are skipped."""
    pid = tl.program_id(0).to(tl.int64) if WIDE else tl.program_id(0)
    i = pid * BLOCK + tl.arange(0, BLOCK)
    inside = i < total
    p = i // length
    j = tl.load(idx_ptr + i, mask=inside, other=-1).to(tl.int64)
    ok = inside & (j >= 0) & (j < plane)
    tl.atomic_max(owner_ptr + p * plane + j, (i - p * length).to(tl.int32), mask=ok)


def _max_unpool_kernel(
    x_ptr, owner_ptr, out_ptr, total, length, plane, WIDE: tl.constexpr, BLOCK: tl.constexpr
):
    """``out[p, j] = x[p, owner[p, j]]``, zero where no input names ``j``."""
    pid = tl.program_id(0).to(tl.int64) if WIDE else tl.program_id(0)
    i = pid * BLOCK + tl.arange(0, BLOCK)
    inside = i < total
    p = i // plane
    o = tl.load(owner_ptr + i, mask=inside, other=-1).to(tl.int64)
    v = tl.load(x_ptr + p * length + o, mask=inside & (o >= 0), other=0)
    tl.store(out_ptr + i, v, mask=inside)


def _max_unpool_backward_kernel(
    g_ptr,
    idx_ptr,
    owner_ptr,
    out_ptr,
    total,
    length,
    plane,
    WIDE: tl.constexpr,
    BLOCK: tl.constexpr,
):
    """``out[p, i] = g[p, idx[p, i]]`` if input ``i`` owns its index, else zero."""
    pid = tl.program_id(0).to(tl.int64) if WIDE else tl.program_id(0)
    i = pid * BLOCK + tl.arange(0, BLOCK)
    inside = i < total
    p = i // length
    j = tl.load(idx_ptr + i, mask=inside, other=-1).to(tl.int64)
    ok = inside & (j >= 0) & (j < plane)
    o = tl.load(owner_ptr + p * plane + j, mask=ok, other=-1).to(tl.int64)
    keep = ok & (o == i - p * length)
    v = tl.load(g_ptr + p * plane + j, mask=keep, other=0)
    tl.store(out_ptr + i, v, mask=inside)


def _owners(indices: torch.Tensor, planes: int, length: int, plane: int) -> torch.Tensor:
    owner = torch.full((planes, plane), -1, dtype=torch.int32, device=indices.device)
    if indices.numel():
        rt.launch(_owner_kernel, indices.numel(), indices, owner, indices.numel(), length, plane)
    return owner


def max_unpool(x, indices, out_size, find_repeats):
    n, c, *size = x.shape
    length, plane = math.prod(size), math.prod(out_size)
    xf = x.contiguous().reshape(n * c, length)
    idf = indices.contiguous().reshape(n * c, length)
    check_indices(idf, out_size)
    owner = _owners(idf, n * c, length, plane)
    out = torch.empty((n, c, *out_size), dtype=x.dtype, device=x.device)
    if out.numel():
        rt.launch(_max_unpool_kernel, out.numel(), xf, owner, out, out.numel(), length, plane)
    # the gradient kernel handles repeats itself: the flag says "may repeat", as the torch path
    return out, torch.ones((), dtype=torch.bool, device=x.device)


def max_unpool_backward(g, indices, repeats):
    n, c, *size = indices.shape
    length, plane = math.prod(size), math.prod(g.shape[2:])
    gf = g.contiguous()
    idf = indices.contiguous().reshape(n * c, length)
    owner = _owners(idf, n * c, length, plane)
    out = torch.empty(indices.shape, dtype=g.dtype, device=g.device)
    if out.numel():
        rt.launch(
            _max_unpool_backward_kernel,
            out.numel(),
            gf,
            idf,
            owner,
            out,
            out.numel(),
            length,
            plane,
        )
    return out
