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

import functools
import itertools
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .. import shapes
from .._kernels import conv as K
from ._dispatch import memory_format

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
    """``t``'s entries ``indices`` along ``axis``. The sub-pixel plan's taps are an arithmetic
    progression: a strided slice (flipped for a decreasing one), whose backward is a strided
    copy on every device, where ``index_select``'s is an ``index_add_`` (atomic on CUDA)."""
    step = indices[1] - indices[0] if len(indices) > 1 else 1
    if step and all(b - a == step for a, b in itertools.pairwise(indices)):
        lo, hi = min(indices[0], indices[-1]), max(indices[0], indices[-1])
        part = t[(slice(None),) * axis + (slice(lo, hi + 1, abs(step)),)]
        return part if step > 0 else part.flip(axis)
    return t.index_select(axis, torch.tensor(indices, device=t.device))


# -------------------------------------------------------------------------------- convolution
_NARROW_INTS = (torch.uint8, torch.int8, torch.int16, torch.int32)


def conv(x: Tensor, w: Tensor, bias, stride, padding, dilation, groups: int) -> Tensor:
    """``padding`` is PyTorch's: a tuple of ints or "same" / "valid". PyTorch 2.13 has no
    dilated CPU convolution for the integer dtypes narrower than int64: those run in int64 and
    are cast back, which wraps exactly as the dtype's own arithmetic does (integers modulo
    ``2**bits`` are a ring), as PyTorch's undilated integer convolution."""
    op = _CONV[x.ndim - 3]
    if x.dtype in _NARROW_INTS and max(dilation) > 1:
        wide = [None if t is None else t.long() for t in (x, w, bias)]
        return op(*wide, tuple(stride), padding, tuple(dilation), groups).to(x.dtype)
    return op(x, w, bias, tuple(stride), padding, tuple(dilation), groups)


# --------------------------------------------------------------------- transposed convolution
def subpixel_is_faster(x: Tensor, w: Tensor, bias: Tensor | None, stride) -> bool:
    """Where ``"auto"`` takes the sub-pixel method on tensors: 2-D inference (no gradient
    wanted) on CPU in float32/float64 with one or two threads, a stride above 1, a kernel longer
    than the stride along some axis (so each phase is a real convolution) and at least 2**25
    input elements times output channels per group. There one ``conv2d`` per group of phases
    took 0.62-0.86x the time of oneDNN's transposed convolution on the decoder shapes of
    ``benchmarks/conv_transpose.py`` (2 threads, quiet machine; 0.63-0.80x at 1 thread), but
    1.05-3x on smaller work (batch 1 at 16x16 to 64x64, 1 thread: a decoder at batch 1). Where
    kernel equals stride (1x1 phases), with more threads (not measured), with autograd, small
    work, 1-D or 3-D, or on other devices, PyTorch's own kernel."""
    if x.ndim != 4:
        return False
    wants_grad = torch.is_grad_enabled() and (
        x.requires_grad or w.requires_grad or (bias is not None and bias.requires_grad)
    )
    return (
        not wants_grad
        and x.is_cpu
        and x.dtype in (torch.float32, torch.float64)
        and max(stride) > 1
        and any(k > s for k, s in zip(w.shape[2:], stride, strict=True))
        and x.numel() * w.shape[1] >= 1 << 25
        and torch.get_num_threads() <= 2
    )


def on_accelerator(x: Tensor) -> bool:
    """Whether ``x`` lives on an accelerator (CUDA, ...), where PyTorch's own convolutions
    (cuDNN) are the ones to call."""
    return not x.is_cpu


def auto_method(x: Tensor, w: Tensor, bias: Tensor | None, stride) -> str:
    """The method ``"auto"`` runs: ``"torch"`` (``F.conv_transpose{1,2,3}d``: cuDNN on CUDA,
    oneDNN on CPU) on every accelerator and wherever the sub-pixel method is not faster
    (:func:`subpixel_is_faster`), else ``"subpixel"``."""
    if on_accelerator(x) or not subpixel_is_faster(x, w, bias, stride):
        return "torch"
    return "subpixel"


def transpose_auto(x, w, bias, stride, dilation, groups, offset, out_size) -> Tensor:
    """The method of :func:`auto_method`; an output window torch's arguments cannot name
    (``padding="same"`` with an odd or negative total padding) is cut or zero-extended from
    PyTorch's result."""
    if auto_method(x, w, bias, stride) == "subpixel":
        return transpose_subpixel(x, w, bias, stride, dilation, groups, offset, out_size)
    return transpose_torch(x, w, bias, stride, dilation, groups, offset, out_size)


