r"""CARAFE: content-aware reassembly of features (Wang et al., ICCV 2019), in pure PyTorch.

Every output pixel is a weighted sum of the ``k_up``-wide neighbourhood of its source pixel, with
weights that a small network predicts from the content and normalises with a softmax. The
reassembly here loops over the ``k_up ** dims`` taps, each one multiply-add of a shifted view of
the zero-padded input (broadcast over the ``scale ** dims`` output phases, which is nearest
up-sampling without a copy) with one plane of kernels. The kernels and the output are held
phase-major, ``(N, G, phases, ..., *input_spatial)``, so that every sum the backward pass makes
runs over an outer dimension. The textbook form unfolds the input into ``k_up ** dims`` copies,
up-samples them and reduces, which needs ``k_up ** dims`` times the output's memory
(``benchmarks/carafe_reassembly.py`` measures both).
"""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import _checks
from .._typing import CarafeMethod, Device, DType, IntOrInts
from . import _layer_utils as U

__all__ = ["CARAFE", "carafe_reassemble"]

_METHODS = ("taps", "unfold")


def carafe_reassemble(
    x: Tensor,
    kernels: Tensor,
    scale_factor: IntOrInts = 2,
    k_up: IntOrInts = 5,
    *,
    method: CarafeMethod = "taps",
) -> Tensor:
    r"""Reassemble ``x`` with per-pixel kernels: the up-sampling step of CARAFE.

    Parameters
    ----------
    x : torch.Tensor, shape ``(N, C, *spatial)``
        One to three spatial dimensions, a floating dtype.
    kernels : torch.Tensor, shape ``(N, G, k_up ** dims, *(spatial * scale_factor))``
        One kernel per output pixel and channel group (``C`` divisible by ``G``), taps in
        row-major order over the window. CARAFE normalises them with a softmax over the taps;
        this function takes them as they are.
    scale_factor : int or tuple of int
        Integer up-sampling factor per spatial dim.
    k_up : int or tuple of int
        Odd window size per spatial dim.
    method : {"taps", "unfold"}, keyword-only
        ``"taps"``: a loop of multiply-adds over the taps, memory of one output.
        ``"unfold"``: the textbook unfold, up-sample and reduce (``k_up ** dims`` outputs of
        memory); kept as the reference. Both give the same numbers up to summation order.

    Returns
    -------
    torch.Tensor, shape ``(N, C, *(spatial * scale_factor))``, the dtype of ``x``.

    Raises
    ------
    TypeError
        ``x`` or ``kernels`` is not a floating tensor.
    ValueError
        Shapes that do not fit together, an even ``k_up``, an unknown ``method``.

    Notes
    -----
    Conventions: layout ``(N, C, *spatial)``; output pixel :math:`o` takes its source pixel
    :math:`\lfloor o / s \rfloor` (nearest, as the paper), the window is centred on it and zeros
    lie outside the input.

    .. math:: y[n, c, o] = \sum_{t} w[n, g(c), t, o]\;
              x[n, c, \lfloor o / s \rfloor + t - \lfloor k_{up} / 2 \rfloor]

    References
    ----------
    J. Wang, K. Chen, R. Xu, Z. Liu, C. C. Loy, D. Lin, "CARAFE: Content-Aware ReAssembly of
    FEatures", ICCV 2019.

    Examples
    --------
    A one-tap kernel of ones is nearest up-sampling:

    >>> import torch
    >>> from upsampling.nn.carafe import carafe_reassemble
    >>> x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    >>> carafe_reassemble(x, torch.ones(1, 1, 1, 4, 4), 2, k_up=1)[0, 0]
    tensor([[1., 1., 2., 2.],
            [1., 1., 2., 2.],
            [3., 3., 4., 4.],
            [3., 3., 4., 4.]])
    """
    fn = "carafe_reassemble"
    U.check_input(x, fn, None, (1, 2, 3))
    d = x.ndim - 2
    scale = U.per_dim(scale_factor, d, fn, "scale_factor")
    k = U.odd(U.per_dim(k_up, d, fn, "k_up"), fn, "k_up")
    method = _checks.choice(method, _METHODS, fn, "method")
    if not isinstance(kernels, Tensor):
        raise _checks.fail(
            fn, f"kernels must be a torch.Tensor, got {type(kernels).__name__}", TypeError
        )
    if kernels.dtype != x.dtype or kernels.device != x.device:
        raise _checks.fail(
            fn,
            f"kernels ({kernels.dtype}, {kernels.device}) must have the dtype and device of x "
            f"({x.dtype}, {x.device})",
            TypeError,
        )
    out = tuple(a * s for a, s in zip(x.shape[2:], scale, strict=True))
    expected = f"(N={x.shape[0]}, G, {math.prod(k)}, {', '.join(map(str, out))})"
    if (
        kernels.ndim != x.ndim + 1
        or kernels.shape[0] != x.shape[0]
        or kernels.shape[2] != math.prod(k)
        or tuple(kernels.shape[3:]) != out
    ):
        raise _checks.fail(fn, f"kernels has shape {tuple(kernels.shape)}; expected {expected}")
    U.divides(x.shape[1], kernels.shape[1], fn, "channels of x by kernel groups (kernels.shape[1])")
    return (_taps if method == "taps" else _unfold)(x, kernels, scale, k)


