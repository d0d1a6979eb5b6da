"""Interpolation: PyTorch's ``interpolate`` and ONNX's ``Resize`` as one algorithm.

The public function normalises its arguments once into a plan
(:func:`upsampling.conventions.make_plan`): per spatial axis, one coordinate rule
(:mod:`upsampling.coordinates`), one filter and the options that shape its (index, weight)
table (:mod:`upsampling.filters`). The tables are applied axis by axis: by the numba kernels of
:mod:`upsampling._kernels.interpolate` for NumPy arrays and CPU tensors, by a pure-PyTorch version
of the same sums elsewhere (:mod:`upsampling.nn._interpolate_ops`). Gradients apply the
transposed tables (a gather).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _backend, _checks, _integer
from ._kernels import interpolate as _k
from ._kernels.interpolate import Layout
from ._typing import (
    ArrayOrDask,
    CoordinateMode,
    FloatOrFloats,
    InterpolateMode,
    IntOrInts,
    NearestMode,
)
from .conventions import make_plan
from .filters import Plan, Table, is_identity, outside_rows, table
from .spec import ResizeSpec

__all__ = ["interpolate"]


# ------------------------------------------------------------------------- NumPy-level workers
def _split_axis(sizes: list[int], out_sizes: list[int]) -> int:
    """The axis (0 = D, 1 = H) whose output rows threads may split: the outermost one that is
    not a padding axis of size one, so that a block of one volume is contiguous."""
    return 0 if sizes[0] > 1 or out_sizes[0] > 1 else 1


def _block(a: np.ndarray, p0: int, p1: int, axis: int, lo: int, hi: int) -> np.ndarray:
    """Volumes ``p0:p1`` of ``a``, rows ``lo:hi`` along spatial ``axis`` (0 or 1)."""
    return a[(slice(p0, p1), *(slice(None),) * axis, slice(lo, hi))]


def _reshaped(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A view of ``a`` in ``shape`` (never a copy: the kernels write into it)."""
    view = a.view()
    view.shape = shape
    return view


def _accumulator(dtype: np.dtype) -> np.dtype:
    """The float dtype the sums of ``dtype`` input run in (PyTorch's choice)."""
    if dtype == np.float64 or (dtype.kind in "iu" and dtype.itemsize >= 4):
        return np.dtype(np.float64)
    return np.dtype(np.float32)


_NO_TABLE = (np.zeros((1, 1), np.int64), np.zeros(1, np.int64))


@functools.lru_cache(maxsize=4)
def _no_table(dtype: np.dtype) -> tuple:
    """The (index, weight, count) the kernel receives for an axis it leaves alone."""
    return _NO_TABLE[0], _NO_TABLE[0].astype(dtype), _NO_TABLE[1]


@functools.lru_cache(maxsize=4)
def _no_layout(dtype: np.dtype) -> Layout:
    empty = np.zeros(0, np.int64)
    return Layout(
        0, 0, 0, 0, empty, np.zeros((0, 1, 0), dtype), empty, empty, np.zeros((0, 1), dtype), empty
    )


def _layout_args(t: Layout) -> tuple:
    live = np.any(t.phase_weight != 0, axis=2)  # taps the periodic run reads
    return (
        t.start,
        t.period,
        t.stride,
        t.repeats,
        t.base,
        t.phase_weight,
        t.band,
        t.band_window,
        t.band_weight,
        t.rest,
        bool(np.any((t.phase_weight == 0) & live[:, :, None])),  # zero weights: not read
        live,
    )


def _order(sizes: list[int], tables: list[Table | None]) -> tuple[int, ...]:
    """The pass order with the least work: each pass costs its output size times its taps, the
    last axis (resampled along rows, not across them) about half as much again."""
    active = [i for i, t in enumerate(tables) if t is not None]
    best, best_cost = tuple(active), math.inf
    for order in itertools.permutations(active):
        cur, cost = list(sizes), 0.0
        for axis in order:
            t = tables[axis]
            cur[axis] = t.out_size
            cost += math.prod(cur) * max(t.mean_taps, 0.5) * (1.5 if axis == 2 else 1.0)
        if cost < best_cost:
            best, best_cost = order, cost
    return best


def pass_order(in_size: tuple[int, ...], tables: list[Table]) -> tuple[int, ...]:
    """The spatial axes whose table is not the identity, in the cheapest order to apply them
    (a chunked evaluation applies the whole array's order to every chunk: the same sums)."""
    pad = 3 - len(tables)
    full = [None] * pad + [None if is_identity(t) else t for t in tables]
    return tuple(a - pad for a in _order([1] * pad + list(in_size), full))


