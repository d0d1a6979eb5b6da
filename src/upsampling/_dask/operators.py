"""unpool, interpolate, conv and conv_transpose of Dask arrays (see :mod:`upsampling._dask`)."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import threading

import numpy as np

from .. import _checks, shapes
from ..conv import METHODS
from ..conv import conv as _conv
from ..conv import conv_transpose as _conv_transpose
from ..filters import AxisPlan, Plan, Table, is_identity, table
from ..interpolate import interpolate_array, pass_order, plan_for
from ..spec import ResizeSpec
from ..unpool import unpool as _unpool
from ..unpool import unpool_arguments
from .graph import Spans, blockwise, clip, place, stand_in


# ------------------------------------------------------------------------------------ unpool
@dataclasses.dataclass(frozen=True)
class _Unpool:
    scale: tuple[int, ...]
    mode: str
    offset: tuple[int, ...]

    def __call__(self, block: np.ndarray, where) -> np.ndarray:
        return _unpool(block, self.scale, self.mode, offset=self.offset)


def unpool(x, scale_factor, mode="nearest", *, offset=0):
    """:func:`upsampling.unpool` of a Dask array: block by block (chunk ``b`` becomes
    ``b * scale_factor``; blocks start on multiples of the scale, so offsets line up)."""
    fn = "unpool"
    n = _checks.array(stand_in(x, fn), fn)
    scale, mode, offset = unpool_arguments(n, scale_factor, mode, offset, fn)
    bounds, spans = [], []
    for i, s in enumerate(scale):
        chunks = x.chunks[i + 2]
        bounds.append(shapes.chunk_bounds(chunks, x.shape[i + 2], x.shape[i + 2] * s))
        edges = np.cumsum((0, *chunks)).tolist()
        spans.append(tuple(itertools.pairwise(edges)))
    op = _Unpool(scale, mode, offset)
    return blockwise(x, op, bounds, spans, x.chunks[1], x.dtype, fn)


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


def _sub_table(axis: AxisPlan, o0: int, o1: int, lo: int, hi: int) -> Table:
    """Rows ``o0 <= m < o1`` of the axis's table reading an input that starts at position
    ``lo``. Equal slices (the interior chunks of an integer scale) share one table, so the
    kernel's layout of it is computed once per process."""
    key = (axis, o0, o1, lo, hi)
    found = _SLICES.get(key)
    if found is None:
        found = _shared(table(axis), o0, o1, lo, hi)
        _remember(_SLICES, key, found)
    return found


def _remember(cache: dict, key, value) -> None:
    """Store in a bounded cache (oldest out first), safely from several worker threads."""
    with _CACHE_LOCK:
        if len(cache) >= 512:
            cache.pop(next(iter(cache)), None)
        cache[key] = value


def _shared(t: Table, o0: int, o1: int, lo: int, hi: int) -> Table:
    """The slice of :func:`_sub_table`, one object per distinct content."""
    index = np.clip(t.index[o0:o1] - lo, 0, hi - lo - 1)
    weight, count = t.weight[o0:o1], t.count[o0:o1]
    digest = hashlib.blake2b(repr((index.shape, hi - lo)).encode())
    for a in (index, weight, count):
        digest.update(np.ascontiguousarray(a).data)
    key = digest.digest()
    found = _SUB_TABLES.get(key)
    if found is None:
        found = Table(index, weight.copy(), count.copy(), hi - lo)
        _remember(_SUB_TABLES, key, found)
    return found


_CACHE_LOCK = threading.Lock()
_SLICES: dict[tuple, Table] = {}  # (axis plan, rows, span) -> the shared slice
_SUB_TABLES: dict[bytes, Table] = {}  # content digest -> the shared slice


@dataclasses.dataclass(frozen=True)
class _Interpolate:
    """One output chunk of an interpolation: :func:`interpolate_array` on the chunk's input span
    with the rows of the global tables shifted onto it, in the global pass ``order``."""

    plan: Plan
    bounds: tuple[tuple[int, ...], ...]
    spans: tuple[Spans, ...]
    order: tuple[int, ...]
    gather: bool  # the whole array's path: a copy (the slices of its tables may look so too)

    def __call__(self, block: np.ndarray, where) -> np.ndarray:
        index = where.index
        tables, rows = [], []
        for i, a in enumerate(self.plan.axes):
            o0, o1 = self.bounds[i][index[i]], self.bounds[i][index[i] + 1]
            lo, hi = self.spans[i][index[i]]
            tables.append(_sub_table(a, o0, o1, lo, hi))
            rows.append((o0, o1))
        # a row slice of a table can be the identity on its chunk: skipping it copies exactly
        order = tuple(a for a in self.order if not is_identity(tables[a]))
        return interpolate_array(block, self.plan, tables, order, rows, gather=self.gather)


def interpolate(x, spec: ResizeSpec):
    """:func:`upsampling.interpolate` of a Dask array by its normalised spec, bit for bit the
    in-memory result."""
    fn = "interpolate"
    meta = stand_in(x, fn)
    _checks.array(meta, fn)
    shape = tuple(int(s) for s in x.shape)
    in_size = shape[2:]
    plan = plan_for(spec, shape, x.dtype.itemsize, x.dtype == np.float64, memory=False)
    tables = [table(a) for a in plan.axes]
    bounds, spans = [], []
    for i, t in enumerate(tables):
        b = shapes.chunk_bounds(x.chunks[i + 2], in_size[i], t.out_size)
        bounds.append(b)
        spans.append(
            tuple(clip(_table_span(t, o0, o1), in_size[i]) for o0, o1 in itertools.pairwise(b))
        )
    order, gather = pass_order(in_size, tables), all(t.is_gather for t in tables)
    op = _Interpolate(plan, tuple(bounds), tuple(spans), order, gather)
    return blockwise(x, op, bounds, spans, x.chunks[1], x.dtype, fn)


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

    def __call__(self, block: np.ndarray, where) -> np.ndarray:
        index = where.index
        have = tuple(s[j] for s, j in zip(self.spans, index, strict=True))
        want = tuple(s[j] for s, j in zip(self.reads, index, strict=True))
        local = place(block, have, want)
        return _conv(local, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def conv(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """:func:`upsampling.conv` of a Dask array: each output chunk from the input positions its
    windows read, zeros where they read padding."""
    fn = "conv"
    meta = stand_in(x, fn)
    nd, groups, c_out = _checks.conv_operands(fn, meta, weight, bias, groups, False)
    kernel = tuple(weight.shape[2:])
    _, stride, dilation = shapes.conv_arguments(nd, kernel, stride, dilation, fn)
    pads = shapes.conv_padding(padding, kernel, stride, dilation, fn)
    size = tuple(x.shape[2:])
    out = shapes.conv_sizes(size, kernel, stride, pads, dilation, fn)
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
        spans.append(tuple(clip(s, size[i]) for s in r))
    op = _Conv(weight, bias, stride, dilation, groups, tuple(reads), tuple(spans))
    return blockwise(x, op, bounds, spans, (c_out,), x.dtype, fn)


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

    def __call__(self, block: np.ndarray, where) -> np.ndarray:
        index = where.index
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
        if all(d.stop - d.start == n for d, n in zip(dst[2:], shape[2:], strict=True)):
            return y[tuple(src)]  # inside the full result (every interior chunk): no copy
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
    meta = stand_in(x, fn)
    nd, groups, _ = _checks.conv_operands(fn, meta, weight, bias, groups, True)
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
                clip(
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
    return blockwise(x, op, bounds, spans, (c_out,), x.dtype, fn)
