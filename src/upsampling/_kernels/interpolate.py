"""Numba kernels for interpolation: per-axis weighted sums and the nearest-pixel gather.

Arrays arrive as ``(planes, D, H, W)``. Each spatial axis has a table (``index``, ``weight``,
``count``, see :class:`upsampling.filters.Table`): output ``m`` along that axis is
``sum(weight[m, k] * x[index[m, k]] for k < count[m])``. :func:`resample` applies the tables of
the active axes one after another, plane by plane, through two scratch buffers small enough to
stay in cache, so a 2-D resize costs two light passes instead of one pass over
``taps_h * taps_w`` inputs. The backward of a resize is the same kernel on the transposed tables
(each input sums the outputs that read it, in output order): a gather, never a scatter, so its
result is the same bit for bit on every run and every thread count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

_jit = nb.njit(cache=True, nogil=True, boundscheck=False)
# helpers called per row and tap: inlined, so their loops vectorise in place without a call
_inline = nb.njit(cache=True, nogil=True, boundscheck=False, inline="always")


# -------------------------------------------------------------- how a table is laid out for rows
@dataclass(frozen=True, eq=False)
class Layout:
    """A table laid out for a kernel that resamples contiguous rows without gathering.

    Every row that can reads a window of ``width`` consecutive pixels (weights of zero where
    the table has no tap). Rows ``m = start + r + t * period`` (``0 <= r < period``,
    ``0 <= t < repeats``) have windows ``base[r] + t * stride`` and weights
    ``phase_weight[r, :, t]``: strided loads, which vectorise (any rational scale has such a
    run). Rows ``band`` have windows ``band_window`` and weights ``band_weight``; rows ``rest``
    (no window fits) go through the table itself.
    """

    start: int
    period: int
    stride: int
    repeats: int
    base: np.ndarray
    phase_weight: np.ndarray
    band: np.ndarray
    band_window: np.ndarray
    band_weight: np.ndarray
    rest: np.ndarray


def _longest_run(mask: np.ndarray) -> tuple[int, int]:
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    if len(edges) == 0:
        return 0, 0
    runs = edges.reshape(-1, 2)
    lo, hi = runs[np.argmax(runs[:, 1] - runs[:, 0])]
    return int(lo), int(hi)


def _periodic_windows(t, first: np.ndarray, last: np.ndarray, slack: int):
    """The best ``(width, period, stride, window)`` such that interior rows ``m`` read inside
    ``window[m] .. window[m] + width - 1`` with ``window[m + period] = window[m] + stride``, or
    ``None``. Taps of any rational resize repeat with the reduced output period; others (say
    ``align_corners``) do with ``slack`` pixels to spare."""
    m = t.out_size
    n = t.in_size
    interior = np.flatnonzero((t.count > 0) & (first > 0) & (last < n - 1))
    if len(interior) < 8 or interior[-1] == interior[0]:
        return None
    slope = (first[interior[-1]] - first[interior[0]]) / (interior[-1] - interior[0])
    start = interior[0]
    reference = int((last - first).max()) + 1
    big = np.iinfo(np.int64).max // 4
    best = None
    span = interior[-1] - interior[0]
    for period in range(1, min(64, len(interior) // 4) + 1):
        stride = round(period * slope)
        if abs(period * slope - stride) * span > 2 * period:
            continue  # the windows would drift by more than a pixel over the run
        rows = np.arange(start, m)
        keep = np.zeros(m, bool)
        keep[interior] = True
        pad = -len(rows) % period
        shift = ((rows - start) // period) * stride
        lo = np.where(keep[rows], first[rows] - shift, big)
        hi = np.where(keep[rows], last[rows] - shift, -big)
        base = np.concatenate((lo, np.full(pad, big))).reshape(-1, period).min(axis=0)
        top = np.concatenate((hi, np.full(pad, -big))).reshape(-1, period).max(axis=0)
        if np.any(top < base):
            continue
        width = int((top - base).max()) + 1
        if width <= reference + slack and (best is None or width < best[0]):
            all_rows = np.arange(m) - start
            window = base[all_rows % period] + (all_rows // period) * stride
            best = (width, period, stride, window)
            if width == reference:
                break
    return best


def layout(t, dtype: np.dtype, slack: int) -> Layout:
    m, taps = t.index.shape
    n = t.in_size
    used = np.arange(taps)[None, :] < t.count[:, None]
    first = t.index[:, 0]
    last = t.index[np.arange(m), np.maximum(t.count - 1, 0)]
    periodic = _periodic_windows(t, first, last, slack)
    if periodic is None:
        width = int(min(n, max(taps, (last - first).max(initial=0) + 1)))
        period = stride = 0
        window = first
    else:
        width, period, stride, window = periodic
    # rows whose taps fit their periodic window form the run; others try a window of their own
    fits = (t.count > 0) & (first >= window) & (last < window + width)
    fits &= (window >= 0) & (window + width <= n)
    lo, hi = _longest_run(fits) if period else (0, 0)
    repeats = (hi - lo) // period if period else 0
    if repeats < 4:
        repeats = 0
    rows = (lo + np.arange(max(period, 1))[:, None] + period * np.arange(repeats)).ravel()
    others = np.setdiff1d(np.arange(m), rows)
    own = np.clip(first[others], 0, max(0, n - width))
    own_fits = (t.count[others] > 0) & (last[others] < own + width) & (width <= n)
    window = window.copy()
    window[others] = own
    ok = np.zeros(m, bool)
    ok[rows] = True
    ok[others] = own_fits
    dense = np.zeros((m, width))
    inside = used & ok[:, None]
    slot = np.where(inside, t.index - window[:, None], 0)
    np.add.at(dense, (np.arange(m)[:, None], slot), np.where(inside, t.weight, 0.0))
    phase_weight = dense[rows].reshape(max(period, 1), repeats, width).transpose(0, 2, 1)
    band = others[own_fits]
    return Layout(
        int(lo),
        period if repeats else 0,
        int(stride),
        repeats,
        window[lo : lo + max(period, 1)].copy(),
        np.ascontiguousarray(phase_weight, dtype=dtype),
        band,
        window[band].copy(),
        np.ascontiguousarray(dense[band], dtype=dtype),
        others[~own_fits],
    )


# ------------------------------------------------------------------------------------ kernels


@_jit
def _axis_pass(src, dst, index, weight, count):
    """``dst[a, m, b] = sum_k weight[m, k] * src[a, index[m, k], b]`` for ``k < count[m]``."""
    n_a, n_in, n_b = src.shape
    n_out = dst.shape[1]
    zero = weight[0, 0] - weight[0, 0]  # 0 in the weights' dtype (float32 * int is float64)
    if n_b == 1:  # the last axis: a gather along contiguous rows
        s2 = src.reshape((n_a, n_in))
        d2 = dst.reshape((n_a, n_out))
        for a in range(n_a):
            s = s2[a]
            d = d2[a]
            for m in range(n_out):
                c = count[m]
                if c == 2:
                    d[m] = weight[m, 0] * s[index[m, 0]] + weight[m, 1] * s[index[m, 1]]
                elif c == 0:
                    d[m] = zero
                else:
                    acc = weight[m, 0] * s[index[m, 0]]
                    for k in range(1, c):
                        acc += weight[m, k] * s[index[m, k]]
                    d[m] = acc
        return
    for a in range(n_a):
        for m in range(n_out):
            c = count[m]
            d = dst[a, m]
            if c == 0:
                for b in range(n_b):
                    d[b] = zero
                continue
            s0 = src[a, index[m, 0]]
            w0 = weight[m, 0]
            if c == 1:
                for b in range(n_b):
                    d[b] = w0 * s0[b]
            elif c == 2:
                s1 = src[a, index[m, 1]]
                w1 = weight[m, 1]
                for b in range(n_b):
                    d[b] = w0 * s0[b] + w1 * s1[b]
            elif c == 4:
                s1 = src[a, index[m, 1]]
                s2_ = src[a, index[m, 2]]
                s3 = src[a, index[m, 3]]
                w1 = weight[m, 1]
                w2 = weight[m, 2]
                w3 = weight[m, 3]
                for b in range(n_b):
                    d[b] = w0 * s0[b] + w1 * s1[b] + w2 * s2_[b] + w3 * s3[b]
            else:
                for b in range(n_b):
                    d[b] = w0 * s0[b]
                for k in range(1, c):
                    sk = src[a, index[m, k]]
                    wk = weight[m, k]
                    for b in range(n_b):
                        d[b] += wk * sk[b]


@_inline
def _interleave(d, tmp, period, repeats):
    """``d[t * period + r] = tmp[r, t]`` (explicit for small periods, so the stores vectorise)."""
    if period == 1:
        d[:repeats] = tmp[0, :repeats]
    elif period == 2:
        t0, t1 = tmp[0], tmp[1]
        for t in range(repeats):
            d[2 * t] = t0[t]
            d[2 * t + 1] = t1[t]
    elif period == 3:
        t0, t1, t2 = tmp[0], tmp[1], tmp[2]
        for t in range(repeats):
            d[3 * t] = t0[t]
            d[3 * t + 1] = t1[t]
            d[3 * t + 2] = t2[t]
    elif period == 4:
        t0, t1, t2, t3 = tmp[0], tmp[1], tmp[2], tmp[3]
        for t in range(repeats):
            d[4 * t] = t0[t]
            d[4 * t + 1] = t1[t]
            d[4 * t + 2] = t2[t]
            d[4 * t + 3] = t3[t]
    else:
        for r in range(period):
            tr = tmp[r]
            for t in range(repeats):
                d[t * period + r] = tr[t]


@_inline
def _deinterleave(s, split, stride):
    """``split[q, u] = s[q + stride * u]``: a strided row as ``stride`` contiguous ones."""
    n = s.shape[0]
    if stride == 2:
        even, odd = split[0], split[1]
        for u in range(n // 2):
            even[u] = s[2 * u]
            odd[u] = s[2 * u + 1]
        if n % 2:
            even[n // 2] = s[n - 1]
    else:
        for q in range(stride):
            row = split[q]
            for u in range((n - q + stride - 1) // stride):
                row[u] = s[q + stride * u]


@_inline
def _tap(acc, pixels, weights, first, sparse, zero):
    """``acc (=|+=) weights * pixels``; with ``sparse``, taps of weight zero add nothing, even
    on a NaN pixel (a window's slack)."""
    if first and not sparse:
        for t in range(acc.shape[0]):
            acc[t] = weights[t] * pixels[t]
    elif first:
        for t in range(acc.shape[0]):
            acc[t] = weights[t] * pixels[t] if weights[t] != 0 else zero
    elif not sparse:
        for t in range(acc.shape[0]):
            acc[t] += weights[t] * pixels[t]
    else:
        for t in range(acc.shape[0]):
            acc[t] += weights[t] * pixels[t] if weights[t] != 0 else zero


@_jit
def _row_pass(src, dst, index, weight, count, layout, tmp, split):
    """The last axis: ``dst[a, m] = sum_k w[m, k] * src[a, window(m) + k]`` as laid out by
    :class:`Layout`. The periodic run is computed phase by phase into ``tmp`` with contiguous
    loads (a strided run reads the row split into ``stride`` contiguous rows in ``split``),
    then interleaved; band rows read their own window; the rest go through the table. Every
    path adds a row's taps in pixel order, in the input's dtype: the same bits."""
    start, period, stride, repeats, base, pw, band, band_window, band_weight, rest, sparse = layout
    width = pw.shape[1]
    zero = weight[0, 0] - weight[0, 0]  # 0 in the weights' dtype (float32 * int is float64)
    for a in range(src.shape[0]):
        s = src[a]
        d = dst[a]
        if stride == 1:  # contiguous runs: each tap is a slice of the row
            for r in range(period):
                for k in range(width):
                    pos = base[r] + k
                    _tap(tmp[r, :repeats], s[pos : pos + repeats], pw[r, k], k == 0, sparse, zero)
        elif period:  # strided runs read the row split into ``stride`` contiguous rows
            if stride > 1:
                _deinterleave(s, split, stride)
            for r in range(period):
                for k in range(width):
                    pos = base[r] + k
                    if stride > 1:
                        q = pos // stride
                        pixels = split[pos % stride, q : q + repeats]
                    else:  # stride 0: every repeat reads the same pixel (one-pixel input)
                        pixels = split[0, :repeats]
                        pixels[:] = s[pos]
                    _tap(tmp[r, :repeats], pixels, pw[r, k], k == 0, sparse, zero)
        if period:
            _interleave(d[start:], tmp, period, repeats)
        for i in range(band.shape[0]):
            j = band_window[i]
            bw = band_weight[i]
            acc = zero
            for k in range(width):
                if bw[k] != 0:
                    acc += bw[k] * s[j + k]
            d[band[i]] = acc
        for m in rest:
            c = count[m]
            if c == 0:
                d[m] = zero
                continue
            acc = weight[m, 0] * s[index[m, 0]]
            for k in range(1, c):
                acc += weight[m, k] * s[index[m, k]]
            d[m] = acc


@_jit
def resample(start, stop, x, out, i0, w0, c0, i1, w1, c1, i2, w2, c2, layout, order, scratch):
    """Apply the tables of the axes listed in ``order`` (0 = D, 1 = H, 2 = W) to the planes
    ``start <= p < stop`` of ``x`` into ``out``; ``layout`` holds the last axis's
    :class:`Layout` fields. ``scratch`` is the size of the largest
    intermediate result; axes not in ``order`` must keep their size."""
    _, n_d, n_h, n_w = x.shape
    _, o_d, o_h, o_w = out.shape
    buf_a = np.empty(scratch, x.dtype)
    buf_b = np.empty(scratch, x.dtype)
    tmp = np.empty((max(layout[1], 1), max(layout[3], 1)), x.dtype)
    split = np.empty((max(layout[2], 1), max(n_w // max(layout[2], 1) + 1, layout[3])), x.dtype)
    steps = len(order)
    for p in range(start, stop):
        cur = x[p]
        d, h, w = n_d, n_h, n_w
        for s in range(steps):
            axis = order[s]
            nd = o_d if axis == 0 else d
            nh = o_h if axis == 1 else h
            nw = o_w if axis == 2 else w
            if s == steps - 1:
                nxt = out[p]
            elif s % 2 == 0:
                nxt = buf_a[: nd * nh * nw].reshape((nd, nh, nw))
            else:
                nxt = buf_b[: nd * nh * nw].reshape((nd, nh, nw))
            if axis == 0:
                _axis_pass(cur.reshape((1, d, h * w)), nxt.reshape((1, nd, nh * nw)), i0, w0, c0)
            elif axis == 1:
                _axis_pass(cur, nxt, i1, w1, c1)
            else:
                _row_pass(
                    cur.reshape((d * h, w)),
                    nxt.reshape((nd * nh, nw)),
                    i2,
                    w2,
                    c2,
                    layout,
                    tmp,
                    split,
                )
            cur = nxt
            d, h, w = nd, nh, nw


@_inline
def _gather_run(row, src, start, period, stride, repeats, base):
    """``row[start + t * period + r] = src[base[r] + t * stride]`` (explicit for small periods
    with contiguous loads, so it vectorises)."""
    d = row[start : start + period * repeats]
    if stride == 1 and period == 2:
        s0, s1 = src[base[0] :], src[base[1] :]
        for t in range(repeats):
            d[2 * t] = s0[t]
            d[2 * t + 1] = s1[t]
    elif stride == 1 and period == 3:
        s0, s1, s2 = src[base[0] :], src[base[1] :], src[base[2] :]
        for t in range(repeats):
            d[3 * t] = s0[t]
            d[3 * t + 1] = s1[t]
            d[3 * t + 2] = s2[t]
    elif stride == 1 and period == 4:
        s0, s1, s2, s3 = src[base[0] :], src[base[1] :], src[base[2] :], src[base[3] :]
        for t in range(repeats):
            d[4 * t] = s0[t]
            d[4 * t + 1] = s1[t]
            d[4 * t + 2] = s2[t]
            d[4 * t + 3] = s3[t]
    else:
        for r in range(period):
            b = base[r]
            for t in range(repeats):
                d[t * period + r] = src[b + t * stride]


@_jit
def gather(start, stop, x, out, i0, i1, i2, layout):
    """Nearest pixel: ``out[p, d, h, w] = x[p, i0[d], i1[h], i2[w]]``, the last axis laid out
    by :class:`Layout` (a periodic run copied with strided loads); repeated
    rows and planes are copied rather than gathered again. Moves values only (any dtype)."""
    l_start, period, stride, repeats, base, _, band, band_window, _, rest, _ = layout
    o_d, o_h = out.shape[1], out.shape[2]
    for p in range(start, stop):
        xp = x[p]
        op = out[p]
        for d in range(o_d):
            if d > 0 and i0[d] == i0[d - 1]:
                op[d] = op[d - 1]
                continue
            xd = xp[i0[d]]
            od = op[d]
            for h in range(o_h):
                row = od[h]
                if h > 0 and i1[h] == i1[h - 1]:
                    row[:] = od[h - 1]
                    continue
                src = xd[i1[h]]
                if period:
                    _gather_run(row, src, l_start, period, stride, repeats, base)
                for i in range(band.shape[0]):
                    row[band[i]] = src[band_window[i]]
                for w in rest:
                    row[w] = src[i2[w]]
