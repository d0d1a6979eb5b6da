"""Output-size arithmetic: the one home of every size formula.

Each function of ``__all__`` takes the input's spatial size followed by the arguments of its
operator and returns the output's spatial size as a tuple of ints. Under each lies a core, named
``*_sizes``, that takes the arguments already normalised (one tuple of ints per option) and that
the operators call too, so a size computed here is the size the operator returns: the
:func:`pool_sizes`, :func:`unpool_sizes`, :func:`max_unpool_sizes`, :func:`conv_sizes`,
:func:`conv_transpose_sizes` and :func:`interpolate_sizes` formulas are written nowhere else.

>>> from upsampling import shapes
>>> shapes.pool_output_size((4, 4), kernel_size=2)
(2, 2)
>>> shapes.max_unpool_output_size((2, 2), kernel_size=2)
(4, 4)
>>> shapes.conv_transpose_output_size((2, 2), kernel_size=3, stride=2)
(5, 5)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from . import _checks
from ._typing import ConvPadding, ConvTransposePadding, FloatOrFloats, IntOrInts

__all__ = [
    "conv_output_size",
    "conv_transpose_output_size",
    "interpolate_output_size",
    "max_unpool_output_size",
    "pool_output_size",
    "unpool_output_size",
]


def spatial_size(input_size: Any, fn: str) -> tuple[int, ...]:
    """``input_size`` as a tuple of non-negative ints; an int is one spatial dim."""
    if isinstance(input_size, int) or _checks.ndim_of(input_size) == 0:
        input_size = (input_size,)
    n = _checks.length(input_size, fn, "input_size")
    if n == 0:
        raise _checks.fail(fn, "input_size () must name at least one spatial dimension")
    return _checks.nonnegative(_checks.ntuple(input_size, n, fn, "input_size"), fn, "input_size")


# --------------------------------------------------------------------------------------- pooling
def pool_sizes(
    size, kernel, stride, padding, dilation, ceil_mode: bool, fn: str
) -> tuple[int, ...]:
    """PyTorch's ``pooling_output_shape``, with its checks, for normalised arguments:
    ``(n + 2 p - d (k - 1) - 1) // s + 1`` per dim (``ceil_mode``: rounded up, but the last
    window starts inside the input or its left padding)."""
    pool_padding(kernel, padding, fn)
    out = []
    for n, k, s, p, d in zip(size, kernel, stride, padding, dilation, strict=True):
        span = n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
        o = span // s + 1  # floor division, as PyTorch's div_rtn
        if ceil_mode and (o - 1) * s >= n + p:
            o -= 1  # the last window must start inside the input or its left padding
        out.append(o)
    if any(o < 1 for o in out):
        raise _checks.fail(
            fn,
            f"an input of spatial size {size} is too small for kernel_size {kernel}, "
            f"dilation {dilation} and padding {padding}: the output would be {tuple(out)}",
        )
    return tuple(out)


def pool_padding(kernel: tuple[int, ...], padding: tuple[int, ...], fn: str) -> None:
    """PyTorch's rule: the padding is at most half of the kernel (before dilation)."""
    for k, p in zip(kernel, padding, strict=True):
        if p > k // 2:
            raise _checks.fail(
                fn, f"padding {padding} must be at most half of kernel_size {kernel}"
            )


