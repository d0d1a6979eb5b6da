"""Transposed convolution as a learnable layer: ``ConvTranspose`` and ``ConvTranspose1d/2d/3d``.

The layer calls :func:`upsampling.conv_transpose` (with its ``method``), which exports to ONNX
as ``ConvTranspose`` (see :mod:`upsampling.nn._export_ops`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from .. import _checks
from .._typing import (
    ConvTransposeInit,
    ConvTransposeMethod,
    ConvTransposePadding,
    Device,
    DType,
    IntOrInts,
)
from ..conv import METHODS, conv_transpose
from . import _layer_utils as U

__all__ = [
    "ConvTranspose",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "bilinear_kernel",
]

_INITS = ("default", "bilinear")


# ------------------------------------------------------------------------------- ConvTranspose
def bilinear_kernel(kernel_size: tuple[int, ...], **factory: Any) -> Tensor:
    """FCN's bilinear up-sampling kernel: the outer product over the dims of
    ``1 - |i - c| / f`` with ``f = ceil(k / 2)`` and ``c`` the kernel's centre.

    With ``kernel_size = 2 * s - s % 2``, ``stride = s`` and ``padding = ceil((s - 1) / 2)`` a
    transposed convolution with this kernel is bilinear up-sampling by ``s`` (half-pixel
    centres) away from the border.
    """
    out = torch.ones((), dtype=torch.float64)
    for k in kernel_size:
        f = (k + 1) // 2
        c = f - 1 if k % 2 == 1 else f - 0.5
        taps = 1 - (torch.arange(k, dtype=torch.float64) - c).abs() / f
        out = out[..., None] * taps
    return out.to(**factory)


class ConvTranspose(torch.nn.Module):
    """Transposed convolution as a learnable layer; the arguments are those of
    :func:`upsampling.conv_transpose` (``padding`` may be ``"same"``), and ``forward`` takes
    PyTorch's ``output_size``.

    Parameters
    ----------
    in_channels, out_channels, kernel_size, stride, padding, output_padding, groups, bias, dilation
        As ``torch.nn.ConvTranspose2d``; the weight has shape
        ``(in_channels, out_channels / groups, *kernel_size)``.
    dims : {1, 2, 3}, keyword-only
        Spatial dimensions (``ConvTranspose1d/2d/3d`` fix it).
    init : {"default", "bilinear"}, keyword-only
        ``"default"``: PyTorch's initialisation of ``nn.ConvTranspose2d`` (Kaiming-uniform, the
        same random draws). ``"bilinear"``: FCN's start, each channel up-sampled by the fixed
        bilinear kernel of :func:`bilinear_kernel` into the same output channel and a zero bias
        (needs ``in_channels == out_channels``).
    method : str, keyword-only
        How :func:`upsampling.conv_transpose` computes it: one of its methods
        (``upsampling.conv.METHODS``, described there); all agree within float tolerance.
    device, dtype : keyword-only
        Where and in which dtype to create the parameters.

    Examples
    --------
    The seed's example: a 3x3 kernel of ones with stride 2 on a 2x2 input of ones.

    >>> import torch
    >>> from upsampling.nn.conv_transpose import ConvTranspose
    >>> layer = ConvTranspose(1, 1, 3, stride=2, bias=False)
    >>> _ = torch.nn.init.ones_(layer.weight)
    >>> layer(torch.ones(1, 1, 2, 2)).detach()[0, 0]
    tensor([[1., 1., 2., 1., 1.],
            [1., 1., 2., 1., 1.],
            [2., 2., 4., 2., 2.],
            [1., 1., 2., 1., 1.],
            [1., 1., 2., 1., 1.]])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: IntOrInts,
        stride: IntOrInts = 1,
        padding: ConvTransposePadding = 0,
        output_padding: IntOrInts = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: IntOrInts = 1,
        *,
        dims: int = 2,
        init: ConvTransposeInit = "default",
        method: ConvTransposeMethod = "auto",
        device: Device = None,
        dtype: DType = None,
    ) -> None:
        super().__init__()
        fn = type(self).__name__
        d = self.dims = U.dims(dims, fn)
        self.in_channels = U.count(in_channels, fn, "in_channels")
        self.out_channels = U.count(out_channels, fn, "out_channels")
        self.groups = U.count(groups, fn, "groups")
        U.divides(self.in_channels, self.groups, fn, "in_channels by groups")
        U.divides(self.out_channels, self.groups, fn, "out_channels by groups")
        self.kernel_size = U.per_dim(kernel_size, d, fn, "kernel_size")
        self.stride = U.per_dim(stride, d, fn, "stride")
        self.dilation = U.per_dim(dilation, d, fn, "dilation")
        self.output_padding = U.per_dim(output_padding, d, fn, "output_padding", zero=True)
        if isinstance(padding, str):
            self.padding = _checks.choice(padding, ("same",), fn, "padding")
        else:
            self.padding = U.per_dim(padding, d, fn, "padding", zero=True)
        _checks.transpose_output_padding(
            self.output_padding, self.padding, self.stride, self.dilation, fn
        )
        has_bias = _checks.boolean(bias, fn, "bias")
        self.init = _checks.choice(init, _INITS, fn, "init")
        if self.init == "bilinear" and self.in_channels != self.out_channels:
            raise _checks.fail(
                fn,
                f"init 'bilinear' up-samples each channel into itself: in_channels "
                f"{self.in_channels} must equal out_channels {self.out_channels}",
            )
        self.method = _checks.choice(method, METHODS, fn, "method")
        kw = U.factory(fn, device, dtype)
        shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        U.parameters_fit(fn, kw, weight=shape, bias=(self.out_channels,) if has_bias else None)
        self.weight = torch.nn.Parameter(torch.empty(shape, **kw))
        self.bias = torch.nn.Parameter(torch.empty(self.out_channels, **kw)) if has_bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.init == "bilinear":
            kernel = bilinear_kernel(self.kernel_size, dtype=self.weight.dtype)
            per_group = self.out_channels // self.groups
            with torch.no_grad():
                self.weight.zero_()
                for i in range(self.in_channels):
                    self.weight[i, i % per_group] = kernel
                if self.bias is not None:
                    self.bias.zero_()
            return
        torch.nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # as nn.ConvTranspose2d
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in)
            torch.nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        fn = type(self).__name__
        U.check_input(x, fn, self.in_channels, self.dims)
        args = (self.stride, self.padding, self.output_padding, self.groups, self.dilation)
        return conv_transpose(
            x, self.weight, self.bias, *args, output_size=output_size, method=self.method
        )

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        text += f", stride={self.stride}"
        one = (1,) * self.dims
        zero = (0,) * self.dims
        for name, default in [("padding", zero), ("output_padding", zero), ("dilation", one)]:
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)!r}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text + f", dims={self.dims}, init={self.init!r}, method={self.method!r}"


def _fixed_dims(d: int) -> type[ConvTranspose]:
    class _ConvTransposeNd(ConvTranspose):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            if "dims" in kwargs:
                raise _checks.fail(
                    f"ConvTranspose{d}d", f"dims is fixed to {d}; use ConvTranspose", TypeError
                )
            super().__init__(*args, dims=d, **kwargs)

    _ConvTransposeNd.__name__ = _ConvTransposeNd.__qualname__ = f"ConvTranspose{d}d"
    _ConvTransposeNd.__doc__ = (
        f"{ConvTranspose.__name__} with ``dims={d}``; see :class:`ConvTranspose`."
    )
    return _ConvTransposeNd


ConvTranspose1d = _fixed_dims(1)
ConvTranspose2d = _fixed_dims(2)
ConvTranspose3d = _fixed_dims(3)
