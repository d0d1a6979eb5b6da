"""Interpolation filters and the per-axis (index, weight) tables they give.

A filter is a small frozen dataclass: its ``support`` (half-width, in input pixels) and its
kernel ``f(t)``. :func:`taps` turns source coordinates (from :mod:`upsampling.coordinates`) into
a :class:`Table`: for every output sample the input pixels it reads and their weights. With
antialiasing the kernel is stretched by the down-sampling factor (support ``support * stretch``,
weights ``f(t / stretch)``), as Pillow, PyTorch (``antialias=True``) and ONNX do.

``Nearest`` rounds the coordinate (ONNX's ``nearest_mode``); ``Area`` is PyTorch's ``area``
(adaptive average pooling: output ``o`` averages inputs ``floor(o * in / out)`` to
``ceil((o + 1) * in / out) - 1``) and ignores the coordinate rule.

>>> import numpy as np
>>> from upsampling.filters import Linear, taps
>>> t = taps(Linear(), np.array([0.25, 1.5]), in_size=3)
>>> t.index.tolist(), t.weight.tolist()
([[0, 1], [1, 2]], [[0.75, 0.25], [0.5, 0.5]])
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from .coordinates import Axis, source_coordinates

__all__ = [
    "FILTERS",
    "Area",
    "AxisPlan",
    "Cubic",
    "Filter",
    "Lanczos",
    "Linear",
    "Nearest",
    "Plan",
    "Table",
    "table",
    "taps",
]

NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")
EDGES = ("clamp", "exclude")


@dataclass(frozen=True)
class Filter:
    """A separable interpolation kernel with half-width ``support``."""

    name: ClassVar[str] = ""
    support: ClassVar[float] = 0.0

    def __call__(self, t: np.ndarray) -> np.ndarray:
        raise NotImplementedError


@dataclass(frozen=True)
class Nearest(Filter):
    """The nearest pixel, rounded by ONNX's ``nearest_mode`` rules."""

    name: ClassVar[str] = "nearest"
    support: ClassVar[float] = 0.5
    rounding: str = "round_prefer_floor"

    def round(self, x: np.ndarray) -> np.ndarray:
        low = np.floor(x)
        frac = x - low
        if self.rounding == "round_prefer_floor":
            low += frac > 0.5
        elif self.rounding == "round_prefer_ceil":
            low += frac >= 0.5
        elif self.rounding == "ceil":
            low = np.ceil(x)
        return low.astype(np.int64)


@dataclass(frozen=True)
class Linear(Filter):
    """The triangle ``max(0, 1 - |t|)``."""

    name: ClassVar[str] = "linear"
    support: ClassVar[float] = 1.0

    def __call__(self, t: np.ndarray) -> np.ndarray:
        return np.maximum(0.0, 1.0 - np.abs(t))


@dataclass(frozen=True)
class Cubic(Filter):
    """Keys' cubic convolution with parameter ``a`` (PyTorch and OpenCV -0.75, Pillow and
    TensorFlow -0.5)."""

    name: ClassVar[str] = "cubic"
    support: ClassVar[float] = 2.0
    a: float = -0.75

    def __call__(self, t: np.ndarray) -> np.ndarray:
        a = self.a
        t = np.abs(t)
        near = ((a + 2) * t - (a + 3)) * t * t + 1
        far = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
        return np.where(t <= 1, near, np.where(t < 2, far, 0.0))


@dataclass(frozen=True)
class Lanczos(Filter):
    """The Lanczos window ``sinc(t) sinc(t / lobes)`` for ``|t| < lobes``."""

    name: ClassVar[str] = "lanczos"
    support: ClassVar[float] = 3.0
    lobes: int = 3

    def __call__(self, t: np.ndarray) -> np.ndarray:
        return np.where(np.abs(t) < self.lobes, np.sinc(t) * np.sinc(t / self.lobes), 0.0)


@dataclass(frozen=True)
class Area(Filter):
    """PyTorch's ``area``: the average of the input pixels each output pixel covers."""

    name: ClassVar[str] = "area"
    support: ClassVar[float] = 0.5


FILTERS: dict[str, type[Filter]] = {f.name: f for f in (Nearest, Linear, Cubic, Lanczos, Area)}