def _padded(x: Tensor, k: tuple[int, ...]) -> Tensor:
    pad: list[int] = []
    for kk in reversed(k):
        pad += [kk // 2, kk // 2]
    return F.pad(x, pad)


def _windows(k: tuple[int, ...], spatial) -> list[tuple[slice, ...]]:
    """The slice of the padded input that each tap reads, taps in row-major order."""
    return [
        tuple(slice(o, o + a) for o, a in zip(offs, spatial, strict=True))
        for offs in itertools.product(*(range(kk) for kk in k))
    ]


def _phase_major(t: Tensor, groups: int, spatial, scale) -> Tensor:
    """``(N, G*X, *(spatial * scale))`` -> ``(N, G, S, X, *spatial)``: each output phase a plane
    at the input's resolution (S = prod(scale)), so that sums over phases and over channels run
    over outer dimensions."""
    n, d = t.shape[0], len(spatial)
    x = t.shape[1] // groups
    v = t.reshape(n, groups, x, *itertools.chain.from_iterable(zip(spatial, scale, strict=True)))
    order = [0, 1, *(4 + 2 * i for i in range(d)), 2, *(3 + 2 * i for i in range(d))]
    return v.permute(order).reshape(n, groups, math.prod(scale), x, *spatial)


def _interleaved(t: Tensor, spatial, scale) -> Tensor:
    """The inverse of :func:`_phase_major`: ``(N, G, S, X, *spatial)`` -> ``(N, G*X, *out)``."""
    n, g, x, d = t.shape[0], t.shape[1], t.shape[3], len(spatial)
    v = t.reshape(n, g, *scale, x, *spatial)
    order = [0, 1, 2 + d, *itertools.chain.from_iterable((3 + d + i, 2 + i) for i in range(d))]
    out = tuple(a * s for a, s in zip(spatial, scale, strict=True))
    return v.permute(order).reshape(n, g * x, *out)


def _taps_forward(x: Tensor, kp: Tensor, k) -> Tensor:
    """Reassemble with phase-major kernels ``kp`` ``(N, G, S, T, *spatial)``; returns the
    phase-major output ``(N, G, S, C/G, *spatial)``: one multiply-add per tap, each over all
    phases at once (the input window broadcast over them)."""
    n, c, spatial = x.shape[0], x.shape[1], tuple(x.shape[2:])
    g = kp.shape[1]
    xp = _padded(x, k)
    xv = xp.reshape(n, g, 1, c // g, *xp.shape[2:])
    out = None
    for t, window in enumerate(_windows(k, spatial)):
        source, weight = xv[(..., *window)], kp[:, :, :, t : t + 1]
        out = source * weight if out is None else out.addcmul_(source, weight)
    return out


class _Reassemble(torch.autograd.Function):
    """The tap loop with a tap-loop backward: the input's gradient gathered window by window into
    one padded buffer (no zero-filled copy per tap), the kernels' as a sum over channels."""

    @staticmethod
    def forward(ctx, x: Tensor, kp: Tensor, k: tuple[int, ...]) -> Tensor:
        kp = kp.contiguous()
        ctx.save_for_backward(x, kp)
        ctx.k = k
        return _taps_forward(x, kp, k)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor):
        x, kp = ctx.saved_tensors
        k = ctx.k
        n, c, spatial = x.shape[0], x.shape[1], tuple(x.shape[2:])
        g = kp.shape[1]
        xp = _padded(x, k)
        xv = xp.reshape(n, g, 1, c // g, *xp.shape[2:])
        grad = grad.contiguous()
        gx = xv.new_zeros(xv.shape[:2] + xv.shape[3:]) if ctx.needs_input_grad[0] else None
        gk = torch.empty_like(kp) if ctx.needs_input_grad[1] else None
        for t, window in enumerate(_windows(k, spatial)):  # a fixed order: the same bits each run
            if gx is not None:
                gx[(..., *window)] += (grad * kp[:, :, :, t : t + 1]).sum(2)
            if gk is not None:
                gk[:, :, :, t] = (grad * xv[(..., *window)]).sum(3)
        if gx is not None:
            inner = tuple(slice(kk // 2, kk // 2 + a) for kk, a in zip(k, spatial, strict=True))
            gx = gx.reshape(xp.shape)[(..., *inner)]
        return gx, gk, None


def _reassemble(x: Tensor, kp: Tensor, scale, k) -> Tensor:
    """Reassembly with phase-major kernels; the output in the usual layout."""
    spatial = tuple(x.shape[2:])
    tracing = torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()
    if not tracing and torch.is_grad_enabled() and (x.requires_grad or kp.requires_grad):
        out = _Reassemble.apply(x, kp, k)
    else:
        out = _taps_forward(x, kp, k)
    return _interleaved(out, spatial, scale)


def _taps(x: Tensor, kernels: Tensor, scale, k) -> Tensor:
    n, g = kernels.shape[:2]
    flat = kernels.reshape(n, -1, *kernels.shape[3:])  # (N, G*T, *out)
    kp = _phase_major(flat, g, tuple(x.shape[2:]), scale)
    return _reassemble(x, kp, scale, k)


def _unfold(x: Tensor, kernels: Tensor, scale, k) -> Tensor:
    n, c, spatial = x.shape[0], x.shape[1], tuple(x.shape[2:])
    g, taps = kernels.shape[1], kernels.shape[2]
    xp = _padded(x, k)
    cols = torch.stack([xp[(..., *w)] for w in _windows(k, spatial)], 2)  # (N, C, K, *spatial)
    cols = U.nearest(cols.reshape(n, c * taps, *spatial), scale)
    cols = cols.reshape(n, g, c // g, taps, *cols.shape[2:])
    return (cols * kernels.unsqueeze(2)).sum(3).reshape(n, c, *cols.shape[4:])


class CARAFE(torch.nn.Module):
    r"""Content-aware reassembly of features (Wang et al., 2019).

    A 1x1 convolution compresses the channels to ``c_mid``; a ``k_enc`` convolution predicts
    ``groups * k_up ** dims`` kernel weights for each of the ``scale ** dims`` output phases; a
    pixel shuffle puts them at their output pixels; a softmax over each kernel's taps normalises
    them; :func:`carafe_reassemble` applies them. The output has the input's channels.

    Parameters
    ----------
    channels : int
        Input (and output) channels.
    scale_factor : int or tuple of int
        Integer up-sampling factor.
    k_up, k_enc : int, keyword-only
        Odd sizes of the reassembly window and of the kernel-predicting convolution.
    c_mid : int, keyword-only
        Channels after the compressor.
    groups : int, keyword-only
        Channel groups sharing one predicted kernel (``channels`` divisible by ``groups``).
    dims : {1, 2, 3}, keyword-only
        Spatial dimensions.
    device, dtype : keyword-only
        Where and in which dtype to create the parameters.

    Notes
    -----
    Initialisation follows the reference implementation: the compressor Xavier-uniform, the
    encoder normal with standard deviation 0.001, biases zero, so a fresh CARAFE is close to a
    ``k_up`` box filter applied to the nearest up-sampled input.

    Examples
    --------
    >>> import torch
    >>> from upsampling.nn.carafe import CARAFE
    >>> layer = CARAFE(8, 2, c_mid=16)
    >>> layer(torch.zeros(1, 8, 5, 6)).shape
    torch.Size([1, 8, 10, 12])
    """

    def __init__(
        self,
        channels: int,
        scale_factor: IntOrInts = 2,
        *,
        k_up: IntOrInts = 5,
        k_enc: IntOrInts = 3,
        c_mid: int = 64,
        groups: int = 1,
        dims: int = 2,
        device: Device = None,
        dtype: DType = None,
    ) -> None:
        super().__init__()
        fn = "CARAFE"
        self.dims = U.dims(dims, fn)
        self.channels = U.count(channels, fn, "channels")
        self.scale_factor = U.per_dim(scale_factor, self.dims, fn, "scale_factor")
        self.k_up = U.odd(U.per_dim(k_up, self.dims, fn, "k_up"), fn, "k_up")
        self.k_enc = U.odd(U.per_dim(k_enc, self.dims, fn, "k_enc"), fn, "k_enc")
        self.c_mid = U.count(c_mid, fn, "c_mid")
        self.groups = U.count(groups, fn, "groups")
        U.divides(self.channels, self.groups, fn, "channels by groups")
        conv = U.conv_module(self.dims)
        kw = U.factory(fn, device, dtype)
        taps = math.prod(self.k_up) * math.prod(self.scale_factor) * self.groups
        U.parameters_fit(
            fn,
            kw,
            compressor=(self.c_mid, self.channels, *(1,) * self.dims),
            compressor_bias=(self.c_mid,),
            encoder=(taps, self.c_mid, *self.k_enc),
            encoder_bias=(taps,),
        )
        self.compressor = conv(self.channels, self.c_mid, 1, **kw)
        padding = tuple(k // 2 for k in self.k_enc)
        self.encoder = conv(self.c_mid, taps, self.k_enc, padding=padding, **kw)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.xavier_uniform_(self.compressor.weight)
        torch.nn.init.zeros_(self.compressor.bias)
        torch.nn.init.normal_(self.encoder.weight, std=0.001)
        torch.nn.init.zeros_(self.encoder.bias)

    def kernels(self, x: Tensor) -> Tensor:
        """The normalised reassembly kernels, ``(N, groups, k_up ** dims, *out_spatial)``."""
        w = U.shuffle(self.encoder(self.compressor(x)), self.scale_factor)
        w = w.reshape(w.shape[0], self.groups, math.prod(self.k_up), *w.shape[2:])
        return torch.softmax(w, dim=2)

    def forward(self, x: Tensor) -> Tensor:
        U.check_input(x, "CARAFE", self.channels, self.dims)
        # The encoder's channel (g * T + t) * S + phase is tap t of its group at that phase:
        # reshaped, it is already phase-major (no pixel shuffle and back).
        logits = self.encoder(self.compressor(x))
        taps, phases = math.prod(self.k_up), math.prod(self.scale_factor)
        logits = logits.reshape(x.shape[0], self.groups, taps, phases, *x.shape[2:])
        kp = torch.softmax(logits, dim=2).transpose(2, 3)
        return _reassemble(x, kp, self.scale_factor, self.k_up)

    def extra_repr(self) -> str:
        return (
            f"{self.channels}, scale_factor={self.scale_factor}, k_up={self.k_up}, "
            f"k_enc={self.k_enc}, c_mid={self.c_mid}, groups={self.groups}, dims={self.dims}"
        )
