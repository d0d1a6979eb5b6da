"""OpenCV's and Pillow's own arithmetic on 8- and 16-bit images, for their presets.

:func:`interpolate` is called by :func:`upsampling.interpolate.interpolate_array` for every
integer input before its float path; it returns ``None`` where it has no kernel for the plan
(the float path then runs). It computes a 2-D resize named by a preset of
:data:`upsampling.conventions` (``plan.preset``) the way that library computes it on integers,
with the kernels of :mod:`upsampling._kernels.integer` and ``integer_float``, reading and
writing the image's dtype directly, in NCHW or channels-last layout (an ``(H, W, C)`` photo's view
``img.transpose(2, 0, 1)[None]`` comes back in the same layout).

What is reproduced, measured against OpenCV 5.1 (PyPI wheel) and Pillow 13.0:

- ``opencv/linear``, uint8: bit for bit. Weights ``round(2048 * w)`` (11 bits) from float32
  source coordinates (clamped along x, not along y: rows are clamped instead); the horizontal
  pass kept in int32, the vertical one as OpenCV's SIMD code does it,
  ``(sum(((t >> 4) * b) >> 16) + 2) >> 2`` (which is also its ``INTER_AREA`` fast path at x2).
- ``opencv/cubic``, uint8: within 1, at near-ties only. The wheel hands images of at least
  4x4 pixels to its IPP back end, which computes in floating point: we take OpenCV's float32
  cubic weights (``interpolateCubic``, ``a = -0.75``, the last one ``1 - `` the others; float32
  source coordinates), edge pixels repeated, and sum each pass in float32 in tap order
  (:mod:`upsampling._kernels.integer_float`; horizontal first when the height grows, vertical
  first when it shrinks: either order is as close), rounding half to even once. IPP's own
  summation is not documented; ours differs where the exact value lies within about
  ``2e-4`` of a half: 0.005% of the pixels of random noise (shapes 4..60, 70% of them exact),
  0 to 0.01% on photographs at x0.5 to x4, never by more than 1. Smaller images (OpenCV's own
  11-bit fixed point there) go to the float path (within 1).
- ``pillow/linear``, ``cubic``, ``lanczos``, uint8 (modes L, RGB, CMYK:
  every channel on its own, no premultiplied alpha): bit for bit when the height does not
  shrink. Pillow's coefficients (double, normalised, then ``int(w * 2**22 +- 0.5)``), a pass
  skipped where its size does not change, each pass rounded to 8 bits. Pillow 13 resamples
  vertically first when the height shrinks "significantly more" than the width; its exact rule
  is not documented: we take the vertical pass first when its kernel is longer (Pillow's
  ``ksize``), which agrees with Pillow in about 90% of the random shapes where the order
  matters (measured on sizes 2..60); the others differ by up to a few levels on photographs
  and up to 25 on random noise (Lanczos).
- the same Pillow presets on uint16 (Pillow's ``I;16``): double weights and sums, each pass
  rounded half away from zero and saturated; the same pass order caveat.
- PyTorch's own uint8 arithmetic, without a preset (``plan.torch_uint8``: a 2-D bilinear or
  bicubic call, antialiased or not): bit for bit with ``F.interpolate`` on uint8 tensors
  (torch 2.13, any channel count and layout; its kernel's one bug, more than 4 channels at a
  width of 1 that does not change, is not followed). Its weights are doubles over a window
  (without antialias: the kernel's taps, those past an edge added to the edge pixel; with
  it: the antialias window, normalised), rounded to int16 at the largest precision ``p <= 22``
  that keeps twice the largest weight under ``2**15``; each pass sums from ``2**(p - 1)``,
  shifts by ``p`` and saturates to 8 bits, the horizontal pass first. That is Pillow's 8-bit
  arithmetic with weights times ``2**(22 - p)``, so it runs Pillow's kernels.
- Nearest presets copy pixels (the float path's gather, already exact); OpenCV presets on
  uint16 and 1-D or 3-D resizes go to the float path (OpenCV computes 16-bit images in float32:
  ours differ by at most 1).

Speed (2 shared cores, under load; ``benchmarks/photos.py``): faster than Pillow on most
photo sizes and scales. OpenCV's bilinear on RGB at x0.5 (2x2 block means), x2, x1.5 and
x0.75 (all phases of a period in one sweep whose stores LLVM vectorises), x4 is about
``cv2.resize``'s single-thread speed (0.8-1.3x its time, 2048x2048 photos); its bicubic, in
float32, 0.3-0.7x ``cv2.resize``'s speed (IPP); other scales and Pillow's presets run phase
by phase or window by window, several times slower than OpenCV.

A chunked evaluation (Dask: ``rows`` given) slices the same global tables, so every chunk is
bit for bit the in-memory result; a chunk whose input span misses a pixel the library's table
reads falls back to the float path (not seen in practice: the spans are the float tables', which
read the same pixels).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from . import _backend
from ._kernels import integer as _k
from ._kernels import integer_float as _kf
from ._kernels import integer_sweep as _ks
from .filters import Plan, Table, table
from .modes import MODES

__all__ = ["interpolate"]

_OPENCV_METHODS = ("linear", "cubic")
_PILLOW_METHODS = ("linear", "cubic", "lanczos")
_PILLOW_SUPPORT = {"linear": 1.0, "cubic": 2.0, "lanczos": 3.0}


def interpolate(
    x: np.ndarray,
    plan: Plan,
    tables: list[Table] | None = None,
    order: tuple[int, ...] | None = None,
    rows: list[tuple[int, int]] | None = None,
    *,
    gather: bool | None = None,
) -> np.ndarray | None:
    """The interpolation of integer ``x`` ``(N, C, H, W)`` by ``plan`` with the arithmetic of
    the library its preset names (arguments as
    :func:`upsampling.interpolate.interpolate_array`), or ``None`` to use the float path."""
    kind = ("torch", plan.torch_uint8[0]) if _torch_kind(x, plan) else _kind(x, plan)
    if kind is None:
        return _torch_rounding(x, plan, tables, gather)
    library, method = kind
    ys, xs = (_axis_sizes(a) for a in plan.axes)
    if library == "torch":
        kind_, antialias, corners, factors = plan.torch_uint8
        ty, tx = (
            _torch_uint8_table(a.axis.in_size, a.axis.out_size, kind_, antialias, corners, f)
            for a, f in zip(plan.axes, factors, strict=True)
        )
    elif library == "opencv" and method == "cubic":
        ty, tx = _opencv_cubic_table(*ys), _opencv_cubic_table(*xs)
    elif library == "opencv":
        ty, tx = _opencv_table(*ys, False), _opencv_table(*xs, True)
    else:
        ty, tx = (_pillow_table(method, i, o, x.dtype == np.uint16) for i, o, _ in (ys, xs))
    if rows is not None:
        ty, tx = (
            _chunk(t, plan, i, rows[i], tables[i], x.shape[2 + i]) for i, t in enumerate((ty, tx))
        )
        if ty is None or tx is None:
            return None
    if library == "opencv" and method == "cubic":
        # the order that resamples fewer rows across, decided on the whole image (a chunk
        # takes the same); OpenCV's IPP sums match either order equally (see above)
        return _run_float32(x, ty, tx, ys[1] < ys[0])
    if library == "opencv":
        halves = all(o * 2 == i and r == 0.5 for i, o, r in (ys, xs))
        return _run(x, ty, tx, True, False, halves=halves and rows is None)
    if library == "torch":  # in Pillow's 8-bit arithmetic (see _torch_uint8_table), in the
        # float path's layout (channels_last in, channels_last out)
        return _run(x, ty, tx, False, False, interleaved=_backend.channels_last(x))
    v_first = _pillow_vertical_first(method, ys[:2], xs[:2])
    return _run(x, ty, tx, False, v_first)


def _torch_rounding(x: np.ndarray, plan: Plan, tables, gather: bool | None):
    """The PyTorch convention's 2-D resize of 8- and 16-bit ``x`` (no preset): the float
    path's arithmetic exactly (float32 sums of the plan's tables in tap order, the last axis
    first, each pass rounded half up and saturated) in one fused kernel, without the float
    path's full-size float temporaries; ``None`` where the float path runs (other dtypes and
    ranks, extrapolation, pure copies: nearest modes gather)."""
    if x.dtype not in (np.uint8, np.uint16) or plan.integer_rounding != "torch":
        return None
    if not _without_preset(x, plan):
        return None
    tables = [table(a) for a in plan.axes] if tables is None else tables
    if gather or (gather is None and all(t.is_gather for t in tables)):
        return None
    if 0 in tables[0].count or 0 in tables[1].count:
        return None
    return _run_float32(x, *tables, False, torch_rounding=True)


def _kind(x: np.ndarray, plan: Plan) -> tuple[str, str] | None:
    """``(library, method)`` where an exact kernel exists for this input and plan."""
    if x.dtype not in (np.uint8, np.uint16) or x.ndim != 4 or plan.preset is None:
        return None
    if plan.extrapolation is not None or 0 in x.shape:
        return None
    library, _, name = plan.preset.partition("/")
    method = MODES[name].method if name in MODES else name
    if library == "opencv" and method in _OPENCV_METHODS and x.dtype == np.uint8:
        # OpenCV's own fixed point under 4 pixels (the whole image's: a chunk may be smaller)
        if method == "cubic" and min(a.axis.in_size for a in plan.axes) < 4:
            return None
        return library, method
    if library == "pillow" and method in _PILLOW_METHODS:
        return library, method
    return None


def _torch_kind(x: np.ndarray, plan: Plan) -> bool:
    """Whether uint8 ``x`` takes PyTorch's own uint8 arithmetic (a 2-D bilinear or bicubic
    call with its convention: ``plan.torch_uint8``)."""
    return x.dtype == np.uint8 and plan.torch_uint8 is not None and _without_preset(x, plan)


def _without_preset(x: np.ndarray, plan: Plan) -> bool:
    """A non-empty 2-D resize of ``x`` without a preset or extrapolation: the PyTorch
    convention's integer kernels may take it."""
    return x.ndim == 4 and plan.preset is None and plan.extrapolation is None and 0 not in x.shape


