"""PyTorch modules around the functional operators (each documents its arguments and links to
its function rather than repeating it)."""

from __future__ import annotations

from typing import Any

import torch

from .. import _checks, shapes
from ..unpool import max_pool, max_unpool, unpool, unpool_arguments


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


def _factory(fn: str, device: Any, dtype: Any) -> None:
    """``device`` and ``dtype`` are accepted like every module's; these hold no tensors."""
    if device is not None:
        try:
            torch.device(device)
        except (RuntimeError, TypeError):
            raise _checks.fail(fn, f"device {device!r} is not a torch device", TypeError) from None
    if dtype is not None and not isinstance(dtype, torch.dtype):
        raise _checks.fail(fn, f"dtype {dtype!r} must be a torch.dtype or None", TypeError)


class Unpool(torch.nn.Module):
    """Unpooling by an integer factor; see :func:`upsampling.unpool`.

    Parameters
    ----------
    scale_factor, mode, offset
        As :func:`upsampling.unpool`; checked here, so a bad value fails at construction.
    device, dtype
        Accepted for a uniform constructor; the module holds no tensors.
    """

    def __init__(self, scale_factor, mode="nearest", *, offset=0, device=None, dtype=None):
        super().__init__()
        fn = "Unpool"
        _factory(fn, device, dtype)
        rank = _rank(fn, scale_factor=scale_factor, offset=offset)
        scale, self.mode, offsets = unpool_arguments(rank or 1, scale_factor, mode, offset, fn)
        self.scale_factor = _keep(scale_factor, scale, rank)
        self.offset = _keep(offset, offsets, rank)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return unpool(x, self.scale_factor, self.mode, offset=self.offset)

    def extra_repr(self) -> str:
        return f"scale_factor={self.scale_factor}, mode={self.mode!r}, offset={self.offset}"


class MaxPool(torch.nn.Module):
    """Max pooling that returns ``(values, indices)``; see :func:`upsampling.max_pool`.

    Parameters
    ----------
    kernel_size, stride, padding, dilation, ceil_mode
        As :func:`upsampling.max_pool` (and ``torch.nn.MaxPool2d``); checked here.
    device, dtype
        Accepted for a uniform constructor; the module holds no tensors.
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
        _factory(fn, device, dtype)
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


class MaxUnpool(torch.nn.Module):
    """Max unpooling with the indices of :class:`MaxPool`; see :func:`upsampling.max_unpool`.

    Parameters
    ----------
    kernel_size, stride, padding
        As :func:`upsampling.max_unpool` (those of the pooling); checked here.
    device, dtype
        Accepted for a uniform constructor; the module holds no tensors.
    """

    def __init__(self, kernel_size, stride=None, padding=0, *, device=None, dtype=None) -> None:
        super().__init__()
        fn = "MaxUnpool"
        _factory(fn, device, dtype)
        rank = _rank(fn, kernel_size=kernel_size, stride=stride, padding=padding)
        kernel, strides, pads = shapes.max_unpool_arguments(
            rank or 1, kernel_size, stride, padding, fn
        )
        self.kernel_size = _keep(kernel_size, kernel, rank)
        self.stride = None if _empty(stride) else _keep(stride, strides, rank)
        self.padding = _keep(padding, pads, rank)

    def forward(self, x: torch.Tensor, indices: torch.Tensor, output_size=None) -> torch.Tensor:
        return max_unpool(x, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
