"""Dask arrays through the operators, equal to the in-memory result at every chunk seam.

The public functions hand a ``dask.array.Array`` here (:func:`upsampling._backend.is_dask`;
this module is the only one that imports dask, and only when such an array arrives). Each
operator becomes one lazy array whose chunks run the NumPy path:

* Chunks along ``N`` and ``C`` stay as they are (``conv`` and ``conv_transpose`` mix channels:
  ``C`` becomes one chunk there).
* Along each spatial axis the output chunk boundaries are the input's times the scale,
  ``b * out // in`` (:func:`upsampling.shapes.chunk_bounds`), and each output chunk is computed
  from the input positions its outputs read, in global coordinates (the "span":
  :func:`upsampling.shapes.conv_span`, :func:`upsampling.shapes.conv_transpose_span`, and for
  interpolation the taps of the global per-axis weight tables). That is a halo of the filter
  support, the kernel extent, or anything at all (a region of interest, a down-sampling
  antialiasing kernel): the span is gathered from the input chunks it overlaps, so no halo
  depth has to fit in a chunk and chunks of one pixel work.
* Every output element is therefore the same sum of the same products as in memory.
  Interpolation applies the rows of the global tables in the global pass order: bit for bit.
  Convolutions run im2col + BLAS on the chunk: BLAS may block a smaller product differently,
  so they agree to float rounding (they came out bit for bit in our tests).
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import itertools
import math
from typing import Any

import dask.array as da
import numpy as np
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from . import _checks, shapes
from .conv import METHODS
from .conv import conv as _conv
from .conv import conv_transpose as _conv_transpose
from .conventions import make_plan
from .filters import Plan, Table, is_identity, outside_rows, table
from .interpolate import _compute_dtype, _gather, _order, _round_integer, apply_tables
from .unpool import unpool as _unpool
from .unpool import unpool_arguments

Spans = tuple[tuple[int, int], ...]


# ---------------------------------------------------------------------------------- plumbing
def _stand_in(x: Any, fn: str) -> np.ndarray:
    """A zero-stride NumPy array of ``x``'s shape and dtype, for the core's argument checks."""
    if any(math.isnan(c) for cs in x.chunks for c in cs):
        raise _checks.fail(
            fn,
            f"x has unknown chunk sizes {x.chunks}; call x.compute_chunk_sizes() first",
        )
    return np.broadcast_to(np.zeros((), x.dtype), x.shape)


def _clip(span: tuple[int, int], n: int) -> tuple[int, int]:
    """A span clipped to ``[0, n)``; never empty (a chunk that reads no input gets one pixel it
    ignores, so every gathered chunk has a size)."""
    lo, hi = max(span[0], 0), min(span[1], n)
    if hi <= lo:
        lo = min(max(span[0], 0), n - 1)
        hi = lo + 1
    return lo, hi


@dataclasses.dataclass(frozen=True)
class _Where:
    """What one task needs besides the operator: its output chunk's ``index`` per spatial
    axis, the input ``span`` it reads, and where each input piece it receives starts."""

    index: tuple[int, ...]
    span: Spans
    starts: tuple[tuple[int, ...], ...]


def _assemble(pieces, where: _Where) -> np.ndarray:
    """The input span from the input chunks that overlap it (a view when one chunk holds it)."""
    shape = pieces[0].shape[:2] + tuple(hi - lo for lo, hi in where.span)
    out = None if len(pieces) == 1 else np.empty(shape, pieces[0].dtype)
    for piece, start in zip(pieces, where.starts, strict=True):
        src, dst = [slice(None)] * 2, [slice(None)] * 2
        for (lo, hi), s, n in zip(where.span, start, piece.shape[2:], strict=True):
            a, b = max(lo, s), min(hi, s + n)
            src.append(slice(a - s, b - s))
            dst.append(slice(a - lo, b - lo))
        if out is None:
            return piece[tuple(src)]
        out[tuple(dst)] = piece[tuple(src)]
    return out


def _run(op, where: _Where, *pieces) -> np.ndarray:
    return op(_assemble(pieces, where), where.index)


def _blockwise(x, op, bounds: list[tuple[int, ...]], spans: list[Spans], channels, dtype, fn):
    """The lazy result: output chunk ``j`` (per spatial axis, between ``bounds``) is
    ``op(input[spans[j]], j)``, one task each, fed by the input chunks its span overlaps."""
    out_chunks = tuple(tuple(np.diff(b).tolist()) for b in bounds)
    largest = (max(x.chunks[0], default=0), max(channels), *(max(c) for c in out_chunks))
    _checks.fits_in_memory(largest, np.dtype(dtype).itemsize, fn, "largest output chunk")
    edges = [np.cumsum((0, *c)).tolist() for c in x.chunks[2:]]
    cover = [  # per axis and output chunk: the input chunks its span overlaps
        [range(bisect.bisect_right(e, lo) - 1, bisect.bisect_left(e, hi)) for lo, hi in s]
        for e, s in zip(edges, spans, strict=True)
    ]
    name = f"upsampling-{fn}-{tokenize(x.name, fn, op, bounds, spans)}"
    dsk = {}
    for j in itertools.product(*(range(len(b) - 1) for b in bounds)):
        inputs = list(itertools.product(*(c[i] for c, i in zip(cover, j, strict=True))))
        where = _Where(
            j,
            tuple(s[i] for s, i in zip(spans, j, strict=True)),
            tuple(tuple(e[k] for e, k in zip(edges, ks, strict=True)) for ks in inputs),
        )
        for n, c in itertools.product(range(len(x.chunks[0])), range(len(x.chunks[1]))):
            keys = [(x.name, n, c, *ks) for ks in inputs]
            dsk[(name, n, c, *j)] = (_run, op, where, *keys)
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=[x])
    chunks = (x.chunks[0], channels, *out_chunks)
    return da.Array(graph, name, chunks=chunks, meta=np.empty((0,) * x.ndim, dtype))


def _place(block: np.ndarray, have: tuple[tuple[int, int], ...], want: Spans) -> np.ndarray:
    """``block`` (input positions ``have``) on the positions ``want``, zeros outside the input."""
    if have == want:
        return block
    out = np.zeros(block.shape[:2] + tuple(hi - lo for lo, hi in want), block.dtype)
    src, dst = [slice(None)] * 2, [slice(None)] * 2
    for (h0, h1), (w0, w1) in zip(have, want, strict=True):
        lo, hi = max(h0, w0), min(h1, w1)
        if hi <= lo:
            return out
        src.append(slice(lo - h0, hi - h0))
        dst.append(slice(lo - w0, hi - w0))
    out[tuple(dst)] = block[tuple(src)]
    return out


# ------------------------------------------------------------------------------------ unpool
@dataclasses.dataclass(frozen=True)
class _Unpool:
    scale: tuple[int, ...]
    mode: str
    offset: tuple[int, ...]

    def __call__(self, block: np.ndarray, index) -> np.ndarray:
        return _unpool(block, self.scale, self.mode, offset=self.offset)


def unpool(x, scale_factor, mode="nearest", *, offset=0):
    """:func:`upsampling.unpool` of a Dask array: block by block (chunk ``b`` becomes
    ``b * scale_factor``; blocks start on multiples of the scale, so offsets line up)."""
    fn = "unpool"
    n = _checks.array(_stand_in(x, fn), fn)
    scale, mode, offset = unpool_arguments(n, scale_factor, mode, offset, fn)
    bounds, spans = [], []
    for i, s in enumerate(scale):
        chunks = x.chunks[i + 2]
        bounds.append(shapes.chunk_bounds(chunks, x.shape[i + 2], x.shape[i + 2] * s))
        edges = np.cumsum((0, *chunks)).tolist()
        spans.append(tuple(itertools.pairwise(edges)))
    op = _Unpool(scale, mode, offset)
    return _blockwise(x, op, bounds, spans, x.chunks[1], x.dtype, fn)


# ------------------------------------------------------------------------------- interpolate
def _table_span(t: Table, o0: int, o1: int) -> tuple[int, int]:
    """Input positions the rows ``o0 <= m < o1`` of a table read (indices grow along a row)."""
    count = t.count[o0:o1]
    rows = np.flatnonzero(count > 0)
    if len(rows) == 0:
        return (0, 0)
    first = t.index[o0 + rows, 0]
    last = t.index[o0 + rows, count[rows] - 1]
    return int(first.min()), int(last.max()) + 1


def _sub_table(t: Table, o0: int, o1: int, lo: int, hi: int) -> Table:
    """Rows ``o0 <= m < o1`` of ``t`` reading an input that starts at position ``lo``. Equal
    slices (the interior chunks of an integer scale) share one table, so the kernel's layout of
    it is computed once per process."""
    index = np.clip(t.index[o0:o1] - lo, 0, hi - lo - 1)
    weight, count = t.weight[o0:o1], t.count[o0:o1]
    digest = hashlib.blake2b(repr((index.shape, hi - lo)).encode())
    for a in (index, weight, count):
        digest.update(np.ascontiguousarray(a).data)
    key = digest.digest()
    found = _SUB_TABLES.get(key)
    if found is None:
        if len(_SUB_TABLES) >= 512:
            _SUB_TABLES.pop(next(iter(_SUB_TABLES)), None)
        found = Table(index, weight.copy(), count.copy(), hi - lo)
        _SUB_TABLES[key] = found
    return found


_SUB_TABLES: dict[bytes, Table] = {}


@dataclasses.dataclass(frozen=True)
class _Interpolate:
    """One output chunk of an interpolation, computed as ``interpolate_array`` computes the
    whole: the same path (gather, integer rounding per axis, one float pass sequence), the same
    global pass ``order``, the rows of the global tables shifted onto the chunk's input."""

    plan: Plan
    bounds: tuple[tuple[int, ...], ...]
    spans: tuple[Spans, ...]
    path: str  # "gather", "float", "integer"
    order: tuple[int, ...]
    active: tuple[int, ...]  # axes whose global table is not the identity

    def __call__(self, block: np.ndarray, index) -> np.ndarray:
        tables, rows = [], []
        for i, a in enumerate(self.plan.axes):
            o0, o1 = self.bounds[i][index[i]], self.bounds[i][index[i] + 1]
            lo, hi = self.spans[i][index[i]]
            tables.append(_sub_table(table(a), o0, o1, lo, hi))
            rows.append((o0, o1))
        # a row slice of a table can be the identity on its chunk: skipping it copies exactly
        order = tuple(a for a in self.order if not is_identity(tables[a]))
        if self.path == "gather":
            out = _gather(block, tables)
        elif self.path == "float":
            compute = _compute_dtype(block.dtype)
            out = apply_tables(block.astype(compute, copy=False), tables, order=order)
            out = out.astype(block.dtype, copy=False)
        else:
            y = block.astype(_compute_dtype(block.dtype))
            if self.plan.integer_rounding == "torch":
                for axis in reversed(self.active):
                    if axis in order:
                        y = apply_tables(y, tables, order=(axis,))
                        y = _round_integer(y, block.dtype, half_up=True)
            else:
                y = _round_integer(apply_tables(y, tables, order=order), block.dtype, False)
            out = y.astype(block.dtype)
        if self.plan.extrapolation is not None:
            for i, a in enumerate(self.plan.axes):
                outside = outside_rows(a)
                if outside is not None and outside[slice(*rows[i])].any():
                    where = (
                        slice(None),
                        slice(None),
                        *([slice(None)] * i),
                        outside[slice(*rows[i])],
                    )
                    out[where] = self.plan.extrapolation
        return out


