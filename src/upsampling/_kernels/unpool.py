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
_U = np.uint64  # an index known to be >= 0: numba then skips the negative-index wraparound


# ------------------------------------------------------------------------------------ unpooling
@_jit
def _copy_pixels(dst, src):
    """``dst[:] = src`` of 2-D arrays, as loops: numba compiles an array assigned to a slice
    with a formatted shape-check message, seconds per rank (numba issue 9972)."""
    for w in range(dst.shape[0]):
        a, b = dst[w], src[w]
        for c in range(dst.shape[1]):
            a[c] = b[c]


# Unpooling kernels take volumes ``(P, D, H, W, C)``: ``C == 1`` for the planes of an NCHW
# array, ``C > 1`` for the images of a channels_last one (each pixel's channels contiguous).
@_jit
def _unpool_plane(x, out, sd, sh, sw):
    """:func:`unpool_nearest` of one NCHW plane ``(D, H, W)``."""
    D, H, W = x.shape
    for d in range(D):
        for h in range(H):
            row = out[d * sd, h * sh]
            src = x[d, h]
            for w in range(W):
                v = src[w]
                for k in range(sw):
                    row[w * sw + k] = v
            for a in range(1, sh):
                copy = out[d * sd, h * sh + a]
                for i in range(row.shape[0]):
                    copy[i] = row[i]
        first = out[d * sd]
        for b in range(1, sd):
            plane = out[d * sd + b]
            for r in range(plane.shape[0]):
                to, of = plane[r], first[r]
                for i in range(to.shape[0]):
                    to[i] = of[i]


@_jit
def _unpool_image(x, out, sd, sh, sw):
    """:func:`unpool_nearest` of one channels_last image ``(D, H, W, C)``."""
    D, H, W, C = x.shape
    for d in range(D):
        for h in range(H):
            row = out[d * sd, h * sh]
            src = x[d, h]
            for w in range(W):
                pixel = src[w]
                for k in range(sw):
                    dst = row[w * sw + k]
                    for c in range(C):
                        dst[c] = pixel[c]
            for a in range(1, sh):
                _copy_pixels(out[d * sd, h * sh + a], row)
        first = out[d * sd]
        for b in range(1, sd):
            plane = out[d * sd + b]
            for h in range(plane.shape[0]):
                _copy_pixels(plane[h], first[h])


@_jit
def unpool_nearest(start, stop, x, out, sd, sh, sw):
    _, D, H, W, C = x.shape
    shape = (out.shape[1], out.shape[2], out.shape[3])
    for p in range(start, stop):
        if C == 1:
            _unpool_plane(x[p].reshape((D, H, W)), out[p].reshape(shape), sd, sh, sw)
        else:
            _unpool_image(x[p], out[p], sd, sh, sw)


@_jit
def unpool_nearest_backward(start, stop, g, gx, sd, sh, sw):
    """Sum of each block (the gradient of nearest unpooling), in raster order inside the block
    (with channels_last volumes, all channels of a pixel at once: the same order for each)."""
    _, D, H, W, C = gx.shape
    for p in range(start, stop):
        for d in range(D):
            for h in range(H):
                for w in range(W):
                    if C == 1:
                        acc = gx[p, d, h, w, 0]  # zero-filled by the caller
                        for b in range(sd):
                            for a in range(sh):
                                row = g[p, d * sd + b, h * sh + a]
                                for k in range(sw):
                                    acc += row[w * sw + k, 0]
                        gx[p, d, h, w, 0] = acc
                        continue
                    out = gx[p, d, h, w]
                    for b in range(sd):
                        for a in range(sh):
                            row = g[p, d * sd + b, h * sh + a]
                            for k in range(sw):
                                src = row[w * sw + k]
                                for c in range(C):
                                    out[c] += src[c]


@_jit
def unpool_bed_of_nails(start, stop, x, out, sd, sh, sw, od, oh, ow):
    """Write ``x`` at offset ``(od, oh, ow)`` of each block of the zero-filled ``out``."""
    _, D, H, W, C = x.shape
    for p in range(start, stop):
        for d in range(D):
            for h in range(H):
                row = out[p, d * sd + od, h * sh + oh]
                src = x[p, d, h]
                for w in range(W):
                    dst = row[w * sw + ow]
                    pixel = src[w]
                    for c in range(C):
                        dst[c] = pixel[c]


