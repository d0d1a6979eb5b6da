"""The convolution family on torch tensors: the algorithms of :mod:`upsampling._kernels.conv`
written with differentiable PyTorch operations.

Each method follows the same plan as its NumPy twin (the phase plan, the zero-insertion
geometry, the scatter tap ranges and the matrix entries all come from
:mod:`upsampling._kernels.conv`), with ``torch.nn.functional.conv{1,2,3}d`` in the place of the
im2col GEMM. Autograd differentiates them, so gradients for input, weight and bias are
PyTorch's own; they run on every device and dtype PyTorch's convolutions run on (float16 and
bfloat16 included), trace under ``torch.compile`` and export to ONNX. No custom op is needed:
nothing here calls NumPy on tensor data.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .. import shapes
from .._kernels import conv as K

_CONV = (F.conv1d, F.conv2d, F.conv3d)
_CONV_TRANSPOSE = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)


def pad(x: Tensor, pads) -> Tensor:
    """Zero-pad the spatial dims by (before, after) each; negative amounts crop."""
    flat = [v for before, after in reversed(pads) for v in (before, after)]
    return F.pad(x, flat) if any(flat) else x


def add_bias(y: Tensor, bias: Tensor | None) -> Tensor:
    return y if bias is None else y + bias.reshape(-1, *(1,) * (y.ndim - 2))


def correlate(x: Tensor, w: Tensor, stride, dilation, groups: int) -> Tensor:
    return _CONV[x.ndim - 3](x, w, None, tuple(stride), 0, tuple(dilation), groups)


def _take(t: Tensor, indices: list[int], axis: int) -> Tensor:
    return t.index_select(axis, torch.tensor(indices, device=t.device))


# -------------------------------------------------------------------------------- convolution
def conv(x: Tensor, w: Tensor, bias, stride, padding, dilation, groups: int) -> Tensor:
    """``padding`` is PyTorch's: a tuple of ints or "same" / "valid"."""
    return _CONV[x.ndim - 3](x, w, bias, tuple(stride), padding, tuple(dilation), groups)


# --------------------------------------------------------------------- transposed convolution
def subpixel_is_faster(x: Tensor, w: Tensor, bias: Tensor | None, stride) -> bool:
    """Where ``"auto"`` takes the sub-pixel method on tensors: 2-D inference (no gradient
    wanted) on CPU in float32/float64 with one or two threads, a stride above 1, a kernel longer
    than the stride along some axis (so each phase is a real convolution) and at least 32x32
    input pixels. There one ``conv2d`` per group of phases took 0.62-0.86x the time of oneDNN's
    transposed convolution on the decoder shapes of ``benchmarks/conv_transpose.py`` (2
    threads, quiet machine). Where kernel equals stride (1x1 phases), with more threads (not
    measured), with autograd, small images, 1-D or 3-D, or on other devices, PyTorch's own
    kernel."""
    wants_grad = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (x, w, bias)
    )
    return (
        not wants_grad
        and x.device.type == "cpu"
        and x.dtype in (torch.float32, torch.float64)
        and x.ndim == 4
        and max(stride) > 1
        and any(k > s for k, s in zip(w.shape[2:], stride, strict=True))
        and x.shape[2] * x.shape[3] >= 1024
        and torch.get_num_threads() <= 2
    )


def transpose_auto(x, w, bias, stride, dilation, groups, offset, out_size) -> Tensor:
    """The sub-pixel method where :func:`subpixel_is_faster`, else PyTorch's own kernel,
    ``F.conv_transpose{1,2,3}d`` (oneDNN on CPU, cuDNN on CUDA); an output window torch's
    arguments cannot name (``padding="same"`` with an odd or negative total padding) is cut or
    zero-extended from its result."""
    if subpixel_is_faster(x, w, bias, stride):
        return transpose_subpixel(x, w, bias, stride, dilation, groups, offset, out_size)
    return transpose_torch(x, w, bias, stride, dilation, groups, offset, out_size)


def transpose_torch(x, w, bias, stride, dilation, groups, offset, out_size) -> Tensor:
    """PyTorch's own kernel for any output window."""
    nd = x.ndim - 2
    no_pads = ((0, 0),) * nd
    full = shapes.conv_transpose_sizes(x.shape[2:], w.shape[2:], stride, no_pads, dilation)
    pads = tuple(max(c, 0) for c in offset)
    extra = tuple(t - (f - 2 * p) for t, f, p in zip(out_size, full, pads, strict=True))
    op = _CONV_TRANSPOSE[nd - 1]
    if offset == pads and all(
        0 <= e < max(s, d) for e, s, d in zip(extra, stride, dilation, strict=True)
    ):
        return op(x, w, bias, tuple(stride), pads, extra, groups, tuple(dilation))
    y = op(x, w, None, tuple(stride), pads, 0, groups, tuple(dilation))
    # out[o] = full[o + offset] = y[o + offset - pads]
    window = [
        (p - c, t - (p - c) - size)
        for p, c, t, size in zip(pads, offset, out_size, y.shape[2:], strict=True)
    ]
    return add_bias(pad(y, window), bias)