@dataclass(frozen=True, eq=False)
class Table:
    """Output sample ``m`` is ``sum(weight[m, k] * x[index[m, k]] for k < count[m])``.

    Indices lie in ``[0, in_size)`` and grow along ``k``; entries past ``count[m]`` are padding
    (weight 0, a valid index) that kernels never read.
    """

    index: np.ndarray
    weight: np.ndarray
    count: np.ndarray
    in_size: int
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def out_size(self) -> int:
        return len(self.count)

    @property
    def mean_taps(self) -> float:
        """Taps per output sample on average (computed once; the pass order weighs it)."""
        if "mean_taps" not in self._cache:
            self._cache["mean_taps"] = float(self.count.mean()) if self.out_size else 0.0
        return self._cache["mean_taps"]

    @property
    def is_gather(self) -> bool:
        """One tap of weight one per output: a pure copy (nearest); computed once."""
        if "is_gather" not in self._cache:
            self._cache["is_gather"] = (
                self.index.shape[1] == 1
                and bool(np.all(self.count == 1))
                and bool(np.all(self.weight == 1.0))
            )
        return self._cache["is_gather"]

    def dense(self) -> np.ndarray:
        """The ``(out_size, in_size)`` matrix of the table."""
        m = np.zeros((self.out_size, self.in_size))
        for k in range(self.index.shape[1]):
            rows = np.flatnonzero(self.count > k)
            np.add.at(m, (rows, self.index[rows, k]), self.weight[rows, k])
        return m

    def transposed(self) -> Table:
        """The table of the adjoint: for each input pixel, the outputs that read it, in output
        order (so gradients are sums in a fixed order)."""
        if "transposed" not in self._cache:
            k = np.arange(self.index.shape[1])
            valid = k[None, :] < self.count[:, None]
            rows = np.broadcast_to(np.arange(self.out_size)[:, None], valid.shape)[valid]
            cols = self.index[valid]
            order = np.argsort(cols, kind="stable")  # rows stay ascending within a column
            self._cache["transposed"] = _pack(
                cols[order], rows[order], self.weight[valid][order], self.in_size, self.out_size
            )
        return self._cache["transposed"]

    def interleaved(self, channels: int) -> Table:
        """The table on rows of ``channels`` interleaved samples per pixel (a channels-last
        row read as one long row): output ``m * channels + c`` sums inputs
        ``index[m, k] * channels + c`` with the same weights, in the same order; cached."""
        key = ("interleaved", channels)
        if key not in self._cache:
            lanes = np.arange(channels)[None, :, None]
            index = (self.index[:, None, :] * channels + lanes).reshape(-1, self.index.shape[1])
            weight = np.repeat(self.weight, channels, axis=0)
            count = np.repeat(self.count, channels)
            lanes = Table(index, weight, count, self.in_size * channels)
            lanes._cache["interleaves"] = (self, channels)  # its layout derives from ours
            self._cache[key] = lanes
        return self._cache[key]

    def layout(self, dtype, slack: int = 1):
        """The table laid out for the row kernel (see
        :class:`upsampling._kernels.interpolate.Layout`), windows at most
        ``slack`` pixels wider than the widest row; cached."""
        key = ("layout", np.dtype(dtype).name, slack)
        if key not in self._cache:
            from ._kernels.interpolate import interleave_layout, layout

            if "interleaves" in self._cache:
                base, channels = self._cache["interleaves"]
                self._cache[key] = interleave_layout(base.layout(dtype, slack), channels)
            else:
                self._cache[key] = layout(self, np.dtype(dtype), slack)
        return self._cache[key]


def _pack(rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, n_rows: int, n_cols: int):
    """A Table from (row, column, weight) triples sorted by row."""
    count = np.bincount(rows, minlength=n_rows).astype(np.int64)
    width = max(1, int(count.max(initial=0)))
    starts = np.concatenate(([0], np.cumsum(count)[:-1]))
    slot = np.arange(len(rows)) - starts[rows]
    index = np.zeros((n_rows, width), np.int64)
    weight = np.zeros((n_rows, width), np.float64)
    index[rows, slot] = cols
    weight[rows, slot] = weights
    # padding repeats the row's last index, so every entry is a valid position
    last = index[np.arange(n_rows), np.maximum(count - 1, 0)]
    pad = np.arange(width)[None, :] >= count[:, None]
    index = np.where(pad, last[:, None], index)
    return Table(index, weight, count, n_cols)


