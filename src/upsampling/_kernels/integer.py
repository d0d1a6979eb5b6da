"""Numba kernels for 8- and 16-bit images: two separable passes in integer (or float) arithmetic.

Images arrive as ``(B, H, W * C)`` rows of interleaved channels (``C == 1`` for the planes of an
NCHW array, ``C > 1`` for channels-last images) and leave in the same layout. Each axis has a
table (``index``, ``weight``, ``count``): output ``m`` along it is
``sum(weight[m, k] * x[index[m, k]] for k < count[m])``, read from the table in ``k`` order.
The work is split into tasks of ``band`` output rows of one image (``task = b * bands +
band``), so :func:`upsampling._backend.run_planes` spreads one photo over the threads. A task
keeps the horizontally resampled input rows in a ring of ``taps + 1`` rows (each input row is
resampled once), never the whole intermediate image; with the vertical pass first (Pillow's
choice when the height shrinks most) each output row goes down the columns, then across. The
horizontal pass runs the periodic part of a row (any scale with a small period: x2, x1.5,
x0.5...) phase by phase over contiguous memory (:func:`_regular_h`; OpenCV's RGB bilinear with
a period of 2 or 3 all phases in one sweep: :mod:`upsampling._kernels.integer_sweep`),
the rest window by window. Its rows are int16. Each path is its own small entry (chosen in
:mod:`upsampling._integer`), so that a first call compiles only its own code.

How each pass rounds is a ``mode`` (the libraries' arithmetic, :mod:`upsampling._integer`):
Pillow's modes where the kernels' argument ``cv`` is ``None``, OpenCV's (1, then 2) where it
is an integer. Numba resolves a branch on ``cv is None`` while compiling where ``cv`` is
``None`` (or a literal, as the sweep entry of :mod:`upsampling._kernels.integer_sweep` passes):
Pillow's first call compiles none of OpenCV's code. (OpenCV's call from Python, ``cv`` an
int64, compiles both; a literal through one more entry level would cost more: every jitted
level re-optimises and re-generates the machine code of all it calls.)

=====  ==================================================================================
mode   a pass's sum ``s`` of ``weight * value`` and what it stores
=====  ==================================================================================
0      Pillow 8-bit: ``s`` from ``2**21`` in int32, stores ``clip(s >> 22, 0, 255)``
1      OpenCV's first pass: ``s`` in int32, stored as ``t = s >> 4`` (all its second pass
       reads of it; at most ``255 * 2048 >> 4``, so the rows fit int16)
2      OpenCV 8-bit linear, second pass: ``sum((t * w) >> 16)``, then
       ``clip((s + 2) >> 2, 0, 255)``
=====  ==================================================================================

:func:`upsampling._kernels.integer_float.float_resize` is the float64 version (Pillow's 16-bit
modes).
"""

from __future__ import annotations

import numba as nb
import numpy as np

_jit = nb.njit(cache=True, nogil=True, boundscheck=False)
# kernels called only from other kernels: no Python entry point to compile (so calling one
# from Python crashes the interpreter: tests call the _jit kernels)
_inner = nb.njit(cache=True, nogil=True, boundscheck=False, no_cpython_wrapper=True)
_inline = _inner  # LLVM inlines these small functions; numba-IR inlining cost seconds


@_jit
def _window_h(src, dst, first, weight, n_c, cv, j0, j1):
    """One row across, outputs ``j0 <= j < j1``: ``dst[j * C + c]`` from the window of
    ``weight.shape[1]`` pixels that starts at pixel ``first[j]`` (taps of weight zero
    included), in mode 0 or 1 (``cv``); RGB rows by :func:`_window3` (each its own function, so that
    a path that needs one compiles only that one)."""
    if n_c == 3:
        _window3(src, dst, first, weight, cv, j0, j1)
    elif n_c == 4:
        _window4(src, dst, first, weight, cv, j0, j1)
    else:
        _window_any(src, dst, first, weight, n_c, cv, j0, j1)


@_inner
def _window_any(src, dst, first, weight, n_c, cv, j0, j1):
    """:func:`_window_h` for any number of channels."""
    taps = weight.shape[1]
    init = _init(cv)
    for j in range(j0, j1):
        for c in range(n_c):
            p = first[j] * n_c + c
            a0 = init
            for k in range(taps):
                a0 += np.int32(src[p + k * n_c]) * weight[j, k]
            dst[j * n_c + c] = _finish(a0, cv)


