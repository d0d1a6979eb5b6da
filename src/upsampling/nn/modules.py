"""PyTorch modules around the functional operators (each documents its arguments and links to
its function rather than repeating it)."""

from __future__ import annotations

import contextlib
import itertools
import math
import warnings
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import _checks, shapes
from ..unpool import _pool_dtypes, max_pool, max_unpool, unpool, unpool_arguments
from . import _layer_utils as U


def _rank(fn: str, **values: Any) -> int | None:
    """The number of spatial dims the tuple arguments imply (they must agree), or None when every
    argument is an int (the input's rank decides at ``forward``)."""
    lengths = {
        name: len(v) for name, v in values.items() if isinstance(v, tuple | list) and len(v) > 0
    }
    if not lengths:
        return None
    if len(set(lengths.values())) > 1 or not 1 <= max(lengths.values()) <= 3:
        shown = ", ".join(f"{name} {tuple(values[name])}" for name in lengths)
        raise _checks.fail(
            fn, f"{shown}: tuples must have one entry per spatial dimension, 1 to 3, all alike"
        )
    return next(iter(lengths.values()))


def _keep(value: Any, normalised: tuple[int, ...] | None, rank: int | None):
    """What a module stores: an int stays an int (as torch.nn's modules do), a tuple a tuple."""
    if value is None or normalised is None:
        return None
    return normalised[0] if rank is None else tuple(normalised)


def _empty(stride: Any) -> bool:
    """PyTorch's "stride defaults to kernel_size": None or an empty sequence."""
    return stride is None or (isinstance(stride, tuple | list) and len(stride) == 0)


# ------------------------------------------------------------------------------ ONNX export
# While ``torch.onnx.export`` traces a module, its custom op (``upsampling::...``) is unknown to
# the exporter; these build the same numbers from plain PyTorch ops that export as standard
# ONNX nodes (Reshape, Expand, Pad, Slice, Greater, IsNaN, Where, TopK, GatherElements,
# ScatterElements; opset 11 or later). They run only under ``torch.onnx.is_in_onnx_export()``
# and take arguments already normalised and checked.