def _axis_sizes(a) -> tuple[int, int, float]:
    """``(in, out, out / in)``: the ratio OpenCV divides by (the scale factor where one was
    given, as ``cv2.resize``'s ``fx``)."""
    axis = a.axis
    return axis.in_size, axis.out_size, axis.scale if axis.given else axis.out_size / axis.in_size


# ---------------------------------------------------------------------------------- tables
def _compact(index: np.ndarray, weight: np.ndarray) -> Table:
    """A :class:`Table` of the taps of nonzero weight (kept in order), integer or float."""
    keep = weight != 0
    count = keep.sum(axis=1).astype(np.int64)
    width = max(1, int(count.max(initial=0)))
    idx = np.zeros((len(index), width), np.int64)
    w = np.zeros((len(index), width), weight.dtype)
    slot = np.cumsum(keep, axis=1) - 1
    r, k = np.nonzero(keep)
    idx[r, slot[r, k]] = index[r, k]
    w[r, slot[r, k]] = weight[r, k]
    last = idx[np.arange(len(idx)), np.maximum(count - 1, 0)]
    idx = np.where(np.arange(width)[None, :] >= count[:, None], last[:, None], idx)
    return Table(idx, w, count, int(index.max(initial=0)) + 1)


def _opencv_coordinates(n_out: int, ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """OpenCV's source pixel ``floor(f)`` and float32 fraction of each output,
    ``f = float32((o + 0.5) / ratio - 0.5)``."""
    f = ((np.arange(n_out) + 0.5) * (1.0 / ratio) - 0.5).astype(np.float32)
    s = np.floor(f).astype(np.int64)
    return s, (f - s.astype(np.float32)).astype(np.float32)


@functools.lru_cache(maxsize=64)
def _opencv_table(n_in: int, n_out: int, ratio: float, along_x: bool) -> Table:
    """OpenCV's bilinear taps and 11-bit weights (``cv::resize``'s coefficient tables)."""
    s, f = _opencv_coordinates(n_out, ratio)
    if along_x:  # clamped coordinates along x; rows are clamped instead
        low, high = s < 0, s >= n_in - 1
        f[low | high] = 0
        s = np.where(low, 0, np.where(high, n_in - 1, s))
    w = np.stack([np.float32(1) - f, f], axis=1)
    taps = s[:, None] + np.arange(2)
    fixed = np.rint(w * np.float32(2048)).astype(np.int32)
    table = _compact(np.clip(taps, 0, n_in - 1), fixed)
    return Table(table.index, table.weight, table.count, n_in)


@functools.lru_cache(maxsize=64)
def _opencv_cubic_table(n_in: int, n_out: int, ratio: float) -> Table:
    """OpenCV's bicubic taps (pixels ``floor(f) - 1 .. floor(f) + 2``, clamped to the edge)
    and float32 weights (its ``interpolateCubic``: Keys' ``a = -0.75`` in float32, the last
    weight one minus the others), every row of four taps."""
    s, f = _opencv_coordinates(n_out, ratio)
    a, one = np.float32(-0.75), np.float32(1)
    g = f + one
    w0 = ((a * g - 5 * a) * g + 8 * a) * g - 4 * a
    w1 = ((a + 2) * f - (a + 3)) * f * f + one
    h = one - f
    w2 = ((a + 2) * h - (a + 3)) * h * h + one
    w = np.stack([w0, w1, w2, one - w0 - w1 - w2], axis=1).astype(np.float32)
    index = np.clip(s[:, None] + np.arange(-1, 3), 0, n_in - 1)
    return Table(index, w, np.full(n_out, 4, np.int64), n_in)


def _pillow_filter(method: str, t: float) -> float:
    """Pillow's filters in double (``Resample.c``)."""
    t = abs(t)
    if method == "linear":
        return 1.0 - t if t < 1.0 else 0.0
    if method == "cubic":
        a = -0.5
        if t < 1.0:
            return ((a + 2.0) * t - (a + 3.0)) * t * t + 1
        return (((t - 5) * t + 8) * t - 4) * a if t < 2.0 else 0.0
    return _sinc(t) * _sinc(t / 3) if t < 3.0 else 0.0


def _sinc(t: float) -> float:
    if t == 0.0:
        return 1.0
    t *= math.pi
    return math.sin(t) / t


def _pillow_ksize(method: str, n_in: int, n_out: int) -> int:
    return math.ceil(_PILLOW_SUPPORT[method] * max(n_in / n_out, 1.0)) * 2 + 1


@functools.lru_cache(maxsize=64)
def _pillow_table(method: str, n_in: int, n_out: int, wide: bool) -> Table:
    """Pillow's ``precompute_coeffs``: windows around ``(o + 0.5) * scale``, the filter
    stretched by the down-sampling factor, normalised; 8-bit images round the weights to
    22 bits (``normalize_coeffs_8bpc``), 16-bit ones keep them in double."""
    scale = n_in / n_out
    stretch = max(scale, 1.0)
    inverse = 1.0 / stretch
    support = _PILLOW_SUPPORT[method] * stretch
    ksize = _pillow_ksize(method, n_in, n_out)
    index = np.zeros((n_out, ksize), np.int64)
    weight = np.zeros((n_out, ksize))
    for o in range(n_out):
        center = (o + 0.5) * scale
        lo = max(int(center - support + 0.5), 0)
        n = min(int(center + support + 0.5), n_in) - lo
        w = [_pillow_filter(method, (j + lo - center + 0.5) * inverse) for j in range(n)]
        total = 0.0
        for v in w:
            total += v
        index[o, :n] = lo + np.arange(n)
        index[o, n:] = lo + max(n - 1, 0)
        weight[o, :n] = [v / total for v in w] if total != 0.0 else w
    if not wide:
        scaled = weight * (1 << 22)
        weight = np.trunc(np.where(weight < 0, scaled - 0.5, scaled + 0.5)).astype(np.int32)
    table = _compact(index, weight)
    return Table(table.index, table.weight, table.count, n_in)


def _torch_filter(kind: str, antialias: bool, t: np.ndarray) -> np.ndarray:
    """PyTorch's filters in double: the triangle, or Keys' cubic with ``a = -0.5`` under
    antialias (Pillow's) and ``-0.75`` without (OpenCV's)."""
    t = np.abs(t)
    if kind == "linear":
        return np.where(t < 1.0, 1.0 - t, 0.0)
    a = -0.5 if antialias else -0.75
    near = ((a + 2) * t - (a + 3)) * t * t + 1
    far = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    return np.where(t < 1.0, near, np.where(t < 2.0, far, 0.0))


@functools.lru_cache(maxsize=64)
def _torch_uint8_table(
    n_in: int, n_out: int, kind: str, antialias: bool, corners: bool, factor: float | None
) -> Table:
    """PyTorch's uint8 weights for one axis (``UpSampleKernel.cpp``'s int16 weights, from
    Pillow-SIMD): double weights over a window, then ``round(w * 2**p)`` with the largest
    ``p <= 22`` that keeps twice the largest weight under ``2**15``; each pass sums them from
    ``2**(p - 1)``, shifts by ``p`` and saturates to 8 bits, the horizontal pass first. That is
    Pillow's 8-bit arithmetic with the weights times ``2**(22 - p)`` (the same quotients), so
    these tables run its kernel. Without antialias the window is the kernel's taps at
    ``floor(x) - 1 ..`` with the weights of taps past an edge added to the edge pixel (the
    float kernel's clamping); with it, PyTorch's antialias window, normalised. An axis whose
    size does not change is PyTorch's skipped pass: the identity."""
    if n_in == n_out:
        return Table(np.arange(n_out)[:, None], np.full((n_out, 1), 1 << 22, np.int32),
                     np.ones(n_out, np.int64), n_in)  # fmt: skip
    if corners:
        scale = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    else:
        scale = 1.0 / factor if factor else n_in / n_out
    taps = 2 if kind == "linear" else 4
    o = np.arange(n_out)
    if antialias:
        support = taps * 0.5 * scale if scale >= 1.0 else taps * 0.5
        width = math.ceil(support) * 2 + 1
        center = scale * (o + 0.5)
        lo = np.maximum((center - support + 0.5).astype(np.int64), 0)  # (C's truncation)
        size = np.minimum((center + support + 0.5).astype(np.int64), n_in) - lo
        size = np.clip(size, 0, width)
        k = np.arange(width)[None, :]
        inverse = 1.0 / scale if scale >= 1.0 else 1.0
        w = _torch_filter(kind, True, (k + lo[:, None] - center[:, None] + 0.5) * inverse)
        w = np.where(k < size[:, None], w, 0.0)
        total = np.cumsum(w, axis=1)[:, -1:]  # (in tap order, as PyTorch adds them)
        w = np.where(total != 0.0, w / np.where(total != 0.0, total, 1.0), w)
        index = lo[:, None] + np.minimum(k, np.maximum(size[:, None] - 1, 0))
    else:
        real = scale * o if corners else scale * (o + 0.5) - 0.5
        if kind == "linear" and not corners:
            real = np.maximum(real, 0.0)
        # PyTorch's guard_index_and_lambda: floorf, in float32
        first = np.minimum(np.floor(real.astype(np.float32)).astype(np.int64), n_in - 1)
        lam = np.clip(real - first, 0.0, 1.0)
        half = taps // 2
        k = np.arange(taps)[None, :]
        taps_w = _torch_filter(kind, False, (k + 1 - half) - lam[:, None])
        # taps past an edge add their weight to the edge pixel's (in double, before rounding)
        unbound = first[:, None] - half + 1 + k
        lo = np.maximum(unbound[:, :1], 0)
        w = np.zeros((n_out, taps))
        rows = np.broadcast_to(o[:, None], unbound.shape)
        np.add.at(w, (rows, np.clip(unbound, 0, n_in - 1) - lo), taps_w)  # (in tap order)
        index = np.minimum(lo + k, n_in - 1)
    w_max = float(w.max())
    p = 0
    while p < 22 and int(0.5 + w_max * (1 << (p + 1))) < (1 << 15):
        p += 1
    scaled = w * (1 << p)
    fixed = np.trunc(np.where(scaled < 0, scaled - 0.5, scaled + 0.5)).astype(np.int64)
    table = _compact(index, fixed << (22 - p))  # taps on one pixel merged: their sum
    return Table(table.index, table.weight.astype(np.int32), table.count, n_in)


def _pillow_vertical_first(method: str, ys: tuple[int, int], xs: tuple[int, int]) -> bool:
    """Whether Pillow 13 resamples vertically first (see the module's docstring)."""
    if ys[0] == ys[1] or xs[0] == xs[1]:
        return False
    return _pillow_ksize(method, *ys) > _pillow_ksize(method, *xs)


def _chunk(t: Table, plan: Plan, axis: int, rows: tuple[int, int], sub: Table, size: int):
    """Rows ``rows`` of the global table ``t`` shifted onto a chunk's input of ``size`` pixels
    (its start read off the chunk's float table ``sub``), or ``None`` if they read outside."""
    o0, o1 = rows
    whole = table(plan.axes[axis])
    live = np.flatnonzero(sub.count > 0)
    if len(live) == 0:
        return None
    lo = int(whole.index[o0 + live[0], 0] - sub.index[live[0], 0])
    index, count = t.index[o0:o1] - lo, t.count[o0:o1]
    k = np.arange(index.shape[1])[None, :] < count[:, None]
    if np.any(k & ((index < 0) | (index >= size))):
        return None
    return Table(np.clip(index, 0, size - 1), t.weight[o0:o1], count, size)


# ---------------------------------------------------------------------------------- kernels
def _periodic(t: Table, n_c: int) -> tuple[np.ndarray, np.ndarray]:
    """The longest run of the windows of ``t`` that repeats with the scale's period
    (``first[m + period] == first[m] + stride``), as ``(m0, period, stride, repeats)`` and the
    weights ``(period, taps, repeats * C)`` of :func:`upsampling._kernels.integer._regular_h`
    (``(period, taps, 1)`` where they do not change along the run, as at every scale seen);
    no run (``repeats == 0``) where the period exceeds 8 outputs. Cached on the table."""
    key = ("periodic", n_c)
    if key not in t._cache:
        first, weight = _windows(t)
        g = math.gcd(t.in_size, t.out_size)
        period, stride = t.out_size // g, t.in_size // g
        reg, wexp = np.zeros(4, np.int64), np.zeros((1, 1, 1), t.weight.dtype)
        exact = t.weight.dtype.kind == "f"  # float sums: only windows that are the taps
        plain = _plain_windows(t, first) if exact else np.ones(t.out_size, bool)
        for m0 in range(period, 5 * period, period):  # past the edge windows (clamped)
            if period > 8 or t.out_size < m0 + 4 * period:
                break
            steps = (t.out_size - m0) // period
            rows = m0 + np.arange(period)[:, None] + period * np.arange(steps)[None, :]
            ok = first[rows] == first[rows[:, :1]] + stride * np.arange(steps)[None, :]
            ok &= plain[rows]
            repeats = int(np.argmin(np.all(ok, axis=0))) if not ok.all() else steps
            if repeats >= 4:
                reg = np.array([m0, period, stride, repeats], np.int64)
                w = weight[rows[:, :repeats]].transpose(0, 2, 1)  # (period, taps, repeats)
                if np.all(w == w[:, :, :1]):  # one weight per phase and tap (integers)
                    w = w[:, :, :1]
                wexp = np.ascontiguousarray(np.repeat(w, n_c if w.shape[2] > 1 else 1, axis=2))
                break
        t._cache[key] = (reg, wexp.astype(t.weight.dtype))
    return t._cache[key]


def _plain_windows(t: Table, first: np.ndarray) -> np.ndarray:
    """Which outputs of ``t`` read exactly pixels ``first[m] + k`` with tap ``k`` (no tap
    merged or missing: their window sums are the table's, in the same order)."""
    k = np.arange(t.index.shape[1])
    return np.all(t.index == first[:, None] + k, axis=1) & (t.count == len(k))


def _windows(t: Table) -> tuple[np.ndarray, np.ndarray]:
    """The table as windows of equal width: output ``m`` reads pixels ``first[m] + k`` with
    weights ``weight[m, k]`` (zero where the table has no tap; taps on one pixel merged, as
    the integer sums allow). Cached on the table."""
    if "windows" not in t._cache:
        n = t.out_size
        live = t.count > 0
        lo = np.where(live, t.index[:, 0], 0)
        hi = np.where(live, t.index[np.arange(n), np.maximum(t.count - 1, 0)], 0)
        width = int(min(max(int((hi - lo).max(initial=0)) + 1, 1), t.in_size))
        first = np.minimum(lo, t.in_size - width).astype(np.int64)
        weight = np.zeros((n, width), t.weight.dtype)
        k = np.arange(t.index.shape[1])[None, :] < t.count[:, None]
        r, j = np.nonzero(k)
        np.add.at(weight, (r, t.index[r, j] - first[r]), t.weight[r, j])
        t._cache["windows"] = (first, weight)
    return t._cache["windows"]


def _rows(x: np.ndarray, oh: int, ow: int, interleaved: bool | None = None):
    """``(src, dst, out, images, C)``: ``x`` ``(N, C, H, W)`` as rows ``(B, H, W * C)`` of
    interleaved channels where its channels are adjacent (channels-last, a crop of a photo
    too; ``B = N``) or ``interleaved`` says so, else as planes (``B = N * C``, ``C = 1``);
    ``dst`` the result's rows and ``out`` its ``(N, C, OH, OW)`` view, in the same layout."""
    n, c, h, w = x.shape
    if interleaved is None:
        interleaved = c > 1 and x.strides[1] == x.itemsize
    if interleaved:
        src = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).reshape(n, h, w * c)
        dst = np.empty((n, oh, ow * c), x.dtype)
        return src, dst, dst.reshape(n, oh, ow, c).transpose(0, 3, 1, 2), n, c
    src = np.ascontiguousarray(x).reshape(n * c, h, w)
    dst = np.empty((n * c, oh, ow), x.dtype)
    return src, dst, dst.reshape(n, c, oh, ow), n * c, 1