# Elements of a volume's intermediate result above which its H and W passes run output row by
# output row (``stream`` of ``_k.resample``: a few rows stay in cache instead of the whole).
_STREAM = 1 << 15
# Row layouts with a period above this (or none) resample NCHW rows through transposed tiles.
_LONG_PERIOD = 4
# channels_last arrays with at most this many channels (photos: RGB, RGBA) resample their W
# axis along rows of W * C interleaved samples (:meth:`Table.interleaved`) through the row
# layout, vectorised along the row, instead of pixel by pixel over a few channels.
_INTERLEAVED = 4
# NCHW arrays of more channels whose output rows are at most this long, and whose output has at
# most _SMALL elements, resample as channels_last (measured: 1.5-2x faster there, slower beyond)
_SHORT_ROWS = 32
_SMALL = 1 << 17


def _scratch(sizes: list[int], out_sizes: list[int], steps, channels: int, stream: bool) -> int:
    """The elements of the largest intermediate result of the passes ``steps`` (with
    ``stream``, none between an H pass and the W pass right after it, or the reverse)."""
    scratch, cur = 1, list(sizes)
    for i, axis in enumerate(steps[:-1]):
        cur[axis] = out_sizes[axis]
        if not (stream and axis != 0 and steps[i + 1] == 3 - axis):
            scratch = max(scratch, math.prod(cur))
    return scratch * channels


# What a worker derives from its tables, the input's shape, dtype and layout alone (pass order,
# row layout, weights in the dtype, scratch sizes: the kernel's arguments), by those (tables by
# identity: each key holds its tables, so an id is never reused while its entry lives). Oldest
# out first past _CACHE_SIZE entries; 0 turns the cache off (every call prepares afresh).
_CACHE_SIZE = 256
_PREPARED: dict[tuple, Any] = {}


def _cached(key: tuple, make):
    """``make()``, remembered under ``key`` in :data:`_PREPARED`."""
    return _backend.remember(_PREPARED, key, make, _CACHE_SIZE)


def clear_cache() -> None:
    """Forget every prepared call (tests; a changed :data:`_CACHE_SIZE`)."""
    _PREPARED.clear()


def _plan_tables(plan: Plan, transposed: bool) -> tuple:
    """``(plan, tables, gather)``: the plan's tables (transposed: the gradient's) and whether
    all are copies; cached by the plan's identity (plans are cached themselves)."""

    def make():
        tables = [table(a) for a in plan.axes]
        if transposed:
            tables = [t.transposed() for t in tables]
        return plan, tables, all(t.is_gather for t in tables)

    return _cached(("tables", id(plan), transposed), make)


@dataclass(frozen=True, eq=False)
class _Resample:
    """A prepared :func:`apply_tables`: the output's shape and, per D/H/W axis, sizes, tables
    and kernel arguments; ``whole`` is the kernel's arguments after the arrays for a call over
    every row (a call over some rows derives its own)."""

    out_shape: tuple[int, ...]
    sizes: list[int]
    out_sizes: list[int]
    steps: tuple[int, ...]
    args: list[tuple]
    layout: tuple
    transposed: bool
    steps_array: np.ndarray
    axis: int
    split: bool
    channels: int
    whole: tuple
    views: tuple | None = None  # the kernel's (input, output) volume shapes, if not volumes()


