"""Numba kernels for integer images computed in floating point: OpenCV's bicubic on 8-bit
images in float32 (the arithmetic of its IPP back end, :mod:`upsampling._integer`), the
PyTorch convention's 8- and 16-bit resizes in float32 (each pass rounded half up, as the float
path of :func:`upsampling.interpolate.interpolate_array` does), and
Pillow's 16-bit modes in float64 (:func:`float_resize`: each pass summed in float64, rounded
half away from zero and saturated to ``[0, 65535]``).

Images arrive as ``(B, H, W * C)`` rows of interleaved channels and leave in the same layout
and dtype, as in :mod:`upsampling._kernels.integer`. Each axis has a table of ``taps`` source
pixels per output (``index``, edge pixels repeated) and float32 weights; every sum is taken in
tap order, ``((x0 * w0 + x1 * w1) + x2 * w2) + x3 * w3`` in float32 (no fused multiply-adds),
and the result rounded half to even and saturated. :func:`float32_resize` resamples each input
row across once per task into a ring of ``taps + 1`` float32 rows, then down that ring (the
cheaper order when the height grows); :func:`float32_resize_v_first` goes down the columns
into one float32 row of the input's width, then across (when it shrinks). Tasks are bands of
``band`` output rows of one image, as there.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .integer import _segment, split_phases

_jit = nb.njit(cache=True, nogil=True, boundscheck=False)
# kernels called only from other kernels: no Python entry point to compile (so calling one
# from Python crashes the interpreter: tests call the _jit kernels)
_inner = nb.njit(cache=True, nogil=True, boundscheck=False, no_cpython_wrapper=True)


@_jit
def _taps_across(row, out, index, weight, n_c, j0, j1):
    """Outputs ``j0 <= j < j1`` of float32 row ``row`` resampled across, tap by tap."""
    taps = index.shape[1]
    if n_c == 3 and taps == 4:
        for j in range(j0, j1):
            p0, p1, p2, p3 = 3 * index[j, 0], 3 * index[j, 1], 3 * index[j, 2], 3 * index[j, 3]
            w0, w1, w2, w3 = weight[j, 0], weight[j, 1], weight[j, 2], weight[j, 3]
            for c in range(3):
                a = row[p0 + c] * w0 + row[p1 + c] * w1
                a = a + row[p2 + c] * w2
                out[3 * j + c] = a + row[p3 + c] * w3
        return
    if n_c == 3:  # RGB: the three channels' sums side by side, each in tap order
        for j in range(j0, j1):
            p, w = 3 * index[j, 0], weight[j, 0]
            a0, a1, a2 = row[p] * w, row[p + 1] * w, row[p + 2] * w
            for k in range(1, taps):
                p, w = 3 * index[j, k], weight[j, k]
                a0, a1, a2 = a0 + row[p] * w, a1 + row[p + 1] * w, a2 + row[p + 2] * w
            out[3 * j], out[3 * j + 1], out[3 * j + 2] = a0, a1, a2
        return
    for j in range(j0, j1):
        for c in range(n_c):
            a = row[index[j, 0] * n_c + c] * weight[j, 0]
            for k in range(1, taps):
                a = a + row[index[j, k] * n_c + c] * weight[j, k]
            out[j * n_c + c] = a


@_jit
def _across(row, out, index, weight, n_c, first, reg, wexp, acc, split):
    """Float32 row ``row`` resampled across into float32 ``out``: the periodic run
    ``reg = (m0, period, stride, repeats)`` (windows ``first[m0 + r] + t * stride``, weights
    ``wexp``, as in :func:`upsampling._kernels.integer._regular_h`) phase by phase, each tap a
    contiguous multiply-add over the run (the same sums in the same order), and the other
    outputs tap by tap."""
    m0, period, stride, repeats = reg[0], reg[1], reg[2], reg[3]
    n_out = index.shape[0]
    if repeats == 0:
        _taps_across(row, out, index, weight, n_c, 0, n_out)
        return
    _taps_across(row, out, index, weight, n_c, 0, m0)
    _taps_across(row, out, index, weight, n_c, m0 + period * repeats, n_out)
    if stride > 1:
        split_phases(row, split, stride, n_c)
    n = repeats * n_c
    step = period * n_c
    for r in range(period):
        if wexp.shape[1] == 2 and wexp.shape[2] == 1:  # bilinear: both taps in one sweep
            s0 = _segment(row, split, first[m0 + r], n_c, stride, n)
            s1 = _segment(row, split, first[m0 + r] + 1, n_c, stride, n)
            w0, w1 = wexp[r, 0, 0], wexp[r, 1, 0]
            for e in range(n):
                acc[e] = s0[e] * w0 + s1[e] * w1
        elif wexp.shape[1] == 4 and wexp.shape[2] == 1:  # bicubic: the four taps in one sweep
            s0 = _segment(row, split, first[m0 + r], n_c, stride, n)
            s1 = _segment(row, split, first[m0 + r] + 1, n_c, stride, n)
            s2 = _segment(row, split, first[m0 + r] + 2, n_c, stride, n)
            s3 = _segment(row, split, first[m0 + r] + 3, n_c, stride, n)
            w0, w1, w2, w3 = wexp[r, 0, 0], wexp[r, 1, 0], wexp[r, 2, 0], wexp[r, 3, 0]
            for e in range(n):
                acc[e] = _sum4(s0[e], s1[e], s2[e], s3[e], w0, w1, w2, w3)
        else:
            for k in range(wexp.shape[1]):
                seg = _segment(row, split, first[m0 + r] + k, n_c, stride, n)
                w = wexp[r, k]
                if k == 0 and w.shape[0] == 1:
                    w0 = w[0]
                    for e in range(n):
                        acc[e] = seg[e] * w0
                elif k == 0:
                    for e in range(n):
                        acc[e] = seg[e] * w[e]
                elif w.shape[0] == 1:
                    w0 = w[0]
                    for e in range(n):
                        acc[e] = acc[e] + seg[e] * w0
                else:
                    for e in range(n):
                        acc[e] = acc[e] + seg[e] * w[e]
        o = (m0 + r) * n_c
        if n_c == 3:
            for t in range(repeats):
                out[o + t * step] = acc[3 * t]
                out[o + t * step + 1] = acc[3 * t + 1]
                out[o + t * step + 2] = acc[3 * t + 2]
        else:
            for t in range(repeats):
                for c in range(n_c):
                    out[o + t * step + c] = acc[t * n_c + c]


@_inner
def _round(v, top):
    """Float32 ``v`` rounded half to even and saturated to ``[0, top]``."""
    return min(max(np.rint(v), np.float32(0)), np.float32(top))


@_inner
def _round_up(v, top):
    """Float32 ``v`` rounded half up (``floor(v + 0.5)``) and saturated to ``[0, top]``:
    PyTorch's integer rounding, after each pass."""
    return min(max(np.floor(v + np.float32(0.5)), np.float32(0)), np.float32(top))