def interpolate(
    x,
    size=None,
    scale_factor=None,
    mode="nearest",
    align_corners=None,
    recompute_scale_factor=None,
    antialias=False,
    *,
    coordinate_transformation_mode=None,
    nearest_mode=None,
    cubic_coeff_a=None,
    exclude_outside=False,
    extrapolation_value=0.0,
    roi=None,
):
    """:func:`upsampling.interpolate` of a Dask array, bit for bit the in-memory result."""
    fn = "interpolate"
    stand_in = _stand_in(x, fn)
    _checks.array(stand_in, fn)
    in_size = tuple(int(s) for s in x.shape[2:])
    if any(s < 1 for s in in_size):
        raise _checks.fail(fn, f"x has shape {tuple(x.shape)}; its spatial sizes must be positive")
    plan = make_plan(
        fn,
        in_size,
        size,
        scale_factor,
        mode,
        align_corners,
        recompute_scale_factor,
        antialias,
        coordinate_transformation_mode=coordinate_transformation_mode,
        nearest_mode=nearest_mode,
        cubic_coeff_a=cubic_coeff_a,
        exclude_outside=exclude_outside,
        extrapolation_value=extrapolation_value,
        roi=roi,
        double=x.dtype == np.float64,
    )
    tables = [table(a) for a in plan.axes]
    pad = 3 - len(tables)
    full = [None] * pad + [None if is_identity(t) else t for t in tables]
    order = tuple(a - pad for a in _order([1] * pad + list(in_size), full))
    if all(t.is_gather for t in tables):
        path = "gather"
    else:
        path = "integer" if x.dtype.kind in "iu" else "float"
    bounds, spans = [], []
    for i, t in enumerate(tables):
        b = shapes.chunk_bounds(x.chunks[i + 2], in_size[i], t.out_size)
        bounds.append(b)
        spans.append(
            tuple(_clip(_table_span(t, o0, o1), in_size[i]) for o0, o1 in itertools.pairwise(b))
        )
    active = tuple(i for i, t in enumerate(tables) if not is_identity(t))
    op = _Interpolate(plan, tuple(bounds), tuple(spans), path, order, active)
    return _blockwise(x, op, bounds, spans, x.chunks[1], x.dtype, fn)


