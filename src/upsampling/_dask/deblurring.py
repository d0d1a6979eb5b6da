"""deblur of a Dask array: each chunk solved on itself plus a halo, with the image's parameters.

Deblurring is global: the linear methods divide in Fourier space, TV's ADMM solves a Fourier
system every iteration, and the automatic stopping rules and parameters look at the whole plane.
So here (see the Notes of :func:`deblur`):

* The parameters come from the whole image, lazily (one reduction pass feeds every chunk): the
  standard deviation, mean and minimum of each plane, the global range for ``clip``, and the
  noise: the MAD of the finest Haar coefficients (:func:`upsampling._deblur_plan.haar_detail`
  of each chunk, rounded to even boundaries so that they are the in-memory coefficients), their
  median over the whole plane found exactly in two passes over the chunks.
* Each chunk is then solved by the in-memory steps (:func:`upsampling._deblur_plan.solve` and
  :func:`~upsampling._deblur_plan.finish`) with these statistics in place of its own.
* Each output chunk is the core of a solve on the chunk plus a halo
  (:func:`upsampling.shapes.deblur_halo`), clipped at the image's edges, where the solver's own
  boundary handling applies as in memory. For ``richardson_lucy`` with a fixed number of
  iterations the halo is the iteration reach, ``iterations * (k - 1) + 1``: a pixel's value
  depends on nothing farther, so the chunks equal the in-memory result up to FFT rounding
  (``richardson_lucy_tv`` too, except near the image's edges: its gradient wraps around the
  FFT grid and couples opposite edges). Otherwise the halo is a few PSF widths and the result
  carries a small error (bounded in ``tests/test_dask_deblur.py``): at the seams, as each chunk
  applies an automatic stopping rule to itself, and for ``"tv"`` mostly along the image's
  edges, which its Fourier-space solve couples to the opposite edges.
* ``boundary="periodic"`` with several chunks along an axis: each chunk's halo wraps around, and
  the chunk plus halo, no longer periodic, is solved with the boundary-free model.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math

import dask.array as da
import numpy as np
from dask import delayed

from .. import _deblur_plan, shapes
from ..deblur import check_arguments, check_finite
from . import graph


# ---------------------------------------------------------------------------------- statistics
def _even_chunks(chunks: tuple[int, ...], n: int) -> tuple[int, ...]:
    """Chunks whose inner boundaries are even (Haar pairs never straddle two chunks); a last
    chunk of one element joins the one before."""
    bounds = sorted({b - b % 2 for b in np.cumsum(chunks)[:-1].tolist()} - {0})
    bounds = [0, *bounds, n]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] == 1:
        del bounds[-2]
    return tuple(np.diff(bounds).tolist())


def _coefficients(block: np.ndarray, d: int) -> np.ndarray:
    """The sorted Haar coefficients of one even-aligned chunk, ``(planes, m)``."""
    return np.sort(_deblur_plan.haar_detail(np.asarray(block[:, 0], dtype=np.float64), d), axis=1)


_GRID = 1024  # order statistics per chunk in the first pass of the exact median


def _grid(block: np.ndarray, d: int) -> np.ndarray:
    """Pass 1 of the median: per plane, every ``m / _GRID``-th order statistic of the chunk."""
    c = _coefficients(block, d)
    m = c.shape[1]
    pos = (np.arange(_GRID + 1) * (m - 1)) // _GRID if m else np.zeros(0, np.int64)
    return c[:, pos] if m else np.zeros((len(c), 0))


def _bracket(grids, sizes) -> np.ndarray:
    """Per plane ``(lo, hi)`` with the median's order statistics in ``(lo, hi]``: from each
    chunk's grid, bounds on how many of its values are ``<= t`` for every grid value ``t``."""
    total = sum(sizes)
    r1, r2 = (total - 1) // 2, total // 2
    out = []
    for p in range(grids[0].shape[0]):
        cand = np.unique(np.concatenate([g[p] for g in grids]))
        at_least = np.zeros(len(cand), np.int64)  # values <= t, counted from below
        at_most = np.zeros(len(cand), np.int64)
        for g, m in zip(grids, sizes, strict=True):
            if m == 0:
                continue
            pos = (np.arange(len(g[p])) * (m - 1)) // (len(g[p]) - 1)
            i = np.searchsorted(g[p], cand, side="right")  # g[:i] <= t < g[i:]
            at_least += np.where(i > 0, pos[np.maximum(i - 1, 0)] + 1, 0)
            at_most += np.where(i < len(pos), pos[np.minimum(i, len(pos) - 1)], m)
        below = cand[at_most <= r1]
        lo = below[-1] if len(below) else -1.0
        hi = cand[at_least >= r2 + 1][0]
        out.append((lo, hi))
    return np.array(out)


def _select(block: np.ndarray, d: int, bracket: np.ndarray):
    """Pass 2: per plane, how many values are ``<= lo``, and the values in ``(lo, hi]``."""
    c = _coefficients(block, d)
    return [
        (int(np.searchsorted(v, lo, side="right")), v[(v > lo) & (v <= hi)])
        for v, (lo, hi) in zip(c, bracket, strict=True)
    ]


def _median(selections, bracket, total) -> np.ndarray:
    """``np.median`` of all the coefficients of each plane, from the pieces of pass 2."""
    out = []
    for p in range(len(bracket)):
        below = sum(s[p][0] for s in selections)
        middle = np.sort(np.concatenate([s[p][1] for s in selections]))
        r1, r2 = (total - 1) // 2, total // 2
        out.append(np.mean(middle[[r1 - below, r2 - below]]))
    return np.array(out)