def transpose_torch(x, w, bias, stride, dilation, groups, offset, out_size) -> Tensor:
    """PyTorch's own kernel for any output window."""
    nd = x.ndim - 2
    op = _CONV_TRANSPOSE[nd - 1]
    pads, extra, direct = _torch_window(
        x.shape[2:], w.shape[2:], stride, dilation, offset, out_size
    )
    if direct:
        return op(x, w, bias, tuple(stride), pads, extra, groups, tuple(dilation))
    y = op(x, w, None, tuple(stride), pads, 0, groups, tuple(dilation))
    # out[o] = full[o + offset] = y[o + offset - pads]
    window = [
        (p - c, t - (p - c) - size)
        for p, c, t, size in zip(pads, offset, out_size, y.shape[2:], strict=True)
    ]
    return add_bias(pad(y, window), bias)


def _window(size, kernel, stride, dilation, offset, out_size) -> tuple[tuple, tuple, bool]:
    """``(pads, extra, direct)`` of :func:`transpose_torch`: the padding and output padding of
    PyTorch's call, and whether they name the output window (else the result is cut)."""
    no_pads = ((0, 0),) * len(size)
    full = shapes.conv_transpose_sizes(size, kernel, stride, no_pads, dilation)
    pads = tuple(max(c, 0) for c in offset)
    extra = tuple(t - (f - 2 * p) for t, f, p in zip(out_size, full, pads, strict=True))
    direct = offset == pads and all(
        0 <= e < max(s, d) for e, s, d in zip(extra, stride, dilation, strict=True)
    )
    return pads, extra, direct


# _window of recent eager calls, by its arguments (a small call would compute it each time)
_WINDOWS: dict[tuple, tuple] = {}


def _torch_window(size, kernel, stride, dilation, offset, out_size) -> tuple[tuple, tuple, bool]:
    """:func:`_window`, remembered for eager calls with plain int sizes (traced or symbolic
    sizes are computed afresh)."""
    if torch.compiler.is_compiling() or torch.jit.is_tracing():
        return _window(size, kernel, stride, dilation, offset, out_size)
    key = (size, kernel, tuple(stride), tuple(dilation), tuple(offset), tuple(out_size))
    try:
        found = _WINDOWS.get(key)
    except TypeError:  # a symbolic size (make_fx's symbolic tracing): not a key
        return _window(*key)
    if found is None:
        found = _window(*key)
        if len(_WINDOWS) >= 256:
            _WINDOWS.clear()
        _WINDOWS[key] = found
    return found


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


def _ell(key: np.ndarray, m: int, a: np.ndarray, b: np.ndarray, pad_a: int, pad_b: int):
    """Entries grouped by ``key`` (ELLPACK): row ``i`` of the two ``(m, width)`` tables holds
    ``a`` and ``b`` of the entries with ``key == i`` in their stored order, then ``pad_a`` and
    ``pad_b`` (indices of an appended zero)."""
    order = np.argsort(key, kind="stable")
    counts = np.bincount(key, minlength=m)
    width = int(counts.max()) if counts.size else 0
    slot = np.arange(order.size) - np.repeat(np.cumsum(counts) - counts, counts)
    ell_a = np.full((m, width), pad_a, dtype=np.int64)
    ell_b = np.full((m, width), pad_b, dtype=np.int64)
    ell_a[key[order], slot] = a[order]
    ell_b[key[order], slot] = b[order]
    return ell_a, ell_b


@functools.lru_cache(maxsize=4)
def _matrix_tables(w_shape, out_size, size, stride, dilation, offset, groups):
    """The convolution matrix's entries three ways, each a pair of ELLPACK tables: by output
    element (the forward), by input element (the input's gradient) and by weight tap (the
    weight's gradient). Every sum of the method and of its gradients is then a gather and a
    sum along a row, in a fixed order."""
    rows, cols, taps = K.matrix_entries(w_shape, out_size, size, stride, dilation, offset, groups)
    m = w_shape[1] * groups * math.prod(out_size)  # outputs of the transposed convolution
    r = w_shape[0] * math.prod(size)  # its inputs
    t = math.prod(w_shape)  # weight taps
    return (
        _ell(cols, m, rows, taps, r, t),
        _ell(rows, r, cols, taps, m, t),
        _ell(taps, t, rows, cols, r, m),
    )


def _tables_on(device, key) -> list:
    """:func:`_matrix_tables` on ``device``."""
    return [tuple(torch.from_numpy(a).to(device) for a in pair) for pair in _matrix_tables(*key)]


def _device_tables(device, key) -> list:
    """:func:`_tables_on`, run eagerly: under ``torch.compile`` through
    ``torch.compiler.disable`` (a graph break: Dynamo would trace the NumPy of a cache miss).
    The wrapper is made only while compiling, when ``torch._dynamo`` is loaded anyway:
    decorating at import time would import it (about 1.7 s) with ``upsampling.nn``."""
    if torch.compiler.is_compiling():
        return torch.compiler.disable(_tables_on)(device, key)
    return _tables_on(device, key)


