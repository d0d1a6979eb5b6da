"""The operators while ``torch.onnx.export`` traces (either exporter): plain PyTorch that
exports as standard ONNX nodes and gives the numbers of the eager operators.

Outside an export the functional operators run the ``upsampling::`` custom ops of
``_<family>_ops``, which no ONNX exporter knows. :func:`upsampling._backend.torch_ops` hands
out this module instead while :func:`exporting` is true, with the same functions under the same
names (a whole :class:`upsampling._backend.TorchBackend`), so a model that calls ``up.unpool``,
``up.max_pool``, ``up.max_unpool``, ``up.interpolate``, ``up.conv`` or ``up.conv_transpose``
(directly or through a module of :mod:`upsampling.nn`) exports. The arguments arrive normalised
and checked by the public function. Unpooling and max unpooling are the eager ops' own
plain-PyTorch algorithms (:mod:`upsampling.nn._unpool_ops`). Pooling and unpooling export as
Reshape, Expand, Pad, Slice, Greater, IsNaN, Where, TopK, GatherElements and ScatterElements
(opset 11 or later); interpolation with PyTorch's
options as ``Resize``, with the ONNX-only options (and for integer inputs, ``antialias``,
``"area"`` or cubic outside 2-D) as the per-axis weight tables of the eager operator (Gather,
Mul, Add), constants for the traced size. Through ``Resize`` float16 and bfloat16 results may
differ from the eager ones in the last bit.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import warnings

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import _backend, shapes
from ..interpolate import plan_for
from ..modes import resize_mode
from ..spec import ResizeSpec
from ..unpool import _taps
from . import _conv_ops, _interpolate_ops
from ._unpool_ops import max_unpool_torch, unpool_torch


def _export_state():
    """The two flags ``torch.onnx.is_in_onnx_export`` reads (it imports their modules on every
    call, a microsecond of each small eager call), or None where torch keeps them elsewhere."""
    try:
        from torch.onnx._internal.exporter import _flags
        from torch.onnx._internal.torchscript_exporter._globals import GLOBALS
    except ImportError:  # pragma: no cover - another torch release
        return None
    if not hasattr(GLOBALS, "in_onnx_export") or not hasattr(_flags, "_is_onnx_exporting"):
        return None  # pragma: no cover - another torch release
    return _flags, GLOBALS


_STATE = _export_state()


def exporting() -> bool:
    """True while ``torch.onnx.export`` traces a model."""
    if _STATE is None or torch.compiler.is_compiling():
        return torch.onnx.is_in_onnx_export()
    return _STATE[1].in_onnx_export or _STATE[0]._is_onnx_exporting


@contextlib.contextmanager
def _fixed_shapes():
    """The pooling graphs are built for the traced shape on purpose (see the modules' Notes):
    silence the tracer's warnings that sizes and index grids become constants."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        yield


# ------------------------------------------------------------------------------------- unpool
unpool = unpool_torch  # the eager op's plain-PyTorch path already: Reshape, Expand, Pad


# ----------------------------------------------------------------------------------- max_pool
def max_pool(x: Tensor, kernel, stride, padding, dilation, ceil_mode) -> tuple[Tensor, Tensor]:
    """The running maximum over the kernel's taps in window (raster) order, each tap a strided
    slice of the input padded with the lowest value: a tap wins when it is greater or NaN,
    exactly the rule of the eager kernel (first maximum, last NaN). Padding never wins, so the
    index starts at the window's first real element, as PyTorch's does."""
    with _fixed_shapes():
        n, c, *size = _backend.shape(x)
        out = shapes.pool_sizes(
            tuple(size), kernel, stride, padding, dilation, ceil_mode, "max_pool"
        )
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
            lead = torch.from_numpy(_taps(a, o, k, s, p, d)[0]).to(x.device)  # its first real tap
            grids.append((torch.tensor(starts, device=x.device).reshape(shape) * step, step))
            first = first + lead.reshape(shape) * step
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
            flat = sum(
                g + j * d * step for (g, step), j, d in zip(grids, tap, dilation, strict=True)
            )
            best = torch.where(wins, v, best)
            index = torch.where(wins, flat, index)
        return best, index


# --------------------------------------------------------------------------------- max_unpool
def max_unpool(x: Tensor, indices: Tensor, out_size) -> Tensor:
    """The eager op's plain-PyTorch algorithm (TopK, GatherElements, ScatterElements), without
    the eager check of the indices: an index outside the plane fails in the runtime instead."""
    with _fixed_shapes():
        return max_unpool_torch(x, indices, out_size)


# -------------------------------------------------------------------------------- interpolate
def interpolate(x: Tensor, spec: ResizeSpec) -> Tensor:
    """``F.interpolate`` (ONNX ``Resize``) where PyTorch's options say it all, else the eager
    operator's tables in plain PyTorch."""
    shape = _backend.shape(x)
    resize = resize_mode(spec.mode, x.ndim - 2)
    resize = None if spec.onnx or spec.antialias else resize
    tables = resize is None or not x.is_floating_point()
    if tables or not any(map(_backend.is_symbolic, shape)):
        # the checks, and the tables if they are needed (for the traced size: a symbolic
        # size is made concrete here)
        concrete = tuple(int(a) for a in shape)
        double, host = x.dtype == torch.float64, x.device.type == "cpu"
        plan = plan_for(spec, concrete, x.element_size(), double, host=host)
        if tables:
            return _interpolate_ops.interpolate_torch(x, plan)
    return F.interpolate(
        x, spec.size, spec.scale_factor, resize, spec.align_corners, spec.recompute_scale_factor
    )


# ----------------------------------------------------------------------------------- the conv
conv = _conv_ops.conv  # F.conv{1,2,3}d already


def conv_transpose(x, w, bias, stride, dilation, groups, offset, out_size, method) -> Tensor:
    """PyTorch's own kernel (``ConvTranspose``) for every method: they agree in value."""
    return _conv_ops.transpose_torch(x, w, bias, stride, dilation, groups, offset, out_size)
