"""PyTorch modules around the functional operators (each documents its arguments and links to
its function rather than repeating it)."""

from __future__ import annotations

from typing import Any

import torch

from .. import _checks
from ..unpool import max_pool, max_unpool, unpool


def _per_dim(value: Any, fn: str, name: str, *, allow_zero: bool = False, optional=False):
    """Validate an int-or-tuple argument before the rank is known (the op checks its length)."""
    if value is None and optional:
        return None
    items = value if isinstance(value, tuple | list) else (value,)
    ints = _checks.ntuple(items, len(items), fn, name)
    check = _checks.nonnegative if allow_zero else _checks.positive
    check(ints, fn, name)
    return value if isinstance(value, int) else tuple(ints)


class Unpool(torch.nn.Module):
    """Unpooling by an integer factor; see :func:`upsampling.unpool`."""

    def __init__(self, scale_factor, mode: str = "nearest", *, offset=0) -> None:
        super().__init__()
        self.scale_factor = _per_dim(scale_factor, "Unpool", "scale_factor")
        self.mode = _checks.choice(mode, ("nearest", "bed_of_nails"), "Unpool", "mode")
        self.offset = _per_dim(offset, "Unpool", "offset", allow_zero=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return unpool(x, self.scale_factor, self.mode, offset=self.offset)

    def extra_repr(self) -> str:
        return f"scale_factor={self.scale_factor}, mode={self.mode!r}, offset={self.offset}"


class MaxPool(torch.nn.Module):
    """Max pooling that returns ``(values, indices)``; see :func:`upsampling.max_pool`."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False) -> None:
        super().__init__()
        self.kernel_size = _per_dim(kernel_size, "MaxPool", "kernel_size")
        self.stride = _per_dim(stride, "MaxPool", "stride", optional=True)
        self.padding = _per_dim(padding, "MaxPool", "padding", allow_zero=True)
        self.dilation = _per_dim(dilation, "MaxPool", "dilation")
        self.ceil_mode = _checks.boolean(ceil_mode, "MaxPool", "ceil_mode")

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
    """Max unpooling with the indices of :class:`MaxPool`; see :func:`upsampling.max_unpool`."""

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size = _per_dim(kernel_size, "MaxUnpool", "kernel_size")
        self.stride = _per_dim(stride, "MaxUnpool", "stride", optional=True)
        self.padding = _per_dim(padding, "MaxUnpool", "padding", allow_zero=True)

    def forward(self, x: torch.Tensor, indices: torch.Tensor, output_size=None) -> torch.Tensor:
        return max_unpool(x, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