def pool_windows_nonempty(size, kernel, stride, padding, dilation, ceil_mode, fn) -> None:
    """Refuse a pooling whose some window covers no input element (PyTorch returns ``-inf`` and
    an index outside the window there). Every window starts before the input's end (the output
    size drops one that would start in the right padding), so a window that starts at or after
    position 0 holds its first tap; only those that start in the left padding, the first
    ``p // s + 1`` at most, can be empty (a dilation can step over the whole input). The loop
    compares with the output size but never iterates over it, so a symbolic size (torch.compile
    with dynamic shapes) is not specialised."""
    out = pool_sizes(size, kernel, stride, padding, dilation, ceil_mode, fn)
    for axis, (n, k, s, p, d, o_n) in enumerate(
        zip(size, kernel, stride, padding, dilation, out, strict=True)
    ):
        for o in range(p // s + 1):
            if o >= o_n:
                break
            first = o * s - p
            j = max(0, -(first // d))  # the first tap at or past position 0
            if not (j < k and first + j * d < n):
                raise _checks.fail(
                    fn,
                    f"window {o} along spatial axis {axis} covers no input element (input size "
                    f"{size}, kernel_size {kernel}, stride {stride}, padding {padding}, "
                    f"dilation {dilation}); reduce the padding or the dilation",
                )


def pool_output_size(
    input_size: IntOrInts,
    kernel_size: IntOrInts,
    stride: IntOrInts | None = None,
    padding: IntOrInts = 0,
    dilation: IntOrInts = 1,
    ceil_mode: bool = False,
) -> tuple[int, ...]:
    """Spatial size of :func:`upsampling.max_pool`'s output."""
    fn = "pool_output_size"
    size = spatial_size(input_size, fn)
    args = pool_arguments(len(size), kernel_size, stride, padding, dilation, ceil_mode, fn)
    return pool_sizes(size, *args, fn)


def pool_arguments(n, kernel_size, stride, padding, dilation, ceil_mode, fn):
    """Normalise max_pool's arguments for ``n`` spatial dims (shared by max_pool and shapes)."""
    kernel, stride, padding = max_unpool_arguments(n, kernel_size, stride, padding, fn)
    dilation = _checks.positive(_checks.ntuple(dilation, n, fn, "dilation"), fn, "dilation")
    ceil_mode = _checks.boolean(ceil_mode, fn, "ceil_mode")
    named = {"kernel_size": kernel, "stride": stride, "padding": padding, "dilation": dilation}
    for name, values in named.items():
        if any(v > _POOL_MAX for v in values):  # PyTorch's max_pool takes them as int32
            raise _checks.fail(fn, f"{name} {values} must be at most 2**31 - 1")
    return kernel, stride, padding, dilation, ceil_mode


_POOL_MAX = (1 << 31) - 1


# ------------------------------------------------------------------------------------- unpooling
def unpool_sizes(size: tuple[int, ...], scale: tuple[int, ...]) -> tuple[int, ...]:
    """``size * scale`` per dim, for normalised arguments."""
    return tuple(n * s for n, s in zip(size, scale, strict=True))


def unpool_output_size(input_size: IntOrInts, scale_factor: IntOrInts) -> tuple[int, ...]:
    """Spatial size of :func:`upsampling.unpool`'s output: ``input_size * scale_factor``."""
    fn = "unpool_output_size"
    size = spatial_size(input_size, fn)
    scale = _checks.positive(
        _checks.ntuple(scale_factor, len(size), fn, "scale_factor"), fn, "scale_factor"
    )
    return unpool_sizes(size, scale)


def max_unpool_sizes(size, kernel, stride, padding, output_size: Any, fn: str) -> tuple[int, ...]:
    """PyTorch's ``_unpool_output_size`` for normalised arguments: the default
    ``(n - 1) * s + k - 2 p`` per dim, or ``output_size`` checked to lie strictly within ``s``
    of it."""
    default = tuple(
        (n - 1) * s + k - 2 * p for n, k, s, p in zip(size, kernel, stride, padding, strict=True)
    )
    if output_size is None:
        if any(d < 1 for d in default):
            raise _checks.fail(
                fn,
                f"the default output size {default} (from input size {size}, kernel_size "
                f"{kernel}, stride {stride}, padding {padding}) is empty; pass output_size",
            )
        return default
    n = len(size)
    if hasattr(output_size, "__len__") and len(output_size) == n + 2:
        output_size = tuple(output_size)[2:]  # PyTorch also takes the full (N, C, *spatial)
    requested = _checks.ntuple(output_size, n, fn, "output_size")
    for want, d, s in zip(requested, default, stride, strict=True):
        if not d - s < want < d + s:
            low = tuple(max(1, dd - ss + 1) for dd, ss in zip(default, stride, strict=True))
            high = tuple(dd + ss - 1 for dd, ss in zip(default, stride, strict=True))
            raise _checks.fail(
                fn,
                f"output_size {requested} is out of range: for an input of spatial size {size} "
                f"each size must lie between {low} and {high} (default {default})",
            )
    if any(w < 1 for w in requested):
        raise _checks.fail(fn, f"output_size {requested} must be positive")
    return requested


def max_unpool_output_size(
    input_size: IntOrInts,
    kernel_size: IntOrInts,
    stride: IntOrInts | None = None,
    padding: IntOrInts = 0,
    output_size: Sequence[int] | None = None,
) -> tuple[int, ...]:
    """Spatial size of :func:`upsampling.max_unpool`'s output (checks ``output_size``'s range)."""
    fn = "max_unpool_output_size"
    size = spatial_size(input_size, fn)
    kernel, stride, padding = max_unpool_arguments(len(size), kernel_size, stride, padding, fn)
    return max_unpool_sizes(size, kernel, stride, padding, output_size, fn)


def max_unpool_arguments(n, kernel_size, stride, padding, fn):
    """Normalise a pooling window's kernel, stride (default: the kernel, as PyTorch for None or
    an empty list) and padding for ``n`` spatial dims (max_unpool's; max_pool's also)."""
    kernel = _checks.positive(_checks.ntuple(kernel_size, n, fn, "kernel_size"), fn, "kernel_size")
    if stride is None or (isinstance(stride, Sequence) and len(stride) == 0):
        stride = kernel
    stride = _checks.positive(_checks.ntuple(stride, n, fn, "stride"), fn, "stride")
    padding = _checks.nonnegative(_checks.ntuple(padding, n, fn, "padding"), fn, "padding")
    return kernel, stride, padding


# ----------------------------------------------------------------------------------- convolution
def conv_arguments(n, kernel_size, stride, dilation, fn):
    """Normalise the kernel, stride and dilation of a convolution for ``n`` spatial dims."""
    kernel = _checks.positive(_checks.ntuple(kernel_size, n, fn, "kernel_size"), fn, "kernel_size")
    stride = _checks.positive(_checks.ntuple(stride, n, fn, "stride"), fn, "stride")
    dilation = _checks.positive(_checks.ntuple(dilation, n, fn, "dilation"), fn, "dilation")
    return kernel, stride, dilation


def conv_same_padding(kernel, dilation) -> tuple[tuple[int, int], ...]:
    """``padding="same"`` for a stride-1 convolution: (before, after) per dim, PyTorch's split
    (the odd remainder goes after)."""
    pads = []
    for k, d in zip(kernel, dilation, strict=True):
        total = d * (k - 1)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def conv_padding(padding, kernel, stride, dilation, fn) -> tuple[tuple[int, int], ...]:
    """A convolution's ``padding`` as (before, after) per dim: an int or a tuple pads both sides,
    ``"valid"`` not at all, ``"same"`` (stride 1 only, as in PyTorch) as
    :func:`conv_same_padding`."""
    n = len(kernel)
    if isinstance(padding, str):
        _checks.choice(padding, ("same", "valid"), fn, "padding")
        if padding == "valid":
            return ((0, 0),) * n
        if any(s != 1 for s in stride):
            raise _checks.fail(fn, f"padding 'same' needs stride 1 (as in PyTorch), got {stride}")
        return conv_same_padding(kernel, dilation)
    pads = _checks.nonnegative(_checks.ntuple(padding, n, fn, "padding"), fn, "padding")
    return tuple((p, p) for p in pads)


def conv_sizes(size, kernel, stride, pads, dilation, fn: str) -> tuple[int, ...]:
    """Output size of a convolution padded by ``pads`` ((before, after) per dim), for
    normalised arguments: ``(n + before + after - d (k - 1) - 1) // s + 1`` per dim; an empty
    output is refused."""
    out = tuple(
        (n + b + a - d * (k - 1) - 1) // s + 1
        for n, k, s, (b, a), d in zip(size, kernel, stride, pads, dilation, strict=True)
    )
    if any(o < 1 for o in out):
        shown = tuple(b if b == a else (b, a) for b, a in pads)
        raise _checks.fail(
            fn,
            f"an input of spatial size {size} is too small for kernel_size {kernel}, "
            f"dilation {dilation} and padding {shown}: the output would be {out}",
        )
    return out


def conv_output_size(
    input_size: IntOrInts,
    kernel_size: IntOrInts,
    stride: IntOrInts = 1,
    padding: ConvPadding = 0,
    dilation: IntOrInts = 1,
) -> tuple[int, ...]:
    """Spatial size of :func:`upsampling.conv`'s output; ``padding`` may be "same" or "valid".

    ``(n + 2 * padding - dilation * (k - 1) - 1) // stride + 1`` per dim.

    >>> conv_output_size((4, 4), kernel_size=3)
    (2, 2)
    >>> conv_output_size((5, 6), kernel_size=3, padding="same")
    (5, 6)
    """
    fn = "conv_output_size"
    size = spatial_size(input_size, fn)
    kernel, stride, dilation = conv_arguments(len(size), kernel_size, stride, dilation, fn)
    pads = conv_padding(padding, kernel, stride, dilation, fn)
    return conv_sizes(size, kernel, stride, pads, dilation, fn)


def conv_transpose_sizes(size, kernel, stride, pads, dilation) -> tuple[int, ...]:
    """``(n - 1) * s - before - after + d (k - 1) + 1`` per dim, for normalised arguments
    (``pads`` (before, after) per dim; no check, so the result may be below 1): a transposed
    convolution's output size with ``output_padding`` 0; with zero ``pads`` the size of its
    full result; the smallest input size that a convolution with these ``pads`` maps to ``size``
    (:func:`size_range` gives the others)."""
    return tuple(
        (n - 1) * s - b - a + d * (k - 1) + 1
        for n, k, s, (b, a), d in zip(size, kernel, stride, pads, dilation, strict=True)
    )


def size_range(low, stride) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The sizes from ``low`` (at least 1) to ``low + stride - 1`` per dim: the input sizes that
    a convolution maps to one output size, ``low`` from :func:`conv_transpose_sizes` (its
    floor division merges ``stride`` of them), and so the output sizes a transposed convolution
    may be asked for."""
    return (
        tuple(max(lo, 1) for lo in low),
        tuple(lo + s - 1 for lo, s in zip(low, stride, strict=True)),
    )


def conv_transpose_geometry(
    size, kernel, stride, padding, output_padding, dilation, output_size, fn
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Where a transposed convolution's output sits on its full result: ``(offset, out)``.

    The full result of an input of size ``n`` has ``(n - 1) * s + d * (k - 1) + 1`` entries per
    dim; the output is ``out`` entries of it starting at ``offset`` (entries past either end are
    zero). ``offset`` is ``padding``; ``out`` is the full size minus ``2 * padding`` plus
    ``output_padding`` (from ``output_size`` when given, the torch module's rule, which then
    overrides ``output_padding``). ``padding="same"`` gives ``out = n * s`` with the total padding
    ``d * (k - 1) + 1 - s`` split as ONNX's ``SAME_UPPER`` (its reference implementation's floor
    division: the odd remainder at the end, also for negative totals).
    """
    n = len(size)
    op = _checks.nonnegative(
        _checks.ntuple(output_padding, n, fn, "output_padding"), fn, "output_padding"
    )
    if isinstance(padding, str):
        _checks.choice(padding, ("same",), fn, "padding")
        if output_size is not None:
            raise _checks.fail(
                fn,
                "output_size cannot be combined with padding 'same' (its output is input x stride)",
            )
        _checks.transpose_output_padding(op, padding, stride, dilation, fn)
        pads = tuple(
            (d * (k - 1) + 1 - s) // 2 for k, s, d in zip(kernel, stride, dilation, strict=True)
        )
        out = tuple(a * s for a, s in zip(size, stride, strict=True))
    else:
        pads = _checks.nonnegative(_checks.ntuple(padding, n, fn, "padding"), fn, "padding")
        _checks.transpose_output_padding(op, padding, stride, dilation, fn)
        low = conv_transpose_sizes(size, kernel, stride, tuple((p, p) for p in pads), dilation)
        if output_size is not None:
            extra = conv_transpose_output_padding(size, low, stride, output_size, fn)
            out = tuple(lo + e for lo, e in zip(low, extra, strict=True))
        else:
            out = tuple(lo + p for lo, p in zip(low, op, strict=True))
    if any(o < 1 for o in out):
        raise _checks.fail(
            fn,
            f"the output would be empty, of spatial size {out} (input size {size}, kernel_size "
            f"{kernel}, stride {stride}, padding {pads}, output_padding {op}, dilation "
            f"{dilation})",
        )
    return pads, out


def conv_transpose_output_size(
    input_size: IntOrInts,
    kernel_size: IntOrInts,
    stride: IntOrInts = 1,
    padding: ConvTransposePadding = 0,
    output_padding: IntOrInts = 0,
    dilation: IntOrInts = 1,
    *,
    output_size: Sequence[int] | None = None,
) -> tuple[int, ...]:
    """Spatial size of :func:`upsampling.conv_transpose`'s output.

    ``(n - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1`` per dim; with
    ``output_size`` given, that size once checked against the range the torch module allows
    (``output_padding`` from 0 to ``stride - 1``). ``padding="same"`` gives ``n * stride``.

    >>> conv_transpose_output_size((2, 2), kernel_size=3, stride=2)
    (5, 5)
    >>> conv_transpose_output_size((2, 2), kernel_size=3, stride=2, output_size=(6, 6))
    (6, 6)
    """
    fn = "conv_transpose_output_size"
    size = spatial_size(input_size, fn)
    kernel, stride, dilation = conv_arguments(len(size), kernel_size, stride, dilation, fn)
    return conv_transpose_geometry(
        size, kernel, stride, padding, output_padding, dilation, output_size, fn
    )[1]


def conv_transpose_output_padding(size, low, stride, output_size, fn) -> tuple[int, ...]:
    """The output_padding that gives ``output_size`` (the torch module's ``_output_padding``)."""
    n = len(size)
    if hasattr(output_size, "__len__") and len(output_size) == n + 2:
        output_size = tuple(output_size)[2:]
    want = _checks.ntuple(output_size, n, fn, "output_size")
    first, last = size_range(low, stride)
    if not all(lo <= w <= hi for w, lo, hi in zip(want, first, last, strict=True)):
        raise _checks.fail(
            fn,
            f"output_size {want} is out of range: for an input of spatial size {size} each size "
            f"must lie between {first} and {last}",
        )
    return tuple(w - lo for w, lo in zip(want, low, strict=True))


# --------------------------------------------------------------------------------- interpolation
def interpolate_output_size(
    input_size: IntOrInts, size: IntOrInts | None = None, scale_factor: FloatOrFloats | None = None
) -> tuple[int, ...]:
    """Spatial size of :func:`upsampling.interpolate`'s output.

    ``size`` as given, or ``floor(input_size * scale_factor)`` per dim (PyTorch and ONNX agree).
    """
    fn = "interpolate_output_size"
    in_size = spatial_size(input_size, fn)
    return interpolate_sizes(in_size, size, scale_factor, fn)


def interpolate_sizes(in_size: tuple[int, ...], size, scale_factor, fn: str) -> tuple[int, ...]:
    """``size`` (checked), or ``floor(in_size * scale_factor)`` per dim, for a normalised
    ``in_size``; exactly one of ``size`` and ``scale_factor`` is given."""
    n = len(in_size)
    if (size is None) == (scale_factor is None):
        raise _checks.fail(fn, "give exactly one of size and scale_factor")
    if size is not None:
        return _checks.positive(_checks.ntuple(size, n, fn, "size"), fn, "size")
    scales = interpolate_scales(scale_factor, n, fn)
    # in_size and the scales are at most 2**62 (an array's shape, interpolate_scales): the
    # product is a finite float, its floor a Python int however large
    out = tuple(math.floor(a * s) for a, s in zip(in_size, scales, strict=True))
    if any(o < 1 for o in out):
        raise _checks.fail(
            fn, f"scale_factor {scale_factor!r} on input size {in_size} gives an empty output {out}"
        )
    if any(o > _checks.MAX_SIZE for o in out):
        raise _checks.fail(
            fn,
            f"scale_factor {scale_factor!r} on input size {in_size} gives an output size above "
            f"2**62 (the largest size)",
        )
    return out


def interpolate_scales(scale_factor: Any, n: int, fn: str) -> tuple[float, ...]:
    if (_checks.ndim_of(scale_factor) or 0) > 0:
        scale_factor = tuple(scale_factor)  # a 1-d array or tensor: one factor per dim
    if isinstance(scale_factor, Sequence) and not isinstance(scale_factor, str):
        if len(scale_factor) != n:
            raise _checks.fail(
                fn, f"scale_factor {scale_factor!r} must be a number or a tuple of {n} numbers"
            )
        scales = tuple(_checks.finite_float(s, fn, "scale_factor") for s in scale_factor)
    else:
        scales = (_checks.finite_float(scale_factor, fn, "scale_factor"),) * n
    if any(s <= 0 for s in scales):
        raise _checks.fail(fn, f"scale_factor {scale_factor!r} must be positive")
    if any(s > _checks.MAX_SIZE for s in scales):
        raise _checks.fail(
            fn,
            f"scale_factor {scale_factor!r} must be at most 2**62 (a larger factor gives an "
            f"output size above the largest, 2**62)",
        )
    return scales


# ---------------------------------------------------------------------------- chunked evaluation
# A chunked (Dask) evaluation computes each output chunk from the input positions its outputs
# read, so that every chunk equals the same slice of the in-memory result. The formulas below
# give those positions ("spans", before clipping to the input: positions outside are padding).


def chunk_bounds(chunks: Sequence[int], in_size: int, out_size: int) -> tuple[int, ...]:
    """Output chunk boundaries along one axis: input boundary ``b`` maps to
    ``b * out_size // in_size`` (the input chunks times the scale; exactly ``b * s`` for an
    integer factor ``s``), repeated boundaries merged so that no output chunk is empty.

    >>> chunk_bounds((3, 3, 1), 7, 14)
    (0, 6, 12, 14)
    >>> chunk_bounds((1, 1, 1, 1), 4, 2)
    (0, 1, 2)
    """
    bounds = [0]
    edge = 0
    for c in chunks:
        edge += c
        b = edge * out_size // in_size
        if b > bounds[-1]:
            bounds.append(b)
    bounds[-1] = out_size
    return tuple(bounds)


def conv_span(
    start: int, stop: int, kernel: int, stride: int, pad_before: int, dilation: int
) -> tuple[int, int]:
    """Input positions ``[lo, hi)`` that the outputs ``start <= o < stop`` of a convolution
    read along one axis: output ``o`` reads ``o * stride - pad_before + j * dilation``.

    >>> conv_span(0, 4, kernel=3, stride=1, pad_before=1, dilation=1)
    (-1, 5)
    """
    return start * stride - pad_before, (stop - 1) * stride - pad_before + dilation * (
        kernel - 1
    ) + 1


def conv_transpose_span(
    start: int, stop: int, kernel: int, stride: int, offset: int, dilation: int
) -> tuple[int, int]:
    """Input positions ``[lo, hi)`` that reach the outputs ``start <= o < stop`` of a
    transposed convolution along one axis, its output starting at ``offset`` of the full result
    (:func:`conv_transpose_geometry`): input ``i`` adds into full positions
    ``i * stride + j * dilation``, so the span holds every ``i`` whose extent ``i * stride`` to
    ``i * stride + dilation * (kernel - 1)`` overlaps the outputs.

    >>> conv_transpose_span(0, 4, kernel=4, stride=2, offset=1, dilation=1)
    (-1, 3)
    """
    first, last = start + offset, stop - 1 + offset
    return -((dilation * (kernel - 1) - first) // stride), last // stride + 1


# How many PSF widths of context a chunk of a global deblurring gets (see deblur_halo).
DEBLUR_WIDTHS = 8


def deblur_halo(psf_shape: Sequence[int], method: str, iterations: int | None) -> tuple[int, ...]:
    """Context on each side of a chunk deblurred on its own (:func:`upsampling.deblur` of a Dask
    array), per PSF axis. Richardson-Lucy with a fixed number of iterations reaches
    ``k - 1`` pixels farther each iteration (a blur and its adjoint): ``iterations * (k - 1)
    + 1`` pixels give a chunk everything its values depend on. The other methods are global
    (Fourier-space solves); ``DEBLUR_WIDTHS`` PSF widths keep the seams' error small.

    >>> deblur_halo((5, 5), "richardson_lucy", iterations=10)
    (41, 41)
    >>> deblur_halo((5, 3), "tv", iterations=None)
    (32, 16)
    """
    reach = [max(int(k) - 1, 1) for k in psf_shape]
    if method.startswith("richardson_lucy") and iterations is not None:
        return tuple(iterations * r + 1 for r in reach)
    return tuple(DEBLUR_WIDTHS * r for r in reach)


# --------------------------------------------------------------------------------- array layout
def plane_shape(shape: Sequence[int]) -> tuple[int, ...]:
    """The shape ``(N * C, D, H, W)`` under which the numba kernels see an ``(N, C, *spatial)``
    array: one plane per ``(n, c)``, the spatial dims padded to three at the front with 1s.

    >>> plane_shape((2, 3, 5, 7))
    (6, 1, 5, 7)
    """
    n, c, *spatial = shape
    return (n * c, *(1,) * (3 - len(spatial)), *spatial)
