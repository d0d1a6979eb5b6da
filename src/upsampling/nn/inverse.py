"""``inverse_of``: the up-sampling layer that undoes a down-sampling layer's shape change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .. import _checks, shapes
from .conv_transpose import ConvTranspose
from .layers import PixelShuffle
from .modules import MaxPool, MaxUnpool
from .upsample import Upsample

__all__ = ["inverse_of"]

_CONV = (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)
_MAX_POOL = (torch.nn.MaxPool1d, torch.nn.MaxPool2d, torch.nn.MaxPool3d)
_AVG_POOL = (
    torch.nn.AvgPool1d,
    torch.nn.AvgPool2d,
    torch.nn.AvgPool3d,
    torch.nn.AdaptiveAvgPool1d,
    torch.nn.AdaptiveAvgPool2d,
    torch.nn.AdaptiveAvgPool3d,
)
_RANK = {
    torch.nn.Conv1d: 1,
    torch.nn.Conv2d: 2,
    torch.nn.Conv3d: 3,
    torch.nn.MaxPool1d: 1,
    torch.nn.MaxPool2d: 2,
    torch.nn.MaxPool3d: 3,
    torch.nn.AvgPool1d: 1,
    torch.nn.AvgPool2d: 2,
    torch.nn.AvgPool3d: 3,
    torch.nn.AdaptiveAvgPool1d: 1,
    torch.nn.AdaptiveAvgPool2d: 2,
    torch.nn.AdaptiveAvgPool3d: 3,
}


class _SizedMaxUnpool(MaxUnpool):
    """:class:`MaxUnpool` whose ``output_size`` defaults to the pooled layer's input size."""

    def __init__(self, kernel_size, stride, padding, output_size: tuple[int, ...]) -> None:
        super().__init__(kernel_size, stride, padding)
        self.output_size = output_size

    def forward(self, x: torch.Tensor, indices: torch.Tensor, output_size=None) -> torch.Tensor:
        size = self.output_size if output_size is None else output_size
        return super().forward(x, indices, size)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", output_size={self.output_size}"


def _spatial(input_shape: Any, d: int, fn: str) -> tuple[int, ...]:
    """The spatial size in ``input_shape``, ``(N, C, *spatial)`` or ``spatial``, positive."""
    _checks.length(input_shape, fn, "input_shape")
    items = tuple(input_shape)
    if len(items) == d + 2:
        items = items[2:]
    elif len(items) != d:
        raise _checks.fail(
            fn,
            f"input_shape {items} must be (N, C, *spatial) or spatial with {d} spatial dims "
            f"for this {d}-d layer",
        )
    return _checks.positive(_checks.ntuple(items, d, fn, "input_shape"), fn, "input_shape")


def _pool_rank(module: MaxPool, input_shape: Any, fn: str) -> int:
    """The rank of an :class:`upsampling.nn.MaxPool`: from a tuple argument, else from the full
    ``(N, C, *spatial)`` input shape."""
    for value in (module.kernel_size, module.stride, module.padding, module.dilation):
        if isinstance(value, tuple):
            return len(value)
    try:
        rank = len(input_shape) - 2
    except TypeError:
        rank = 0
    if not 1 <= rank <= 3:
        raise _checks.fail(
            fn,
            f"input_shape {input_shape!r} must be the full (N, C, *spatial) shape for a MaxPool "
            f"whose arguments are ints (they do not say its rank)",
        )
    return rank


def _conv_inverse(conv, size: tuple[int, ...], fn: str) -> ConvTranspose:
    d = _RANK[type(conv)]
    kernel, stride, dilation = conv.kernel_size, conv.stride, conv.dilation
    padding: Any = conv.padding
    if padding == "valid":
        padding = (0,) * d
    common = {
        "groups": conv.groups,
        "bias": conv.bias is not None,
        "dims": d,
        "device": conv.weight.device,
        "dtype": conv.weight.dtype,
    }
    if padding == "same":  # stride 1: the transposed layer crops the same (before, after)
        return ConvTranspose(
            conv.out_channels, conv.in_channels, kernel, 1, "same", dilation=dilation, **common
        )
    small = shapes.conv_output_size(size, kernel, stride, padding, dilation)
    low = shapes.conv_transpose_output_size(small, kernel, stride, padding, 0, dilation)
    output_padding = tuple(n - lo for n, lo in zip(size, low, strict=True))
    return ConvTranspose(
        conv.out_channels,
        conv.in_channels,
        kernel,
        stride,
        padding,
        output_padding,
        dilation=dilation,
        **common,
    )


