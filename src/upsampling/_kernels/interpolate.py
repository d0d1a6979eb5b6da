"""Numba kernels for interpolation: per-axis weighted sums and the nearest-pixel gather.

Arrays arrive as volumes ``(P, D, H, W, C)``: ``P = N * C`` planes and ``C = 1`` for NCHW
arrays, ``P = N`` images of ``C`` interleaved channels for channels_last ones. Each spatial
axis has a table (``index``, ``weight``, ``count``, see :class:`upsampling.filters.Table`):
output ``m`` along that axis is ``sum(weight[m, k] * x[index[m, k]] for k < count[m])``.
:func:`resample` applies the tables of the active axes one after another, volume by volume,
through two scratch buffers (the caller cuts large volumes into blocks of output rows, so that
they stay in cache), so a 2-D resize costs two light passes instead of one pass over
``taps_h * taps_w`` inputs. The backward of a resize is the same kernel on the transposed tables
(each input sums the outputs that read it, in output order): a gather, never a scatter, so its
result is the same bit for bit on every run and every thread count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

_jit = nb.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy")
# kernels called only from other kernels: no Python entry point to compile (so calling one
# from Python crashes the interpreter: tests call the _jit kernels)
_inner = nb.njit(
    cache=True, nogil=True, boundscheck=False, error_model="numpy", no_cpython_wrapper=True
)
_TILE = 64  # rows per transposed tile of :func:`_row_pass_transposed`
_SHORT_ROW = 128  # output rows shorter than this are gathered without row views
# helpers called per row and tap: inlined, so their loops vectorise in place without a call
_inline = nb.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy", inline="always")


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


def interleave_layout(t: Layout, channels: int) -> Layout:
    """``t`` for rows of ``channels`` interleaved samples per pixel (the layout of
    :meth:`upsampling.filters.Table.interleaved`, derived rather than searched for): row
    ``m * channels + c`` reads window ``window(m) * channels + c`` with ``t``'s weights every
    ``channels`` samples, zero between them (taps the row kernel skips)."""
    lanes = np.arange(channels)
    width = (t.phase_weight.shape[1] - 1) * channels + 1
    phases = t.phase_weight.shape[0] * channels
    phase_weight = np.zeros((phases, width, t.repeats), t.phase_weight.dtype)
    phase_weight[:, ::channels] = np.repeat(t.phase_weight, channels, axis=0)
    band_weight = np.zeros((len(t.band) * channels, width), t.band_weight.dtype)
    band_weight[:, ::channels] = np.repeat(t.band_weight, channels, axis=0)

    def spread(a: np.ndarray) -> np.ndarray:
        return (a[:, None] * channels + lanes).ravel()

    return Layout(
        t.start * channels,
        t.period * channels,
        t.stride * channels,
        t.repeats,
        spread(t.base),
        phase_weight,
        spread(t.band),
        spread(t.band_window),
        band_weight,
        spread(t.rest),
    )


# ------------------------------------------------------------------------------------ kernels
# Copies go through explicit loops: an array assigned to a slice (``a[:] = b``) makes numba
# compile a shape check with a formatted message, seconds per array rank (numba issue 9972).
@_inline
def _copy_row(dst, src, n):
    """``dst[:n] = src[:n]`` of 1-D arrays."""
    for i in range(n):
        dst[i] = src[i]


@_inline
def _combine(out, at, s, rows, weight, m, c, zero):
    """``out[at, b] = sum_k weight[m, k] * s[rows[k], b]`` over the columns ``b`` of the 2-D
    ``out`` and ``s``, ``k < c``, added left to right: one output row of the streamed H pass
    (:func:`_stream_hw`), whole rows at a time. (A helper taking arrays costs reference
    counting per call, which per-pixel loops cannot afford: :func:`_axis_pass` adds the same
    sums in its own loop.)"""
    n = out.shape[1]
    if c == 0:
        for b in range(n):
            out[at, b] = zero
        return
    r0 = rows[0]
    w0 = weight[m, 0]
    for b in range(n):
        out[at, b] = w0 * s[r0, b]
    for k in range(1, c):
        rk = rows[k]
        wk = weight[m, k]
        for b in range(n):
            out[at, b] += wk * s[rk, b]


@_inner
def _axis_pass(src, dst, index, weight, count):
    """``dst[a, m, b] = sum_k weight[m, k] * src[a, index[m, k], b]`` for ``k < count[m]``,
    added left to right. Plain 2-D indexing in one loop nest, no views and no helper calls
    (each would cost reference counting per output row: ten times the sum itself on short
    rows such as the channels of one pixel); two taps (linear) in one sweep (a four-tap sweep
    measured 10% faster on cubic for 0.15 s more compilation in every cold first call)."""
    n_a, n_in, n_b = src.shape
    n_out = dst.shape[1]
    zero = weight[0, 0] - weight[0, 0]  # 0 in the weights' dtype (float32 * int is float64)
    s2 = src.reshape((n_a * n_in, n_b))
    d2 = dst.reshape((n_a * n_out, n_b))
    for a in range(n_a):
        for m in range(n_out):
            c = count[m]
            at = a * n_out + m
            r0 = a * n_in + index[m, 0]
            w0 = weight[m, 0]
            if c == 2:
                r1 = a * n_in + index[m, 1]
                w1 = weight[m, 1]
                for b in range(n_b):
                    d2[at, b] = w0 * s2[r0, b] + w1 * s2[r1, b]
            elif c == 0:
                for b in range(n_b):
                    d2[at, b] = zero
            else:
                for b in range(n_b):
                    d2[at, b] = w0 * s2[r0, b]
                for k in range(1, c):
                    rk = a * n_in + index[m, k]
                    wk = weight[m, k]
                    for b in range(n_b):
                        d2[at, b] += wk * s2[rk, b]


@_inline
def _interleave(d, tmp, period, repeats):
    """``d[t * period + r] = tmp[r, t]`` (one loop for every period: special cases cost
    compilation, a third of a cold first call, and measured no faster)."""
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


@_inner
def _row_pass(src, dst, index, weight, count, layout, tmp, split):
    """The last axis: ``dst[a, m] = sum_k w[m, k] * src[a, window(m) + k]`` as laid out by
    :class:`Layout`. The periodic run is computed phase by phase into ``tmp`` with contiguous
    loads (a strided run reads the row split into ``stride`` contiguous rows in ``split``),
    then interleaved; band rows read their own window; the rest go through the table. Every
    path adds a row's taps in pixel order, in the input's dtype: the same bits."""
    start, period, stride, repeats, base, pw, band, band_window, band_weight, rest, sparse, live = (
        layout
    )
    width = pw.shape[1]
    n_w = src.shape[1]
    step = max(stride, 1)
    zero = weight[0, 0] - weight[0, 0]  # 0 in the weights' dtype (float32 * int is float64)
    for a in range(src.shape[0]):
        s = src[a]
        d = dst[a]
        # the periodic run, phase by phase: each tap is a contiguous slice of the row, or of
        # the row split into ``stride`` contiguous rows (a strided run; stride 0: every repeat
        # reads the same pixel, copied out); one call site of the inlined tap
        rows = s.reshape((1, n_w)) if stride == 1 else split
        if period and stride > 1:
            _deinterleave(s, split, stride)
        for r in range(period):
            first = True
            for k in range(width):
                if not live[r, k]:  # a tap of weight zero on every repeat: not read
                    continue
                at = base[r] + k
                if stride == 0:
                    fill = split[0]
                    for t in range(repeats):
                        fill[t] = s[at]
                    at = 0
                q = at // step
                _tap(
                    tmp[r, :repeats],
                    rows[at % step, q : q + repeats],
                    pw[r, k],
                    first,
                    sparse,
                    zero,
                )
                first = False
            if first:  # no tap at all
                acc = tmp[r]
                for t in range(repeats):
                    acc[t] = zero
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


@_inner
def _row_pass_transposed(src, dst, index, weight, count, tile):
    """The last axis of NCHW rows ``src (R, W)`` through transposed tiles: ``T`` rows at a
    time are turned into ``T``-wide columns, resampled by :func:`_axis_pass` vectorised over
    the ``T`` rows, and turned back (``tile`` holds both tiles). For tables whose row layout
    has no fast path (long periods, strided runs, no period): the same sums, in table order."""
    n_r, n_w = src.shape
    o_w = dst.shape[1]
    size = tile.shape[0] // (n_w + o_w)
    t_in = tile[: n_w * size]
    t_out = tile[n_w * size : (n_w + o_w) * size]
    for r0 in range(0, n_r, size):
        t = min(size, n_r - r0)
        a = t_in[: n_w * t].reshape((n_w, t))
        b = t_out[: o_w * t].reshape((o_w, t))
        for r in range(t):
            row = src[r0 + r]
            for j in range(n_w):
                a[j, r] = row[j]
        _axis_pass(a.reshape((1, n_w, t)), b.reshape((1, o_w, t)), index, weight, count)
        for r in range(t):
            row = dst[r0 + r]
            for m in range(o_w):
                row[m] = b[m, r]


@_inner
def _w_row(src, dst, i2, w2, c2, layout, tmp, split):
    """The last axis of one row ``(W, C)``: along the row (a ``layout``: ``C == 1``) or over
    channels (``layout`` None: numba compiles only the branch taken)."""
    n_w, n_c = src.shape
    o_w = dst.shape[0]
    if layout is None:
        _axis_pass(src.reshape((1, n_w, n_c)), dst.reshape((1, o_w, n_c)), i2, w2, c2)
    else:
        _row_pass(src.reshape((1, n_w)), dst.reshape((1, o_w)), i2, w2, c2, layout, tmp, split)


@_inner
def _stream_hw(src, dst, i1, w1, c1, i2, w2, c2, layout, tmp, split, h_first):
    """The H and W passes of one slice ``(H, W, C)`` output row by output row, without the
    intermediate array: with ``h_first`` each output row's H sum goes to one row buffer and
    is resampled along W from there; else the W-resampled input rows are kept in a ring of the
    few rows one output row reads (each computed once). The same sums as the two passes."""
    n_h, n_w, n_c = src.shape
    o_h, o_w = dst.shape[0], dst.shape[1]
    zero = w1[0, 0] - w1[0, 0]
    offsets = np.empty(max(i1.shape[1], 1), np.int64)
    if h_first:
        flat = src.reshape((n_h, n_w * n_c))
        row = np.empty((n_w, n_c), src.dtype)
        row_flat = row.reshape((1, n_w * n_c))
        for h in range(o_h):
            c = c1[h]
            for k in range(c):
                offsets[k] = i1[h, k]
            _combine(row_flat, 0, flat, offsets, w1, h, c, zero)
            _w_row(row, dst[h], i2, w2, c2, layout, tmp, split)
        return
    span = 1
    for h in range(o_h):
        if c1[h] > 0:
            span = max(span, i1[h, c1[h] - 1] - i1[h, 0] + 1)
    ring = np.empty((span, o_w, n_c), src.dtype)
    tags = np.full(span, -1, np.int64)
    flat = ring.reshape((span, o_w * n_c))
    out = dst.reshape((o_h, o_w * n_c))
    for h in range(o_h):
        c = c1[h]
        for k in range(c):
            r = i1[h, k]
            slot = r % span
            if tags[slot] != r:
                _w_row(src[r], ring[slot], i2, w2, c2, layout, tmp, split)
                tags[slot] = r
            offsets[k] = slot
        _combine(out, h, flat, offsets, w1, h, c, zero)


@_inline
def _pass(cur, nxt, axis, i0, w0, c0, i1, w1, c1, i2, w2, c2):
    """One pass of :func:`resample` over the channels of ``cur`` ``(D, H, W, C)``: resample
    along ``axis`` into ``nxt`` (the other axes keep their size), through one call of
    :func:`_axis_pass` (inlined: one copy of its loops per caller)."""
    d, h, w, n_c = cur.shape
    nd, nh, nw = nxt.shape[0], nxt.shape[1], nxt.shape[2]
    if axis == 0:
        outer, n_in, n_out, inner, index, weight, count = 1, d, nd, h * w * n_c, i0, w0, c0
    elif axis == 1:
        outer, n_in, n_out, inner, index, weight, count = d, h, nh, w * n_c, i1, w1, c1
    else:
        outer, n_in, n_out, inner, index, weight, count = d * h, w, nw, n_c, i2, w2, c2
    src = cur.reshape((outer, n_in, inner))
    dst = nxt.reshape((outer, n_out, inner))
    _axis_pass(src, dst, index, weight, count)


@_inline
def _rows(cur, nxt, i2, w2, c2, layout, tmp, split, tile):
    """The W pass of :func:`resample` along the rows of NCHW planes (``C == 1``)."""
    d, h, w, _ = cur.shape
    src, dst = cur.reshape((d * h, w)), nxt.reshape((nxt.shape[0] * nxt.shape[1], nxt.shape[2]))
    if tile is None:
        _row_pass(src, dst, i2, w2, c2, layout, tmp, split)
    else:
        _row_pass_transposed(src, dst, i2, w2, c2, tile)


@_inline
def _step(cur, nxt, axis, i0, w0, c0, i1, w1, c1, i2, w2, c2, layout, tmp, split, tile):
    """One pass of an entry: the W pass of NCHW planes along their rows, any other over the
    channels (``layout is None`` is decided while compiling, after inlining)."""
    if layout is not None and axis == 2:
        _rows(cur, nxt, i2, w2, c2, layout, tmp, split, tile)
    else:
        _pass(cur, nxt, axis, i0, w0, c0, i1, w1, c1, i2, w2, c2)


@_inline
def _buffers(x, layout, scratch):
    """The scratch of an entry: two ping-pong buffers of ``scratch`` elements and, with a row
    layout, the row pass's ``tmp`` (a periodic run, phase by phase) and ``split`` (a strided row
    as contiguous ones); without one, None (decided while compiling)."""
    buf_a = np.empty(scratch, x.dtype)
    buf_b = np.empty(scratch, x.dtype)
    if layout is None:
        return buf_a, buf_b, None, None
    n_w = x.shape[3]
    tmp = np.empty((max(layout[1], 1), max(layout[3], 1)), x.dtype)
    sw = max(layout[2], 1)
    split = np.empty((sw, max(n_w // sw + 1, layout[3])), x.dtype)
    return buf_a, buf_b, tmp, split


@_inline
def _target(out, p, buf_a, buf_b, written, last, nd, nh, nw, n_c):
    """Where a pass of :func:`resample` writes: ``out[p]`` for the last, else a buffer."""
    if last:
        return out[p]
    if written % 2 == 0:
        return buf_a[: nd * nh * nw * n_c].reshape((nd, nh, nw, n_c))
    return buf_b[: nd * nh * nw * n_c].reshape((nd, nh, nw, n_c))


# The entries below are compiled per argument types: ``layout`` (None for channels_last images,
# whose every pass runs over the channels) and ``tile`` (None unless NCHW rows go through
# transposed tiles) are tested with ``is None``, which numba decides while compiling, so a first
# call compiles only the passes it can take.
@_jit
def _resample_passes(
    start, stop, x, out, i0, w0, c0, i1, w1, c1, i2, w2, c2, layout, order, scratch, tile
):
    """:func:`resample` without ``stream``: one whole pass per axis."""
    n_c = x.shape[4]
    _, o_d, o_h, o_w, _ = out.shape
    buf_a, buf_b, tmp, split = _buffers(x, layout, scratch)
    steps = len(order)
    for p in range(start, stop):
        cur = x[p]
        for s in range(steps):
            axis = order[s]
            nd = o_d if axis == 0 else cur.shape[0]
            nh = o_h if axis == 1 else cur.shape[1]
            nw = o_w if axis == 2 else cur.shape[2]
            nxt = _target(out, p, buf_a, buf_b, s, s == steps - 1, nd, nh, nw, n_c)
            _step(cur, nxt, axis, i0, w0, c0, i1, w1, c1, i2, w2, c2, layout, tmp, split, tile)
            cur = nxt


@_jit
def _resample_stream(
    start, stop, x, out, i0, w0, c0, i1, w1, c1, i2, w2, c2, layout, order, scratch, tile
):
    """:func:`resample` with ``stream``: consecutive H and W passes fused."""
    n_c = x.shape[4]
    _, o_d, o_h, o_w, _ = out.shape
    buf_a, buf_b, tmp, split = _buffers(x, layout, scratch)
    steps = len(order)
    for p in range(start, stop):
        cur = x[p]
        s = 0
        written = 0
        while s < steps:
            axis = order[s]
            fused = s + 1 < steps and axis != 0 and order[s + 1] == 3 - axis
            nd = o_d if axis == 0 else cur.shape[0]
            nh = o_h if axis == 1 or fused else cur.shape[1]
            nw = o_w if axis == 2 or fused else cur.shape[2]
            last = s == steps - 1 or (fused and s + 2 == steps)
            nxt = _target(out, p, buf_a, buf_b, written, last, nd, nh, nw, n_c)
            if fused:
                for k in range(cur.shape[0]):
                    _stream_hw(
                        cur[k], nxt[k], i1, w1, c1, i2, w2, c2, layout, tmp, split, axis == 1
                    )
                s += 1
            else:
                _step(cur, nxt, axis, i0, w0, c0, i1, w1, c1, i2, w2, c2, layout, tmp, split, tile)
            cur = nxt
            written += 1
            s += 1


def resample(
    start,
    stop,
    x,
    out,
    i0,
    w0,
    c0,
    i1,
    w1,
    c1,
    i2,
    w2,
    c2,
    layout,
    order,
    scratch,
    stream,
    transposed,
):
    """Apply the tables of the axes listed in ``order`` (0 = D, 1 = H, 2 = W) to the volumes
    ``start <= p < stop`` of ``x`` ``(P, D, H, W, C)`` into ``out``; ``layout`` holds the last
    axis's :class:`Layout` fields. ``scratch`` is the size of the largest intermediate result;
    axes not in ``order`` must keep their size.

    ``C == 1``: planes of an NCHW array, the last axis resampled along its rows by
    :func:`_row_pass`. ``C > 1``: images of a channels_last array, every axis (the last too) by
    :func:`_axis_pass`, vectorised over the contiguous channels. With ``stream``, consecutive H
    and W passes run output row by output row (:func:`_stream_hw`): no intermediate larger than
    a few rows, for slices too large for the cache. Either way each output adds its taps in the
    table's order, in the input's dtype: the same sums, the same bits.

    A plain function choosing between two compiled entries, so that a first call compiles only
    the path it takes (the streaming one is a few seconds of compilation more); both release
    the GIL."""
    run = _resample_stream if stream else _resample_passes
    rows = x.shape[4] == 1
    tile = np.empty((x.shape[3] + out.shape[3]) * _TILE, x.dtype) if rows and transposed else None
    run(
        start,
        stop,
        x,
        out,
        i0,
        w0,
        c0,
        i1,
        w1,
        c1,
        i2,
        w2,
        c2,
        layout if rows else None,
        order,
        scratch,
        tile,
    )


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


@_inner
def _gather_plane(xp, op, i0, i1, i2, layout):
    """:func:`gather` of one NCHW plane ``(D, H, W)``, its rows laid out by :class:`Layout`.
    Short rows are copied by plain indexing (no views per row: their reference counting costs
    more than copying a short row), long ones through row views (:func:`_gather_run`'s
    explicit periods vectorise, narrow integer types too)."""
    l_start, period, stride, repeats, base, _, band, band_window, _, rest, _, _ = layout
    o_d, o_h, o_w = op.shape
    if o_w < _SHORT_ROW:
        for d in range(o_d):
            if d > 0 and i0[d] == i0[d - 1]:
                for h in range(o_h):
                    for w in range(o_w):
                        op[d, h, w] = op[d - 1, h, w]
                continue
            sd = i0[d]
            for h in range(o_h):
                if h > 0 and i1[h] == i1[h - 1]:
                    for w in range(o_w):
                        op[d, h, w] = op[d, h - 1, w]
                    continue
                sh = i1[h]
                for r in range(period):
                    b = base[r]
                    for t in range(repeats):
                        op[d, h, l_start + t * period + r] = xp[sd, sh, b + t * stride]
                for i in range(band.shape[0]):
                    op[d, h, band[i]] = xp[sd, sh, band_window[i]]
                for w in rest:
                    op[d, h, w] = xp[sd, sh, i2[w]]
        return
    for d in range(o_d):
        od = op[d]
        if d > 0 and i0[d] == i0[d - 1]:
            for h in range(o_h):
                _copy_row(od[h], op[d - 1, h], od.shape[1])
            continue
        xd = xp[i0[d]]
        for h in range(o_h):
            row = od[h]
            if h > 0 and i1[h] == i1[h - 1]:
                _copy_row(row, od[h - 1], row.shape[0])
                continue
            src = xd[i1[h]]
            if period:
                _gather_run(row, src, l_start, period, stride, repeats, base)
            for i in range(band.shape[0]):
                row[band[i]] = src[band_window[i]]
            for w in rest:
                row[w] = src[i2[w]]


@_inner
def _gather_image(xp, op, i0, i1, i2):
    """:func:`gather` of one channels_last image ``(D, H, W, C)``: each pixel's channels are
    copied as one contiguous run; rows and planes that repeat the one before are copied from
    it. Plain indexing, no views per pixel."""
    o_d, o_h, o_w, n_c = op.shape
    for d in range(o_d):
        if d > 0 and i0[d] == i0[d - 1]:
            for h in range(o_h):
                for w in range(o_w):
                    for c in range(n_c):
                        op[d, h, w, c] = op[d - 1, h, w, c]
            continue
        sd = i0[d]
        for h in range(o_h):
            if h > 0 and i1[h] == i1[h - 1]:
                for w in range(o_w):
                    for c in range(n_c):
                        op[d, h, w, c] = op[d, h - 1, w, c]
                continue
            sh = i1[h]
            for w in range(o_w):
                sw = i2[w]
                for c in range(n_c):
                    op[d, h, w, c] = xp[sd, sh, sw, c]


@_jit
def _gather_volumes(start, stop, x, out, i0, i1, i2, layout):
    """:func:`gather` (``layout`` None for channels_last images: numba compiles only the
    branch a call takes)."""
    _, n_d, n_h, n_w, _ = x.shape
    _, o_d, o_h, o_w, _ = out.shape
    for p in range(start, stop):
        if layout is not None:
            xp = x[p].reshape((n_d, n_h, n_w))
            _gather_plane(xp, out[p].reshape((o_d, o_h, o_w)), i0, i1, i2, layout)
        else:
            _gather_image(x[p], out[p], i0, i1, i2)


def gather(start, stop, x, out, i0, i1, i2, layout):
    """Nearest pixel: ``out[p, d, h, w] = x[p, i0[d], i1[h], i2[w]]`` over volumes
    ``(P, D, H, W, C)``. With ``C == 1`` the last axis is laid out by :class:`Layout` (a
    periodic run copied with strided loads); with ``C > 1`` (channels_last) each pixel's
    channels are copied as one contiguous run. Repeated rows and planes are copied rather
    than gathered again. Moves values only (any dtype)."""
    _gather_volumes(start, stop, x, out, i0, i1, i2, layout if x.shape[4] == 1 else None)