def _prepare_resample(shape, dtype: np.dtype, last: bool, tables, order) -> _Resample | None:
    n, c, *size = shape
    pad = 3 - len(size)
    group = 1  # channels_last pixels read as one row of ``W * C`` samples (few channels)
    if last and c <= _INTERLEAVED and not is_identity(tables[-1]):
        if order is None or len(size) - 1 in order:
            group, last = c, False
            size = [*size[:-1], size[-1] * c]
            tables = [*tables[:-1], tables[-1].interleaved(c)]
    full: list[Table | None] = [None] * pad + [None if is_identity(t) else t for t in tables]
    if order is not None:
        full = [t if i - pad in order else None for i, t in enumerate(full)]
    if all(t is None for t in full):
        return None
    sizes = [1] * pad + list(size)
    steps = _order(sizes, full) if order is None else tuple(a + pad for a in order)
    out_sizes = [s if t is None else t.out_size for s, t in zip(sizes, full, strict=True)]
    none = _no_table(dtype)
    args = [
        none if t is None else (t.index, t.weight.astype(dtype, copy=False), t.count) for t in full
    ]
    rows = full[2] is not None and not last  # the W pass along rows, through its layout
    row_layout = full[2].layout(dtype) if rows else _no_layout(dtype)
    layout = _layout_args(row_layout)
    transposed = rows and not 0 < row_layout.period <= _LONG_PERIOD * group
    steps_array = np.array(steps, np.int64)
    channels = c if last else 1
    stream = _scratch(sizes, out_sizes, steps, channels, False) > _STREAM
    scratch = _scratch(sizes, out_sizes, steps, channels, stream)
    flat = tuple(a for triple in args for a in triple)
    whole = (*flat, layout, steps_array, scratch, stream, transposed)
    axis = _split_axis(sizes, out_sizes)
    out_shape = (n, c, *out_sizes[pad:-1], out_sizes[-1] // group)
    split = full[axis] is not None
    views = ((n, *sizes, 1), (n, *out_sizes, 1)) if group > 1 else None
    return _Resample(
        out_shape,
        sizes,
        out_sizes,
        steps,
        args,
        layout,
        transposed,
        steps_array,
        axis,
        split,
        channels,
        whole,
        views,
    )


def _as_channels_last(shape: tuple[int, ...], tables: list[Table]) -> bool:
    """Whether an NCHW input of ``shape`` resamples as a channels_last copy: small calls of
    short rows, where the channels_last kernels, vectorised over the channels, beat the row
    kernel's per-row cost even with both copies (the same sums)."""
    return (
        shape[1] > _INTERLEAVED
        and tables[-1].out_size <= _SHORT_ROWS
        # (a copy of one pixel, or of an empty batch, would be C-contiguous again)
        and shape[0] > 0
        and math.prod(shape[2:]) > 1
        and shape[0] * shape[1] * math.prod(t.out_size for t in tables) <= _SMALL
    )


@dataclass(frozen=True, eq=False)
class _Direct:
    """A prepared whole call of :func:`interpolate_array` on a plan's own tables, for inputs of
    one shape, strides and dtype: the kernel and all its arguments but the arrays, so that a
    small call (one thread) costs a lookup and the kernel, not the preparation's Python.
    ``copy``: an NCHW input resampled as a channels_last copy (:func:`_as_channels_last`);
    ``last``: the layout the kernel reads and writes; ``work``: the elements it touches, which
    :func:`upsampling._backend.threads_for` compares with its threshold at each call."""

    plan: Plan  # (its id is in the key: held here, it is never reused while the entry lives)
    kernel: Any
    copy: bool
    last: bool
    out_shape: tuple[int, ...]
    views: tuple | None
    args: tuple
    work: int

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.copy:
            x = _backend.as_channels_last(x)
        out = _backend.empty_in_layout(self.out_shape, x.dtype, self.last)
        src, dst = _backend.volumes(x, self.last), _backend.volumes(out, self.last)
        if self.views is not None:
            src, dst = _reshaped(src, self.views[0]), _reshaped(dst, self.views[1])
        self.kernel(0, len(src), src, dst, *self.args)
        return np.ascontiguousarray(out) if self.copy else out


def _direct(x: np.ndarray, plan: Plan, transposed: bool = False) -> _Direct | None:
    """The :class:`_Direct` call of ``plan`` (``transposed``: of its gradient) on arrays like
    ``x``, or None where the call takes another path (integer or float16 data, extrapolation,
    an identity, a split over threads)."""
    key = ("direct", id(plan), transposed, x.shape, x.strides, x.dtype)
    found = _cached(key, lambda: _make_direct(x, plan, transposed))
    if found is None or found.work >= 2 * _backend._PARALLEL_MIN_WORK:
        return None
    return found


def _make_direct(x: np.ndarray, plan: Plan, transposed: bool) -> _Direct | None:
    if x.dtype not in (np.float32, np.float64):
        return None
    if plan.extrapolation is not None and not transposed:  # (filled after the tables)
        return None
    _, tables, gather = _plan_tables(plan, transposed)
    gather = gather and not transposed  # (a gradient always goes through apply_tables)
    last = _backend.channels_last(x)
    copy = not last and _as_channels_last(x.shape, tables)  # (a copy moves values exactly)
    last = last or copy
    if gather:
        out_shape, idx, layout, _ = _prepare_gather(x.shape, x.dtype, last, tables)
        work = math.prod(out_shape)
        return _Direct(plan, _k.gather, copy, last, out_shape, None, (*idx, layout), work)
    prep = _prepare_resample(x.shape, x.dtype, last, tables, None)
    if prep is None:
        return None
    work = x.size + math.prod(prep.out_shape)
    return _Direct(plan, _k.resample, copy, last, prep.out_shape, prep.views, prep.whole, work)


def apply_tables(
    x: np.ndarray,
    tables: list[Table],
    order: tuple[int, ...] | None = None,
    *,
    cache: bool = False,
):
    """Apply per-axis tables to a float32/float64 array ``(N, C, *spatial)`` (identity tables
    are skipped). ``order`` fixes the axes and their order (default: the cheapest order).
    A :func:`channels_last` array gives a channels_last result, computed in place. ``cache``:
    the tables are long-lived (a plan's), so what the call derives from them is kept."""
    last = _backend.channels_last(x)
    if not last and _as_channels_last(x.shape, tables):
        pixels = _backend.as_channels_last(x)
        return np.ascontiguousarray(apply_tables(pixels, tables, order, cache=cache))
    if cache:
        key = ("resample", *tables, order, x.shape, x.dtype, last)
        prep = _cached(key, lambda: _prepare_resample(x.shape, x.dtype, last, tables, order))
    else:
        prep = _prepare_resample(x.shape, x.dtype, last, tables, order)
    if prep is None:
        return x.copy(order="K")
    src = _backend.volumes(x, last)
    out = _backend.empty_in_layout(prep.out_shape, x.dtype, last)
    dst = _backend.volumes(out, last)
    if prep.views is not None:
        src, dst = _reshaped(src, prep.views[0]), _reshaped(dst, prep.views[1])
    axis, sizes, out_sizes = prep.axis, prep.sizes, prep.out_sizes

    def call(p0: int, p1: int, r0: int, r1: int) -> None:
        if r0 == 0 and r1 == out_sizes[axis]:
            _k.resample(0, p1 - p0, src[p0:p1], dst[p0:p1], *prep.whole)
            return
        # output rows r0:r1 along the split axis, from the input rows they read
        block_args, lo, hi = list(prep.args), r0, r1
        if prep.split:
            index, weight, count = prep.args[axis]
            used = np.maximum(count[r0:r1] - 1, 0)
            lo = int(index[r0:r1, 0].min())
            hi = int(index[np.arange(r0, r1), used].max()) + 1
            block_args[axis] = (index[r0:r1] - lo, weight[r0:r1], count[r0:r1])
        xs, os_ = _block(src, p0, p1, axis, lo, hi), _block(dst, p0, p1, axis, r0, r1)
        in_b, out_b = list(sizes), list(out_sizes)
        in_b[axis], out_b[axis] = hi - lo, r1 - r0
        stream = _scratch(in_b, out_b, prep.steps, prep.channels, False) > _STREAM
        scratch = _scratch(in_b, out_b, prep.steps, prep.channels, stream)
        flat = [a for triple in block_args for a in triple]
        tail = (prep.layout, prep.steps_array, scratch, stream, prep.transposed)
        _k.resample(0, p1 - p0, xs, os_, *flat, *tail)

    _backend.run_blocks(call, len(src), out_sizes[axis], src.size + dst.size)
    return out


def _prepare_gather(shape, dtype: np.dtype, last: bool, tables) -> tuple:
    """A prepared :func:`_gather`: the output's shape, the per-axis indices, the W layout
    and the split axis."""
    n, c, *size = shape
    out_shape = (n, c, *(t.out_size for t in tables))
    bits = np.dtype(np.uint16) if dtype == np.float16 else dtype
    idx = [np.zeros(1, np.int64)] * (3 - len(size)) + [t.index[:, 0] for t in tables]
    layout = _layout_args(tables[-1].layout(bits, slack=0))
    pad = [1] * (3 - len(size))
    axis = _split_axis(pad + list(size), pad + list(out_shape[2:]))
    return out_shape, idx, layout, axis


def _gather(x: np.ndarray, tables: list[Table], *, cache: bool = False) -> np.ndarray:
    last = _backend.channels_last(x)
    if cache:
        key = ("gather", *tables, x.shape, x.dtype, last)
        prep = _cached(key, lambda: _prepare_gather(x.shape, x.dtype, last, tables))
    else:
        prep = _prepare_gather(x.shape, x.dtype, last, tables)
    out_shape, idx, layout, axis = prep
    out = _backend.empty_in_layout(out_shape, x.dtype, last)
    bits = (lambda a: a.view(np.uint16)) if x.dtype == np.float16 else (lambda a: a)
    src, dst = _backend.volumes(bits(x), last), _backend.volumes(bits(out), last)
    rows = dst.shape[1 + axis]

    def call(p0: int, p1: int, r0: int, r1: int) -> None:
        block = idx
        if r0 != 0 or r1 != rows:
            block = list(idx)
            block[axis] = idx[axis][r0:r1]
        _k.gather(0, p1 - p0, src[p0:p1], _block(dst, p0, p1, axis, r0, r1), *block, layout)

    _backend.run_blocks(call, len(src), rows, dst.size)
    return out


def _round_integer(y: np.ndarray, dtype: np.dtype, half_up: bool) -> np.ndarray:
    """``y`` (a float array this call owns) rounded and saturated to ``dtype``'s range, in
    place: half up (``floor(y + 0.5)``) or half to even."""
    info = np.iinfo(dtype)
    if half_up:
        y += 0.5
        np.floor(y, out=y)
    else:
        np.rint(y, out=y)
    return np.clip(y, info.min, info.max, out=y)


def interpolate_array(
    x: np.ndarray,
    plan: Plan,
    tables: list[Table] | None = None,
    order: tuple[int, ...] | None = None,
    rows: list[tuple[int, int]] | None = None,
    *,
    gather: bool | None = None,
) -> np.ndarray:
    """The interpolation of a NumPy array by a normalised plan (also serves CPU tensors).

    A chunked evaluation (Dask) computes one output chunk with ``tables``, the rows ``rows``
    (per axis, ``(start, stop)`` of the output) of the plan's tables shifted onto the chunk's
    input, in the whole array's pass ``order`` (:func:`pass_order`): the same path and the
    same sums as the whole; ``gather`` says whether the whole is a copy (a slice of a table
    may look like one when the whole is not)."""
    if x.dtype.kind in "iu":  # a library's own integer arithmetic, or integer kernels
        out = _integer.interpolate(x, plan, tables, order, rows, gather=gather)
        if out is not None:
            return out
    cache = tables is None  # the plan's own tables: long-lived (a chunk's are not)
    if cache and x.dtype.kind == "f":
        direct = _direct(x, plan)
        if direct is not None:
            return direct(x)
    if cache:
        _, tables, whole_gather = _plan_tables(plan, False)
        gather = whole_gather if gather is None else gather
    elif gather is None:
        gather = all(t.is_gather for t in tables)
    if order is None and x.dtype.kind in "iu" and plan.integer_rounding == "torch":
        order = tuple(i for i, t in enumerate(tables) if not is_identity(t))
    if gather:
        out = _gather(x, tables, cache=cache)
    elif x.dtype.kind in "iu":
        y = x.astype(_accumulator(x.dtype))
        if plan.integer_rounding == "torch":  # PyTorch rounds after each axis, the last first
            for axis in sorted(order, reverse=True):
                y = apply_tables(y, tables, order=(axis,), cache=cache)
                y = _round_integer(y, x.dtype, half_up=True)
        else:
            y = apply_tables(y, tables, order, cache=cache)
            y = _round_integer(y, x.dtype, half_up=False)
        out = y.astype(x.dtype)
    else:
        compute = _accumulator(x.dtype)
        out = apply_tables(x.astype(compute, copy=False), tables, order, cache=cache)
        out = out.astype(x.dtype, copy=False)
    if plan.extrapolation is not None:
        for i, a in enumerate(plan.axes):
            outside = outside_rows(a)
            if outside is not None and rows is not None:
                outside = outside[slice(*rows[i])]
            if outside is not None and outside.any():
                out[(slice(None), slice(None), *([slice(None)] * i), outside)] = plan.extrapolation
    return out


def interpolate_backward_array(g: np.ndarray, plan: Plan) -> np.ndarray:
    """The gradient with respect to the input: the transposed tables, applied by gathering."""
    direct = _direct(g, plan, transposed=True)
    if direct is not None:
        return direct(g)
    return apply_tables(g, _plan_tables(plan, True)[1], cache=True)


# ------------------------------------------------------------------------------ public function
def interpolate(
    x: ArrayOrDask,
    size: IntOrInts | None = None,
    scale_factor: FloatOrFloats | None = None,
    mode: InterpolateMode = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
    *,
    coordinate_transformation_mode: CoordinateMode | None = None,
    nearest_mode: NearestMode | None = None,
    cubic_coeff_a: float | None = None,
    exclude_outside: bool = False,
    extrapolation_value: float = 0.0,
    roi: Sequence[float] | None = None,
    preset: str | None = None,
) -> ArrayOrDask:
    r"""Resize by interpolation: ``torch.nn.functional.interpolate``, or ONNX ``Resize``.

    With the keyword-only arguments left at their defaults this is exactly PyTorch's
    ``interpolate`` (2.13); with any of them set it is exactly ONNX's ``Resize`` (opset 19) with
    those attributes. ``up.conventions`` holds the arguments that reproduce other libraries.

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor, shape ``(N, C, *spatial)``
        One to three spatial dimensions. Floating dtypes (float16 and bfloat16 on torch) and
        integer dtypes, which are rounded and saturated (nearest modes only move values).
    size : int or tuple of int, optional
        The output's spatial size. Exactly one of ``size`` and ``scale_factor``.
    scale_factor : float or tuple of float, optional
        Output size ``floor(input_size * scale_factor)``; unless recomputed, the coordinate rule
        uses this factor rather than the size ratio (PyTorch and ONNX both do). ONNX semantics
        round it to float32, as the operator stores it.
    mode : str
        PyTorch semantics: ``"nearest"``, ``"nearest-exact"``, ``"linear"``, ``"bilinear"``
        (2 spatial dims), ``"trilinear"`` (3), ``"bicubic"`` (2), ``"cubic"`` (bicubic in any
        rank), ``"area"``, ``"lanczos"`` (2, antialias only). ONNX semantics: ``"nearest"``,
        ``"linear"``, ``"cubic"`` (and the PyTorch names of the last two).
    align_corners : bool, optional
        PyTorch's: sample corner pixel centres onto corner pixel centres; interpolating modes
        only (default False).
    recompute_scale_factor : bool, optional
        PyTorch's: compute the coordinate rule from the output size instead of
        ``scale_factor``. Always so for ``"area"``.
    antialias : bool
        Widen the kernel by the down-sampling factor (linear, cubic, lanczos). PyTorch's rule
        (also when up-sampling: truncated, renormalised kernel; bicubic with ``a = -0.5``), or
        ONNX's with the ONNX keywords.
    coordinate_transformation_mode : str, optional, keyword-only
        ONNX's: ``"half_pixel"`` (default), ``"half_pixel_symmetric"``,
        ``"pytorch_half_pixel"``, ``"align_corners"``, ``"asymmetric"``,
        ``"tf_crop_and_resize"``; see :mod:`upsampling.coordinates`.
    nearest_mode : str, optional, keyword-only
        ONNX's: ``"round_prefer_floor"`` (default), ``"round_prefer_ceil"``, ``"floor"``,
        ``"ceil"``.
    cubic_coeff_a : float, optional, keyword-only
        ONNX's cubic parameter (default -0.75).
    exclude_outside : bool, keyword-only
        ONNX's: give taps outside the input weight 0 and renormalise.
    extrapolation_value : float, keyword-only
        ONNX's: the value of samples outside the input under ``"tf_crop_and_resize"``.
    roi : sequence of float, optional, keyword-only
        ``(starts..., ends...)`` over the spatial axes, normalised; ``"tf_crop_and_resize"``
        only (default the whole input).
    preset : str, optional, keyword-only
        Set by the presets of :data:`upsampling.conventions` (``"opencv/bilinear"``), which
        name themselves: a preset whose method is not ``mode``'s is refused, so that
        ``interpolate(x, **conventions["opencv"]["bilinear"])`` (no ``mode``: the default,
        nearest) cannot silently run another mode. It changes nothing else.

    Returns
    -------
    Same kind, dtype and device as ``x``, shape ``(N, C, *out)`` with ``out`` from
    :func:`upsampling.shapes.interpolate_output_size`.

    Raises
    ------
    TypeError
        ``x`` not an array or tensor of a real dtype, non-integer ``size``, non-boolean flags.
    ValueError
        Neither or both of ``size`` and ``scale_factor``; non-positive or non-finite values;
        a tuple of the wrong length; an unknown mode or coordinate mode; ``align_corners`` with
        a nearest or area mode; a bilinear/bicubic/trilinear mode on the wrong rank; an output
        too large to allocate (the message names its bytes).

    Notes
    -----
    Conventions: layout ``(N, C, *spatial)``; pixel ``j`` sits at coordinate ``j``. Each output
    index ``o`` maps to a source coordinate ``x(o)`` (:mod:`upsampling.coordinates`), and each
    spatial axis is resampled on its own:

    .. math:: y[o] = \sum_j w_{o j}\, x[j], \qquad
              w_{o j} = f\!\left(\frac{j - x(o)}{s}\right)

    with the filter ``f`` of the mode (:mod:`upsampling.filters`), ``s = 1`` or the
    down-sampling factor under ``antialias``; taps outside the input read the edge pixel
    (or are excluded and the weights renormalised). Nearest modes round ``x(o)`` instead.
    Gradients apply the transposed weights by gathering: bit-for-bit reproducible. For nearest
    modes our gradient is the adjoint of our forward (which follows the CPU kernel PyTorch runs,
    chosen by output size); PyTorch's own nearest backward uses its channels-last kernel's rule
    for every shape, so where its forward takes the generic kernel (2-D outputs with
    ``H + W > 128``, 1-D, 3-D) its gradient is not the adjoint of its forward and can differ
    from ours.

    Output size: ``size``, or ``floor(input_size * scale_factor)``.

    PyTorch's own arithmetic is kept where it decides which pixel is read: nearest modes pick
    their pixel in float32 (float64 for float64 input in its 1-D and 3-D kernels, exact
    shortcuts in its 2-D one), and its linear and antialiased kernels leave an axis whose size
    does not change alone even when a scale factor is given. ONNX's reference is followed where
    the spec is loose: scales are float32, and ``align_corners`` / ``tf_crop_and_resize`` with
    scales use ``scale * input_size`` as the output length (onnxruntime uses the integer size).
    uint8 input to a 2-D bilinear or bicubic resize (antialiased or not) is PyTorch's own uint8
    arithmetic, bit for bit: its int16 weights, each pass summed in integers and rounded to 8
    bits, the horizontal one first (:mod:`upsampling._integer`). One exception, a PyTorch bug
    we do not follow: with more than 4 channels and a width of 1 that does not change, its
    CPU kernel gives every output row the first row's value. Other integer input is computed
    in float and rounded: half up and saturated after each axis, last axis first (PyTorch's
    rule; 16-bit 2-D resizes in one fused kernel), or half to even once (ONNX). CUDA tensors
    (the Triton kernels and the PyTorch fallback) compute uint8 that float way too: within 2
    levels of the CPU's fixed point.
    Non-finite values: the weight tables drop taps of weight zero and merge the edge-clamped
    taps that read the same pixel into one weight, their sum; that is deliberate (fewer taps,
    and a NaN or infinity spreads no further than the samples that weigh it). An output that
    weighs no non-finite sample is finite, and its value is the weighted sum of the samples
    of nonzero weight; one that weighs one, ``x[j]`` with weight ``w``, is ``sign(w) * x[j]``
    (a NaN stays NaN); one that weighs several is non-finite. PyTorch multiplies every tap on
    its own, so with non-finite input it gives NaN where we do not, and only there: at
    ``0 * inf`` (a pixel read with weight zero, e.g. where output and input pixels coincide,
    or where the coordinate is clamped at the edge) and at ``inf - inf`` (cubic's clamped
    taps near the edge, whose weights have both signs: we get ``inf * (w_1 + w_2 + ...)``).
    With finite input the two agree.

    ``antialias=True`` with ``align_corners=True`` and an output width of 1: PyTorch 2.13's CPU
    kernel then resamples the height with a scale of 0 too (every output row is the first
    row's value); we resample the height by its own ``(H - 1) / (OH - 1)``, as PyTorch does for
    every other output width. That is the one shape where the two differ.

    References
    ----------
    PyTorch, ``torch.nn.functional.interpolate``; ONNX, operator ``Resize`` (opset 19);
    R. Keys, "Cubic convolution interpolation for digital image processing", IEEE TASSP, 1981.

    Examples
    --------
    The seed's example:

    >>> import numpy as np, upsampling as up
    >>> from upsampling.interpolate import interpolate
    >>> x = np.array([[[[6.0, 10.0], [9.0, 12.0]]]])
    >>> interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)[0, 0].round(4)
    array([[ 6.    ,  7.3333,  8.6667, 10.    ],
           [ 7.    ,  8.2222,  9.4444, 10.6667],
           [ 8.    ,  9.1111, 10.2222, 11.3333],
           [ 9.    , 10.    , 11.    , 12.    ]])
    >>> interpolate(np.arange(4.0).reshape(1, 1, 4), size=2, mode="linear")
    array([[[0.5, 2.5]]])
    >>> interpolate(np.arange(4.0).reshape(1, 1, 4), size=3, mode="nearest",
    ...             coordinate_transformation_mode="asymmetric", nearest_mode="ceil")
    array([[[0., 2., 3.]]])
    """
    spec = ResizeSpec.of(
        "interpolate",
        size,
        scale_factor,
        mode,
        align_corners,
        recompute_scale_factor,
        antialias,
        coordinate_transformation_mode=coordinate_transformation_mode,
        nearest_mode=nearest_mode,
        cubic_coeff_a=cubic_coeff_a,
        exclude_outside=exclude_outside,
        extrapolation_value=extrapolation_value,
        roi=roi,
        preset=preset,
    )
    return resize_by(x, spec)


def resize_by(x: Any, spec: ResizeSpec):
    """:func:`interpolate` of ``x`` (array, tensor or Dask array) by a normalised spec: what
    ``nn.Upsample`` calls with the spec it stores."""
    fn = "interpolate"
    x = _checks.native(x, fn)
    if spec.mode != "area" and _backend.is_array(x):  # PyTorch's resizes refuse no channels;
        _checks.positive_channels(x, fn)  # its adaptive pooling ("area") takes them
    if _backend.is_dask(x):
        return _backend.dask_ops().interpolate(x, spec)
    _checks.array(x, fn)
    if _backend.is_tensor(x):
        return _backend.torch_ops("interpolate").interpolate(x, spec)
    last = _backend.channels_last(x)
    plan = plan_for(spec, x.shape, x.itemsize, x.dtype == np.float64, last=last)
    return interpolate_array(x, plan)


def plan_for(
    spec: ResizeSpec,
    shape: tuple[int, ...],
    itemsize: int,
    double: bool,
    *,
    memory: bool = True,
    host: bool = True,
    last: bool = False,
) -> Plan:
    """The checked plan of ``spec`` for an input of ``shape`` (float64 if ``double``, elements
    of ``itemsize`` bytes); ``memory=False`` skips the check that the output fits in memory (a
    Dask array's whole output need not), ``host=False`` says the data is on an accelerator
    (see :func:`upsampling._checks.fits_in_memory`), ``last`` that it is channels_last (whose
    scratch holds every channel). Cached: a call's plan depends on nothing else."""
    return _plan_for(spec, tuple(shape), itemsize, double, memory, host, last)


@functools.lru_cache(maxsize=256)
def _plan_for(
    spec: ResizeSpec,
    shape: tuple,
    itemsize: int,
    double: bool,
    memory: bool,
    host: bool,
    last: bool = False,
) -> Plan:
    fn = "interpolate"
    if any(s < 1 for s in shape[2:]):
        raise _checks.fail(fn, f"x has shape {tuple(shape)}; its spatial sizes must be positive")
    plan = make_plan(spec, tuple(shape[2:]), double=double, fn=fn)
    if memory:
        out = (*shape[:2], *plan.out_size)
        scratch = _temporaries(shape, plan, itemsize, double, last)
        _checks.fits_in_memory(
            out, itemsize, fn, temporaries=scratch, host=host, cause=spec.cause()
        )
    return plan


def _temporaries(shape: tuple, plan: Plan, itemsize: int, double: bool, last: bool = False) -> int:
    """An upper bound on the bytes :func:`interpolate_array` holds besides its output: none for
    a copy (nearest); else each thread's two scratch buffers (:func:`apply_tables`) and, for
    input not already in the compute dtype (integers, 16-bit floats), its float copy and the
    float results of a pass (before they are rounded or cast). Every intermediate is bounded by
    the larger of the input's and the output's size along each axis. A thread's buffers hold
    one ``(n, c)`` plane of NCHW input, but a whole image, every channel, of channels_last
    input with a D pass apart (its fused H and W passes keep no intermediate; images small
    enough to skip the fusion keep at most :data:`_STREAM` elements)."""
    if plan.extrapolation is None and all(a.filter.name == "nearest" for a in plan.axes):
        return 0
    compute = 8 if double or itemsize == 8 else 4
    planes = shape[0] * shape[1]
    widest = math.prod(max(i, a.axis.out_size) for i, a in zip(shape[2:], plan.axes, strict=True))
    threads = _backend.get_num_threads()
    if not last:
        scratch = 2 * min(threads, planes) * widest * compute
    else:
        image = widest * shape[1] if len(plan.axes) == 3 else shape[1]
        scratch = 2 * min(threads, shape[0]) * max(image, _STREAM) * compute
    if itemsize == compute:  # float32, float64: no copies (int32 is taken for float32)
        return scratch
    return scratch + (math.prod(shape) + 2 * planes * widest) * compute