def inverse_of(module: torch.nn.Module, input_shape: Sequence[int]) -> torch.nn.Module:
    """The up-sampling layer that maps ``module``'s output back to ``input_shape``.

    Parameters
    ----------
    module : torch.nn.Module
        A down-sampling layer: ``nn.Conv1d/2d/3d``, ``nn.MaxPool1d/2d/3d`` or
        :class:`upsampling.nn.MaxPool`, ``nn.AvgPool1d/2d/3d`` or ``nn.AdaptiveAvgPool1d/2d/3d``,
        ``nn.PixelUnshuffle``.
    input_shape : tuple of int
        The shape of ``module``'s input, ``(N, C, *spatial)`` or just ``spatial``.

    Returns
    -------
    torch.nn.Module
        * Conv -> :class:`ConvTranspose` with the channels swapped and the same kernel, stride,
          padding, dilation and groups, and the ``output_padding`` that gives back exactly
          ``input_shape`` (the sizes that the convolution's floor division merged). A fresh
          layer with its own initialisation: its weight has the shape of the convolution's, so
          ``inverse.weight = conv.weight`` ties them (the transpose ``C^T`` of the convolution
          matrix).
        * MaxPool -> :class:`MaxUnpool` whose ``forward(x, indices)`` returns ``input_shape``
          (pass the pooling layer's indices: ``torch.nn.MaxPool2d(..., return_indices=True)``
          or :class:`upsampling.nn.MaxPool`). Its ``kernel_size`` is the pooling window's
          extent, ``dilation * (kernel_size - 1) + 1``.
        * AvgPool -> :class:`Upsample` to ``input_shape`` with mode ``"nearest"`` (each value
          spread over the block it averaged).
        * PixelUnshuffle -> :class:`PixelShuffle`.

    Raises
    ------
    TypeError
        ``module`` is none of those.
    ValueError
        ``input_shape`` does not have the module's rank, or is too small for it.

    Examples
    --------
    >>> import torch
    >>> from upsampling.nn.inverse import inverse_of
    >>> conv = torch.nn.Conv2d(3, 8, 3, stride=2, padding=1)
    >>> up = inverse_of(conv, (1, 3, 10, 11))
    >>> up.output_padding
    (1, 0)
    >>> up(conv(torch.zeros(1, 3, 10, 11))).shape
    torch.Size([1, 3, 10, 11])
    """
    fn = "inverse_of"
    if isinstance(module, _CONV):
        return _conv_inverse(module, _spatial(input_shape, _RANK[type(module)], fn), fn)
    if isinstance(module, (*_MAX_POOL, MaxPool)):
        d = _RANK[type(module)] if type(module) in _RANK else _pool_rank(module, input_shape, fn)
        size = _spatial(input_shape, d, fn)
        kernel, stride, padding, dilation, ceil_mode = shapes.pool_arguments(
            d,
            module.kernel_size,
            module.stride,
            module.padding,
            module.dilation,
            module.ceil_mode,
            fn,
        )
        shapes.pool_output_size(size, kernel, stride, padding, dilation, ceil_mode)
        extent = tuple(dl * (k - 1) + 1 for k, dl in zip(kernel, dilation, strict=True))
        return _SizedMaxUnpool(extent, stride, padding, size)
    if isinstance(module, _AVG_POOL):
        return Upsample(size=_spatial(input_shape, _RANK[type(module)], fn), mode="nearest")
    if isinstance(module, torch.nn.PixelUnshuffle):
        return PixelShuffle(module.downscale_factor)
    kinds = (
        "Conv1d/2d/3d, MaxPool1d/2d/3d, AvgPool1d/2d/3d, AdaptiveAvgPool1d/2d/3d, PixelUnshuffle"
    )
    raise _checks.fail(
        fn, f"module {type(module).__name__} is not a down-sampler it knows ({kinds})", TypeError
    )
