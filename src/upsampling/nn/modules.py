"""PyTorch modules around the functional operators (each documents its arguments and links to
its function rather than repeating it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .. import _checks, shapes
from .._typing import Device, DType, IntOrInts, UnpoolMode
from ..unpool import max_pool, max_unpool, unpool, unpool_arguments
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
    ONNX export (``torch.onnx.export``, either exporter, opset 11 or later; the function exports
    the same way, see :mod:`upsampling.nn._export_ops`): the custom op is replaced by plain
    operators giving the same numbers for every dtype: nearest as Reshape + Expand, bed of nails
    as Reshape + Pad (zeros) + Reshape. Sizes stay symbolic, so ``dynamic_axes`` work.
    """

    def __init__(
        self,
        scale_factor: IntOrInts,
        mode: UnpoolMode = "nearest",
        *,
        offset: IntOrInts = 0,
        device: Device = None,
        dtype: DType = None,
    ) -> None:
        super().__init__()
        fn = "Unpool"
        U.check_factory(fn, device, dtype)
        rank = _rank(fn, scale_factor=scale_factor, offset=offset)
        scale, self.mode, offsets = unpool_arguments(rank or 1, scale_factor, mode, offset, fn)
        self.scale_factor = _keep(scale_factor, scale, rank)
        self.offset = _keep(offset, offsets, rank)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
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
    ONNX export (``torch.onnx.export``, either exporter, opset 11 or later; so does the
    function): the exported
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
        kernel_size: IntOrInts,
        stride: IntOrInts | None = None,
        padding: IntOrInts = 0,
        dilation: IntOrInts = 1,
        ceil_mode: bool = False,
        *,
        device: Device = None,
        dtype: DType = None,
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
    ONNX export (``torch.onnx.export``, either exporter, opset 11 or later; so does the
    function): the output is
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

    def __init__(
        self,
        kernel_size: IntOrInts,
        stride: IntOrInts | None = None,
        padding: IntOrInts = 0,
        *,
        device: Device = None,
        dtype: DType = None,
    ) -> None:
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

    def forward(
        self, x: torch.Tensor, indices: torch.Tensor, output_size: Sequence[int] | None = None
    ) -> torch.Tensor:
        if isinstance(output_size, tuple | list):  # torch.Size too; traced sizes are tensors
            output_size = tuple(int(a) if isinstance(a, torch.Tensor) else a for a in output_size)
        return max_unpool(x, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
