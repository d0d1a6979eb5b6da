"""The up-sampling methods the demo and ``compare`` put side by side, as one registry.

An experiment (:class:`Problem`) takes an image, down-samples it by an integer ``scale`` with a
known anti-aliasing convolution, and asks each :class:`Method` to bring the small image back to
the original size. Every method is one entry of :data:`METHODS`: a function of the problem that
returns the up-sampled image, and its number of learnable parameters.

The down-sampling is the triangle (tent) filter of width ``2 * scale`` with stride ``scale`` on the
edge-padded image: for ``scale = 2`` the separable taps ``[1, 3, 3, 1] / 8``, which is what
``torch.nn.functional.interpolate(..., mode="bilinear", antialias=True)`` does away from the
edges. Being a convolution, it can be inverted by :func:`upsampling.deconvolve`, which is the
seed's "Deconvolution" entry.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

import numpy as np

__all__ = ["METHODS", "Method", "Problem", "degrade", "resolve_methods"]

MAX_SCALE = 8
TRAINED_SCALE = 2  # the committed weights were trained for this factor


def tent_taps(scale: int) -> tuple[np.ndarray, int]:
    """The 1-D anti-aliasing taps for down-sampling by ``scale`` and the padding they need.

    Output ``i`` averages input pixels ``j`` with weight ``max(0, 1 - |j + 1/2 - c| / scale)``,
    ``c = scale * (i + 1/2)`` (half-pixel centres), normalised to sum to one.

    >>> taps, pad = tent_taps(2)
    >>> (taps * 8).tolist(), pad
    ([1.0, 3.0, 3.0, 1.0], 1)
    >>> (tent_taps(3)[0] * 9).round(6).tolist()
    [1.0, 2.0, 3.0, 2.0, 1.0]
    """
    offsets = np.arange(-scale, 2 * scale)
    weights = 1.0 - np.abs(offsets + 0.5 - scale / 2) / scale
    keep = weights > 1e-12
    taps = weights[keep] / weights[keep].sum()
    return taps, int(-offsets[keep][0])


@dataclass(frozen=True)
class Problem:
    """One image, down-sampled by ``scale``: what every method starts from.

    ``original`` is ``(1, C, H, W)`` float32 with ``H`` and ``W`` multiples of ``scale``;
    ``low`` is ``conv(edge_pad(original, pad), weight, stride=scale, groups=C)``.
    """

    original: np.ndarray
    scale: int
    low: np.ndarray
    weight: np.ndarray  # (C, 1, K, K): the depthwise down-sampling kernel
    pad: int

    @property
    def channels(self) -> int:
        return self.original.shape[1]


def degrade(original: np.ndarray, scale: int) -> Problem:
    """Crop ``original`` to a multiple of ``scale`` and down-sample it (see the module notes).

    The separable filter is applied axis by axis here (the tests check that it equals
    :func:`upsampling.conv` with :attr:`Problem.weight`), so the set-up needs no operator.
    """
    h, w = (d - d % scale for d in original.shape[2:])
    original = np.ascontiguousarray(original[:, :, :h, :w], dtype=np.float32)
    taps, pad = tent_taps(scale)
    c = original.shape[1]
    weight = np.broadcast_to(np.outer(taps, taps), (c, 1, len(taps), len(taps)))
    weight = np.ascontiguousarray(weight, dtype=np.float32)
    low = np.pad(original.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)), "edge")
    for axis, n in ((2, h // scale), (3, w // scale)):
        span = scale * (n - 1) + 1
        low = sum(
            t * np.take(low, np.arange(i, i + span, scale), axis=axis) for i, t in enumerate(taps)
        )
    return Problem(original, scale, low.astype(np.float32), weight, pad)


@dataclass(frozen=True)
class Method:
    """One way back up: ``run(problem)`` returns ``(1, C, H, W)`` like ``problem.original``."""

    name: str
    label: str
    run: Callable[[Problem], np.ndarray]
    params: Callable[[int], int] = lambda scale: 0  # learnable parameters at a scale
    scales: tuple[int, ...] | None = None  # None: every integer scale
    note: str = ""
    needs: tuple[str, ...] = ("unpool",)  # the modules of upsampling it calls

    def supports(self, scale: int) -> bool:
        return self.scales is None or scale in self.scales

    def missing(self) -> list[str]:
        """The operator modules this method needs that cannot be imported (empty: ready)."""
        return missing_modules(self.needs)


def missing_modules(names: tuple[str, ...]) -> list[str]:
    import importlib

    out = []
    for name in names:
        try:
            importlib.import_module(f"upsampling.{name}")
        except ImportError:
            out.append(f"upsampling.{name}")
    return out


# ---------------------------------------------------------------------------------- the methods
def _nearest(p: Problem) -> np.ndarray:
    from ..unpool import unpool

    return unpool(p.low, p.scale)


def _bed_of_nails(p: Problem) -> np.ndarray:
    from ..unpool import unpool

    return unpool(p.low, p.scale, mode="bed_of_nails")


def _max_unpool(p: Problem) -> np.ndarray:
    from ..unpool import max_pool, max_unpool

    values, indices = max_pool(p.original, p.scale, return_indices=True)
    return max_unpool(values, indices, p.scale)


def _interpolate(mode: str, align_corners: bool | None) -> Callable[[Problem], np.ndarray]:
    def run(p: Problem) -> np.ndarray:
        if align_corners:  # not an image library's convention: the operator itself
            from ..interpolate import interpolate

            return interpolate(p.low, scale_factor=p.scale, mode=mode, align_corners=True)
        from ..resize import resize

        image = p.low[0].transpose(1, 2, 0)  # the (H, W, C) image, as users resize one
        out = resize(image, scale=p.scale, method=mode)
        return np.ascontiguousarray(out.transpose(2, 0, 1)[None])

    return run


def bilinear_kernel(scale: int) -> np.ndarray:
    """The ``2*scale``-tap kernel with which a stride-``scale`` transposed convolution
    (padding ``scale // 2``, even scales) is bilinear up-sampling away from the edges."""
    k = 2 * scale
    centre = (k - 1) / 2
    taps = 1 - np.abs(np.arange(k) - centre) / scale
    return np.outer(taps, taps)


def _depthwise_transpose(p: Problem, kernel: np.ndarray, bias: float, padding: int) -> np.ndarray:
    from ..conv import conv_transpose

    c = p.channels
    weight = np.ascontiguousarray(np.broadcast_to(kernel, (c, 1, *kernel.shape)), np.float32)
    bias = np.full(c, bias, np.float32)
    return conv_transpose(p.low, weight, bias, stride=p.scale, padding=padding, groups=c)


def _transposed_bilinear(p: Problem) -> np.ndarray:
    return _depthwise_transpose(p, bilinear_kernel(p.scale), 0.0, p.scale // 2)


@functools.cache
def trained_weights() -> dict[str, np.ndarray]:
    """The committed weights of the trained layers (see ``examples/train_demo_weights.py``)."""
    path = resources.files(__package__) / "weights" / "demo_x2.npz"
    with resources.as_file(path) as f, np.load(f) as data:
        return {k: data[k] for k in data.files}


def _transposed_trained(p: Problem) -> np.ndarray:
    w = trained_weights()
    kernel = w["transposed.weight"]
    padding = (kernel.shape[-1] - p.scale) // 2
    return _depthwise_transpose(p, kernel, w["transposed.bias"].item(), padding)


def _subpixel_trained(p: Problem) -> np.ndarray:
    from ..conv import conv
    from ..pixel_shuffle import pixel_shuffle

    w = trained_weights()
    kernel, bias = w["subpixel.weight"], w["subpixel.bias"]  # (s*s, 1, k, k), (s*s,)
    n, c, h, wd = p.low.shape
    planes = p.low.reshape(n * c, 1, h, wd)
    feats = conv(planes, kernel, bias, padding=kernel.shape[-1] // 2)
    out = pixel_shuffle(feats, p.scale)
    return out.reshape(n, c, *out.shape[2:])


def _deconvolution(p: Problem) -> np.ndarray:
    from ..deconvolution import deconvolve

    h, w = p.original.shape[2:]
    size = (h + 2 * p.pad, w + 2 * p.pad)
    x = deconvolve(p.low, p.weight, size, stride=p.scale, groups=p.channels)
    return x[:, :, p.pad : p.pad + h, p.pad : p.pad + w]


def _n_trained(key: str) -> int:
    w = trained_weights()
    return int(w[f"{key}.weight"].size + w[f"{key}.bias"].size)


METHODS: dict[str, Method] = {
    m.name: m
    for m in [
        Method("nearest", "nearest unpooling", _nearest),
        Method("bed-of-nails", "bed of nails", _bed_of_nails),
        Method(
            "max-unpool",
            "max unpooling",
            _max_unpool,
            note="max-pools the original itself and unpools with the remembered indices",
        ),
        Method("bilinear", "bilinear", _interpolate("bilinear", False), needs=("resize",)),
        Method(
            "bilinear-ac",
            "bilinear, align_corners",
            _interpolate("bilinear", True),
            needs=("interpolate",),
        ),
        Method("bicubic", "bicubic", _interpolate("bicubic", False), needs=("resize",)),
        Method(
            "transposed-conv",
            "transposed conv, bilinear init",
            _transposed_bilinear,
            params=lambda s: (2 * s) ** 2 + 1,
            scales=(2, 4, 6, 8),
            note="2s x 2s kernel, stride s, one kernel shared by the channels (+ bias)",
            needs=("conv",),
        ),
        Method(
            "transposed-conv-trained",
            "transposed conv, trained",
            _transposed_trained,
            params=lambda s: _n_trained("transposed"),
            scales=(TRAINED_SCALE,),
            note="kernel trained on other images, shared by the channels (+ bias)",
            needs=("conv",),
        ),
        Method(
            "subpixel-trained",
            "sub-pixel conv, trained",
            _subpixel_trained,
            params=lambda s: _n_trained("subpixel"),
            scales=(TRAINED_SCALE,),
            note="conv to 4 phases + pixel shuffle, trained on other images",
            needs=("conv", "pixel_shuffle"),
        ),
        Method(
            "deconvolution",
            "deconvolution",
            _deconvolution,
            note="least-squares inverse of the known down-sampling convolution (lsqr)",
            needs=("conv", "deconvolution"),
        ),
    ]
}


def resolve_methods(names: list[str] | None, scale: int) -> tuple[list[Method], list[str]]:
    """The methods to run and one error line per name that is unknown or lacks this scale.

    ``None`` means every method that supports ``scale``.
    """
    if not names:
        return [m for m in METHODS.values() if m.supports(scale)], []
    chosen, errors = [], []
    for raw in names:
        for name in (s.strip() for s in raw.split(",")):
            if not name:
                continue
            method = METHODS.get(name)
            if method is None:
                errors.append(f"unknown method {name!r}; known methods: {', '.join(METHODS)}")
            elif not method.supports(scale):
                allowed = ", ".join(str(s) for s in method.scales or ())
                errors.append(f"method {name!r} works at scale {allowed} only, not {scale}")
            elif method not in chosen:
                chosen.append(method)
    return chosen, errors
