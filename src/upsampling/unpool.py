"""Unpooling, max pooling and max unpooling: the seed's "Unpooling" and "Max Unpooling".

The public functions normalise their arguments, then hand NumPy arrays to the numba kernels of
:mod:`upsampling._kernels.unpool` and tensors to the torch ops of
:mod:`upsampling.nn._unpool_ops`, which call the same NumPy-level functions below on CPU tensors.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any, Literal, overload

import numpy as np

from . import _backend, _checks, shapes
from ._kernels import unpool as _k
from ._typing import Array, ArrayOrDask, IntOrInts, UnpoolMode

__all__ = ["max_pool", "max_unpool", "unpool"]

_UNPOOL_MODES = ("nearest", "bed_of_nails")
# PyTorch has no CPU kernels for uint16/32/64 tensors (max_pool, gather/scatter): refused there.
_TORCH_POOL_DTYPES = (*_checks.FLOAT_DTYPES, "uint8", "int8", "int16", "int32", "int64")


def _pool_dtypes(x: Any) -> tuple[str, ...]:
    return _TORCH_POOL_DTYPES if _backend.is_tensor(x) else _checks.REAL_DTYPES


# ------------------------------------------------------------------------- NumPy-level workers
def _plane_view(a: np.ndarray, dtype=None) -> np.ndarray:
    """``(N, C, *spatial)`` as a C-contiguous :func:`upsampling.shapes.plane_shape` view
    ``(N*C, D, H, W)`` (a copy only if needed)."""
    return np.ascontiguousarray(a, dtype=dtype).reshape(shapes.plane_shape(a.shape))


def _flat(a: np.ndarray, dtype=None) -> np.ndarray:
    """``(N, C, *spatial)`` as a C-contiguous ``(N*C, prod(spatial))`` view (a copy only if
    needed); explicit sizes, so that ``N*C == 0`` works."""
    return np.ascontiguousarray(a, dtype=dtype).reshape(
        a.shape[0] * a.shape[1], math.prod(a.shape[2:])
    )


def _pixels(a: np.ndarray, dtype=None) -> np.ndarray:
    """``(N, C, *spatial)`` as a C-contiguous ``(N, prod(spatial), C)`` view of its images
    (zero-copy for a channels_last ``a`` of ``dtype``, else a copy)."""
    a = a.astype(a.dtype if dtype is None else dtype, copy=False)  # astype keeps the layout
    return _backend.volumes(a, True).reshape(a.shape[0], math.prod(a.shape[2:]), a.shape[1])


def _bits(a: np.ndarray) -> np.ndarray:
    """A 16-bit float array (NumPy's float16, ml_dtypes' bfloat16: numba types neither) viewed
    as uint16, for kernels that only move values."""
    return a.view(np.uint16) if _backend.dtype_name(a) in _checks.HALF_DTYPES else a


def _fits(shape: tuple[int, ...], x: Any, fn: str, temporaries: int = 0) -> None:
    """Refuse an output like ``x`` (with ``temporaries`` bytes more) that could not be
    allocated (in host memory, for NumPy and CPU tensors) before allocating it."""
    host = _checks.on_host(x)
    _checks.fits_in_memory(shape, _backend.itemsize(x), fn, temporaries=temporaries, host=host)


def _work(*arrays: np.ndarray) -> int:
    return sum(a.size for a in arrays)


def _unpool_blocks(kernel, src: np.ndarray, dst: np.ndarray, scale3, work: int, *args) -> None:
    """``kernel`` over the volumes of ``src`` (the small side) and ``dst`` (``scale3`` times
    larger), split over threads by planes and, for few planes, by blocks of ``src`` rows along
    its outermost spatial axis (each block writes its own output rows: the same bits)."""
    axis = 0 if src.shape[1] > 1 or dst.shape[1] > 1 else 1
    if _backend.threads_for(work, len(src) * src.shape[1 + axis]) <= 1:  # the whole, here
        kernel(0, len(src), src, dst, *scale3, *args)
        return
    s = scale3[axis]

    def call(p0: int, p1: int, r0: int, r1: int) -> None:
        part = (slice(p0, p1), *(slice(None),) * axis)
        small, big = src[(*part, slice(r0, r1))], dst[(*part, slice(r0 * s, r1 * s))]
        kernel(0, p1 - p0, small, big, *scale3, *args)

    _backend.run_blocks(call, len(src), src.shape[1 + axis], work)


def unpool_array(x: np.ndarray, scale, offset, bed_of_nails: bool) -> np.ndarray:
    """Unpooling of a NumPy array (NCHW, or channels_last in and out)."""
    n, c, *size = x.shape
    out_size = shapes.unpool_sizes(tuple(size), scale)
    last = _backend.channels_last(x)
    alloc = np.zeros if bed_of_nails else np.empty
    out = _backend.empty_in_layout((n, c, *out_size), x.dtype, last, alloc)
    src, dst = _backend.volumes(_bits(x), last), _backend.volumes(_bits(out), last)
    s3 = (1,) * (3 - len(scale)) + tuple(scale)
    if bed_of_nails:
        o3 = (0,) * (3 - len(offset)) + tuple(offset)
        _unpool_blocks(_k.unpool_bed_of_nails, src, dst, s3, _work(src), *o3)
    else:
        _unpool_blocks(_k.unpool_nearest, src, dst, s3, _work(dst))
    return out


def unpool_nearest_backward_array(g: np.ndarray, scale) -> np.ndarray:
    """The gradient of nearest unpooling: the sum of each block (in ``g``'s layout)."""
    n, c, *size = g.shape
    in_size = tuple(a // s for a, s in zip(size, scale, strict=True))
    last = _backend.channels_last(g)
    gx = _backend.empty_in_layout((n, c, *in_size), g.dtype, last, np.zeros)
    src, dst = _backend.volumes(g, last), _backend.volumes(gx, last)
    s3 = (1,) * (3 - len(scale)) + tuple(scale)

    def kernel(start, stop, small, big, *s):
        _k.unpool_nearest_backward(start, stop, big, small, *s)

    _unpool_blocks(kernel, dst, src, s3, _work(src))
    return gx


@functools.lru_cache(maxsize=32)
def _lowest(dtype: np.dtype):
    """The identity of max as a scalar of ``dtype`` (a Python int would make numba compare
    uint64 with int64 in float64, rounding values above 2**53)."""
    if np.issubdtype(dtype, np.floating):
        return dtype.type(-np.inf)
    return dtype.type(np.iinfo(dtype).min)


def _taps(size: int, out: int, k: int, s: int, p: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Along one axis, for each window ``o``: the position of its first tap inside the input and
    how many of its taps are inside. Window ``o``'s taps sit at ``o * s - p + j * d``."""
    start = np.arange(out, dtype=np.int64) * s - p
    j0 = np.where(start < 0, (-start + d - 1) // d, 0)
    j1 = np.minimum(k, (size - 1 - start) // d + 1)
    return start + j0 * d, np.maximum(j1 - j0, 0)


def _live_taps(size: int, out: int, k: int, s: int, p: int, d: int) -> np.ndarray:
    """Along one axis, a row ``(offset, lo, hi)`` per tap ``j`` that is inside the input for
    some window: it sits at ``o * s + offset`` and is inside for windows ``lo <= o < hi``. Taps
    that reach no input are left out (a huge padded kernel costs nothing)."""
    first = max(0, -((p - (out - 1) * s) // -d))  # ceil((p - (out - 1) * s) / d)
    offset = np.arange(first, min(k - 1, (size - 1 + p) // d) + 1, dtype=np.int64) * d - p
    lo = np.maximum(0, -(offset // s))  # ceil(-offset / s)
    hi = np.minimum(out, (size - 1 - offset) // s + 1)
    return np.stack([offset, lo, np.maximum(hi, lo)], axis=1)


# What a call derives from its (normalised or plainly typed) arguments and sizes alone: the
# normalised arguments, checked output sizes and max pooling's tap tables, remembered by those
# (one dict each); oldest out first past _CACHE_SIZE entries; 0 turns the caches off.
_CACHE_SIZE = 256
_ARGUMENTS: dict[tuple, Any] = {}
_CHECKED: dict[tuple, Any] = {}
_TAPS: dict[tuple, Any] = {}


def _remember(store: dict, key: tuple | None, make):
    """``make()``, remembered in ``store`` under ``key`` (``None``: not remembered); a refusal
    is remembered never (:func:`upsampling._backend.remember`)."""
    return _backend.remember(store, key, make, _CACHE_SIZE)


def clear_cache() -> None:
    """Forget the remembered arguments, sizes and tap tables (tests)."""
    for store in (_ARGUMENTS, _CHECKED, _TAPS):
        store.clear()


def _typed(*args: Any) -> tuple | None:
    """A key that tells each argument apart from every value of another type (``2`` from
    ``2.0`` and ``True``, in tuples too), or ``None`` if one is not plainly typed (an int,
    bool, str, ``None`` or a tuple of ints)."""
    key = []
    for a in args:
        if a is None or type(a) in (int, bool, str):
            key.append((type(a), a))
        elif type(a) is tuple and all(type(v) is int for v in a):
            key.append((tuple, a))
        else:
            return None
    return tuple(key)


def _pool_taps(size: tuple, kernel, stride, padding, dilation, ceil_mode) -> tuple:
    """``(out_size, taps)`` of max pooling over spatial ``size``: the output size and the
    kernel's arguments between the arrays and the lowest value; remembered."""

    def make():
        out_size = shapes.pool_sizes(size, kernel, stride, padding, dilation, ceil_mode, "max_pool")
        lead = 3 - len(size)
        # per axis (depth, height, width; a missing axis is one element with a 1-tap window)
        axes = [(1, 1, 1, 1, 0, 1)] * lead + list(
            zip(size, out_size, kernel, stride, padding, dilation, strict=True)
        )
        (d_axis, h_axis, w_axis) = axes
        taps = (
            *_taps(*d_axis),
            *_taps(*h_axis),
            _taps(*w_axis)[0],
            _live_taps(*w_axis),
            w_axis[3],
            d_axis[5],
            h_axis[5],
        )
        return out_size, taps

    return _remember(_TAPS, (size, kernel, stride, padding, dilation, ceil_mode), make)


def max_pool_array(x: np.ndarray, kernel, stride, padding, dilation, ceil_mode):
    """Max pooling of a NumPy array: values and int64 indices, in ``x``'s layout (a
    channels_last ``x`` is read and the results written in place by the channels_last
    kernel)."""
    n, c, *size = x.shape
    out_size, taps = _pool_taps(tuple(size), kernel, stride, padding, dilation, ceil_mode)
    compute = np.dtype(np.float32) if _backend.dtype_name(x) in _checks.HALF_DTYPES else x.dtype
    lowest = _lowest(compute)  # (float32 for 16-bit floats: exact, max only selects)
    shape = (n, c, *out_size)
    if _backend.channels_last(x):  # kernels that read and write that layout
        src = _backend.volumes(x.astype(compute, copy=False), True)  # astype keeps the layout
        values = _backend.empty_in_layout(shape, compute, True)
        indices = _backend.empty_in_layout(shape, np.int64, True)
        out, idx = _backend.volumes(values, True), _backend.volumes(indices, True)

        def call(p0: int, p1: int, r0: int, r1: int) -> None:
            _k.max_pool_last(p0, p1, r0, r1, src, out, idx, *taps, lowest)

        _backend.run_blocks(call, n, out.shape[1] * out.shape[2], _work(src))
        return values.astype(x.dtype, copy=False), indices
    src = _plane_view(x, compute)
    out = np.empty((len(src), *((1,) * (3 - len(size)) + out_size)), dtype=compute)
    idx = np.empty(out.shape, dtype=np.int64)
    _backend.run_planes(_k.max_pool, len(src), _work(src), src, out, idx, *taps, lowest)
    return out.reshape(shape).astype(x.dtype, copy=False), idx.reshape(shape)


def max_pool_backward_array(g: np.ndarray, idx: np.ndarray, input_size) -> np.ndarray:
    """The gradient of max pooling: ``g`` added at ``idx`` in each input plane, in raster order
    (the kernel zeroes each plane just before adding into it, while it is in cache)."""
    n, c = g.shape[:2]
    last = _backend.channels_last(g)
    gx = _backend.empty_in_layout((n, c, *input_size), g.dtype, last)
    zero = gx.dtype.type(0)
    if last:  # the channels_last kernel, on (images, pixels, channels) views
        gf, idf, dst = _pixels(g), _pixels(idx, np.int64), _pixels(gx)
        kernel, planes = _k.max_pool_backward_last, n
    else:
        gf, idf, dst = _flat(g), _flat(idx, np.int64), _flat(gx)
        kernel, planes = _k.max_pool_backward, n * c
    _backend.run_planes(kernel, planes, _work(gf, dst), gf, idf, dst, zero)
    return gx


def max_unpool_array(
    x: np.ndarray, idx: np.ndarray, out_size, fn: str = "max_unpool", *, repeats: bool = False
):
    """Max unpooling of NumPy arrays, in ``x``'s layout (channels_last: its own kernel); with
    ``repeats``, also whether two inputs of a plane named one output element (without, the
    gradient is a plain gather of ``grad[indices]``)."""
    n, c = x.shape[:2]
    last = _backend.channels_last(x)
    # the kernel zeroes it plane by plane (image by image if channels_last)
    out = _backend.empty_in_layout((n, c, *out_size), x.dtype, last)
    bad = np.empty(n * c, dtype=np.int64)
    if last:  # the channels_last kernel, on (images, pixels, channels) views
        xf, idf, dst = _pixels(_bits(x)), _pixels(idx, np.int64), _pixels(_bits(out))
        kernel, planes = _k.max_unpool_last, n
    else:
        xf, idf, dst = _flat(_bits(x)), _flat(idx, np.int64), _flat(_bits(out))
        kernel, planes = _k.max_unpool, n * c
    twice = np.zeros(planes if repeats else 0, dtype=np.bool_)
    _backend.run_planes(kernel, planes, _work(xf, dst), xf, idf, dst, bad, twice)
    if (bad >= 0).any():
        invalid_index(bad, _flat(idx, np.int64), out_size, fn)
    return (out, bool(twice.any())) if repeats else out


def invalid_index(bad: np.ndarray, idf: np.ndarray, out_size, fn: str) -> None:
    """Raise for the first plane the max_unpool kernel refused (``bad[p] >= 0``)."""
    planes = np.flatnonzero(bad >= 0)
    if planes.size:
        p = int(planes[0])
        value = int(idf[p, bad[p]])
        raise _checks.fail(
            fn,
            f"indices holds {value} (plane {p}, position {int(bad[p])}), outside the output "
            f"plane of {math.prod(out_size)} elements (spatial size {tuple(out_size)}); "
            f"indices must lie in [0, {math.prod(out_size)}) (indices from max_pool of a larger "
            f"input: pass that input's spatial size as output_size)",
        )


def max_unpool_backward_array(g: np.ndarray, idx: np.ndarray) -> np.ndarray:
    last = _backend.channels_last(g)
    gx = _backend.empty_in_layout(idx.shape, g.dtype, last)  # every element is written
    if last:  # the channels_last kernel, on (images, pixels, channels) views
        gf, idf, dst = _pixels(g), _pixels(idx, np.int64), _pixels(gx)
        kernel, planes = _k.max_unpool_backward_last, g.shape[0]
    else:
        gf, idf, dst = _flat(g), _flat(idx, np.int64), _flat(gx)
        kernel, planes = _k.max_unpool_backward, len(gf)
    _backend.run_planes(kernel, planes, _work(gf, idf), gf, idf, dst, gx.dtype.type(0))
    return gx


# ---------------------------------------------------------------------------- public functions
def unpool_arguments(n: int, scale_factor: Any, mode: Any, offset: Any, fn: str):
    """Normalise unpool's arguments for ``n`` spatial dims (shared with ``nn.Unpool``)."""
    scale = _checks.positive(
        _checks.ntuple(scale_factor, n, fn, "scale_factor"), fn, "scale_factor"
    )
    mode = _checks.choice(mode, _UNPOOL_MODES, fn, "mode")
    offset = _checks.ntuple(offset, n, fn, "offset")
    if mode == "nearest" and any(offset):
        raise _checks.fail(fn, f"offset {offset} applies to mode 'bed_of_nails' only")
    if any(not 0 <= o < s for o, s in zip(offset, scale, strict=True)):
        raise _checks.fail(fn, f"offset {offset} must satisfy 0 <= offset < scale_factor {scale}")
    return scale, mode, offset


def unpool(
    x: ArrayOrDask,
    scale_factor: IntOrInts,
    mode: UnpoolMode = "nearest",
    *,
    offset: IntOrInts = 0,
) -> ArrayOrDask:
    r"""Unpool by an integer factor: nearest-neighbour or "bed of nails".

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor, shape ``(N, C, *spatial)``
        One to three spatial dimensions; any real dtype (float16 and bfloat16 on torch).
    scale_factor : int or tuple of int
        The block size per spatial dimension, positive.
    mode : {"nearest", "bed_of_nails"}
        ``"nearest"`` fills each block with its input value; ``"bed_of_nails"`` puts the value
        at position ``offset`` of its block and zeros elsewhere.
    offset : int or tuple of int, keyword-only
        Where ``"bed_of_nails"`` puts each value, ``0 <= offset < scale_factor``.

    Returns
    -------
    Same kind, dtype and device as ``x``, shape ``(N, C, *(spatial * scale_factor))``.

    Raises
    ------
    TypeError
        ``x`` is not an array or tensor of a real dtype; ``scale_factor`` or ``offset`` is
        not an int (a fractional factor is refused, not rounded).
    ValueError
        Wrong rank, an ``x`` without channels (as PyTorch's nearest interpolation; an empty
        batch is fine), non-positive ``scale_factor``, ``offset`` outside the block, or a
        non-zero ``offset`` with ``mode="nearest"``.

    Notes
    -----
    Conventions: layout ``(N, C, *spatial)``; block ``i`` of the output covers positions
    ``i * s`` to ``i * s + s - 1`` along each axis.

    .. math:: y[i] = x[\lfloor i / s \rfloor] \quad\text{(nearest)}, \qquad
              y[i] = x[i / s] \text{ if } i \bmod s = o \text{ else } 0 \quad\text{(bed of nails)}

    Nearest unpooling by ``s`` equals ``torch.nn.functional.interpolate(x, scale_factor=s,
    mode="nearest")``. The gradient of nearest unpooling is the sum over each block; that of bed
    of nails picks the nail positions.

    Examples
    --------
    >>> import numpy as np, upsampling as up
    >>> x = np.array([[[[1, 2], [3, 4]]]])
    >>> up.unpool(x, 2)[0, 0]
    array([[1, 1, 2, 2],
           [1, 1, 2, 2],
           [3, 3, 4, 4],
           [3, 3, 4, 4]])
    >>> up.unpool(x, 2, mode="bed_of_nails")[0, 0]
    array([[1, 0, 2, 0],
           [0, 0, 0, 0],
           [3, 0, 4, 0],
           [0, 0, 0, 0]])
    """
    x = _checks.native(x, "unpool")
    if _backend.is_dask(x):
        _checks.positive_channels(x, "unpool")
        return _backend.dask_ops().unpool(**locals())
    fn = "unpool"
    n = _checks.array(x, fn)
    _checks.positive_channels(x, fn)
    raw = (scale_factor, mode, offset)
    scale, mode, offset = _remember(
        _ARGUMENTS, _typed(fn, n, *raw), lambda: unpool_arguments(n, *raw, fn)
    )
    out_size = shapes.unpool_sizes(tuple(x.shape[2:]), scale)
    _fits((*x.shape[:2], *out_size), x, fn)
    bed = mode == "bed_of_nails"
    if _backend.is_tensor(x):
        return _backend.torch_ops("unpool").unpool(x, scale, offset, bed)
    return unpool_array(x, scale, offset, bed)


@overload
def max_pool(
    x: Array,
    kernel_size: IntOrInts,
    stride: IntOrInts | None = ...,
    padding: IntOrInts = ...,
    dilation: IntOrInts = ...,
    ceil_mode: bool = ...,
    return_indices: Literal[False] = ...,
) -> Array: ...
@overload
def max_pool(
    x: Array,
    kernel_size: IntOrInts,
    stride: IntOrInts | None = ...,
    padding: IntOrInts = ...,
    dilation: IntOrInts = ...,
    ceil_mode: bool = ...,
    *,
    return_indices: Literal[True],
) -> tuple[Array, Array]: ...
@overload
def max_pool(
    x: Array,
    kernel_size: IntOrInts,
    stride: IntOrInts | None = ...,
    padding: IntOrInts = ...,
    dilation: IntOrInts = ...,
    ceil_mode: bool = ...,
    return_indices: bool = ...,
) -> Array | tuple[Array, Array]: ...
def max_pool(
    x: Array,
    kernel_size: IntOrInts,
    stride: IntOrInts | None = None,
    padding: IntOrInts = 0,
    dilation: IntOrInts = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Array | tuple[Array, Array]:
    r"""Max pooling, exactly as ``torch.nn.functional.max_pool{1,2,3}d``.

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor, shape ``(N, C, *spatial)``
        One to three spatial dimensions; any real dtype.
    kernel_size, stride, padding, dilation : int or tuple of int
        As PyTorch's; ``stride`` defaults to ``kernel_size``; ``padding`` at most half the
        kernel (it pads with ``-inf``, never wins).
    ceil_mode : bool
        Round the output size up (the last window must still start inside the input or its
        left padding).
    return_indices : bool
        Also return where each maximum came from.

    Returns
    -------
    values : same kind, dtype and device as ``x``, shape ``(N, C, *out)``
        ``out`` from :func:`upsampling.shapes.pool_output_size`.
    indices : int64, same shape (only with ``return_indices``)
        The flat position of each maximum inside its ``(n, c)`` input plane, ready for
        :func:`max_unpool`.

    Raises
    ------
    TypeError, ValueError
        Bad types, wrong rank, an ``x`` without channels (as PyTorch; an empty batch is fine),
        non-positive sizes, padding over half the kernel, an empty output,
        or a window that covers no input element at all (possible with dilation and padding;
        PyTorch returns ``-inf`` and a meaningless index there).

    Notes
    -----
    Conventions: layout ``(N, C, *spatial)``; window ``o`` covers input positions
    ``o * stride - padding + j * dilation``, ``0 <= j < kernel_size``.
    Ties go to the first maximum in window (raster) order; a NaN in the window wins (the last
    NaN, as PyTorch's kernels do). The gradient adds each output's gradient to the element its
    index names, in a fixed order: bit-for-bit reproducible.

    Examples
    --------
    >>> import numpy as np, upsampling as up
    >>> x = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    >>> values, indices = up.max_pool(x, 2, return_indices=True)
    >>> values[0, 0]
    array([[ 6.,  8.],
           [14., 16.]])
    >>> indices[0, 0]
    array([[ 5,  7],
           [13, 15]])
    """
    fn = "max_pool"
    x = _checks.native(x, fn)
    n = _checks.array(x, fn, dtypes=_pool_dtypes(x))
    _checks.positive_channels(x, fn)
    raw = (kernel_size, stride, padding, dilation, ceil_mode)
    args = _remember(_ARGUMENTS, _typed(fn, n, *raw), lambda: shapes.pool_arguments(n, *raw, fn))
    return_indices = _checks.boolean(return_indices, fn, "return_indices")
    size = tuple(x.shape[2:])

    def checked() -> tuple[int, ...]:
        shapes.pool_windows_nonempty(size, *args, fn)
        return shapes.pool_sizes(size, *args, fn)

    out = (*x.shape[:2], *_remember(_CHECKED, (fn, size, args), checked))
    _fits(out, x, fn, temporaries=math.prod(out) * 8)  # the int64 indices
    if _backend.is_tensor(x):
        values, indices = _backend.torch_ops("unpool").max_pool(x, *args)
    else:
        values, indices = max_pool_array(x, *args)
    return (values, indices) if return_indices else values


def max_unpool(
    x: Array,
    indices: Array,
    kernel_size: IntOrInts,
    stride: IntOrInts | None = None,
    padding: IntOrInts = 0,
    output_size: Sequence[int] | None = None,
) -> Array:
    r"""Max unpooling, exactly as ``torch.nn.functional.max_unpool{1,2,3}d``.

    Each value of ``x`` goes to the flat position ``indices`` names in its ``(n, c)`` output
    plane; everything else is zero.

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor, shape ``(N, C, *spatial)``
        The pooled values.
    indices : integer array or tensor, same shape and kind as ``x``
        Flat positions in the output plane, as :func:`max_pool` returns them.
    kernel_size, stride, padding : int or tuple of int
        Those of the pooling; ``stride`` defaults to ``kernel_size``.
    output_size : tuple of int, optional
        The output's spatial size (or its full ``(N, C, *spatial)`` shape). Default
        ``(in - 1) * stride + kernel_size - 2 * padding``; any size strictly within ``stride``
        of the default is allowed. The indices stay flat positions, so a different size moves
        the values (the seed's 5x5 example).

    Returns
    -------
    Same kind, dtype and device as ``x``, shape ``(N, C, *output_size)``.

    Raises
    ------
    TypeError
        Float or otherwise non-integer ``indices``; ``x`` and ``indices`` of different kinds.
    ValueError
        ``indices`` of another shape or device, an ``x`` without channels (as PyTorch), an
        index outside the output plane (checked before anything is written), ``output_size``
        out of range.

    Notes
    -----
    Two inputs naming one output element: the later one in row-major input order wins, on
    every device, and only it receives that element's gradient (PyTorch's own gradient gives
    it to both). The gradient gathers ``grad[indices]``: deterministic by construction.

    Examples
    --------
    The seed's example:

    >>> import numpy as np, upsampling as up
    >>> x = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    >>> out, idx = up.max_pool(x, 2, stride=2, return_indices=True)
    >>> up.max_unpool(out, idx, 2, stride=2)[0, 0]
    array([[ 0.,  0.,  0.,  0.],
           [ 0.,  6.,  0.,  8.],
           [ 0.,  0.,  0.,  0.],
           [ 0., 14.,  0., 16.]])
    >>> up.max_unpool(out, idx, 2, stride=2, output_size=(1, 1, 5, 5))[0, 0]
    array([[ 0.,  0.,  0.,  0.,  0.],
           [ 6.,  0.,  8.,  0.,  0.],
           [ 0.,  0.,  0., 14.,  0.],
           [16.,  0.,  0.,  0.,  0.],
           [ 0.,  0.,  0.,  0.,  0.]])
    """
    fn = "max_unpool"
    x, indices = _checks.native(x, fn), _checks.native(indices, fn, "indices")
    n = _checks.array(x, fn, dtypes=_pool_dtypes(x))
    _checks.array(indices, fn, "indices", dtypes=_checks.INDEX_DTYPES, min_spatial=n, max_spatial=n)
    _checks.same_device(x, indices, fn, "x", "indices")
    _checks.positive_channels(x, fn)
    if tuple(indices.shape) != tuple(x.shape):
        raise _checks.fail(
            fn,
            f"indices has shape {tuple(indices.shape)} but x has shape {tuple(x.shape)}; "
            "they must match",
        )
    raw = (kernel_size, stride, padding)
    kernel, stride, padding = _remember(
        _ARGUMENTS, _typed(fn, n, *raw), lambda: shapes.max_unpool_arguments(n, *raw, fn)
    )
    size = tuple(x.shape[2:])
    sized = _typed(output_size)
    out_size = _remember(
        _CHECKED,
        None if sized is None else (fn, size, kernel, stride, padding, sized),
        lambda: shapes.max_unpool_sizes(size, kernel, stride, padding, output_size, fn),
    )
    _fits((*x.shape[:2], *out_size), x, fn)
    if _backend.is_tensor(x):
        return _backend.torch_ops("unpool").max_unpool(x, indices, out_size)
    return max_unpool_array(x, indices, out_size, fn)