# ------------------------------------------------------------------------------ convolutions
@dataclasses.dataclass(frozen=True, eq=False)
class _Conv:
    weight: np.ndarray
    bias: np.ndarray | None
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    groups: int
    reads: tuple[Spans, ...]  # per axis and chunk: the positions read, padding included
    spans: tuple[Spans, ...]  # the same clipped to the input: what the block holds

    def __call__(self, block: np.ndarray, index) -> np.ndarray:
        have = tuple(s[j] for s, j in zip(self.spans, index, strict=True))
        want = tuple(s[j] for s, j in zip(self.reads, index, strict=True))
        local = _place(block, have, want)
        return _conv(local, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def conv(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """:func:`upsampling.conv` of a Dask array: each output chunk from the input positions its
    windows read, zeros where they read padding."""
    fn = "conv"
    stand_in = _stand_in(x, fn)
    nd, groups, c_out = _checks.conv_operands(fn, stand_in, weight, bias, groups, False)
    kernel = tuple(weight.shape[2:])
    _, stride, dilation = shapes.conv_arguments(nd, kernel, stride, dilation, fn)
    pads = shapes.conv_padding(padding, kernel, stride, dilation, fn)
    size = tuple(x.shape[2:])
    out = shapes._conv_pairs(size, kernel, stride, pads, dilation, fn)
    x = x.rechunk({1: -1})
    bounds, reads, spans = [], [], []
    for i in range(nd):
        b = shapes.chunk_bounds(x.chunks[i + 2], size[i], out[i])
        r = tuple(
            shapes.conv_span(o0, o1, kernel[i], stride[i], pads[i][0], dilation[i])
            for o0, o1 in itertools.pairwise(b)
        )
        bounds.append(b)
        reads.append(r)
        spans.append(tuple(_clip(s, size[i]) for s in r))
    op = _Conv(weight, bias, stride, dilation, groups, tuple(reads), tuple(spans))
    return _blockwise(x, op, bounds, spans, (c_out,), x.dtype, fn)


@dataclasses.dataclass(frozen=True, eq=False)
class _ConvTranspose:
    weight: np.ndarray
    bias: np.ndarray | None
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    groups: int
    method: str
    offset: tuple[int, ...]
    bounds: tuple[tuple[int, ...], ...]
    spans: tuple[Spans, ...]

    def __call__(self, block: np.ndarray, index) -> np.ndarray:
        y = _conv_transpose(
            block,
            self.weight,
            self.bias,
            self.stride,
            0,
            0,
            self.groups,
            self.dilation,
            method=self.method,
        )
        shape = [*y.shape[:2]]
        src, dst = [slice(None)] * 2, [slice(None)] * 2
        for i, j in enumerate(index):
            o0, o1 = self.bounds[i][j], self.bounds[i][j + 1]
            start = o0 + self.offset[i] - self.spans[i][j][0] * self.stride[i]
            lo, hi = max(start, 0), min(start + o1 - o0, y.shape[i + 2])
            shape.append(o1 - o0)
            src.append(slice(lo, max(lo, hi)))
            dst.append(slice(lo - start, max(lo, hi) - start))
        out = np.zeros(shape, y.dtype)
        if self.bias is not None:  # outside the full result: zero plus bias, as in memory
            out[...] = self.bias.reshape(-1, *([1] * (len(shape) - 2)))
        out[tuple(dst)] = y[tuple(src)]
        return out


def conv_transpose(
    x,
    weight,
    bias=None,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,
    dilation=1,
    *,
    output_size=None,
    method="auto",
):
    """:func:`upsampling.conv_transpose` of a Dask array: each output chunk is cut from the
    full transposed convolution of the input positions that reach it."""
    fn = "conv_transpose"
    stand_in = _stand_in(x, fn)
    nd, groups, _ = _checks.conv_operands(fn, stand_in, weight, bias, groups, True)
    method = _checks.choice(method, METHODS, fn, "method")
    kernel = tuple(weight.shape[2:])
    _, stride, dilation = shapes.conv_arguments(nd, kernel, stride, dilation, fn)
    size = tuple(x.shape[2:])
    offset, out = shapes.conv_transpose_geometry(
        size, kernel, stride, padding, output_padding, dilation, output_size, fn
    )
    x = x.rechunk({1: -1})
    bounds, spans = [], []
    for i in range(nd):
        b = shapes.chunk_bounds(x.chunks[i + 2], size[i], out[i])
        bounds.append(b)
        spans.append(
            tuple(
                _clip(
                    shapes.conv_transpose_span(
                        o0, o1, kernel[i], stride[i], offset[i], dilation[i]
                    ),
                    size[i],
                )
                for o0, o1 in itertools.pairwise(b)
            )
        )
    c_out = weight.shape[1] * groups
    op = _ConvTranspose(
        weight, bias, stride, dilation, groups, method, offset, tuple(bounds), tuple(spans)
    )
    return _blockwise(x, op, bounds, spans, (c_out,), x.dtype, fn)