# ---------------------------------------------------------------------------------- max pooling
@_jit
def _gather_row(xp, off, sw, lo, hi, tmp):
    """``tmp[o] = xp[off + o * sw]`` for ``lo <= o < hi`` (unsigned indices: no wraparound
    code, so LLVM vectorises; the caller keeps them in range)."""
    if sw == 2:  # the common stride, constant for the vectoriser
        for o in range(lo, hi):
            tmp[_U(o)] = xp[_U(off + 2 * o)]
    else:
        for o in range(lo, hi):
            tmp[_U(o)] = xp[_U(off + o * sw)]


@_jit
def _wins(v, best):
    """Whether ``v`` replaces the running maximum ``best``: greater, or NaN (so the last NaN in
    window order wins, otherwise the first maximum). Scalars only: LLVM inlines it."""
    return (v > best) | (v != v)


@_jit
def _take_max(src, s0, lo, hi, best, best_i, off, sw):
    """One tap for the windows ``lo <= o < hi`` of an output row: ``src[s0 + o]`` (at input
    position ``off + o * sw``) replaces the running maximum if greater or NaN. Branch-free
    selects over contiguous rows, which LLVM vectorises (a branch per tap mispredicts on most
    data)."""
    for o in range(lo, hi):
        v = src[_U(s0 + o)]
        b = best[_U(o)]
        take = _wins(v, b)
        best[_U(o)] = v if take else b
        best_i[_U(o)] = off + o * sw if take else best_i[_U(o)]


@_jit
def max_pool(
    start, stop, x, out, idx, first_d, count_d, first_h, count_h, first_w, taps, sw, dd, dh, lowest
):
    """PyTorch's max pooling: NaN wins (the last NaN in window order), otherwise the first
    maximum; ``idx`` is the flat position in the input plane. A window that covers no input
    element gives ``lowest`` and the index PyTorch gives it (its first tap's position, clamped
    as below).

    Along depth and height, output ``o``'s window has ``count[o]`` taps inside the input, the
    first at ``first[o]`` (see :func:`upsampling.unpool._taps`); along width ``first_w[o]`` is
    that first position and row ``t`` of ``taps`` is ``(offset, lo, hi)``: the ``t``-th live tap
    sits at ``o * sw + offset`` and is inside the input for outputs ``lo <= o < hi``. A whole
    output row is computed at once, tap by tap in window (raster) order, in row buffers.
    """
    _, D, H, W = x.shape
    _, oD, oH, oW = out.shape
    xf = x.reshape(x.shape[0], D * H * W)
    best = np.empty(oW, x.dtype)
    best_i = np.empty(oW, np.int64)
    tmp = np.empty(oW, x.dtype)
    for p in range(start, stop):
        xp = xf[p]
        for od in range(oD):
            d0 = first_d[od]
            for oh in range(oH):
                h0 = first_h[oh]
                row0 = (d0 * H + h0) * W
                for o in range(oW):
                    best[_U(o)] = lowest
                    best_i[_U(o)] = row0 + first_w[_U(o)]
                for a in range(count_d[od]):
                    for b in range(count_h[oh]):
                        row = ((d0 + a * dd) * H + h0 + b * dh) * W
                        for t in range(taps.shape[0]):
                            off, lo, hi = row + taps[t, 0], taps[t, 1], taps[t, 2]
                            if sw == 1:  # the row itself is contiguous
                                _take_max(xp, off, lo, hi, best, best_i, off, 1)
                            else:
                                _gather_row(xp, off, sw, lo, hi, tmp)
                                _take_max(tmp, 0, lo, hi, best, best_i, off, sw)
                values = out[p, od, oh]
                where = idx[p, od, oh]
                for o in range(oW):
                    values[_U(o)] = best[_U(o)]
                    where[_U(o)] = best_i[_U(o)]


@_jit
def max_pool_backward(start, stop, g, idx, gx, zero):
    """``gx[p, idx[p, o]] += g[p, o]`` over the outputs ``o`` of a plane in raster order (one
    thread per plane: no race, and PyTorch's CPU order), on the plane zeroed here (it stays in
    cache for the adds). Out-of-plane indices (windows that saw no input) carry no gradient."""
    n = gx.shape[1]
    for p in range(start, stop):
        gp = g[p]
        ip = idx[p]
        gxp = gx[p]
        gxp[:] = zero
        for o in range(gp.shape[0]):
            i = ip[_U(o)]
            if 0 <= i < n:
                gxp[_U(i)] += gp[_U(o)]