@_inner
def _window3(src, dst, first, weight, cv, j0, j1):
    """:func:`_window_h` on RGB rows, the channels in three accumulators."""
    taps = weight.shape[1]
    init = _init(cv)
    for j in range(j0, j1):
        p = first[j] * 3
        a0 = a1 = a2 = init
        for k in range(taps):
            w = weight[j, k]
            a0 += np.int32(src[p]) * w
            a1 += np.int32(src[p + 1]) * w
            a2 += np.int32(src[p + 2]) * w
            p += 3
        dst[3 * j] = _finish(a0, cv)
        dst[3 * j + 1] = _finish(a1, cv)
        dst[3 * j + 2] = _finish(a2, cv)


@_inner
def _window4(src, dst, first, weight, cv, j0, j1):
    """:func:`_window_h` on RGBA rows, the channels in four accumulators."""
    taps = weight.shape[1]
    init = _init(cv)
    for j in range(j0, j1):
        p = first[j] * 4
        a0 = a1 = a2 = a3 = init
        for k in range(taps):
            w = weight[j, k]
            a0 += np.int32(src[p]) * w
            a1 += np.int32(src[p + 1]) * w
            a2 += np.int32(src[p + 2]) * w
            a3 += np.int32(src[p + 3]) * w
            p += 4
        dst[4 * j] = _finish(a0, cv)
        dst[4 * j + 1] = _finish(a1, cv)
        dst[4 * j + 2] = _finish(a2, cv)
        dst[4 * j + 3] = _finish(a3, cv)


@_jit
def _regular_h(src, dst, first, n_c, cv, reg, wexp, acc, split):
    """:func:`_window_h` over the periodic run of a row, where ``reg = (m0, period, stride,
    repeats)`` says that outputs ``m0 + r + t * period`` read windows ``first[m0 + r] + t *
    stride`` (any rational scale has such a run): each phase ``r`` is then a few contiguous
    multiply-adds over ``(t, c)`` (weights ``wexp[r, k, t * C + c]``, or ``wexp[r, k, 0]`` for
    all where its last axis has length 1), which vectorise; the input is first split into
    ``stride`` phases when ``stride > 1``. The rows outside the run (``m < m0`` and from
    ``m0 + period * repeats``) are the caller's, by :func:`_window_h` (called from here, its
    code would be optimised and generated once more at every level above: a slower first
    call)."""
    m0, period, stride, repeats = reg[0], reg[1], reg[2], reg[3]
    if repeats == 0:
        return
    taps = wexp.shape[1]
    n = repeats * n_c
    if stride > 1:
        split_phases(src, split, stride, n_c)
    init = _init(cv)
    step = period * n_c
    for r in range(period):
        o = (m0 + r) * n_c
        if taps == 2 and wexp.shape[2] == 1:  # bilinear, one weight per tap: in one sweep
            s0 = _segment(src, split, first[m0 + r], n_c, stride, n)
            s1 = _segment(src, split, first[m0 + r] + 1, n_c, stride, n)
            a, b = wexp[r, 0, 0], wexp[r, 1, 0]
            if cv is not None and n_c == 3:  # OpenCV's, spelt out
                _linear3(dst[o:], s0, s1, a, b, step, repeats)
            else:
                for t in range(repeats):
                    for c in range(n_c):
                        p = t * n_c + c
                        v = np.int32(init + lin2(s0[p], a, s1[p], b))
                        dst[o + t * step + c] = _finish(v, cv)
            continue
        acc[:n] = init
        for k in range(taps):
            seg = _segment(src, split, first[m0 + r] + k, n_c, stride, n)
            w = wexp[r, k]
            if w.shape[0] == 1:  # one weight for the whole run
                w0 = w[0]
                for e in range(n):
                    acc[e] += np.int32(seg[e]) * w0
            else:
                for e in range(n):
                    acc[e] += np.int32(seg[e]) * w[e]
        if cv is not None and n_c == 3:
            for t in range(repeats):
                dst[o + t * step] = acc[3 * t] >> np.int32(4)
                dst[o + t * step + 1] = acc[3 * t + 1] >> np.int32(4)
                dst[o + t * step + 2] = acc[3 * t + 2] >> np.int32(4)
        elif cv is not None and n_c == 1:
            for t in range(repeats):
                dst[o + t * step] = acc[t] >> np.int32(4)
        else:
            for t in range(repeats):
                for c in range(n_c):
                    dst[o + t * step + c] = _finish(acc[t * n_c + c], cv)


@_inline
def _linear3(dst, s0, s1, a, b, step, repeats):
    """OpenCV's first pass for one phase of 3-channel pixels: ``dst[t * step + c]`` is
    ``(s0[3 * t + c] * a + s1[3 * t + c] * b) >> 4``."""
    for t in range(repeats):
        p, d = 3 * t, t * step
        dst[d] = lin2(s0[p], a, s1[p], b) >> np.int32(4)
        dst[d + 1] = lin2(s0[p + 1], a, s1[p + 1], b) >> np.int32(4)
        dst[d + 2] = lin2(s0[p + 2], a, s1[p + 2], b) >> np.int32(4)