def _noise_estimate(y64) -> da.Array:
    """Per plane, :func:`upsampling._deblur_plan.noise` exactly: the median of the finest Haar
    coefficients of the whole plane, found in two passes over the chunks (each sends a small
    grid of order statistics, then the few values near the median)."""
    d = y64.ndim - 2
    if any(n < 2 for n in y64.shape[2:]):
        return da.zeros(y64.shape[0], chunks=(y64.chunks[0],))
    even = y64.rechunk(
        (
            y64.chunks[0],
            1,
            *(_even_chunks(c, n) for c, n in zip(y64.chunks[2:], y64.shape[2:], strict=True)),
        )
    )
    blocks = even.to_delayed()
    sizes = [  # coefficients per chunk: half of each side (only a last chunk can be odd)
        math.prod(c[i] // 2 for c, i in zip(even.chunks[2:], idx, strict=True))
        for idx in itertools.product(*(range(len(c)) for c in even.chunks[2:]))
    ]
    parts = []
    for n, planes in enumerate(even.chunks[0]):
        row = blocks[n, 0].ravel().tolist()
        bracket = delayed(_bracket)([delayed(_grid)(b, d) for b in row], sizes)
        picked = [delayed(_select)(b, d, bracket) for b in row]
        total = math.prod(s // 2 for s in even.shape[2:])
        median = delayed(_median)(picked, bracket, total)
        parts.append(da.from_delayed(median, (planes,), np.float64))
    return _deblur_plan.sigma_from_median(da.concatenate(parts))


def _statistics(x, dtype) -> da.Array:
    """``(P, 6)``: per plane the fields of :class:`upsampling._deblur_plan.PlaneStats` (the
    minimum in ``dtype``, as the in-memory solver sees it), then the whole image's minimum and
    maximum."""
    axes = tuple(range(2, x.ndim))
    y64 = x.astype(np.float64)
    noise = _noise_estimate(y64)
    std = y64.std(axis=axes).reshape(-1)
    mean = y64.mean(axis=axes).reshape(-1)
    low = x.astype(dtype).min(axis=axes).reshape(-1).astype(np.float64)
    ones = da.ones_like(mean)
    return da.stack([noise, std, mean, low, ones * y64.min(), ones * y64.max()], axis=1)


# ----------------------------------------------------------------------------------- solving
@dataclasses.dataclass(frozen=True, eq=False)
class _Deblur:
    """One output chunk: the in-memory solve of the chunk plus its halo, with the whole image's
    statistics, cut to the chunk."""

    plan: _deblur_plan.Plan
    out_dtype: np.dtype
    bounds: tuple[tuple[int, ...], ...]
    spans: tuple[tuple[tuple[int, int], ...], ...]

    def __call__(self, block: np.ndarray, where, stats: np.ndarray) -> np.ndarray:
        y64 = np.asarray(block[:, 0], dtype=np.float64)
        check_finite(y64, "deblur", "image")
        *planes, lowest, highest = stats[where.first : where.first + len(y64)].T
        y = y64.astype(self.plan.psf.dtype)
        out = _deblur_plan.solve(y, self.plan, _deblur_plan.PlaneStats(*planes))
        core = tuple(
            slice(b[j] - s[j][0], b[j + 1] - s[j][0])
            for b, s, j in zip(self.bounds, self.spans, where.index, strict=True)
        )
        out = out[(slice(None), *core)]
        clip_range = (lowest[0], highest[0]) if self.plan.clip else None
        return _deblur_plan.finish(out, self.out_dtype.name, clip_range)[:, None]


def deblur(
    image, psf, *, method="auto", boundary="reflect", balance=None, iterations=None, clip=False
):
    """:func:`upsampling.deblur` of a Dask array (lazy; see this module's notes on exactness)."""
    fn = "deblur"
    stand_in = functools.partial(graph.stand_in, fn=fn)
    plan = check_arguments(
        image, psf, method, boundary, balance, iterations, clip, stand_in=stand_in
    )
    k = plan.psf
    d = k.ndim
    spatial = image.shape[image.ndim - d :]
    x = image.reshape((-1, *spatial))[:, None]  # (planes, 1, *spatial)
    stats = _statistics(x, k.dtype)
    halo = shapes.deblur_halo(k.shape, plan.method, plan.iterations)
    if plan.boundary == "periodic" and any(len(c) > 1 for c in x.chunks[2:]):
        # a chunk of a periodic image: its halo wraps around, and the chunk plus halo is no
        # longer periodic, so it is solved with the boundary-free model
        x = da.pad(x, [(0, 0), (0, 0), *((h, h) for h in halo)], mode="wrap")
        plan = dataclasses.replace(plan, boundary="reflect")
    bounds, spans = [], []
    for i, chunks in enumerate(x.chunks[2:]):
        edges = np.cumsum((0, *chunks)).tolist()
        if x.shape[i + 2] != spatial[i]:  # wrapped: the chunks of the image inside the padding
            edges = [halo[i]] + [e for e in edges if halo[i] < e < halo[i] + spatial[i]]
            edges.append(halo[i] + spatial[i])
        n = x.shape[i + 2]
        bounds.append(tuple(edges))
        spans.append(
            tuple(graph.clip((a - halo[i], b + halo[i]), n) for a, b in itertools.pairwise(edges))
        )
    op = _Deblur(plan, image.dtype, tuple(bounds), tuple(spans))
    out = graph.blockwise(x, op, bounds, spans, (1,), image.dtype, fn, extras=[stats])
    return out[:, 0].reshape(image.shape).rechunk(image.chunks)