# Channels_last kernels take volumes whose channels are innermost and contiguous (``(P, D, H, W,
# C)`` for max pooling, ``(P, S, C)`` with ``S`` the flat spatial position otherwise; ``P``
# counts images) and work on all channels of a pixel at once, giving each channel's plane the
# results of the NCHW kernels above bit for bit (the same taps, the same order per channel).
# One loop nest with plain indexing: no per-pixel array views or array-taking helpers, whose
# reference counting costs more than the arithmetic of one pixel's channels.
@_jit
def max_pool_last(
    p0, p1, r0, r1, x, out, idx, first_d, count_d, first_h, count_h, first_w, taps, sw, dd, dh, lo
):
    """:func:`max_pool` of channels_last volumes, images ``p0 <= p < p1`` and output rows
    ``r0 <= r < r1`` (``r = od * oH + oh``). Each output pixel starts at ``lo`` (the lowest
    value) with the index of its first tap, then takes its live taps in window order, all
    channels per tap (the arguments between ``idx`` and ``lo`` are :func:`max_pool`'s)."""
    _, _, H, W, C = x.shape
    _, _, oH, oW, _ = out.shape
    for p in range(p0, p1):
        for r in range(r0, r1):
            od = r // oH
            oh = r - od * oH
            d0 = first_d[od]
            h0 = first_h[oh]
            for ow in range(oW):
                start = (d0 * H + h0) * W + first_w[ow]
                for c in range(C):
                    out[p, od, oh, ow, c] = lo
                    idx[p, od, oh, ow, c] = start
                for a in range(count_d[od]):
                    d = d0 + a * dd
                    for b in range(count_h[oh]):
                        h = h0 + b * dh
                        for t in range(taps.shape[0]):
                            if not taps[t, 1] <= ow < taps[t, 2]:
                                continue
                            w = ow * sw + taps[t, 0]
                            pos = (d * H + h) * W + w
                            for c in range(C):
                                v = x[p, d, h, w, c]
                                b = out[p, od, oh, ow, c]
                                take = _wins(v, b)  # branch-free selects: vectorised
                                out[p, od, oh, ow, c] = v if take else b
                                idx[p, od, oh, ow, c] = pos if take else idx[p, od, oh, ow, c]


@_jit
def max_pool_backward_last(start, stop, g, idx, gx, zero):
    """:func:`max_pool_backward` of channels_last volumes ``(P, S, C)``: per image, zeroed
    here, ``gx[p, idx[p, o, c], c] += g[p, o, c]`` over the outputs ``o`` in raster order (each
    channel's adds in the NCHW kernel's order)."""
    _, n, C = gx.shape
    for p in range(start, stop):
        for s in range(n):
            for c in range(C):
                gx[p, s, c] = zero
        for o in range(g.shape[1]):
            for c in range(C):
                i = idx[p, o, c]
                if _U(i) < _U(n):  # 0 <= i < n, as one unsigned compare
                    gx[_U(p), _U(i), _U(c)] += g[_U(p), _U(o), _U(c)]


# -------------------------------------------------------------------------------- max unpooling
@_jit
def max_unpool(start, stop, x, idx, out, bad, twice):
    """Zero each plane of ``out``, then write ``x[p, i]`` at ``out[p, idx[p, i]]``, later inputs
    winning (zeroing plane by plane keeps the plane in cache for the scatter).

    A plane's indices are all checked before any of them is written: a plane holding an index
    outside ``[0, out.shape[1])`` gets no scatter and ``bad[p]`` receives the position of its
    first offending index (else -1), for the caller to raise on. (The check is a branch-free
    pass that LLVM vectorises; only a plane that fails it is searched for the position.)

    ``twice``, if not empty, receives per plane whether two inputs named one output element
    (``seen[j] == p``: element ``j`` of plane ``p`` already written), for the gradient: without
    such repeats it is a plain gather.
    """
    n = out.shape[1]
    seen = np.full(n if twice.shape[0] else 0, -1, np.int64)
    for p in range(start, stop):
        ip = idx[p]
        m = ip.shape[0]
        inside = True
        for i in range(m):
            j = ip[_U(i)]
            inside &= (j >= 0) & (j < n)
        first_bad = -1
        if not inside:
            for i in range(m):
                if not 0 <= ip[_U(i)] < n:
                    first_bad = i
                    break
        bad[p] = first_bad
        op = out[p]
        op[:] = 0
        if first_bad >= 0:
            continue
        xp = x[p]
        if twice.shape[0]:
            repeated = False
            for i in range(m):
                j = _U(ip[_U(i)])
                repeated |= seen[j] == p
                seen[j] = p
                op[j] = xp[_U(i)]
            twice[p] = repeated
        else:
            for i in range(m):
                op[_U(ip[_U(i)])] = xp[_U(i)]