@_inner
def split_phases(src, split, stride, n_c):
    """The pixels of row ``src`` split into its ``stride`` phases: ``split[q, u * C + c]``
    is pixel ``u * stride + q``'s channel ``c``."""
    n_in = src.shape[0] // n_c
    for q in range(stride):
        dq = split[q]
        if n_c == 3:
            for u in range((n_in - q + stride - 1) // stride):
                p = (u * stride + q) * 3
                dq[3 * u] = src[p]
                dq[3 * u + 1] = src[p + 1]
                dq[3 * u + 2] = src[p + 2]
        else:
            for u in range((n_in - q + stride - 1) // stride):
                for c in range(n_c):
                    dq[u * n_c + c] = src[(u * stride + q) * n_c + c]


@_inline
def _segment(src, split, q, n_c, stride, n):
    """The ``n`` values from pixel ``q`` on, one every ``stride`` pixels (a phase of the
    input split by :func:`_regular_h` where ``stride > 1``)."""
    if stride == 1:
        return src[q * n_c : q * n_c + n]
    off = (q // stride) * n_c
    return split[q % stride, off : off + n]


@_inline
def lin2(x0, a, x1, b):
    """``x0 * a + x1 * b`` kept in int32 (numba widens int32 arithmetic to int64, which
    halves the SIMD lanes; every sum here fits 32 bits)."""
    return np.int32(np.int32(np.int32(x0) * a) + np.int32(np.int32(x1) * b))


@_inline
def _hi16(t, w):
    """``(t * w) >> 16`` in int32 (OpenCV's second pass; ``t * w`` fits 32 bits)."""
    return np.int32(np.int32(np.int32(t) * w) >> np.int32(16))


@_inline
def _clip255(v):
    """``v`` saturated to ``[0, 255]``, in int32."""
    return np.int32(min(max(v, np.int32(0)), np.int32(255)))


@_inline
def _init(cv):
    """A horizontal sum's start: Pillow's rounding ``2**21`` (mode 0), else 0."""
    if cv is None:
        return np.int32(1 << 21)
    return np.int32(0)


@_inline
def _finish(acc, cv):
    """A horizontal sum as stored: Pillow's 8 bits (mode 0) or OpenCV's ``s >> 4`` (mode 1)."""
    if cv is None:
        return _clip255(np.int32(acc) >> np.int32(22))
    return np.int32(acc) >> np.int32(4)


@_inline
def _v_pillow(rows, out, index, weight, count, m, acc):
    n, ring = out.shape[0], rows.shape[0]
    acc[:n] = np.int32(1 << 21)
    for k in range(count[m]):
        w = np.int32(weight[m, k])
        r = rows[index[m, k] % ring]
        for e in range(n):
            acc[e] += np.int32(np.int32(r[e]) * w)
    for e in range(n):
        out[e] = _clip255(acc[e] >> np.int32(22))


@_inline
def _v_opencv_linear(rows, out, index, weight, count, m, acc):
    n, ring = out.shape[0], rows.shape[0]
    if count[m] == 2:  # the usual case, in one sweep
        w0, w1 = np.int32(weight[m, 0]), np.int32(weight[m, 1])
        r0, r1 = rows[index[m, 0] % ring], rows[index[m, 1] % ring]
        for e in range(n):
            v = np.int32(_hi16(r0[e], w0) + _hi16(r1[e], w1))
            out[e] = _clip255(np.int32(v + np.int32(2)) >> np.int32(2))
        return
    acc[:n] = np.int32(2)
    for k in range(count[m]):
        w = np.int32(weight[m, k])
        r = rows[index[m, k] % ring]
        for e in range(n):
            acc[e] += _hi16(r[e], w)
    for e in range(n):
        out[e] = _clip255(acc[e] >> np.int32(2))


@_inner
def _ring(src, dst, n_c, reg, yi):
    """A task's buffers: the ring of ``taps + 1`` int16 rows (row ``y`` in slot
    ``y % ring``; both modes' rows fit 16 bits), which row each slot holds, the rows an
    output row still needs, the accumulators and the input split into its stride's phases
    (see :func:`_regular_h`)."""
    ring = yi.shape[1] + 1
    cache = np.empty((ring, dst.shape[2]), np.int16)
    held, todo = np.empty(ring, np.int64), np.empty(ring, np.int64)
    acc32 = np.empty(max(src.shape[2], dst.shape[2]), np.int32)
    hacc = np.empty(max(reg[3] * n_c, 1), np.int32)
    phases = max(reg[2], 1)
    split = np.empty((phases, (src.shape[2] // n_c // phases + 1) * n_c), src.dtype)
    return cache, held, todo, acc32, hacc, split


@_inner
def _missing(held, yi, yn, m, todo):
    """The input rows output row ``m`` reads that the ring does not hold, into ``todo`` (their
    count returned), marked as held."""
    ring, n = held.shape[0], 0
    for k in range(yn[m]):
        y = yi[m, k]
        if held[y % ring] != y:
            held[y % ring] = y
            todo[n] = y
            n += 1
    return n


@_jit
def fixed_resize(start, stop, src, dst, n_c, xf, xw, reg, wexp, yi, yw, yn, cv, band):
    """uint8 ``src`` ``(B, H, W * C)`` into ``dst`` ``(B, OH, OW * C)`` with int32 weights:
    the horizontal pass (windows ``xf``, ``xw``; their periodic run ``reg``, ``wexp``, see
    :func:`_regular_h`), each input row once per task into the ring (see :func:`_ring`), then
    the vertical one (table ``yi``, ``yw``, ``yn``), in Pillow's arithmetic where ``cv`` is
    ``None`` (OpenCV's code is then not compiled), else in OpenCV's. Tasks
    ``start <= t < stop``."""
    o_h = dst.shape[1]
    bands = (o_h + band - 1) // band
    cache, held, todo, acc32, hacc, split = _ring(src, dst, n_c, reg, yi)
    # the run of _regular_h and the windows before and after it (m0 - m0: a variable, not the
    # literal 0, so that both calls share one specialisation of _window_h)
    m0, m1, n_out = reg[0], reg[0] + reg[1] * reg[3], xf.shape[0]
    for t in range(start, stop):
        b, r0 = t // bands, (t % bands) * band
        held[:] = -1
        for m in range(r0, min(r0 + band, o_h)):
            for i in range(_missing(held, yi, yn, m, todo)):
                y = todo[i]
                row, out = src[b, y], cache[y % cache.shape[0]]
                _window_h(row, out, xf, xw, n_c, cv, m0 - m0, m0)
                _window_h(row, out, xf, xw, n_c, cv, m1, n_out)
                _regular_h(row, out, xf, n_c, cv, reg, wexp, hacc, split)
            if cv is None:
                _v_pillow(cache, dst[b, m], yi, yw, yn, m, acc32)
            else:
                _v_opencv_linear(cache, dst[b, m], yi, yw, yn, m, acc32)


@_jit
def fixed_resize_v_first(start, stop, src, dst, n_c, xf, xw, yi, yw, yn, band):
    """:func:`fixed_resize` with the vertical pass first, in Pillow's 8-bit mode (its choice
    when the height shrinks most): each output row down the columns into an int32 row of the
    input's width, then across it."""
    o_h = dst.shape[1]
    bands = (o_h + band - 1) // band
    acc32 = np.empty(max(src.shape[2], dst.shape[2]), np.int32)
    row = np.empty(src.shape[2], np.int32)
    for t in range(start, stop):
        b = t // bands
        r0 = (t % bands) * band
        for m in range(r0, min(r0 + band, o_h)):
            _v_pillow(src[b], row, yi, yw, yn, m, acc32)
            _window_h(row, dst[b, m], xf, xw, n_c, None, m - m, xf.shape[0])


@_jit
def halve(start, stop, src, dst, n_c):
    """OpenCV's x0.5 on both axes (its ``INTER_AREA`` fast path, which its bilinear takes
    there): ``(a + b + c + d + 2) >> 2`` over each 2x2 block, output rows ``start <= t < stop``
    of the ``(B, OH, OW * C)`` result (``t = b * OH + row``). The two input rows are summed
    first over their whole width (a contiguous loop that vectorises), then in pixel pairs."""
    o_h = dst.shape[1]
    n = dst.shape[2] // n_c
    pair = np.empty(2 * n * n_c, np.int16)
    for t in range(start, stop):
        b, i = t // o_h, t % o_h
        r0, r1, out = src[b, 2 * i], src[b, 2 * i + 1], dst[b, i]
        for e in range(2 * n * n_c):
            pair[e] = np.int16(r0[e]) + np.int16(r1[e])
        if n_c == 1:
            for j in range(n):
                out[j] = (pair[2 * j] + pair[2 * j + 1] + 2) >> 2
        elif n_c == 3:
            for j in range(n):
                p = 6 * j
                out[3 * j] = (pair[p] + pair[p + 3] + 2) >> 2
                out[3 * j + 1] = (pair[p + 1] + pair[p + 4] + 2) >> 2
                out[3 * j + 2] = (pair[p + 2] + pair[p + 5] + 2) >> 2
        else:
            for j in range(n):
                p = 2 * j * n_c
                for c in range(n_c):
                    out[j * n_c + c] = (pair[p + c] + pair[p + n_c + c] + 2) >> 2