def _gather_sum(a: Tensor, ia: Tensor, b: Tensor, ib: Tensor) -> Tensor:
    """``sum_k a[:, ia[i, k]] * b[..., ib[i, k]]`` for each ``i``, ``a`` and ``b`` given an
    appended zero (the index the tables pad with)."""
    a = torch.cat([a, a.new_zeros((*a.shape[:-1], 1))], -1)
    b = torch.cat([b, b.new_zeros((*b.shape[:-1], 1))], -1)
    return (a[..., ia] * b[..., ib]).sum(-1)


class _MatrixProduct(torch.autograd.Function):
    """``C.T @ x`` from the ELLPACK tables, with a backward that gathers too: the input's
    gradient sums, for each input, the outputs that read it; the weight's sums, for each tap,
    its products, over the batch last. No scatter, no atomic addition: the same bits on every
    run and device. (Autograd's own backward of the gathers is an ``index_put_`` with
    accumulation, whose CPU threads add in the order they are scheduled: the weight's gradient
    of issue 19, different bits from run to run.)"""

    @staticmethod
    def forward(ctx, x: Tensor, w: Tensor, tables) -> Tensor:
        ctx.save_for_backward(x, w)
        ctx.tables = tables
        return _gather_sum(x, tables[0][0], w, tables[0][1])

    @staticmethod
    def backward(ctx, grad: Tensor):
        x, w = ctx.saved_tensors
        by_input, by_tap = ctx.tables[1:]
        gx = gw = None
        if ctx.needs_input_grad[0]:
            gx = _gather_sum(grad, by_input[0], w, by_input[1])
        if ctx.needs_input_grad[1]:
            gw = _gather_sum(x, by_tap[0], grad, by_tap[1]).sum(0)
        return gx, gw, None


def transpose_matrix(x, w, bias, stride, dilation, groups, offset, out_size) -> Tensor:
    """``C.T @ x`` with ``C`` the convolution matrix, stored by output element (ELLPACK: the
    entries of each output in a padded row), so the product is a gather and a sum; with a
    gradient wanted, :class:`_MatrixProduct`, whose backward gathers as well (by input element
    and by weight tap). No scattered additions: the same result on every run and device."""
    n, _, *size = x.shape
    key = (tuple(w.shape), tuple(out_size), tuple(size), stride, dilation, offset, groups)
    tables = _device_tables(x.device, key)
    xf, wf = x.reshape(n, -1), w.reshape(-1)
    tracing = torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()
    if not tracing and torch.is_grad_enabled() and (x.requires_grad or w.requires_grad):
        y = _MatrixProduct.apply(xf, wf, tables)
    else:
        y = _gather_sum(xf, tables[0][0], wf, tables[0][1])
    return add_bias(y.reshape(n, w.shape[1] * groups, *out_size), bias)


_METHODS = {
    "auto": transpose_auto,
    "scatter": transpose_scatter,
    "zero_insertion": transpose_zero_insertion,
    "subpixel": transpose_subpixel,
    "matrix": transpose_matrix,
}


def conv_transpose(x, w, bias, stride, dilation, groups, offset, out_size, method) -> Tensor:
    """The method's result in ``x``'s memory format (PyTorch's transposed convolution keeps
    ``channels_last``; the other methods write a new contiguous tensor)."""
    y = _METHODS[method](x, w, bias, stride, dilation, groups, offset, out_size)
    return _in_format_of(x, y)


def _in_format_of(x: Tensor, y: Tensor) -> Tensor:
    if not x.is_contiguous():
        fmt = memory_format(x)
        if not y.is_contiguous(memory_format=fmt):
            y = y.contiguous(memory_format=fmt)
    return y


def torch_kernel_call(x, w, bias, stride, dilation, groups, offset, out_size, method):
    """For eager calls like this one (operands of these shapes, dtypes and devices, these
    arguments): ``call(x, w, bias)``, PyTorch's own kernel with its arguments worked out once,
    where ``method`` runs exactly that whatever the grad mode and threads (``"auto"`` where the
    sub-pixel method can never apply, an output window PyTorch's arguments name); else None.
    The same result as :func:`conv_transpose`: the same call, the same memory format."""
    static = x.ndim == 4 and x.numel() * w.shape[1] >= 1 << 25 and max(stride) > 1
    if method != "auto" or (static and not on_accelerator(x)):
        return None
    pads, extra, direct = _window(x.shape[2:], w.shape[2:], stride, dilation, offset, out_size)
    if not direct:
        return None
    op, stride, dilation = _CONV_TRANSPOSE[x.ndim - 3], tuple(stride), tuple(dilation)

    def call(x: Tensor, w: Tensor, bias: Tensor | None) -> Tensor:
        return _in_format_of(x, op(x, w, bias, stride, pads, extra, groups, dilation))

    return call
