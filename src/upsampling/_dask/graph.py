"""The graph behind every Dask path: one task per output chunk, fed by the input chunks that
its span overlaps (see :mod:`upsampling._dask`)."""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import math
from typing import Any

import dask.array as da
import numpy as np
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from .. import _backend, _checks

Spans = tuple[tuple[int, int], ...]


def stand_in(x: Any, fn: str) -> np.ndarray:
    """A zero-stride NumPy array of ``x``'s shape and dtype, for the core's argument checks."""
    if any(math.isnan(c) for cs in x.chunks for c in cs):
        raise _checks.fail(
            fn,
            f"x has unknown chunk sizes {x.chunks}; call x.compute_chunk_sizes() first",
        )
    return np.broadcast_to(np.zeros((), x.dtype), x.shape)


def clip(span: tuple[int, int], n: int) -> tuple[int, int]:
    """A span clipped to ``[0, n)``; never empty (a chunk that reads no input gets one pixel it
    ignores, so every gathered chunk has a size)."""
    lo, hi = max(span[0], 0), min(span[1], n)
    if hi <= lo:
        lo = min(max(span[0], 0), n - 1)
        hi = lo + 1
    return lo, hi


@dataclasses.dataclass(frozen=True)
class Where:
    """What one task needs besides the operator: its output chunk's ``index`` per spatial
    axis, the input ``span`` it reads, where each input piece it receives starts, and the
    position along ``N`` of its first plane."""

    index: tuple[int, ...]
    span: Spans
    starts: tuple[tuple[int, ...], ...]
    first: int = 0


def assemble(pieces, where: Where) -> np.ndarray:
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


def run(op, where: Where, extras: int, *args) -> np.ndarray:
    """One task: the operator on one thread (Dask's workers are the parallelism)."""
    with _backend.serial():
        return op(assemble(args[extras:], where), where, *args[:extras])


@dataclasses.dataclass(frozen=True)
class _Aligned:
    """A task of :func:`blockwise` whose input is one whole chunk (``map_blocks`` calls it)."""

    op: Any
    edges: tuple[tuple[int, ...], ...]
    firsts: tuple[int, ...]

    def __call__(self, block: np.ndarray, block_id: tuple[int, ...]) -> np.ndarray:
        j = block_id[2:]
        span = tuple((e[i], e[i + 1]) for e, i in zip(self.edges, j, strict=True))
        where = Where(j, span, (tuple(lo for lo, _ in span),), self.firsts[block_id[0]])
        with _backend.serial():
            return self.op(block, where)


def blockwise(
    x, op, bounds: list[tuple[int, ...]], spans: list[Spans], channels, dtype, fn, extras=()
):
    """The lazy result: output chunk ``j`` (per spatial axis, between ``bounds``) is
    ``op(input[spans[j]], where, *extras)`` (``where.index == j``), one task each, fed by the
    input chunks its span overlaps and by the small one-chunk Dask arrays ``extras`` (global
    statistics, say)."""
    out_chunks = tuple(tuple(np.diff(b).tolist()) for b in bounds)
    largest = (max(x.chunks[0], default=0), max(channels), *(max(c) for c in out_chunks))
    _checks.fits_in_memory(largest, np.dtype(dtype).itemsize, fn, "largest output chunk")
    edges = [np.cumsum((0, *c)).tolist() for c in x.chunks[2:]]
    chunks = (x.chunks[0], channels, *out_chunks)
    firsts = np.cumsum((0, *x.chunks[0])).tolist()
    if not extras and all(
        list(s) == list(itertools.pairwise(e)) for s, e in zip(spans, edges, strict=True)
    ):  # each output chunk reads exactly its input chunk: a Blockwise layer, which Dask fuses
        return x.map_blocks(
            _Aligned(op, tuple(map(tuple, edges)), tuple(firsts)),
            chunks=chunks,
            dtype=dtype,
            meta=np.empty((0,) * x.ndim, dtype),
            name=f"upsampling-{fn}-{tokenize(x.name, fn, op, bounds)}",
        )
    cover = [  # per axis and output chunk: the input chunks its span overlaps
        [range(bisect.bisect_right(e, lo) - 1, bisect.bisect_left(e, hi)) for lo, hi in s]
        for e, s in zip(edges, spans, strict=True)
    ]
    extras = [e.rechunk(-1) for e in extras]
    extra_keys = [(e.name, *([0] * e.ndim)) for e in extras]
    name = f"upsampling-{fn}-{tokenize(x.name, fn, op, bounds, spans, extra_keys)}"
    dsk = {}
    for j in itertools.product(*(range(len(b) - 1) for b in bounds)):
        inputs = list(itertools.product(*(c[i] for c, i in zip(cover, j, strict=True))))
        where = Where(
            j,
            tuple(s[i] for s, i in zip(spans, j, strict=True)),
            tuple(tuple(e[k] for e, k in zip(edges, ks, strict=True)) for ks in inputs),
        )
        for n, c in itertools.product(range(len(x.chunks[0])), range(len(x.chunks[1]))):
            keys = [(x.name, n, c, *ks) for ks in inputs]
            task_where = dataclasses.replace(where, first=firsts[n])
            dsk[(name, n, c, *j)] = (run, op, task_where, len(extras), *extra_keys, *keys)
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=[x, *extras])
    return da.Array(graph, name, chunks=chunks, meta=np.empty((0,) * x.ndim, dtype))


def place(block: np.ndarray, have: tuple[tuple[int, int], ...], want: Spans) -> np.ndarray:
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
