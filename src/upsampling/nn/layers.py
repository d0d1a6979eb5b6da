"""Up-sampling layers around the functional operators: ``Upsample``, ``PixelShuffle``,
``SubPixelConv``, ``ResizeConv`` (``ConvTranspose`` lives in :mod:`.conv_transpose`).

Each module documents its arguments and links to its function. In eager mode the layers call the
library's operators (:func:`upsampling.interpolate`, :func:`upsampling.conv_transpose`,
:func:`upsampling.pixel_shuffle`); while ``torch.onnx.export`` traces them they call the
equivalent ``torch.nn.functional`` operator instead, which the exporter knows.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import _checks, shapes
from . import _layer_utils as U

__all__ = [
    "PixelShuffle",
    "ResizeConv",
    "SubPixelConv",
    "Upsample",
]

_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear", "bicubic", "cubic", "area")
_LINEAR = ("linear", "bilinear", "trilinear", "bicubic", "cubic")
_COORDINATES = (
    "half_pixel",
    "half_pixel_symmetric",
    "pytorch_half_pixel",
    "align_corners",
    "asymmetric",
    "tf_crop_and_resize",
)
_NEAREST = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")
_TORCH_MODE = {1: "linear", 2: "bilinear", 3: "trilinear"}


# ------------------------------------------------------------------------------------ Upsample
def interpolate(x: Tensor, **options: Any) -> Tensor:
    """:func:`upsampling.interpolate` on ``x``; ``F.interpolate`` (PyTorch's options only) while
    exporting to ONNX."""
    fn = U.library("interpolate", "interpolate")
    if fn is not None:
        return fn(x, **options)
    onnx_only = ("coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a", "roi")
    if any(options.get(k) is not None for k in onnx_only) or options.get("exclude_outside"):
        raise _checks.fail(
            "Upsample",
            "the ONNX-convention options (coordinate_transformation_mode, nearest_mode, "
            "cubic_coeff_a, exclude_outside, roi) cannot be exported to ONNX yet",
        )
    mode = options["mode"]
    if mode in ("linear", "cubic"):
        mode = _TORCH_MODE[x.ndim - 2] if mode == "linear" else "bicubic"
    return F.interpolate(
        x,
        size=options["size"],
        scale_factor=options["scale_factor"],
        mode=mode,
        align_corners=options["align_corners"],
        recompute_scale_factor=options["recompute_scale_factor"],
        antialias=options["antialias"],
    )


def _optional_bool(value: Any, fn: str, name: str) -> bool | None:
    return None if value is None else _checks.boolean(value, fn, name)


class Upsample(torch.nn.Module):
    """Interpolation as a layer; the arguments are those of :func:`upsampling.interpolate` after
    ``x`` (PyTorch's, then the keyword-only ONNX ``Resize`` attributes).

    Examples
    --------
    >>> import torch
    >>> from upsampling.nn.layers import Upsample
    >>> Upsample(scale_factor=2, mode="bilinear")(torch.tensor([[[[6.0, 10], [9, 12]]]]))[0, 0]
    tensor([[ 6.0000,  7.0000,  9.0000, 10.0000],
            [ 6.7500,  7.6875,  9.5625, 10.5000],
            [ 8.2500,  9.0625, 10.6875, 11.5000],
            [ 9.0000,  9.7500, 11.2500, 12.0000]])
    """

    def __init__(
        self,
        size: Any = None,
        scale_factor: Any = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
        antialias: bool = False,
        *,
        coordinate_transformation_mode: str | None = None,
        nearest_mode: str | None = None,
        cubic_coeff_a: float | None = None,
        exclude_outside: bool = False,
        extrapolation_value: float = 0.0,
        roi: Any = None,
    ) -> None:
        super().__init__()
        fn = "Upsample"
        if (size is None) == (scale_factor is None):
            raise _checks.fail(fn, "give exactly one of size and scale_factor")
        if size is not None:
            items = size if isinstance(size, tuple | list) else (size,)
            U.per_dim(items, len(items), fn, "size")
            size = size if isinstance(size, int) else tuple(size)
        else:
            n = len(scale_factor) if isinstance(scale_factor, tuple | list) else 1
            scales = shapes.interpolate_scales(scale_factor, n, fn)
            scale_factor = scales if isinstance(scale_factor, tuple | list) else scales[0]
        self.size, self.scale_factor = size, scale_factor
        self.mode = _checks.choice(mode, _MODES, fn, "mode")
        self.align_corners = _optional_bool(align_corners, fn, "align_corners")
        if self.align_corners is not None and self.mode not in _LINEAR:
            raise _checks.fail(
                fn,
                f"align_corners {align_corners!r} applies to modes "
                f"{', '.join(map(repr, _LINEAR))} only, not {mode!r}",
            )
        self.recompute_scale_factor = _optional_bool(
            recompute_scale_factor, fn, "recompute_scale_factor"
        )
        self.antialias = _checks.boolean(antialias, fn, "antialias")
        self.coordinate_transformation_mode = (
            None
            if coordinate_transformation_mode is None
            else _checks.choice(
                coordinate_transformation_mode, _COORDINATES, fn, "coordinate_transformation_mode"
            )
        )
        self.nearest_mode = (
            None
            if nearest_mode is None
            else _checks.choice(nearest_mode, _NEAREST, fn, "nearest_mode")
        )
        self.cubic_coeff_a = (
            None
            if cubic_coeff_a is None
            else _checks.finite_float(cubic_coeff_a, fn, "cubic_coeff_a")
        )
        self.exclude_outside = _checks.boolean(exclude_outside, fn, "exclude_outside")
        self.extrapolation_value = _checks.finite_float(
            extrapolation_value, fn, "extrapolation_value"
        )
        if roi is not None:
            if not isinstance(roi, tuple | list):
                raise _checks.fail(fn, f"roi {roi!r} must be a tuple of numbers", TypeError)
            roi = tuple(_checks.finite_float(r, fn, "roi") for r in roi)
        self.roi = roi

    def options(self) -> dict[str, Any]:
        """The keyword arguments this layer passes to :func:`upsampling.interpolate`."""
        return {
            "size": self.size,
            "scale_factor": self.scale_factor,
            "mode": self.mode,
            "align_corners": self.align_corners,
            "recompute_scale_factor": self.recompute_scale_factor,
            "antialias": self.antialias,
            "coordinate_transformation_mode": self.coordinate_transformation_mode,
            "nearest_mode": self.nearest_mode,
            "cubic_coeff_a": self.cubic_coeff_a,
            "exclude_outside": self.exclude_outside,
            "extrapolation_value": self.extrapolation_value,
            "roi": self.roi,
        }

    def reset_parameters(self) -> None:
        """Nothing to reset: the layer has no parameters."""

    def forward(self, x: Tensor) -> Tensor:
        return interpolate(x, **self.options())

    def extra_repr(self) -> str:
        shown = [f"{k}={v!r}" for k, v in self.options().items() if v != _UPSAMPLE_DEFAULTS[k]]
        return ", ".join(shown)


_UPSAMPLE_DEFAULTS: dict[str, Any] = {
    "size": None,
    "scale_factor": None,
    "mode": None,  # always shown
    "align_corners": None,
    "recompute_scale_factor": None,
    "antialias": False,
    "coordinate_transformation_mode": None,
    "nearest_mode": None,
    "cubic_coeff_a": None,
    "exclude_outside": False,
    "extrapolation_value": 0.0,
    "roi": None,
}


# -------------------------------------------------------------------------------- PixelShuffle
class PixelShuffle(torch.nn.Module):
    """Depth to space for 1-3 spatial dims; see :func:`upsampling.pixel_shuffle`.

    ``(N, C * prod(r), *s)`` -> ``(N, C, *(s * r))`` in ONNX's ``DepthToSpace`` "CRD" order
    (``torch.nn.PixelShuffle``'s in 2-D). ``upscale_factor`` is an int or one int per spatial
    dim, checked against the input's rank in ``forward``.

    Examples
    --------
    >>> import torch
    >>> from upsampling.nn.layers import PixelShuffle
    >>> PixelShuffle(2)(torch.arange(8.0).reshape(1, 4, 2))
    tensor([[[0., 2., 1., 3.],
             [4., 6., 5., 7.]]])
    """

    def __init__(self, upscale_factor: Any) -> None:
        super().__init__()
        fn = "PixelShuffle"
        items = upscale_factor if isinstance(upscale_factor, tuple | list) else (upscale_factor,)
        U.per_dim(items, len(items), fn, "upscale_factor")
        self.upscale_factor = upscale_factor if isinstance(upscale_factor, int) else tuple(items)

    def reset_parameters(self) -> None:
        """Nothing to reset: the layer has no parameters."""

    def forward(self, x: Tensor) -> Tensor:
        fn = "PixelShuffle"
        U.check_input(x, fn, None, (1, 2, 3), floating=False)
        scale = U.per_dim(self.upscale_factor, x.ndim - 2, fn, "upscale_factor")
        U.divides(x.shape[1], math.prod(scale), fn, "channels by prod(upscale_factor)")
        shuffle = U.library("conv", "pixel_shuffle")
        if shuffle is not None:
            return shuffle(x, self.upscale_factor)
        return U.shuffle(x, scale)

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
        scale_factor: Any,
        kernel_size: Any = 3,
        *,
        dims: int = 2,
        icnr: bool = True,
        blur: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        fn = "SubPixelConv"
        d = self.dims = U.dims(dims, fn)
        self.in_channels = U.count(in_channels, fn, "in_channels")
        self.out_channels = U.count(out_channels, fn, "out_channels")
        self.scale_factor = U.per_dim(scale_factor, d, fn, "scale_factor")
        self.kernel_size = U.odd(U.per_dim(kernel_size, d, fn, "kernel_size"), fn, "kernel_size")
        self.icnr = _checks.boolean(icnr, fn, "icnr")
        self.blur = _checks.boolean(blur, fn, "blur")
        has_bias = _checks.boolean(bias, fn, "bias")
        phases = math.prod(self.scale_factor)
        # skip_init: reset_parameters makes the only random draws (those of nn.Conv)
        self.conv = torch.nn.utils.skip_init(
            U.conv_module(d),
            self.in_channels,
            self.out_channels * phases,
            self.kernel_size,
            padding=tuple(k // 2 for k in self.kernel_size),
            bias=has_bias,
            **{k: v for k, v in U.factory(device, dtype).items() if v is not None},
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
        Any mode of :func:`upsampling.interpolate`.
    dims : {1, 2, 3}, keyword-only
    bias : bool, keyword-only
    device, dtype : keyword-only

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
        scale_factor: Any,
        kernel_size: Any = 3,
        *,
        mode: str = "nearest",
        dims: int = 2,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        fn = "ResizeConv"
        d = self.dims = U.dims(dims, fn)
        self.in_channels = U.count(in_channels, fn, "in_channels")
        self.out_channels = U.count(out_channels, fn, "out_channels")
        self.scale_factor = shapes.interpolate_scales(scale_factor, d, fn)
        self.kernel_size = U.odd(U.per_dim(kernel_size, d, fn, "kernel_size"), fn, "kernel_size")
        self.mode = _checks.choice(mode, _MODES, fn, "mode")
        self.upsample = Upsample(scale_factor=self.scale_factor, mode=self.mode)
        self.conv = U.conv_module(d)(
            self.in_channels,
            self.out_channels,
            self.kernel_size,
            padding=tuple(k // 2 for k in self.kernel_size),
            bias=_checks.boolean(bias, fn, "bias"),
            **U.factory(device, dtype),
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
