"""The compute of the convolution family: the phase plan of a transposed convolution (shared by
the NumPy workers here and the torch ops of :mod:`upsampling.nn._conv_ops`), im2col + BLAS
correlation, and the NumPy versions of the transposed-convolution methods.

Conventions. A transposed convolution of an input of size ``n`` (per spatial dim) with a kernel
of size ``k``, stride ``s`` and dilation ``d`` has a *full* result of ``(n - 1) * s + d * (k - 1)
+ 1`` entries, ``full[i * s + j * d] += x[i] * w[j]``; the output is the window of ``t`` entries
of it that starts at ``offset`` (:func:`upsampling.shapes.conv_transpose_geometry`), zero where
it leaves the full result. Every method computes exactly that window.

Every loop in Python runs over kernel taps or output phases, never over pixels: the arithmetic
is one GEMM (``numpy.matmul``, BLAS) per chunk of the batch.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import _backend, _checks, shapes

# Bytes per index of a sparse entry (int64).
INDEX_BYTES = 8

# Bytes of im2col columns (and of the scatter method's input-times-kernel columns) built at
# once: the batch is cut into chunks of about this size.
_COLS_BYTES = 1 << 24


# ------------------------------------------------------------------------------------ the plan
class Phase(NamedTuple):
    taps: tuple[tuple[int, ...], ...]  # per dim: the kernel taps, in window order
    src: tuple[slice, ...]  # per dim: the part of the group's result that is this phase's
    dst: tuple[slice, ...]  # per dim: where it goes in the output (step = stride)


class Group(NamedTuple):
    pads: tuple[tuple[int, int], ...]  # per dim: (before, after) of x; negative crops
    dilation: tuple[int, ...]  # per dim: the window's dilation
    phases: tuple[Phase, ...]


class Plan(NamedTuple):
    groups: tuple[Group, ...]
    empty: tuple[tuple[slice, ...], ...]  # output slices no kernel tap reaches (bias only)


def _axis_plan(n: int, k: int, s: int, d: int, offset: int, t: int):
    """One axis: output phases grouped by the input window they read.

    Output ``o`` is ``full[o + offset]``; its phase is ``rho = (o + offset) % s``. The taps of
    phase ``rho`` are the ``j`` with ``j * d % s == rho``, and with ``m_j = (j * d - rho) // s``,
    ``full[q * s + rho] = sum_j w[j] * x[q - m_j]``: a stride-1 correlation of ``x`` with those
    taps reversed, dilated by ``d / gcd(d, s)``. Phases with the same tap count and largest
    ``m_j`` read the same windows and share one correlation (their q-ranges are merged).
    """
    windows: dict[tuple[int, int], list] = {}
    empty = []
    for rho in range(s):
        first = offset + (rho - offset) % s  # the first full index >= offset in this phase
        count = len(range(first, offset + t, s))
        if count == 0:
            continue
        dst = slice(first - offset, first - offset + (count - 1) * s + 1, s)
        taps = [j for j in range(k) if j * d % s == rho]
        if not taps:
            empty.append(dst)
            continue
        m = [(j * d - rho) // s for j in taps]
        q0 = (first - rho) // s
        windows.setdefault((len(taps), m[-1]), []).append((tuple(reversed(taps)), q0, count, dst))
    groups = []
    for (cnt, m_max), phases in windows.items():
        m_min = m_max - (cnt - 1) * (d // math.gcd(d, s))
        lo = min(q0 for _, q0, _, _ in phases)
        hi = max(q0 + count for _, q0, count, _ in phases)
        pads = (m_max - lo, hi - 1 - m_min - (n - 1))
        parts = tuple(
            (taps, slice(q0 - lo, q0 - lo + count), dst) for taps, q0, count, dst in phases
        )
        groups.append((pads, parts))
    return d // math.gcd(d, s), groups, empty


def transpose_plan(size, kernel, stride, dilation, offset, out_size) -> Plan:
    """The sub-pixel decomposition of a transposed convolution: one correlation per group of
    output phases that share input windows (the product of the per-axis groups), plus the output
    slices no tap reaches."""
    axes = [
        _axis_plan(*args)
        for args in zip(size, kernel, stride, dilation, offset, out_size, strict=True)
    ]
    groups = []
    for combo in itertools.product(*(groups for _, groups, _ in axes)):
        phases = tuple(
            Phase(
                tuple(p[0] for p in parts), tuple(p[1] for p in parts), tuple(p[2] for p in parts)
            )
            for parts in itertools.product(*(phases for _, phases in combo))
        )
        groups.append(Group(tuple(pads for pads, _ in combo), tuple(a[0] for a in axes), phases))
    # Output slices of phases without taps: every combination in which some axis is empty.
    options = [
        [(dst, False) for _, phases in groups_ for _, _, dst in phases] + [(e, True) for e in empty]
        for _, groups_, empty in axes
    ]
    empty_slices = tuple(
        tuple(dst for dst, _ in combo)
        for combo in itertools.product(*options)
        if any(is_empty for _, is_empty in combo)
    )
    return Plan(tuple(groups), empty_slices)


def phase_weight(w, phases, groups: int, take, stack):
    """The correlation weight of one group of phases, ``(groups * P * C_out/g, C_in/g, *cnt)``
    ordered (group, phase, channel), from the transposed-convolution weight ``(C_in, C_out/g,
    *k)``. ``take(a, indices, axis)`` and ``stack`` come from NumPy or torch."""
    subs = []
    for phase in phases:
        sub = w
        for axis, taps in enumerate(phase.taps):
            sub = take(sub, list(taps), 2 + axis)
        subs.append(sub)
    p = len(subs)
    c_in, c_og, *cnt = subs[0].shape
    ws = stack(subs).reshape(p, groups, c_in // groups, c_og, *cnt)
    perm = (1, 0, 3, 2, *range(4, 4 + len(cnt)))
    ws = ws.permute(perm) if hasattr(ws, "permute") else ws.transpose(perm)
    return ws.reshape(groups * p * c_og, c_in // groups, *cnt)


def flipped_weight(w, groups: int, flip):
    """The weight of the convolution that zero insertion runs: ``(C_out, C_in/g, *k)``, the
    kernel flipped and the channel axes swapped group by group."""
    c_in, c_og, *k = w.shape
    nd = len(k)
    wf = flip(w, tuple(range(2, 2 + nd))).reshape(groups, c_in // groups, c_og, *k)
    perm = (0, 2, 1, *range(3, 3 + nd))
    wf = wf.permute(perm) if hasattr(wf, "permute") else wf.transpose(perm)
    return wf.reshape(groups * c_og, c_in // groups, *k)


def zero_insertion_geometry(size, kernel, stride, dilation, offset, out_size):
    """Zero insertion: the input with ``s - 1`` zeros between entries (size ``(n - 1) * s + 1``)
    padded by ``(d * (k - 1) - offset, t - 1 + offset - (n - 1) * s)`` and correlated with the
    flipped kernel gives the output. Returns the dilated sizes and the pads (negative crops)."""
    ones, zeros = (1,) * len(size), ((0, 0),) * len(size)
    dilated = shapes.conv_transpose_sizes(size, ones, stride, zeros, ones)  # a 1-tap kernel
    pads = tuple(
        (d * (k - 1) - c, t - 1 + c - (m - 1))
        for k, d, c, t, m in zip(kernel, dilation, offset, out_size, dilated, strict=True)
    )
    return dilated, pads


def tap_ranges(size, kernel, stride, dilation, offset, out_size):
    """The scatter method: for each kernel tap, the input range ``[lo, hi)`` per dim whose
    contributions land inside the output, and the output slice they land on (None: nowhere)."""
    result = []
    for tap in itertools.product(*(range(k) for k in kernel)):
        src, dst = [], []
        for j, n, s, d, c, t in zip(tap, size, stride, dilation, offset, out_size, strict=True):
            lo = max(0, -((j * d - c) // s))  # o = i * s + j * d - c >= 0
            hi = min(n, (t - 1 + c - j * d) // s + 1)  # o <= t - 1
            if hi <= lo:
                break
            start = lo * s + j * d - c
            src.append(slice(lo, hi))
            dst.append(slice(start, start + (hi - lo - 1) * s + 1, s))
        else:
            result.append((tap, tuple(src), tuple(dst)))
    return result


# ------------------------------------------------------------------------------- NumPy workers
def pad(x: np.ndarray, pads) -> np.ndarray:
    """Zero-pad the spatial dims by (before, after) each; negative amounts crop."""
    grow = [(0, 0), (0, 0)] + [(max(b, 0), max(a, 0)) for b, a in pads]
    if any(b or a for b, a in grow):
        x = np.pad(x, grow)
    crop = tuple(slice(max(-b, 0), x.shape[2 + i] - max(-a, 0)) for i, (b, a) in enumerate(pads))
    return x[(..., *crop)]


def correlate(x: np.ndarray, w: np.ndarray, stride, dilation, groups: int, bias=None, sink=None):
    """Unpadded cross-correlation (PyTorch's convolution) by im2col and one GEMM per chunk of
    images (the images of a chunk side by side in the GEMM's columns).

    ``x`` ``(N, C, *S)``, any strides; ``w`` ``(O, C/g, *k)``. Returns ``(N, O, *out)`` with
    ``bias`` added; or, given ``sink``, calls ``sink(start, stop, row, r)`` for each chunk, ``r``
    the images ``start:stop`` of the output rows from ``row`` on (along the first spatial axis),
    ``(stop - start, g, O/g, rows, *out[1:])``, a strided view; and returns None. Each chunk
    costs three waits on threads (columns, GEMM, result), however many images it holds, which
    keeps the method fast when the CPUs are shared.
    """
    n, _, *size = x.shape
    o, c_ig, *kernel = w.shape
    nd = len(size)
    out = shapes.conv_sizes(size, kernel, stride, ((0, 0),) * nd, dilation, "correlate")
    p, kk = math.prod(out), c_ig * math.prod(kernel)
    g, o_g = groups, o // groups
    wm = np.ascontiguousarray(w).reshape(g, o_g, kk)
    sn, sc, *ss = x.strides
    win = as_strided(
        x,
        (n, g, c_ig, *kernel, *out),
        (
            sn,
            c_ig * sc,
            sc,
            *(a * d for a, d in zip(ss, dilation, strict=True)),
            *(a * s for a, s in zip(ss, stride, strict=True)),
        ),
        writeable=False,
    )
    y = None
    if sink is None:
        y = np.empty((n, o, *out), dtype=x.dtype)
        view = y.reshape(n, g, o_g, *out)
        shift = None if bias is None else bias.astype(x.dtype).reshape(g, o_g, *(1,) * nd)

        def sink(a, b, row, r):
            dst = view[a:b, :, :, row : row + r.shape[3]]
            _backend.run_planes(_store, b - a, r.size, r, dst, shift)

    if n == 0 or p == 0 or o == 0:
        return y
    if kk == c_ig and all(s == 1 for s in stride):
        # A 1x1 stride-1 window: each image is its own column matrix, no copy.
        r = np.matmul(wm, x.reshape(n, g, kk, p))
        sink(0, n, 0, r.reshape(n, g, o_g, *out))
        return y
    # Chunks of whole images; an image whose columns alone exceed the budget goes in slabs of
    # rows (along the first spatial axis).
    per_row = g * kk * (p // out[0]) * x.itemsize
    rows = max(1, min(out[0], _COLS_BYTES // max(1, per_row)))
    chunk = max(1, min(n, _COLS_BYTES // max(1, per_row * out[0]))) if rows == out[0] else 1
    buffer = np.empty(g * kk * chunk * rows * (p // out[0]), dtype=x.dtype)
    perm = (1, 2, *range(3, 3 + nd), 0, *range(3 + nd, 3 + 2 * nd))
    rest = (slice(None),) * (nd - 1)
    for a in range(0, n, chunk):
        m = min(n, a + chunk) - a
        for row in range(0, out[0], rows):
            part = win[(slice(a, a + m), *(slice(None),) * (2 + nd), slice(row, row + rows))]
            shape = part.shape[3 + nd :]
            cols = buffer[: g * kk * m * math.prod(shape)].reshape(g, c_ig, *kernel, m, *shape)

            def fill(i0, i1, part=part, cols=cols):
                np.copyto(
                    cols[(Ellipsis, slice(i0, i1), slice(None), *rest)], part[i0:i1].transpose(perm)
                )

            _backend.run_planes(fill, m, cols.size)
            r = np.matmul(wm, cols.reshape(g, kk, -1)).reshape(g, o_g, m, *shape)
            sink(a, a + m, row, r.transpose(2, 0, 1, *range(3, 3 + nd)))
    return y


def _store(start, stop, r, view, shift) -> None:
    """Images ``start:stop`` of a chunk's result into the output, plus the bias."""
    if shift is None:
        np.copyto(view[start:stop], r[start:stop])
    else:
        np.add(r[start:stop], shift, out=view[start:stop])


def add_bias(y: np.ndarray, bias) -> np.ndarray:
    if bias is not None:
        y += bias.reshape(-1, *(1,) * (y.ndim - 2)).astype(y.dtype, copy=False)
    return y


def transpose_subpixel(x, w, bias, stride, dilation, groups, offset, out_size) -> np.ndarray:
    """One correlation per group of output phases (no multiply by an inserted zero), written
    into the output phase by phase."""
    n, _, *size = x.shape
    c_og = w.shape[1]
    plan = transpose_plan(size, w.shape[2:], stride, dilation, offset, out_size)
    out = np.empty((n, groups * c_og, *out_size), dtype=x.dtype)
    view = out.reshape(n, groups, c_og, *out_size)
    grow = [
        (
            max([0] + [g.pads[i][0] for g in plan.groups]),
            max([0] + [g.pads[i][1] for g in plan.groups]),
        )
        for i in range(len(size))
    ]
    xp = pad(x, grow)
    shift = None if bias is None else bias.astype(x.dtype).reshape(groups, c_og, *(1,) * len(size))
    for group in plan.groups:
        # The group's window on the once-padded input (its own pads, as a view).
        xg = pad(xp, [(b - gb, a - ga) for (b, a), (gb, ga) in zip(group.pads, grow, strict=True)])
        wg = phase_weight(w, group.phases, groups, np.take, np.stack)

        def sink(a, b, row, r, phases=group.phases):
            r = r.reshape(b - a, groups, len(phases), c_og, *r.shape[3:])
            _backend.run_planes(_write_phases, b - a, r.size, r, view[a:b], phases, row, shift)

        correlate(xg, wg, (1,) * len(size), group.dilation, groups, sink=sink)
    for dst in plan.empty:
        view[(..., *dst)] = 0 if shift is None else shift
    return out


def _write_phases(start, stop, r, view, phases, row, shift) -> None:
    """Images ``start:stop`` of each phase's result (rows ``row`` on of the group's grid) into
    the phase's output positions, plus the bias."""
    for i, phase in enumerate(phases):
        first, dst = phase.src[0], phase.dst[0]
        lo, hi = max(first.start, row), min(first.stop, row + r.shape[4])
        if hi <= lo:
            continue
        start_dst = dst.start + (lo - first.start) * dst.step
        src_rows = slice(lo - row, hi - row)
        dst_rows = slice(start_dst, start_dst + (hi - lo - 1) * dst.step + 1, dst.step)
        src = r[(slice(start, stop), slice(None), i, slice(None), src_rows, *phase.src[1:])]
        out = view[(slice(start, stop), Ellipsis, dst_rows, *phase.dst[1:])]
        if shift is None:
            np.copyto(out, src)
        else:
            np.add(src, shift, out=out)


def transpose_zero_insertion(x, w, bias, stride, dilation, groups, offset, out_size):
    """The zero-insertion method: zeros between the inputs, padding, then an ordinary
    correlation with the flipped kernel."""
    n, c, *size = x.shape
    dilated, pads = zero_insertion_geometry(size, w.shape[2:], stride, dilation, offset, out_size)
    xd = np.zeros((n, c, *dilated), dtype=x.dtype)
    xd[(..., *(slice(None, None, s) for s in stride))] = x
    wf = flipped_weight(w, groups, np.flip)
    return correlate(pad(xd, pads), wf, (1,) * len(size), dilation, groups, bias)


def transpose_scatter(x, w, bias, stride, dilation, groups, offset, out_size):
    """The direct (scatter) method: every input value times the kernel (one GEMM per chunk),
    added into the output at stride steps, tap by tap."""
    n, c, *size = x.shape
    _, c_og, *kernel = w.shape
    g, c_ig = groups, c // groups
    p, kk = math.prod(size), c_og * math.prod(kernel)
    wt = np.ascontiguousarray(w.reshape(g, c_ig, kk).transpose(0, 2, 1))  # (g, C_out/g * K, C/g)
    out = np.zeros((n, g, c_og, *out_size), dtype=x.dtype)
    ranges = tap_ranges(size, kernel, stride, dilation, offset, out_size)
    chunk = max(1, _COLS_BYTES // max(1, g * kk * p * x.itemsize))
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        xs = np.ascontiguousarray(x[a:b]).reshape(b - a, g, c_ig, p)
        cols = np.matmul(wt, xs).reshape(b - a, g, c_og, *kernel, *size)
        for tap, src, dst in ranges:
            out[(slice(a, b), Ellipsis, *dst)] += cols[(slice(None),) * 3 + tap + src]
    return add_bias(out.reshape(n, g * c_og, *out_size), bias)


def transpose_matrix(x, w, bias, stride, dilation, groups, offset, out_size) -> np.ndarray:
    """The matrix method: the transpose of the convolution matrix
    (:func:`sparse_matrix`) times the flattened input."""
    n = x.shape[0]
    c = sparse_matrix(w, out_size, x.shape[2:], stride, dilation, offset, groups, "conv_transpose")
    y = np.ascontiguousarray((c.T @ x.reshape(n, c.shape[0]).T).T)
    return add_bias(y.reshape(n, w.shape[1] * groups, *out_size), bias)


# --------------------------------------------------------------------------- the conv matrix
def matrix_nnz(kernel, in_size, out_size, stride, dilation, pad_before) -> int:
    """Non-zeros per (output channel, input channel) pair of the convolution matrix: the
    (output, tap) pairs whose input position ``o * s - pad + j * d`` lies inside the input."""
    total = 1
    for k, n, t, s, d, b in zip(
        kernel, in_size, out_size, stride, dilation, pad_before, strict=True
    ):
        pairs = 0
        for j in range(k):
            lo = max(0, -((j * d - b) // s))
            hi = min(t - 1, (n - 1 + b - j * d) // s)
            pairs += max(0, hi - lo + 1)
        total *= pairs
    return total


def matrix_entries(weight_shape, in_size, out_size, stride, dilation, pad_before, groups):
    """The convolution matrix in coordinates: ``(rows, cols, taps)``, int64, one entry per
    non-zero, ``C[rows, cols] = weight.ravel()[taps]``.

    The convolution has weight ``(C_out, C_in/g, *k)`` and maps an input of spatial size
    ``in_size`` to ``out_size`` (given, so a transposed convolution can ask for any size);
    rows index ``(c_out, *out)``, columns ``(c_in, *in)``, both flattened in C order.
    """
    c_out, c_ig, *kernel = weight_shape
    nd = len(kernel)
    flat_o = flat_j = flat_i = np.zeros((1,) * nd, dtype=np.int64)
    for axis, (k, n, t, s, d, b) in enumerate(
        zip(kernel, in_size, out_size, stride, dilation, pad_before, strict=True)
    ):
        i = np.arange(t, dtype=np.int64)[:, None] * s - b + np.arange(k, dtype=np.int64) * d
        oo, jj = np.nonzero((i >= 0) & (i < n))
        shape = [1] * nd
        shape[axis] = -1
        flat_o = flat_o * t + oo.reshape(shape)
        flat_j = flat_j * k + jj.reshape(shape)
        flat_i = flat_i * n + i[oo, jj].reshape(shape)
    flat_o, flat_j, flat_i = (a.ravel() for a in np.broadcast_arrays(flat_o, flat_j, flat_i))
    co = np.arange(c_out, dtype=np.int64)[:, None, None]
    ci = np.arange(c_ig, dtype=np.int64)[None, :, None]
    group = co // max(1, c_out // groups)
    rows = co * math.prod(out_size) + flat_o
    cols = (group * c_ig + ci) * math.prod(in_size) + flat_i
    taps = (co * c_ig + ci) * math.prod(kernel) + flat_j
    return tuple(np.broadcast_to(a, (c_out, c_ig, flat_o.size)).ravel() for a in (rows, cols, taps))


def sparse_matrix(weight, in_size, out_size, stride, dilation, pad_before, groups, fn):
    """The convolution matrix (scipy CSR) after checking that it fits in memory."""
    import scipy.sparse

    c_out, c_ig, *kernel = weight.shape
    shape = (c_out * math.prod(out_size), c_ig * groups * math.prod(in_size))
    nnz = c_out * c_ig * matrix_nnz(kernel, in_size, out_size, stride, dilation, pad_before)
    _checks.fits_in_ram(
        nnz * (3 * INDEX_BYTES + 2 * weight.itemsize) + shape[0] * INDEX_BYTES,
        fn,
        f"the convolution matrix of shape {shape} with {nnz:,} non-zeros",
    )
    rows, cols, taps = matrix_entries(
        weight.shape, in_size, out_size, stride, dilation, pad_before, groups
    )
    matrix = scipy.sparse.csr_matrix((weight.ravel()[taps], (rows, cols)), shape=shape)
    matrix.sort_indices()
    return matrix


__all__ = [
    "Group",
    "Phase",
    "Plan",
    "add_bias",
    "correlate",
    "flipped_weight",
    "matrix_entries",
    "matrix_nnz",
    "pad",
    "phase_weight",
    "sparse_matrix",
    "tap_ranges",
    "transpose_matrix",
    "transpose_plan",
    "transpose_scatter",
    "transpose_subpixel",
    "transpose_zero_insertion",
    "zero_insertion_geometry",
]
