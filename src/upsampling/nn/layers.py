"""Up-sampling layers around the functional operators: ``PixelShuffle``, ``SubPixelConv``,
``ResizeConv`` (``Upsample`` lives in :mod:`.upsample`, ``ConvTranspose`` in
:mod:`.conv_transpose`).

Each module documents its arguments and links to its function. The layers call the library's
operators, which export to ONNX themselves (see :mod:`upsampling.nn._export_ops`).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from .. import _checks, shapes
from .._typing import Device, DType, FloatOrFloats, InterpolateMode, IntOrInts
from ..modes import MODES
from ..pixel_shuffle import pixel_shuffle
from ..spec import ResizeSpec
from . import _layer_utils as U
from .upsample import Upsample

__all__ = [
    "PixelShuffle",
    "ResizeConv",
    "SubPixelConv",
]


# -------------------------------------------------------------------------------- PixelShuffle
class PixelShuffle(U.Parameterless):
    """Depth to space for 1-3 spatial dims; see :func:`upsampling.pixel_shuffle`.

    ``(N, C * prod(r), *s)`` -> ``(N, C, *(s * r))`` in ONNX's ``DepthToSpace`` "CRD" order
    (``torch.nn.PixelShuffle``'s in 2-D). ``upscale_factor`` is an int or one int per spatial
    dim, checked against the input's rank in ``forward``. ``device`` and ``dtype``
    (keyword-only) are accepted like every module's; the layer holds no tensors.

    Examples
    --------
    >>> import torch
    >>> from upsampling.nn.layers import PixelShuffle
    >>> PixelShuffle(2)(torch.arange(8.0).reshape(1, 4, 2))
    tensor([[[0., 2., 1., 3.],
             [4., 6., 5., 7.]]])
    """

    def __init__(
        self, upscale_factor: IntOrInts, *, device: Device = None, dtype: DType = None
    ) -> None:
        super().__init__()
        fn = "PixelShuffle"
        U.check_factory(fn, device, dtype)
        items = upscale_factor if isinstance(upscale_factor, tuple | list) else (upscale_factor,)
        U.per_dim(items, len(items), fn, "upscale_factor")
        self.upscale_factor = upscale_factor if isinstance(upscale_factor, int) else tuple(items)

    def forward(self, x: Tensor) -> Tensor:
        fn = "PixelShuffle"
        U.check_input(x, fn, None, (1, 2, 3), floating=False)
        scale = U.per_dim(self.upscale_factor, x.ndim - 2, fn, "upscale_factor")
        U.divides(x.shape[1], math.prod(scale), fn, "channels by prod(upscale_factor)")
        return pixel_shuffle(x, scale)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


def blur(x: Tensor) -> Tensor:
    """A 2-tap box filter along every spatial dim, the first sample repeated in front (same
    size out): the blur that Sugawara et al. put after a pixel shuffle against checkerboards."""
    for axis in range(2, x.ndim):
        first = x.narrow(axis, 0, 1)
        padded = torch.cat([first, x], axis)
        n = x.shape[axis]
        x = (padded.narrow(axis, 0, n) + padded.narrow(axis, 1, n)) * 0.5
    return x


# -------------------------------------------------------------------------------- SubPixelConv
class SubPixelConv(torch.nn.Module):
    """Sub-pixel convolution (Shi et al., 2016): a convolution to ``out_channels * r^dims``
    channels, then :class:`PixelShuffle`.

    Parameters
    ----------
    in_channels, out_channels : int
    scale_factor : int or tuple of int
        The integer up-sampling factor ``r`` per spatial dim.
    kernel_size : int or tuple of int
        Odd size of the convolution (zero padding keeps the size).
    dims : {1, 2, 3}, keyword-only
    icnr : bool, keyword-only
        ICNR initialisation (Aitken et al., 2017): the kernel of a convolution to
        ``out_channels`` is drawn as PyTorch draws it and repeated for every sub-pixel phase,
        so the fresh layer is that convolution followed by nearest up-sampling (no
        checkerboard at the start). False: PyTorch's default initialisation of all channels.
    blur : bool, keyword-only
        A 2-tap box filter after the shuffle (Sugawara et al., 2019), :func:`blur`.
    bias : bool, keyword-only
    device, dtype : keyword-only

    Examples
    --------
    >>> import torch
    >>> import torch.nn.functional as F
    >>> from upsampling.nn.layers import SubPixelConv
    >>> layer = SubPixelConv(3, 2, 2)
    >>> x = torch.rand(1, 3, 4, 4)
    >>> y = layer(x)
    >>> y.shape
    torch.Size([1, 2, 8, 8])
    >>> torch.equal(y[..., ::2, ::2], y[..., 1::2, 1::2])  # starts as nearest up-sampling
    True
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale_factor: IntOrInts,
        kernel_size: IntOrInts = 3,
        *,
        dims: int = 2,
        icnr: bool = True,
        blur: bool = False,
        bias: bool = True,
        device: Device = None,
        dtype: DType = None,
    ) -> None:
        super().__init__()
        fn = "SubPixelConv"
        d = U.same_size_conv(self, fn, in_channels, out_channels, kernel_size, dims)
        self.scale_factor = U.per_dim(scale_factor, d, fn, "scale_factor")
        self.icnr = _checks.boolean(icnr, fn, "icnr")
        self.blur = _checks.boolean(blur, fn, "blur")
        has_bias = _checks.boolean(bias, fn, "bias")
        phases = math.prod(self.scale_factor)
        kw = U.factory(fn, device, dtype)
        c_out = self.out_channels * phases
        weight = (c_out, self.in_channels, *self.kernel_size)
        U.parameters_fit(fn, kw, weight=weight, bias=(c_out,) if has_bias else None)
        # skip_init: reset_parameters makes the only random draws (those of nn.Conv)
        self.conv = torch.nn.utils.skip_init(
            U.conv_module(d),
            self.in_channels,
            c_out,
            self.kernel_size,
            padding=tuple(k // 2 for k in self.kernel_size),
            bias=has_bias,
            **{k: v for k, v in kw.items() if v is not None},
        )
        self.shuffle = PixelShuffle(self.scale_factor)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if not self.icnr:
            self.conv.reset_parameters()
            return
        # Draw a convolution to out_channels as PyTorch would, then give every phase its copy.
        phases = math.prod(self.scale_factor)
        w = self.conv.weight
        sub = torch.empty(self.out_channels, *w.shape[1:], dtype=w.dtype, device=w.device)
        torch.nn.init.kaiming_uniform_(sub, a=math.sqrt(5))
        with torch.no_grad():
            w.copy_(sub.repeat_interleave(phases, 0))
            if self.conv.bias is not None:
                bound = 1 / math.sqrt(w.shape[1] * math.prod(self.kernel_size))
                b = torch.empty(self.out_channels, dtype=w.dtype, device=w.device)
                torch.nn.init.uniform_(b, -bound, bound)
                self.conv.bias.copy_(b.repeat_interleave(phases, 0))

    def forward(self, x: Tensor) -> Tensor:
        U.check_input(x, "SubPixelConv", self.in_channels, self.dims)
        y = self.shuffle(self.conv(x))
        return blur(y) if self.blur else y

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, scale_factor={self.scale_factor}, "
            f"kernel_size={self.kernel_size}, dims={self.dims}, icnr={self.icnr}, blur={self.blur}"
        )