@contextlib.contextmanager
def _fixed_shapes():
    """The pooling graphs are built for the traced shape on purpose (see the modules' Notes):
    silence the tracer's warnings that sizes and index grids become constants."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        yield


def _size(t: Tensor) -> tuple[int, ...]:
    """The shape as Python ints: the exported pooling graphs are built for the traced shape (the
    tracer would otherwise hand out sizes as tensors)."""
    return tuple(int(a) for a in t.shape)


def _onnx_unpool(x: Tensor, scale, offset, bed_of_nails: bool) -> Tensor:
    """Nearest: each value expanded over a new axis of length ``s`` after its own; bed of nails:
    that axis zero-padded instead, ``o`` before and ``s - 1 - o`` after. One reshape back."""
    n, c, *size = x.shape
    view, spread, pads = [n, c], [n, c], []
    for a, s, o in zip(size, scale, offset, strict=True):
        view += [a, 1]
        spread += [a, s]
        pads = [o, s - 1 - o, 0, 0, *pads]  # F.pad lists the last axis first
    y = x.reshape(view)
    y = F.pad(y, pads) if bed_of_nails else y.expand(spread)
    return y.reshape(n, c, *(a * s for a, s in zip(size, scale, strict=True)))


def _onnx_max_pool(
    x: Tensor, kernel, stride, padding, dilation, ceil_mode
) -> tuple[Tensor, Tensor]:
    """The running maximum over the kernel's taps in window (raster) order, each tap a strided
    slice of the input padded with the lowest value: a tap wins when it is greater or NaN,
    exactly the rule of the eager kernel (first maximum, last NaN). Padding never wins, so the
    index starts at the window's first real element, as PyTorch's does."""
    n, c, *size = _size(x)
    out = shapes._pool(tuple(size), kernel, stride, padding, dilation, ceil_mode, "max_pool")
    floating = x.is_floating_point()
    low = -math.inf if floating else torch.iinfo(x.dtype).min
    pads, first, grids = [], 0, []
    for axis, (a, k, s, p, d, o) in enumerate(
        zip(size, kernel, stride, padding, dilation, out, strict=True)
    ):
        pads = [p, max(0, (o - 1) * s + (k - 1) * d + 1 - p - a), *pads]  # ceil_mode's end
        shape = [1] * len(size)
        shape[axis] = o
        step = math.prod(size[axis + 1 :])  # of the flat index in the input plane
        starts = [i * s - p for i in range(o)]  # each window's tap 0
        lead = [b % d if b < 0 else b for b in starts]  # its first real tap
        grids.append((torch.tensor(starts, device=x.device).reshape(shape) * step, step))
        first = first + torch.tensor(lead, device=x.device).reshape(shape) * step
    xp = F.pad(x, pads, value=low)
    best = torch.full((n, c, *out), low, dtype=x.dtype, device=x.device)
    index = first.expand(n, c, *out)
    for tap in itertools.product(*(range(k) for k in kernel)):
        sl = (
            slice(j * d, j * d + (o - 1) * s + 1, s)
            for j, d, o, s in zip(tap, dilation, out, stride, strict=True)
        )
        v = xp[(..., *sl)]
        wins = (v > best) | torch.isnan(v) if floating else v > best
        flat = sum(g + j * d * step for (g, step), j, d in zip(grids, tap, dilation, strict=True))
        best = torch.where(wins, v, best)
        index = torch.where(wins, flat, index)
    return best, index


def _onnx_max_unpool(x: Tensor, indices: Tensor, out_size) -> Tensor:
    """Scatter each plane's inputs to their indices through :func:`_onnx_unpool_plan`, into a
    plane with one spare element past the end that is cut off afterwards."""
    n, c, *size = _size(x)
    length, plane = math.prod(size), math.prod(out_size)
    order, target = _onnx_unpool_plan(indices.reshape(n * c, length).long(), plane)
    values = x.reshape(n * c, length).gather(1, order)
    y = x.new_zeros((n * c, plane + 1)).scatter(1, target, values)
    return y[:, :plane].reshape(n, c, *out_size)


def _onnx_unpool_plan(idf: Tensor, plane: int) -> tuple[Tensor, Tensor]:
    """Where each input of the rows of ``idf`` goes, with the later-input-wins rule made
    explicit, so that the runtime's order of duplicate writes cannot matter: the inputs sorted by
    (index, position) with TopK (the keys are unique), then the target of each, which is its
    index for the last input of a run of equal indices and the spare element ``plane`` for the
    others: no two inputs share a target inside the plane. An index outside the plane targets
    ``plane + 1``, past the spare element, which ScatterElements refuses at run time."""
    length = idf.shape[1]
    idf = torch.where((idf < 0) | (idf >= plane), plane + 1, idf)
    key = idf * length + torch.arange(length, device=idf.device)
    order = torch.topk(key, length, dim=1, largest=False, sorted=True).indices
    ranked = idf.gather(1, order)
    last = torch.cat(
        [ranked[:, :-1] != ranked[:, 1:], torch.ones_like(ranked[:, :1], dtype=torch.bool)], 1
    )
    return order, torch.where(last, ranked, plane)


def _unpool_size(x, indices, kernel_size, stride, padding, output_size) -> tuple[int, ...]:
    """The checks of :func:`upsampling.max_unpool` on shapes and dtypes (an export cannot look
    at the indices' values); its output's spatial size."""
    fn = "max_unpool"
    n = _checks.array(x, fn, dtypes=_pool_dtypes(x))
    _checks.array(indices, fn, "indices", dtypes=_checks.INDEX_DTYPES, min_spatial=n, max_spatial=n)
    _checks.same_device(x, indices, fn, "x", "indices")
    if _size(indices) != _size(x):
        raise _checks.fail(
            fn,
            f"indices has shape {_size(indices)} but x has shape {_size(x)}; they must match",
        )
    args = shapes.max_unpool_arguments(n, kernel_size, stride, padding, fn)
    if isinstance(output_size, tuple | list):  # torch.Size too; traced sizes are tensors
        output_size = tuple(int(a) if isinstance(a, Tensor) else a for a in output_size)
    return shapes._max_unpool(_size(x)[2:], *args, output_size, fn)


class Unpool(U.Parameterless):
    """Unpooling by an integer factor; see :func:`upsampling.unpool`.

    Parameters
    ----------
    scale_factor, mode, offset
        As :func:`upsampling.unpool`; checked here, so a bad value fails at construction.
    device, dtype
        Accepted for a uniform constructor; the module holds no tensors.

    Notes
    -----
    ONNX export (``torch.onnx.export``, TorchScript exporter, opset 11 or later): the custom op
    is replaced by plain operators giving the same numbers for every dtype: nearest as
    Reshape + Expand, bed of nails as Reshape + Pad (zeros) + Reshape. Sizes stay symbolic, so
    ``dynamic_axes`` work.
    """

    def __init__(self, scale_factor, mode="nearest", *, offset=0, device=None, dtype=None):
        super().__init__()
        fn = "Unpool"
        U.check_factory(fn, device, dtype)
        rank = _rank(fn, scale_factor=scale_factor, offset=offset)
        scale, self.mode, offsets = unpool_arguments(rank or 1, scale_factor, mode, offset, fn)
        self.scale_factor = _keep(scale_factor, scale, rank)
        self.offset = _keep(offset, offsets, rank)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if U.exporting():
            fn = "unpool"  # the checks of the function, on shapes and dtypes
            n = _checks.array(x, fn)
            scale, mode, offset = unpool_arguments(n, self.scale_factor, self.mode, self.offset, fn)
            return _onnx_unpool(x, scale, offset, mode == "bed_of_nails")
        return unpool(x, self.scale_factor, self.mode, offset=self.offset)

    def extra_repr(self) -> str:
        return f"scale_factor={self.scale_factor}, mode={self.mode!r}, offset={self.offset}"


class MaxPool(U.Parameterless):
    """Max pooling that returns ``(values, indices)``; see :func:`upsampling.max_pool`.

    Parameters
    ----------
    kernel_size, stride, padding, dilation, ceil_mode
        As :func:`upsampling.max_pool` (and ``torch.nn.MaxPool2d``); checked here.
    device, dtype
        Accepted for a uniform constructor; the module holds no tensors.

    Notes
    -----
    ONNX export (``torch.onnx.export``, TorchScript exporter, opset 11 or later): the exported
    graph does not use ONNX ``MaxPool``, whose runtimes let NaN lose and number indices over the
    whole tensor. It pads the input with the lowest value and keeps a running maximum over the
    ``prod(kernel_size)`` taps, each a strided Slice, with Greater / IsNaN / Where: values and
    indices (flat positions in each ``(n, c)`` input plane) equal the eager module's bit for bit,
    ties, NaN, padding, dilation and ``ceil_mode`` included. The index grids are constants for
    the traced input's spatial size, so export with the size the model will run on. The graph
    grows with the number of taps (a 3x3x3 kernel is 27 Slice + Where pairs).
    """

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        dilation=1,
        ceil_mode=False,
        *,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        fn = "MaxPool"
        U.check_factory(fn, device, dtype)
        rank = _rank(fn, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation)
        kernel, strides, pads, dilations, self.ceil_mode = shapes.pool_arguments(
            rank or 1, kernel_size, stride, padding, dilation, ceil_mode, fn
        )
        shapes.pool_padding(kernel, pads, fn)
        self.kernel_size = _keep(kernel_size, kernel, rank)
        self.stride = None if _empty(stride) else _keep(stride, strides, rank)
        self.padding = _keep(padding, pads, rank)
        self.dilation = _keep(dilation, dilations, rank)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if U.exporting():
            fn = "max_pool"  # the checks of the function, on shapes and dtypes
            n = _checks.array(x, fn, dtypes=_pool_dtypes(x))
            args = shapes.pool_arguments(
                n, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode, fn
            )
            with _fixed_shapes():
                shapes.pool_windows_nonempty(_size(x)[2:], *args, fn)
                return _onnx_max_pool(x, *args)
        return max_pool(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            return_indices=True,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxUnpool(U.Parameterless):
    """Max unpooling with the indices of :class:`MaxPool`; see :func:`upsampling.max_unpool`.

    Parameters
    ----------
    kernel_size, stride, padding
        As :func:`upsampling.max_unpool` (those of the pooling); checked here.
    device, dtype
        Accepted for a uniform constructor; the module holds no tensors.

    Notes
    -----
    ONNX export (``torch.onnx.export``, TorchScript exporter, opset 11 or later): the output is
    built with TopK, GatherElements and ScatterElements and equals the eager module's, duplicate
    indices included. ONNX leaves the order of duplicate scatter writes undefined, so the graph
    does not rely on it: it sorts each plane's inputs by (index, position), keeps the later
    input of each run of equal indices and sends the others to a spare element that is cut off.
    ``output_size`` (and the input's spatial size) is fixed at export time. The graph cannot
    raise ``ValueError``: an index outside the output plane makes the runtime's ScatterElements
    fail instead (onnxruntime: ``INVALID_ARGUMENT ... indices element out of data bounds``).
    Sort keys are ``index * L + position`` in int64 (``L`` inputs per plane), exact while
    ``(plane + 2) * L < 2**63``.
    """

    def __init__(self, kernel_size, stride=None, padding=0, *, device=None, dtype=None) -> None:
        super().__init__()
        fn = "MaxUnpool"
        U.check_factory(fn, device, dtype)
        rank = _rank(fn, kernel_size=kernel_size, stride=stride, padding=padding)
        kernel, strides, pads = shapes.max_unpool_arguments(
            rank or 1, kernel_size, stride, padding, fn
        )
        self.kernel_size = _keep(kernel_size, kernel, rank)
        self.stride = None if _empty(stride) else _keep(stride, strides, rank)
        self.padding = _keep(padding, pads, rank)

    def forward(self, x: torch.Tensor, indices: torch.Tensor, output_size=None) -> torch.Tensor:
        args = (self.kernel_size, self.stride, self.padding)
        if U.exporting():
            with _fixed_shapes():
                out_size = _unpool_size(x, indices, *args, output_size)
                return _onnx_max_unpool(x, indices, out_size)
        return max_unpool(x, indices, *args, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
