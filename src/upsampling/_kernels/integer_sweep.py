"""Numba kernels for OpenCV's bilinear on 8-bit RGB rows at periods of 2 and 3 (x2, x1.5,
x0.75): the horizontal pass of :mod:`upsampling._kernels.integer` (its mode 1, one weight per
tap) with all phases of the periodic run in one sweep whose stores are in order, 1.2-1.8x
faster than phase by phase (at x4 no faster: period 4 stays there). An entry of its own,
:func:`opencv_sweep_resize`, chosen by :func:`sweeps`, so that neither path compiles the
other's code.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .integer import _missing, _ring, _segment, _v_opencv_linear, _window3, lin2, split_phases

_jit = nb.njit(cache=True, nogil=True, boundscheck=False)
# kernels called only from other kernels: no Python entry point to compile (so calling one
# from Python crashes the interpreter: tests call the _jit kernels)
_inner = nb.njit(cache=True, nogil=True, boundscheck=False, no_cpython_wrapper=True)
_inline = _inner  # LLVM inlines these small functions


@_jit
def _sweep_h(src, dst, first, weight, reg, wexp, split, triple):
    """``integer._regular_h`` for OpenCV's first pass on RGB rows where :func:`sweeps` says
    so: the edges window by window, the run's phases in one sweep. ``triple``: ``None`` for
    a period of 2 (numba then compiles only that sweep), an integer for a period of 3."""
    m0, period, stride, repeats = reg[0], reg[1], reg[2], reg[3]
    # the edges: cv literal 1 (OpenCV's arithmetic), m0 - m0 not the literal 0 (one
    # specialisation of _window3, not two)
    _window3(src, dst, first, weight, 1, m0 - m0, m0)
    _window3(src, dst, first, weight, 1, m0 + period * repeats, first.shape[0])
    if stride > 1 and not (period == 3 and (stride == 2 or stride == 4)):
        split_phases(src, split, stride, 3)
    out, n = dst[m0 * 3 :], repeats * 3
    if triple is None:
        _linear3_pair(src, split, out, first[m0:], wexp, stride, n)
    else:
        _linear3_triple(src, split, out, first[m0:], wexp, stride, n)


def sweeps(taps: int, reg: np.ndarray, wexp: np.ndarray, n_c: int) -> bool:
    """Whether :func:`opencv_sweep_resize` takes OpenCV's horizontal pass (see
    :func:`_sweep_h`)."""
    return n_c == 3 and taps == 2 and reg[3] > 0 and wexp.shape[2] == 1 and 2 <= reg[1] <= 3


@_inline
def _phase3(dst, d, s0, s1, p, a, b):
    """Three channels of one pixel of OpenCV's first pass."""
    dst[d] = lin2(s0[p], a, s1[p], b) >> np.int32(4)
    dst[d + 1] = lin2(s0[p + 1], a, s1[p + 1], b) >> np.int32(4)
    dst[d + 2] = lin2(s0[p + 2], a, s1[p + 2], b) >> np.int32(4)


@_inline
def _taps(src, split, first, wexp, r, stride, n):
    """Phase ``r``'s two input segments and weights."""
    s0 = _segment(src, split, first[r], 3, stride, n)
    s1 = _segment(src, split, first[r] + 1, 3, stride, n)
    return s0, s1, wexp[r, 0, 0], wexp[r, 1, 0]


@_inline
def _linear3_pair(src, split, dst, first, wexp, stride, n):
    """:func:`_linear3` for all phases of a period of 2 (x2), output pixels in order from
    ``dst[0]`` (constant offsets there, not variable ones, let LLVM vectorise the loop)."""
    s00, s01, a0, b0 = _taps(src, split, first, wexp, 0, stride, n)
    s10, s11, a1, b1 = _taps(src, split, first, wexp, 1, stride, n)
    for t in range(n // 3):
        _phase3(dst, 6 * t, s00, s01, 3 * t, a0, b0)
        _phase3(dst, 6 * t + 3, s10, s11, 3 * t, a1, b1)


@_inline
def _linear3_triple(src, split, dst, first, wexp, stride, n):
    """:func:`_linear3_pair` for a period of 3 (x1.5, x0.75); at strides 2 and 4 straight
    from the input (constant steps, no split)."""
    if stride == 2:
        _triple(dst, src, first, wexp, n, 6)
    elif stride == 4:
        _triple(dst, src, first, wexp, n, 12)
    else:
        s00, s01, a0, b0 = _taps(src, split, first, wexp, 0, stride, n)
        s10, s11, a1, b1 = _taps(src, split, first, wexp, 1, stride, n)
        s20, s21, a2, b2 = _taps(src, split, first, wexp, 2, stride, n)
        for t in range(n // 3):
            _phase3(dst, 9 * t, s00, s01, 3 * t, a0, b0)
            _phase3(dst, 9 * t + 3, s10, s11, 3 * t, a1, b1)
            _phase3(dst, 9 * t + 6, s20, s21, 3 * t, a2, b2)


@_inline
def _triple(dst, src, first, wexp, n, step):
    """:func:`_linear3_triple` reading pixel ``first[r] + stride * t`` of the input row at
    ``src[3 * first[r] + step * t]`` (``step = 3 * stride``, a constant)."""
    s00, s01 = src[3 * first[0] :], src[3 * first[0] + 3 :]
    s10, s11 = src[3 * first[1] :], src[3 * first[1] + 3 :]
    s20, s21 = src[3 * first[2] :], src[3 * first[2] + 3 :]
    a0, b0, a1, b1 = wexp[0, 0, 0], wexp[0, 1, 0], wexp[1, 0, 0], wexp[1, 1, 0]
    a2, b2 = wexp[2, 0, 0], wexp[2, 1, 0]
    for t in range(n // 3):
        _phase3(dst, 9 * t, s00, s01, step * t, a0, b0)
        _phase3(dst, 9 * t + 3, s10, s11, step * t, a1, b1)
        _phase3(dst, 9 * t + 6, s20, s21, step * t, a2, b2)


@_jit
def opencv_sweep_resize(start, stop, src, dst, xf, xw, reg, wexp, yi, yw, yn, triple, band):
    """``integer.fixed_resize`` in OpenCV's bilinear modes (1 then 2) on RGB rows where
    :func:`sweeps` says so: the horizontal pass by :func:`_sweep_h` (an entry of its own, so
    that neither path compiles the other's code)."""
    o_h = dst.shape[1]
    bands = (o_h + band - 1) // band
    cache, held, todo, acc32, _, split = _ring(src, dst, 3, reg, yi)
    for t in range(start, stop):
        b, r0 = t // bands, (t % bands) * band
        held[:] = -1
        for m in range(r0, min(r0 + band, o_h)):
            for i in range(_missing(held, yi, yn, m, todo)):
                y = todo[i]
                args = (xf, xw, reg, wexp, split, triple)
                _sweep_h(src[b, y], cache[y % cache.shape[0]], *args)
            _v_opencv_linear(cache, dst[b, m], yi, yw, yn, m, acc32)