@_inner
def _down(rows, out, index, weight, m, top):
    """Output row ``m`` from rows ``rows`` (row ``y`` at ``rows[y % len(rows)]``: a ring, or
    the whole input), rounded to ``[0, top]``, or the float32 sums where ``top == 0``."""
    ring = rows.shape[0]
    n = out.shape[0]
    if index.shape[1] == 4:
        r0, r1 = rows[index[m, 0] % ring], rows[index[m, 1] % ring]
        r2, r3 = rows[index[m, 2] % ring], rows[index[m, 3] % ring]
        w0, w1, w2, w3 = weight[m, 0], weight[m, 1], weight[m, 2], weight[m, 3]
        if top == 0:
            for e in range(n):
                out[e] = _sum4(r0[e], r1[e], r2[e], r3[e], w0, w1, w2, w3)
        else:
            for e in range(n):
                out[e] = _round(_sum4(r0[e], r1[e], r2[e], r3[e], w0, w1, w2, w3), top)
        return
    if top == 0:  # float32 sums: tap by tap over the whole row, in tap order
        r, w = rows[index[m, 0] % ring], weight[m, 0]
        for e in range(n):
            out[e] = np.float32(r[e]) * w
        for k in range(1, index.shape[1]):
            r, w = rows[index[m, k] % ring], weight[m, k]
            for e in range(n):
                out[e] = out[e] + np.float32(r[e]) * w
        return
    for e in range(n):
        a = np.float32(rows[index[m, 0] % ring, e]) * weight[m, 0]
        for k in range(1, index.shape[1]):
            a = a + np.float32(rows[index[m, k] % ring, e]) * weight[m, k]
        out[e] = _round(a, top)


@_inner
def _sum4(x0, x1, x2, x3, w0, w1, w2, w3):
    """``((x0 * w0 + x1 * w1) + x2 * w2) + x3 * w3`` in float32."""
    a = np.float32(x0) * w0 + np.float32(x1) * w1
    a = a + np.float32(x2) * w2
    return a + np.float32(x3) * w3