def _bands(images: int, oh: int) -> tuple[int, int]:
    """``(band, tasks)``: output rows per task (whole images while there are enough of
    them for the threads, else about four bands per thread) and the number of tasks."""
    threads = _backend.get_num_threads()
    band = oh if images >= 2 * threads else max(8, -(-oh // (4 * threads)))
    return band, images * -(-oh // band)


def _run_float32(
    x: np.ndarray, ty: Table, tx: Table, v_first: bool, *, torch_rounding: bool = False
) -> np.ndarray:
    """Both passes in float32 (:mod:`upsampling._kernels.integer_float`), the vertical one
    first if ``v_first``; rounded as PyTorch does with ``torch_rounding`` (half up after each
    pass, the horizontal first), else once, half to even (OpenCV's IPP)."""
    # the float path's layout for PyTorch's rounding (channels_last in, channels_last out)
    last = _backend.channels_last(x) if torch_rounding else None
    src, dst, out, images, n_c = _rows(x, ty.out_size, tx.out_size, last)
    band, tasks = _bands(images, ty.out_size)
    top = np.iinfo(x.dtype).max
    reg, wexp = _periodic(tx, n_c)
    first = _windows(tx)[0]
    xw, yw, wexp = _float32(tx, "weight"), _float32(ty, "ringed"), _float32(tx, ("periodic", n_c))
    args = (src, dst, n_c, _full(tx), xw, first, reg, wexp, _ringed(ty)[0], yw, top)
    work = src.size + dst.size
    if v_first:
        _backend.run_planes(_kf.float32_resize_v_first, tasks, work, *args, band)
    else:
        torch = 1 if torch_rounding else None  # None: no other rounding is compiled
        _backend.run_planes(_kf.float32_resize, tasks, work, *args, torch, band)
    return out


def _full(t: Table) -> np.ndarray:
    """``t.index`` with each row's padding (past ``count``, weight 0) naming its last pixel:
    the kernels read every entry (a zero weight adds nothing) and keep the rows an output
    reads in a ring of ``taps + 1``, which another pixel's row could overrun. Cached."""
    if "full" not in t._cache:
        last = t.index[np.arange(t.out_size), np.maximum(t.count - 1, 0)]
        pad = np.arange(t.index.shape[1])[None, :] >= t.count[:, None]
        t._cache["full"] = np.ascontiguousarray(np.where(pad, last[:, None], t.index))
    return t._cache["full"]


def _ringed(t: Table) -> tuple[np.ndarray, np.ndarray]:
    """``(index, weight)`` of the table of the vertical pass: padding as :func:`_full` (weight
    0), and rows at least as wide as the span of rows an output reads, less one. The kernels
    keep those rows in a ring of ``width + 1``; a row whose taps have a gap (a tap of weight
    zero dropped, at integer scales) spans more than its count, and would overrun a ring of
    ``taps + 1``. Cached."""
    if "ringed" not in t._cache:
        full = _full(t)
        span = int((full.max(axis=1) - full.min(axis=1)).max(initial=0))
        extra = max(span - full.shape[1], 0)
        index = np.pad(full, ((0, 0), (0, extra)), mode="edge")
        weight = np.pad(t.weight, ((0, 0), (0, extra)))
        t._cache["ringed"] = (np.ascontiguousarray(index), np.ascontiguousarray(weight))
    return t._cache["ringed"]


def _float32(t: Table, what) -> np.ndarray:
    """``t.weight`` (``what == "weight"``), :func:`_ringed`'s (``"ringed"``) or the weights of
    its periodic run (``what`` the key of :func:`_periodic`, which must have run) in float32,
    the sums' dtype; cached."""
    key = ("float32", what)
    if key not in t._cache:
        if what == "weight":
            w = t.weight
        elif what == "ringed":
            w = _ringed(t)[1]
        else:
            w = t._cache[what][1]
        t._cache[key] = np.ascontiguousarray(w, dtype=np.float32)
    return t._cache[key]


def _run(
    x: np.ndarray,
    ty: Table,
    tx: Table,
    opencv: bool,
    v_first: bool,
    *,
    halves: bool = False,
    interleaved: bool | None = None,
):
    """Both passes over ``x`` ``(N, C, H, W)``; the result is channels-last (its
    ``transpose(0, 2, 3, 1)`` C-contiguous) where ``x``'s channels are adjacent (or
    ``interleaved`` says so), else NCHW.
    ``halves``: OpenCV's bilinear at exactly x0.5, by 2x2 block means (the same values)."""
    oh = ty.out_size
    src, dst, out, images, n_c = _rows(x, oh, tx.out_size, interleaved)
    if halves:  # the same sums as the tables', by 2x2 blocks
        # about one add per input value: threads pay from about half a megabyte of output
        _backend.run_planes(_k.halve, images * oh, dst.size // 4, src, dst, n_c)
        return out
    band, tasks = _bands(images, oh)
    work = src.size + dst.size
    first, window = _windows(tx)
    args = (src, dst, n_c, first, window)
    tail = (*_ringed(ty), ty.count)
    if x.dtype == np.uint16:
        _backend.run_planes(_kf.float_resize, tasks, work, *args, *tail, v_first, band)
    elif v_first:
        _backend.run_planes(_k.fixed_resize_v_first, tasks, work, *args, *tail, band)
    else:
        reg, wexp = _periodic(tx, n_c)
        if opencv and _ks.sweeps(window.shape[1], reg, wexp, n_c):
            triple = None if reg[1] == 2 else 1  # None: the period-3 sweep is not compiled
            tail = (src, dst, first, window, reg, wexp, *tail, triple, band)
            _backend.run_planes(_ks.opencv_sweep_resize, tasks, work, *tail)
        else:
            cv = 1 if opencv else None  # None: OpenCV's arithmetic is not compiled
            _backend.run_planes(_k.fixed_resize, tasks, work, *args, reg, wexp, *tail, cv, band)
    return out