def transpose_subpixel(x, w, bias, stride, dilation, groups, offset, out_size) -> Tensor:
    n, _, *size = x.shape
    c_og = w.shape[1]
    plan = K.transpose_plan(size, w.shape[2:], stride, dilation, offset, out_size)
    alloc = x.new_zeros if plan.empty else x.new_empty
    out = alloc((n, groups, c_og, *out_size))
    grow = [
        (
            max([0] + [g.pads[i][0] for g in plan.groups]),
            max([0] + [g.pads[i][1] for g in plan.groups]),
        )
        for i in range(len(size))
    ]
    xp = pad(x, grow)
    for group in plan.groups:
        xg = pad(xp, [(b - gb, a - ga) for (b, a), (gb, ga) in zip(group.pads, grow, strict=True)])
        wg = K.phase_weight(w, group.phases, groups, _take, torch.stack)
        r = correlate(xg, wg, (1,) * len(size), group.dilation, groups)
        r = r.reshape(n, groups, len(group.phases), c_og, *r.shape[2:])
        for i, phase in enumerate(group.phases):
            out[(..., *phase.dst)] = r[(slice(None), slice(None), i, slice(None), *phase.src)]
    return add_bias(out.reshape(n, groups * c_og, *out_size), bias)


def transpose_zero_insertion(x, w, bias, stride, dilation, groups, offset, out_size) -> Tensor:
    n, c, *size = x.shape
    dilated, pads = K.zero_insertion_geometry(size, w.shape[2:], stride, dilation, offset, out_size)
    xd = x.new_zeros((n, c, *dilated))
    xd[(..., *(slice(None, None, s) for s in stride))] = x
    wf = K.flipped_weight(w, groups, torch.flip)
    y = correlate(pad(xd, pads), wf, (1,) * len(size), dilation, groups)
    return add_bias(y, bias)


def transpose_scatter(x, w, bias, stride, dilation, groups, offset, out_size) -> Tensor:
    n, c, *size = x.shape
    _, c_og, *kernel = w.shape
    c_ig = c // groups
    wt = w.reshape(groups, c_ig, -1).transpose(1, 2)  # (g, C_out/g * K, C/g)
    cols = torch.matmul(wt, x.reshape(n, groups, c_ig, -1))
    cols = cols.reshape(n, groups, c_og, *kernel, *size)
    out = x.new_zeros((n, groups, c_og, *out_size))
    for tap, src, dst in K.tap_ranges(size, kernel, stride, dilation, offset, out_size):
        out[(..., *dst)] += cols[(slice(None),) * 3 + tap + src]
    return add_bias(out.reshape(n, groups * c_og, *out_size), bias)


def transpose_matrix(x, w, bias, stride, dilation, groups, offset, out_size) -> Tensor:
    """``C.T @ x`` with ``C`` the convolution matrix, stored by output element (ELLPACK: the
    entries of each output in a padded row), so the product is a gather and a sum: no
    scattered additions, the same result on every run and device."""
    n, c, *size = x.shape
    rows, cols, taps = K.matrix_entries(
        tuple(w.shape), tuple(out_size), tuple(size), stride, dilation, offset, groups
    )
    m = w.shape[1] * groups * int(np.prod(out_size))
    r_total, w_total = c * int(np.prod(size)), w.numel()
    order = np.argsort(cols, kind="stable")
    counts = np.bincount(cols, minlength=m)
    width = int(counts.max()) if counts.size else 0
    slot = np.arange(order.size) - np.repeat(np.cumsum(counts) - counts, counts)
    ell_rows = np.full((m, width), r_total, dtype=np.int64)  # r_total: the appended zero
    ell_taps = np.full((m, width), w_total, dtype=np.int64)
    ell_rows[cols[order], slot] = rows[order]
    ell_taps[cols[order], slot] = taps[order]
    xe = torch.cat([x.reshape(n, r_total), x.new_zeros((n, 1))], dim=1)
    we = torch.cat([w.reshape(-1), w.new_zeros(1)])
    ell_rows_t = torch.from_numpy(ell_rows).to(x.device)
    ell_taps_t = torch.from_numpy(ell_taps).to(x.device)
    y = (xe[:, ell_rows_t] * we[ell_taps_t]).sum(-1)
    return add_bias(y.reshape(n, w.shape[1] * groups, *out_size), bias)


_METHODS = {
    "auto": transpose_auto,
    "scatter": transpose_scatter,
    "zero_insertion": transpose_zero_insertion,
    "subpixel": transpose_subpixel,
    "matrix": transpose_matrix,
}


def conv_transpose(x, w, bias, stride, dilation, groups, offset, out_size, method) -> Tensor:
    return _METHODS[method](x, w, bias, stride, dilation, groups, offset, out_size)