@_inner
def _row_scratch(src, n_c, reg):
    """A float32 input row, the periodic run's accumulators and the row split into ``stride``
    phases (:func:`_across`'s scratch)."""
    row = np.empty(src.shape[2], np.float32)
    acc = np.empty(max(reg[3] * n_c, 1), np.float32)
    split = np.empty(
        (max(reg[2], 1), (src.shape[2] // n_c // max(reg[2], 1) + 1) * n_c), np.float32
    )
    return row, acc, split


@_jit
def float32_resize(start, stop, src, dst, n_c, xi, xw, first, reg, wexp, yi, yw, top, torch, band):
    """``src`` ``(B, H, W * C)`` into ``dst`` ``(B, OH, OW * C)``: across with ``(xi, xw)``
    (its periodic run ``first``, ``reg``, ``wexp``, see :func:`_across`) into the ring, then
    down with ``(yi, yw)``; results rounded and saturated to ``[0, top]``: half to even once
    (OpenCV's, ``torch`` None: numba then compiles no other rounding), or half up after each
    pass (PyTorch's, ``torch`` an integer). Tasks ``start <= t < stop``
    (``t = b * bands + band``)."""
    o_h = dst.shape[1]
    bands = (o_h + band - 1) // band
    ring = yi.shape[1] + 1
    cache = np.empty((ring, dst.shape[2]), np.float32)
    held = np.empty(ring, np.int64)
    row, acc, split = _row_scratch(src, n_c, reg)
    sums = np.empty(dst.shape[2] if torch is not None else 0, np.float32)
    for t in range(start, stop):
        b = t // bands
        r0 = (t % bands) * band
        held[:] = -1
        for m in range(r0, min(r0 + band, o_h)):
            for k in range(yi.shape[1]):
                y = yi[m, k]
                if held[y % ring] != y:
                    line = src[b, y]
                    for e in range(line.shape[0]):
                        row[e] = np.float32(line[e])
                    args = (xi, xw, n_c, first, reg, wexp, acc, split)
                    across = cache[y % ring]
                    _across(row, across, *args)
                    if torch is not None:
                        for e in range(across.shape[0]):
                            across[e] = _round_up(across[e], top)
                    held[y % ring] = y
            if torch is None:
                _down(cache, dst[b, m], yi, yw, m, top)
            else:
                _down(cache, sums, yi, yw, m, 0)
                out = dst[b, m]
                for e in range(out.shape[0]):
                    out[e] = _round_up(sums[e], top)


@_jit
def float32_resize_v_first(start, stop, src, dst, n_c, xi, xw, first, reg, wexp, yi, yw, top, band):
    """:func:`float32_resize` with the vertical pass first: each output row down the columns
    of ``src`` into a float32 row, across it, then rounded."""
    o_h = dst.shape[1]
    bands = (o_h + band - 1) // band
    row, acc, split = _row_scratch(src, n_c, reg)
    line = np.empty(dst.shape[2], np.float32)
    for t in range(start, stop):
        b = t // bands
        r0 = (t % bands) * band
        for m in range(r0, min(r0 + band, o_h)):
            _down(src[b], row, yi, yw, m, 0)
            _across(row, line, xi, xw, n_c, first, reg, wexp, acc, split)
            out = dst[b, m]
            for e in range(out.shape[0]):
                out[e] = _round(line[e], top)


@_inner
def _round16(s):
    """Pillow's ``ROUND_UP`` (half away from zero), saturated to ``[0, 65535]``."""
    v = np.floor(s + 0.5) if s >= 0.0 else -np.floor(0.5 - s)
    return 0.0 if v < 0.0 else (65535.0 if v > 65535.0 else v)


@_inner
def _float_h(src, dst, first, weight, n_c):
    """``integer._window_h`` in float64, rounded to 16 bits."""
    taps = weight.shape[1]
    for j in range(first.shape[0]):
        for c in range(n_c):
            p = first[j] * n_c + c
            acc = 0.0
            for k in range(taps):
                acc += src[p + k * n_c] * weight[j, k]
            dst[j * n_c + c] = _round16(acc)


@_inner
def _float_v(rows, out, index, weight, count, m, acc):
    n = out.shape[0]
    ring = rows.shape[0]
    acc[:n] = 0.0
    for k in range(count[m]):
        w = weight[m, k]
        r = rows[index[m, k] % ring]
        for e in range(n):
            acc[e] += r[e] * w
    for e in range(n):
        out[e] = _round16(acc[e])


@_jit
def float_resize(start, stop, src, dst, n_c, xf, xw, yi, yw, yn, v_first, band):
    """:func:`upsampling._kernels.integer.fixed_resize` with float64 weights and sums, each
    pass rounded half away from zero and saturated to 16 bits (Pillow's ``I;16``)."""
    n_wc = src.shape[2]
    o_h = dst.shape[1]
    o_wc = dst.shape[2]
    bands = (o_h + band - 1) // band
    acc = np.empty(max(n_wc, o_wc), np.float64)
    row = np.empty((1, n_wc), np.float64)
    ring = yi.shape[1] + 1
    cache = np.empty((ring, o_wc), np.float64)
    held = np.empty(ring, np.int64)
    for t in range(start, stop):
        b = t // bands
        r0 = (t % bands) * band
        r1 = min(r0 + band, o_h)
        if v_first:
            for m in range(r0, r1):
                _float_v(src[b], row[0], yi, yw, yn, m, acc)
                _float_h(row[0], dst[b, m], xf, xw, n_c)
            continue
        held[:] = -1
        for m in range(r0, r1):
            for k in range(yn[m]):
                y = yi[m, k]
                if held[y % ring] != y:
                    _float_h(src[b, y], cache[y % ring], xf, xw, n_c)
                    held[y % ring] = y
            _float_v(cache, dst[b, m], yi, yw, yn, m, acc)