def taps(
    filt: Filter,
    x: np.ndarray,
    in_size: int,
    *,
    stretch: float = 1.0,
    edge: str = "clamp",
    normalize: bool = False,
) -> Table:
    """The table of ``filt`` sampled at source coordinates ``x`` of an axis of ``in_size``.

    ``stretch >= 1`` widens the kernel (antialiasing); ``normalize`` divides each row's weights
    by their sum; ``edge="clamp"`` reads pixels outside the input from the nearest edge pixel
    (ONNX's and PyTorch's default), ``edge="exclude"`` drops them and renormalises (ONNX's
    ``exclude_outside``, PyTorch's and Pillow's antialiasing). Taps of weight zero are not read.
    """
    m = len(x)
    if isinstance(filt, Area):
        o = np.arange(m)
        start = o * in_size // m
        stop = -(-(o + 1) * in_size // m)
        width = int((stop - start).max())
        j = start[:, None] + np.arange(width)
        inside = j < stop[:, None]
        w = np.where(inside, 1.0 / (stop - start)[:, None], 0.0)
        return _compact(np.minimum(j, in_size - 1), w, in_size)
    if isinstance(filt, Nearest):
        j = filt.round(x)[:, None]
        w = np.ones((m, 1))
    else:
        radius = filt.support * stretch
        first = math.floor(-radius) + 1
        j = np.floor(x).astype(np.int64)[:, None] + np.arange(first, 1 - first + 1)
        w = filt((j - x[:, None]) * (1.0 / stretch))
        if normalize:
            w = w / _nonzero(w.sum(axis=1, keepdims=True))
    if edge == "exclude":
        w = np.where((j < 0) | (j >= in_size), 0.0, w)
        w = w / _nonzero(w.sum(axis=1, keepdims=True))
    return _compact(np.clip(j, 0, in_size - 1), w, in_size)


def _nonzero(s: np.ndarray) -> np.ndarray:
    return np.where(s == 0, 1.0, s)


def _compact(j: np.ndarray, w: np.ndarray, in_size: int) -> Table:
    """Merge taps that name the same pixel (after clamping), drop zero weights, pack."""
    m, k = j.shape
    start = np.ones((m, k), bool)
    start[:, 1:] = j[:, 1:] != j[:, :-1]
    group = np.cumsum(start, axis=1) - 1
    rows = np.broadcast_to(np.arange(m)[:, None], (m, k))
    merged = np.zeros((m, k))
    np.add.at(merged, (rows, group), w)  # sequential: the same sums on every run
    index = np.zeros((m, k), np.int64)
    index[rows[start], group[start]] = j[start]
    keep = merged != 0
    r, c = np.nonzero(keep)  # row-major: rows ascending, then taps in index order
    return _pack(r, index[r, c], merged[r, c], m, in_size)


# ------------------------------------------------------------------------------ plans and tables
@dataclass(frozen=True)
class AxisPlan:
    """Everything one axis's table depends on."""

    axis: Axis
    rule: str
    filter: Filter
    stretch: float = 1.0
    edge: str = "clamp"
    normalize: bool = False


@dataclass(frozen=True)
class Plan:
    """A normalised interpolation: one :class:`AxisPlan` per spatial axis, the value of samples
    outside the region of interest (``None``: no extrapolation), and how integers round
    (``"torch"``: half up after every axis, as PyTorch's uint8 kernels; ``"onnx"``: half to even
    once, as ONNX's reference), and the preset of :data:`upsampling.conventions` the call named
    (``"opencv/linear"``; ``None`` if none), which integer input may compute with that library's
    own fixed-point arithmetic (:mod:`upsampling._integer`), as uint8 input computes with
    PyTorch's where ``torch_uint8`` says how PyTorch's kernel was called."""

    axes: tuple[AxisPlan, ...]
    extrapolation: float | None = None
    integer_rounding: str = "torch"
    preset: str | None = None
    # PyTorch's own uint8 arithmetic, for a 2-D bilinear or bicubic call with its convention:
    # (filter kind, antialias, align_corners, the scale factor per axis or None), else None
    torch_uint8: tuple | None = None

    @property
    def out_size(self) -> tuple[int, ...]:
        return tuple(a.axis.out_size for a in self.axes)


@functools.lru_cache(maxsize=512)
def table(plan: AxisPlan) -> Table:
    """The (index, weight) table of one axis; rows outside a region of interest are empty."""
    x, outside = source_coordinates(plan.rule, plan.axis)
    t = taps(
        plan.filter,
        x,
        plan.axis.in_size,
        stretch=plan.stretch,
        edge=plan.edge,
        normalize=plan.normalize,
    )
    if outside is not None and outside.any():
        t.count[outside] = 0
    return t


def outside_rows(plan: AxisPlan) -> np.ndarray | None:
    if plan.rule != "tf_crop_and_resize":
        return None
    return source_coordinates(plan.rule, plan.axis)[1]


def is_identity(t: Table) -> bool:
    return (
        t.out_size == t.in_size
        and t.is_gather
        and bool(np.array_equal(t.index[:, 0], np.arange(t.in_size)))
    )
