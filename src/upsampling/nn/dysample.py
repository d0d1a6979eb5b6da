r"""DySample: up-sampling by learned point sampling (Liu et al., ICCV 2023), in pure PyTorch.

Each output pixel reads the input bilinearly at its own position: the half-pixel position of
plain bilinear up-sampling plus a learned offset predicted from the features. With the offsets at
zero, DySample is exactly bilinear up-sampling (``align_corners=False``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import _checks
from .._typing import Device, DType, DySampleStyle, IntOrInts
from . import _layer_utils as U

__all__ = ["DySample"]

_STYLES = ("lp", "pl")


class DySample(torch.nn.Module):
    r"""Dynamic point-sampling up-sampler (Liu et al., 2023).

    Parameters
    ----------
    in_channels : int
        Input (and output) channels, divisible by ``groups`` (and, with ``style="pl"``, by
        ``scale_factor ** 2``).
    scale_factor : int or tuple of 2 ints
        Integer up-sampling factor.
    style : {"lp", "pl"}, keyword-only
        ``"lp"`` (linear then pixel shuffle): a 1x1 convolution on the input predicts the
        ``2 * groups * scale ** 2`` offsets of each input pixel. ``"pl"`` (pixel shuffle then
        linear): the input is pixel-shuffled to the output size and a 1x1 convolution predicts
        ``2 * groups`` offsets per output pixel (fewer parameters).
    groups : int, keyword-only
        Channel groups, each with its own sampling positions.
    dyscope : bool, keyword-only
        Static scope (False): offsets are ``0.25 * conv(x)``. Dynamic scope (True): offsets are
        ``0.5 * sigmoid(scope(x)) * conv(x)`` with a second 1x1 convolution ``scope``.
    device, dtype : keyword-only
        Where and in which dtype to create the parameters.

    Notes
    -----
    Conventions: layout ``(N, C, H, W)``; positions in input pixels with pixel ``i`` centred at
    ``i + 0.5``. Output pixel :math:`o = i s + j` samples at

    .. math:: p = i + \frac{j + 1/2}{s} + \Delta(o),

    bilinearly with the border replicated (``grid_sample(..., padding_mode="border",
    align_corners=False)``). With :math:`\Delta = 0` that is bilinear up-sampling with
    half-pixel centres, so the offset convolution is initialised to zero (the reference
    implementation draws it with standard deviation 0.001) and a fresh DySample equals
    ``F.interpolate(x, scale_factor=s, mode="bilinear")``. The scope convolution starts at zero
    (a gate of 0.5), as in the reference. On a GPU under
    ``torch.use_deterministic_algorithms(True)`` the sampling runs as four gathers instead of
    ``grid_sample`` (whose CUDA backward is not deterministic): the same numbers.

    References
    ----------
    W. Liu, H. Lu, H. Fu, Z. Cao, "Learning to Upsample by Learning to Sample", ICCV 2023.

    Examples
    --------
    >>> import torch
    >>> import torch.nn.functional as F
    >>> from upsampling.nn.dysample import DySample
    >>> x = torch.rand(1, 8, 5, 6)
    >>> y = DySample(8, 2)(x)
    >>> y.shape
    torch.Size([1, 8, 10, 12])
    >>> torch.allclose(y, F.interpolate(x, scale_factor=2, mode="bilinear"), atol=1e-6)
    True
    """

    def __init__(
        self,
        in_channels: int,
        scale_factor: IntOrInts = 2,
        *,
        style: DySampleStyle = "lp",
        groups: int = 4,
        dyscope: bool = False,
        device: Device = None,
        dtype: DType = None,
    ) -> None:
        super().__init__()
        fn = "DySample"
        self.in_channels = U.count(in_channels, fn, "in_channels")
        self.scale_factor = U.per_dim(scale_factor, 2, fn, "scale_factor")
        self.style = _checks.choice(style, _STYLES, fn, "style")
        self.groups = U.count(groups, fn, "groups")
        self.dyscope = _checks.boolean(dyscope, fn, "dyscope")
        U.divides(self.in_channels, self.groups, fn, "in_channels by groups")
        phases = math.prod(self.scale_factor)
        if self.style == "pl":
            U.divides(self.in_channels, phases, fn, "style 'pl' shuffles in_channels by scale^2")
            conv_in, conv_out = self.in_channels // phases, 2 * self.groups
        else:
            conv_in, conv_out = self.in_channels, 2 * self.groups * phases
        kw = U.factory(fn, device, dtype)
        U.parameters_fit(
            fn,
            kw,
            offset=(conv_out, conv_in, 1, 1),
            offset_bias=(conv_out,),
            scope=(conv_out, conv_in, 1, 1) if self.dyscope else None,
            init_pos=(1, 2 * self.groups * phases, 1, 1),
        )
        self.offset = torch.nn.Conv2d(conv_in, conv_out, 1, **kw)
        self.scope = torch.nn.Conv2d(conv_in, conv_out, 1, bias=False, **kw) if dyscope else None
        self.register_buffer("init_pos", self._initial_positions(kw), persistent=False)
        self.reset_parameters()

    def _initial_positions(self, kw) -> Tensor:
        """Offsets (from each input pixel's centre) of bilinear up-sampling's sample points,
        ``(1, 2 * groups * sh * sw, 1, 1)`` in the offset layout: (x, y), group, phase."""
        sh, sw = self.scale_factor
        dy = (torch.arange(sh, **kw) + 0.5) / sh - 0.5
        dx = (torch.arange(sw, **kw) + 0.5) / sw - 0.5
        grid = torch.stack([dx.expand(sh, sw), dy[:, None].expand(sh, sw)])  # (2, sh, sw)
        return grid[:, None].expand(2, self.groups, sh, sw).reshape(1, -1, 1, 1).clone()

    def reset_parameters(self) -> None:
        torch.nn.init.zeros_(self.offset.weight)
        torch.nn.init.zeros_(self.offset.bias)
        if self.scope is not None:
            torch.nn.init.zeros_(self.scope.weight)

    def offsets(self, x: Tensor) -> Tensor:
        """Sampling positions relative to each input pixel's centre, ``(N, 2 * groups * s^2, H,
        W)``: channel ``(axis * groups + group) * s^2 + phase``, axis 0 is x (width)."""
        source = U.shuffle(x, self.scale_factor) if self.style == "pl" else x
        delta = self.offset(source)
        if self.scope is None:
            delta = delta * 0.25
        else:
            delta = delta * torch.sigmoid(self.scope(source)) * 0.5
        if self.style == "pl":
            delta = U.unshuffle(delta, self.scale_factor)
        return delta + self.init_pos

    def forward(self, x: Tensor) -> Tensor:
        U.check_input(x, "DySample", self.in_channels, 2)
        return _sample(x, self.offsets(x), self.scale_factor, self.groups)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, scale_factor={self.scale_factor}, style={self.style!r}, "
            f"groups={self.groups}, dyscope={self.dyscope}"
        )


def _sample(x: Tensor, offsets: Tensor, scale: tuple[int, int], groups: int) -> Tensor:
    """Sample ``x`` bilinearly at each input pixel's centre plus ``offsets`` (in pixels)."""
    n, c, h, w = x.shape
    sh, sw = scale
    delta = offsets.reshape(n, 2, groups * sh * sw, h, w)
    cx = torch.arange(w, dtype=x.dtype, device=x.device) + 0.5
    cy = torch.arange(h, dtype=x.dtype, device=x.device) + 0.5
    # grid_sample's normalised coordinates (align_corners=False): -1 and 1 are the outer edges
    gx = (delta[:, 0] + cx) * (2.0 / w) - 1.0
    gy = (delta[:, 1] + cy[:, None]) * (2.0 / h) - 1.0
    grid = torch.stack([gx, gy], 1).reshape(n, 2 * groups * sh * sw, h, w)
    grid = U.shuffle(grid, scale).reshape(n, 2, groups, h * sh, w * sw)
    grid = grid.permute(0, 2, 3, 4, 1).reshape(n * groups, h * sh, w * sw, 2)
    planes = x.reshape(n * groups, c // groups, h, w)
    if x.device.type != "cpu" and torch.are_deterministic_algorithms_enabled():
        out = _bilinear_gather(planes, grid)  # grid_sample's CUDA backward is not deterministic
    else:
        out = F.grid_sample(
            planes, grid, mode="bilinear", padding_mode="border", align_corners=False
        )
    return out.reshape(n, c, h * sh, w * sw)


def _bilinear_gather(x: Tensor, grid: Tensor) -> Tensor:
    """``F.grid_sample(x, grid, "bilinear", "border", align_corners=False)`` from gathers, whose
    backward PyTorch computes deterministically on every device."""
    b, c, h, w = x.shape
    # normalised -> pixel-centre coordinates, clamped to the border as padding_mode="border"
    ix = ((grid[..., 0] + 1) * w - 1) * 0.5
    iy = ((grid[..., 1] + 1) * h - 1) * 0.5
    ix, iy = ix.clamp(0, w - 1), iy.clamp(0, h - 1)
    x0, y0 = ix.detach().floor(), iy.detach().floor()
    fx, fy = ix - x0, iy - y0
    x0, y0 = x0.long(), y0.long()
    x1, y1 = (x0 + 1).clamp(max=w - 1), (y0 + 1).clamp(max=h - 1)
    flat = x.reshape(b, c, h * w)
    size = grid.shape[1:3]

    def tap(yi: Tensor, xi: Tensor) -> Tensor:
        index = (yi * w + xi).reshape(b, 1, -1).expand(b, c, -1)
        return flat.gather(2, index).reshape(b, c, *size)

    fx, fy = fx[:, None], fy[:, None]
    top = tap(y0, x0) * (1 - fx) + tap(y0, x1) * fx
    bottom = tap(y1, x0) * (1 - fx) + tap(y1, x1) * fx
    return top * (1 - fy) + bottom * fy