@_jit
def max_unpool_backward(start, stop, g, idx, gx, zero):
    """``gx[p, i] = g[p, idx[p, i]]`` where input ``i`` is the one whose value the forward kept
    (the last to name that output element), ``zero`` elsewhere; every element of ``gx`` is
    written. One pass over the indices from the last: the first visit of an output element is
    its owner's, and ``seen[j] == p`` marks element ``j`` of plane ``p`` as visited (no reset
    between planes). The forward validated the indices; one named directly outside the plane
    gets ``zero`` here rather than a read or write out of bounds."""
    n = g.shape[1]
    seen = np.full(n, -1, np.int64)
    for p in range(start, stop):
        ip = idx[p]
        gp = g[p]
        gxp = gx[p]
        m = ip.shape[0]
        for k in range(m):
            i = _U(m - 1 - k)
            j = ip[i]
            if 0 <= j < n and seen[_U(j)] != p:
                seen[_U(j)] = p
                gxp[i] = gp[_U(j)]
            else:
                gxp[i] = zero


@_jit
def max_unpool_last(start, stop, x, idx, out, bad, twice):
    """:func:`max_unpool` of channels_last volumes ``(P, S, C)``, ``P`` images. An image's
    indices are all checked before any is written: one holding an index outside
    ``[0, out.shape[1])`` gets no scatter (only zeros) and ``bad[p * C + c]`` receives, for each
    channel ``c`` (the NCHW plane ``p * C + c``), the position of its first offending index
    (else -1). ``twice``, if not empty, receives per image whether two inputs of one channel
    named one output element (``seen[j, c]``).

    The image is zeroed lazily, just ahead of the writes: before input pixel ``i`` is scattered,
    the output pixels up to the largest index it holds are zeroed (``out[p, :z]`` is zeroed and
    nothing at or past ``z`` written yet), so with pooled indices the zeros are still in cache
    when they are overwritten; the rest is zeroed at the end."""
    _, n, C = out.shape
    m = idx.shape[1]
    flags = twice.shape[0] > 0
    seen = np.zeros((n if flags else 0, C), np.bool_)
    for p in range(start, stop):
        inside = True
        for i in range(m):
            for c in range(C):
                j = idx[p, i, c]
                inside &= (j >= 0) & (j < n)
        for c in range(C):
            bad[p * C + c] = -1
        if not inside:
            for s in range(n):
                for c in range(C):
                    out[p, s, c] = 0
            for i in range(m):
                for c in range(C):
                    if bad[p * C + c] < 0 and not 0 <= idx[p, i, c] < n:
                        bad[p * C + c] = i
            continue
        repeated = False
        z = 0
        for i in range(m):
            top = 0
            for c in range(C):
                top = max(top, idx[p, i, c])
            z0, z = z, max(z, top + 1)
            for s in range(z0, z):
                for c in range(C):
                    out[_U(p), _U(s), _U(c)] = 0
            if flags:
                for s in range(z0, z):
                    for c in range(C):
                        seen[_U(s), _U(c)] = False
                for c in range(C):
                    j = _U(idx[p, i, c])
                    repeated |= seen[j, _U(c)]
                    seen[j, _U(c)] = True
                    out[_U(p), j, _U(c)] = x[_U(p), _U(i), _U(c)]
            else:
                for c in range(C):
                    out[_U(p), _U(idx[p, i, c]), _U(c)] = x[_U(p), _U(i), _U(c)]
        for s in range(z, n):
            for c in range(C):
                out[_U(p), _U(s), _U(c)] = 0
        if flags:
            twice[p] = repeated


@_jit
def max_unpool_backward_last(start, stop, g, idx, gx, zero):
    """:func:`max_unpool_backward` of channels_last volumes ``(P, S, C)``: one pass over each
    image's indices from the last, all channels of an input at once; ``seen[j, c]`` (cleared per
    image) marks output element ``j`` of channel ``c`` as owned."""
    _, n, C = g.shape
    m = idx.shape[1]
    seen = np.zeros((n, C), np.bool_)
    for p in range(start, stop):
        for s in range(n):
            for c in range(C):
                seen[s, c] = False
        for k in range(m):
            i = m - 1 - k
            for c in range(C):
                j = _U(idx[p, i, c])  # a negative index wraps past n
                if j < _U(n) and not seen[j, _U(c)]:
                    seen[j, _U(c)] = True
                    gx[_U(p), _U(i), _U(c)] = g[_U(p), j, _U(c)]
                else:
                    gx[_U(p), _U(i), _U(c)] = zero
