"""Numba kernels for unpooling, max pooling and max unpooling, forward and backward side by side.

Every kernel sees its arrays as ``(planes, D, H, W)``: 1-D and 2-D problems arrive with leading
spatial dims of size one, so each rule is written once. A kernel handles the planes
``start <= p < stop`` and nothing else, so :func:`upsampling._backend.run_planes` can hand plane
ranges to threads; within a plane the order of work is fixed, which makes every result
(ties, "the later index wins", gradient sums) the same on every run and every thread count.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_jit = nb.njit(cache=True, nogil=True, boundscheck=False)


# ------------------------------------------------------------------------------------ unpooling
@_jit
def unpool_nearest(start, stop, x, out, sd, sh, sw):
    _, D, H, W = x.shape
    for p in range(start, stop):
        for d in range(D):
            for h in range(H):
                row = out[p, d * sd, h * sh]
                src = x[p, d, h]
                for w in range(W):
                    v = src[w]
                    for k in range(sw):
                        row[w * sw + k] = v
                for a in range(1, sh):
                    out[p, d * sd, h * sh + a, :] = row
            for b in range(1, sd):
                out[p, d * sd + b] = out[p, d * sd]


@_jit
def unpool_nearest_backward(start, stop, g, gx, sd, sh, sw):
    """Sum of each block (the gradient of nearest unpooling), in raster order inside the block."""
    _, D, H, W = gx.shape
    for p in range(start, stop):
        for d in range(D):
            for h in range(H):
                for w in range(W):
                    acc = gx[p, d, h, w]  # zero-filled by the caller
                    for b in range(sd):
                        for a in range(sh):
                            row = g[p, d * sd + b, h * sh + a]
                            for k in range(sw):
                                acc += row[w * sw + k]
                    gx[p, d, h, w] = acc


@_jit
def unpool_bed_of_nails(start, stop, x, out, sd, sh, sw, od, oh, ow):
    """Write ``x`` at offset ``(od, oh, ow)`` of each block of the zero-filled ``out``."""
    _, D, H, W = x.shape
    for p in range(start, stop):
        for d in range(D):
            for h in range(H):
                row = out[p, d * sd + od, h * sh + oh]
                src = x[p, d, h]
                for w in range(W):
                    row[w * sw + ow] = src[w]


# ---------------------------------------------------------------------------------- max pooling
@_jit
def max_pool(start, stop, x, out, idx, kernel, stride, padding, dilation, lowest):
    """PyTorch's max pooling: NaN wins (the last NaN in window order), otherwise the first
    maximum; ``idx`` is the flat position in the input plane. A window that covers no input
    element gives ``lowest`` and the index PyTorch gives it."""
    _, D, H, W = x.shape
    _, oD, oH, oW = out.shape
    kd, kh, kw = kernel
    sd, sh, sw = stride
    pd, ph, pw = padding
    dd, dh, dw = dilation
    for p in range(start, stop):
        for od in range(oD):
            d0 = od * sd - pd
            d1 = min(d0 + (kd - 1) * dd + 1, D)
            if d0 < 0:  # the first tap at or past 0 (a loop would take padding steps)
                d0 += (-d0 + dd - 1) // dd * dd
            for oh in range(oH):
                h0 = oh * sh - ph
                h1 = min(h0 + (kh - 1) * dh + 1, H)
                if h0 < 0:  # the first tap at or past 0 (a loop would take padding steps)
                    h0 += (-h0 + dh - 1) // dh * dh
                for ow in range(oW):
                    w0 = ow * sw - pw
                    w1 = min(w0 + (kw - 1) * dw + 1, W)
                    if w0 < 0:  # the first tap at or past 0 (a loop would take padding steps)
                        w0 += (-w0 + dw - 1) // dw * dw
                    best = lowest
                    best_i = (d0 * H + h0) * W + w0
                    for d in range(d0, d1, dd):
                        for h in range(h0, h1, dh):
                            base = (d * H + h) * W
                            for w in range(w0, w1, dw):
                                v = x[p, d, h, w]
                                if v > best or v != v:
                                    best = v
                                    best_i = base + w
                    out[p, od, oh, ow] = best
                    idx[p, od, oh, ow] = best_i


@_jit
def max_pool_backward(start, stop, g, idx, gx):
    """``gx[p, idx[p, o]] += g[p, o]`` over the outputs ``o`` of a plane in raster order (one
    thread per plane: no race, and PyTorch's CPU order). Out-of-plane indices (windows that saw
    no input) carry no gradient."""
    n = gx.shape[1]
    for p in range(start, stop):
        gp = g[p]
        ip = idx[p]
        for o in range(gp.shape[0]):
            i = ip[o]
            if 0 <= i < n:
                gx[p, i] += gp[o]


# -------------------------------------------------------------------------------- max unpooling
@_jit
def max_unpool(start, stop, x, idx, out, bad):
    """Zero each plane of ``out``, then write ``x[p, i]`` at ``out[p, idx[p, i]]``, later inputs
    winning (zeroing plane by plane keeps the plane in cache for the scatter).

    A plane's indices are all checked before any of them is written: a plane holding an index
    outside ``[0, out.shape[1])`` gets no scatter and ``bad[p]`` receives the position of its
    first offending index (else -1), for the caller to raise on.
    """
    n = out.shape[1]
    for p in range(start, stop):
        ip = idx[p]
        bad[p] = -1
        for i in range(ip.shape[0]):
            if not 0 <= ip[i] < n:
                bad[p] = i
                break
        op = out[p]
        op[:] = 0
        if bad[p] >= 0:
            continue
        xp = x[p]
        for i in range(ip.shape[0]):
            op[ip[i]] = xp[i]


@_jit
def max_unpool_backward(start, stop, g, idx, gx):
    """``gx[p, i] = g[p, idx[p, i]]`` where input ``i`` is the one whose value the forward kept
    (the last to name that output element); ``gx`` is zero-filled by the caller and the indices
    were validated by the forward."""
    owner = np.full(g.shape[1], -1, np.int64)
    for p in range(start, stop):
        ip = idx[p]
        gp = g[p]
        for i in range(ip.shape[0]):
            owner[ip[i]] = i
        for i in range(ip.shape[0]):
            j = ip[i]
            if owner[j] == i:
                gx[p, i] = gp[j]
        for i in range(ip.shape[0]):
            owner[ip[i]] = -1