# ---------------------------------------------------------------------------------- ResizeConv
class ResizeConv(torch.nn.Module):
    """Resize-convolution (Odena, Dumoulin and Olah, 2016): :class:`Upsample` by
    ``scale_factor`` with ``mode``, then a convolution that keeps the size. Every output pixel
    sees the same number of kernel taps, so it cannot make checkerboard artifacts.

    Parameters
    ----------
    in_channels, out_channels : int
    scale_factor : float or tuple of float
    kernel_size : int or tuple of int
        Odd size of the convolution (zero padding keeps the size).
    mode : str, keyword-only
        Any mode of :func:`upsampling.interpolate` (``"lanczos"`` is antialiased, as the
        function requires, unless ``antialias`` says otherwise).
    dims : {1, 2, 3}, keyword-only
    bias : bool, keyword-only
    device, dtype : keyword-only
    **options
        The other keywords of :func:`upsampling.interpolate` (``align_corners``,
        ``antialias``, the ONNX ``Resize`` attributes, a preset of
        :data:`upsampling.conventions`), passed to the :class:`Upsample`.

    Examples
    --------
    >>> import torch
    >>> from upsampling.nn.layers import ResizeConv
    >>> ResizeConv(4, 2, 2, mode="bilinear")(torch.zeros(1, 4, 3, 5)).shape
    torch.Size([1, 2, 6, 10])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale_factor: FloatOrFloats,
        kernel_size: IntOrInts = 3,
        *,
        mode: InterpolateMode = "nearest",
        dims: int = 2,
        bias: bool = True,
        device: Device = None,
        dtype: DType = None,
        **options: Any,
    ) -> None:
        super().__init__()
        fn = "ResizeConv"
        d = U.same_size_conv(self, fn, in_channels, out_channels, kernel_size, dims)
        self.scale_factor = shapes.interpolate_scales(scale_factor, d, fn)
        if isinstance(mode, str) and MODES.get(mode) and MODES[mode].antialias == "required":
            options.setdefault("antialias", True)
        spec = ResizeSpec.of(fn, scale_factor=self.scale_factor, mode=mode, **options)
        MODES[spec.mode].check_rank(d, fn)
        self.mode = spec.mode
        self.upsample = Upsample(**spec.options())
        has_bias, kw = _checks.boolean(bias, fn, "bias"), U.factory(fn, device, dtype)
        weight = (self.out_channels, self.in_channels, *self.kernel_size)
        U.parameters_fit(fn, kw, weight=weight, bias=(self.out_channels,) if has_bias else None)
        self.conv = U.conv_module(d)(
            self.in_channels,
            self.out_channels,
            self.kernel_size,
            padding=tuple(k // 2 for k in self.kernel_size),
            bias=has_bias,
            **kw,
        )

    def reset_parameters(self) -> None:
        self.conv.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        U.check_input(x, "ResizeConv", self.in_channels, self.dims)
        return self.conv(self.upsample(x))

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, scale_factor={self.scale_factor}, "
            f"kernel_size={self.kernel_size}, mode={self.mode!r}, dims={self.dims}"
        )
