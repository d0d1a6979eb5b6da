"""The operators while ``torch.onnx.export`` traces (either exporter): plain PyTorch that
exports as standard ONNX nodes and gives the numbers of the eager operators.

Outside an export the functional operators run the ``upsampling::`` custom ops of
``_<family>_ops``, which no ONNX exporter knows. :func:`upsampling._backend.torch_ops` hands
out this module instead while :func:`exporting` is true, with the same functions under the same
names, so a model that calls ``up.unpool``, ``up.max_pool``, ``up.max_unpool``,
``up.interpolate``, ``up.conv`` or ``up.conv_transpose`` (directly or through a module of
:mod:`upsampling.nn`) exports. The arguments arrive normalised and checked by the public
function. Pooling and unpooling export as Reshape, Expand, Pad, Slice, Greater, IsNaN, Where,
TopK, GatherElements and ScatterElements (opset 11 or later); interpolation with PyTorch's
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
from ..conventions import onnx_keywords
from ..interpolate import plan_of
from ..unpool import _taps
from . import _conv_ops, _interpolate_ops


def exporting() -> bool:
    """True while ``torch.onnx.export`` traces a model."""
    return torch.onnx.is_in_onnx_export()


@contextlib.contextmanager
def _fixed_shapes():
    """The pooling graphs are built for the traced shape on purpose (see the modules' Notes):
    silence the tracer's warnings that sizes and index grids become constants."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        yield


# ------------------------------------------------------------------------------------- unpool
def unpool(x: Tensor, scale, offset, bed_of_nails: bool) -> Tensor:
    """Nearest: each value expanded over a new axis of length ``s`` after its own; bed of nails:
    that axis zero-padded instead, ``o`` before and ``s - 1 - o`` after. One reshape back.
    Sizes stay symbolic, so ``dynamic_axes`` work."""
    n, c, *size = x.shape
    view, spread, pads = [n, c], [n, c], []
    for a, s, o in zip(size, scale, offset, strict=True):
        view += [a, 1]
        spread += [a, s]
        pads = [o, s - 1 - o, 0, 0, *pads]  # F.pad lists the last axis first
    y = x.reshape(view)
    y = F.pad(y, pads) if bed_of_nails else y.expand(spread)
    return y.reshape(n, c, *(a * s for a, s in zip(size, scale, strict=True)))


# ----------------------------------------------------------------------------------- max_pool
def max_pool(x: Tensor, kernel, stride, padding, dilation, ceil_mode) -> tuple[Tensor, Tensor]:
    """The running maximum over the kernel's taps in window (raster) order, each tap a strided
    slice of the input padded with the lowest value: a tap wins when it is greater or NaN,
    exactly the rule of the eager kernel (first maximum, last NaN). Padding never wins, so the
    index starts at the window's first real element, as PyTorch's does."""
    with _fixed_shapes():
        n, c, *size = _backend.shape(x)
        out = shapes._pool(tuple(size), kernel, stride, padding, dilation, ceil_mode, "max_pool")
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
    """Scatter each plane's inputs to their indices through :func:`_unpool_plan`, into a plane
    with one spare element past the end that is cut off afterwards."""
    with _fixed_shapes():
        n, c, *size = _backend.shape(x)
        length, plane = math.prod(size), math.prod(out_size)
        order, target = _unpool_plan(indices.reshape(n * c, length).long(), plane)
        values = x.reshape(n * c, length).gather(1, order)
        y = x.new_zeros((n * c, plane + 1)).scatter(1, target, values)
        return y[:, :plane].reshape(n, c, *out_size)


def _unpool_plan(idf: Tensor, plane: int) -> tuple[Tensor, Tensor]:
    """Where each input of the rows of ``idf`` goes, with the later-input-wins rule made
    explicit, so that the runtime's order of duplicate writes cannot matter: the inputs sorted by
    (index, position) with TopK (the keys are unique), then the target of each, which is its
    index for the last input of a run of equal indices and the spare element ``plane`` for the
    others: no two inputs share a target inside the plane. An index outside the plane targets
    ``plane + 1``, past the spare element, which ScatterElements refuses at run time."""
    length = idf.shape[1]
    idf = torch.where((idf < 0) | (idf >= plane), plane + 1, idf)
    key = idf * length + torch.arange(length, device=idf.device)
    order = torch.topk(key, length, dim=1, largest=False, sorted=True).indices
    ranked = idf.gather(1, order)
    last = torch.cat(
        [ranked[:, :-1] != ranked[:, 1:], torch.ones_like(ranked[:, :1], dtype=torch.bool)], 1
    )
    return order, torch.where(last, ranked, plane)


# -------------------------------------------------------------------------------- interpolate
_TORCH_MODE = {1: "linear", 2: "bilinear", 3: "trilinear"}


def interpolate(x: Tensor, spec: tuple) -> Tensor:
    """``F.interpolate`` (ONNX ``Resize``) where PyTorch's options say it all, else the eager
    operator's tables in plain PyTorch."""
    shape, _, _, size, scale, mode, corners, recompute, antialias, *onnx = spec
    cubic_2d = mode not in ("cubic", "bicubic") or x.ndim == 4  # F.interpolate's bicubic is 2-D
    resize = not (onnx_keywords(*onnx) or antialias or mode == "area") and cubic_2d
    tables = not resize or not x.is_floating_point()
    if tables or not any(map(_backend.is_symbolic, shape)):
        # the checks, and the tables if they are needed (for the traced size: a symbolic
        # size is made concrete here)
        plan = plan_of((tuple(int(a) for a in shape), *spec[1:]))
        if tables:
            return _interpolate_ops.interpolate_torch(x, plan)
    if mode in ("linear", "cubic"):
        mode = _TORCH_MODE[x.ndim - 2] if mode == "linear" else "bicubic"
    return F.interpolate(x, size, scale, mode, corners, recompute)


# ----------------------------------------------------------------------------------- the conv
conv = _conv_ops.conv  # F.conv{1,2,3}d already


def conv_transpose(x, w, bias, stride, dilation, groups, offset, out_size, method) -> Tensor:
    """PyTorch's own kernel (``ConvTranspose``) for every method: they agree in value."""
    return _conv_ops.transpose_torch(x, w, bias, stride, dilation, groups, offset, out_size)
