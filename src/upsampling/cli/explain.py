"""The figures of ``upsampling explain``, recomputed by the library's operators.

Each topic is a pair: a ``*_data`` function that calls the real operators and returns the numbers
the figure shows (the tests check these), and a drawing function in :mod:`.explain_draw` that
only lays them out. :data:`TOPICS` maps the command-line name to both and to the options
(``kernel``, ``stride``, ``padding``) the topic accepts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .io import CliError

__all__ = ["TOPICS", "Topic", "topic_data"]


def _grid(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)[None, None]


# ------------------------------------------------------------------------------ unpooling
def unpooling_data(stride: int = 2) -> dict:
    """The 2x2 input ``[[1, 2], [3, 4]]`` unpooled by nearest neighbour and by bed of nails."""
    from ..unpool import unpool

    x = _grid([[1, 2], [3, 4]])
    return {
        "input": x[0, 0],
        "nearest": unpool(x, stride)[0, 0],
        "bed_of_nails": unpool(x, stride, mode="bed_of_nails")[0, 0],
        "stride": stride,
    }


# -------------------------------------------------------------------------- max unpooling
def max_unpooling_data(kernel: int = 2, stride: int | None = None) -> dict:
    """4x4 ``1..16``, max-pooled with indices, unpooled to 4x4 and, where ``output_size``
    allows, 5x5: the same flat indices in a wider plane, so the values land elsewhere."""
    from ..shapes import max_unpool_output_size
    from ..unpool import max_pool, max_unpool

    stride = kernel if stride is None else stride
    x = _grid(np.arange(1, 17).reshape(4, 4))
    values, indices = max_pool(x, kernel, stride, return_indices=True)
    # the size the pooling came from: a kernel that does not tile the input (3 with stride 2)
    # names positions past the default output size
    out = max_unpool(values, indices, kernel, stride, output_size=x.shape[2:])
    flat = indices[0, 0].ravel()
    d = {
        "input": x[0, 0],
        "values": values[0, 0],
        "indices": indices[0, 0],
        "unpooled": out[0, 0],
        "argmax_input": np.stack(np.unravel_index(flat, x.shape[2:]), 1),
    }
    bigger = tuple(n + 1 for n in out.shape[2:])
    try:  # one larger, where output_size's range allows it
        max_unpool_output_size(values.shape[2:], kernel, stride, output_size=bigger)
    except ValueError:
        pass
    else:
        d["unpooled_big"] = max_unpool(values, indices, kernel, stride, output_size=bigger)[0, 0]
        d["argmax_big"] = np.stack(np.unravel_index(flat, bigger), 1)
    return {
        **d,
        "kernel": kernel,
        "stride": stride,
    }


# ------------------------------------------------------------------------------- bilinear
def bilinear_data() -> dict:
    """``[[6, 10], [9, 12]]`` up-sampled x2 by bilinear interpolation; P, Q and the star for
    output (1, 1).

    The source coordinates are found by interpolating the coordinate ramp ``[0, 1]`` itself
    (linear interpolation reproduces linear functions), P and Q by 1-D linear interpolation of
    the two rows, and the star by interpolating ``[P, Q]`` along y; it equals the 2-D result.
    ``inputs_at[ac]`` is where input pixel ``j`` sits in output pixels, ``(j - b) / a`` for the
    affine source coordinate ``a * o + b`` of each rule (:mod:`upsampling.coordinates`).
    """
    from ..coordinates import Axis, source_coordinates
    from ..interpolate import interpolate

    x = _grid([[6, 10], [9, 12]])
    out = {"input": x[0, 0]}
    for ac in (True, False):
        out[f"align_corners={ac}"] = interpolate(
            x, scale_factor=2, mode="bilinear", align_corners=ac
        )[0, 0]
    ramp = np.array([[[0.0, 1.0]]])
    coords = interpolate(ramp, size=4, mode="linear", align_corners=True)[0, 0]
    i = j = 1
    rows = interpolate(x[0, 0][:, None, :], size=4, mode="linear", align_corners=True)
    p, q = rows[0, 0, j], rows[1, 0, j]
    star = interpolate(np.array([[[p, q]]]), size=4, mode="linear", align_corners=True)[0, 0, i]
    out.update(
        coords=coords,
        at=(i, j),
        sx=coords[j],
        sy=coords[i],
        P=p,
        Q=q,
        star=star,
        coords_half_pixel=interpolate(ramp, size=4, mode="linear", align_corners=False)[0, 0],
        inputs_at={},
    )
    for ac, rule in ((True, "align_corners"), (False, "half_pixel")):
        src, _ = source_coordinates(rule, Axis(2, 4, 2.0, given=True))
        a, b = src[1] - src[0], src[0]
        out["inputs_at"][ac] = (np.arange(2) - b) / a
    return out


# ---------------------------------------------------------------------------- conv matrix
def conv_matrix_data(kernel: int = 3, stride: int = 1, padding: int = 0, size: int = 4) -> dict:
    """The sparse matrix C of a ``kernel`` x ``kernel`` convolution on a ``size`` x ``size`` input.

    The kernel holds ``1 .. k*k`` so every entry of C names the tap it came from (``w_ij``).
    """
    from ..conv import conv, conv_matrix, conv_transpose

    w = _grid(np.arange(1, kernel * kernel + 1).reshape(kernel, kernel))
    c = conv_matrix(w, (size, size), stride=stride, padding=padding).toarray()
    rng = np.random.default_rng(0)
    x = _grid(rng.integers(0, 10, (size, size)))
    y = conv(x, w, stride=stride, padding=padding)
    g = _grid(rng.integers(0, 10, y.shape[2:]))
    t = conv_transpose(g, w, stride=stride, padding=padding, output_size=(size, size))
    return {
        "transpose_input": g[0, 0],
        "transpose_output": t[0, 0],
        "weight": w[0, 0],
        "C": c,
        "CT": c.T,
        "input_size": (size, size),
        "output_size": y.shape[2:],
        "check_input": x[0, 0],
        "check_output": y[0, 0],
        "labels": _tap_labels(c, kernel),
        "stride": stride,
        "padding": padding,
    }


def _tap_labels(c: np.ndarray, k: int) -> list[list[str]]:
    def name(v: float) -> str:
        if v == 0:
            return ""
        t = round(v) - 1
        return f"w{t // k}{t % k}"

    return [[name(v) for v in row] for row in c]


# ------------------------------------------------------------------------ transposed conv
def transposed_conv_data(kernel: int = 3, stride: int = 2, padding: int = 0) -> dict:
    """A 2x2 input and a ``kernel`` x ``kernel`` kernel: the direct (scatter) method step by step
    and the zero-insertion method (bed-of-nails grid, padding, flipped kernel, convolution)."""
    from ..conv import conv, conv_transpose
    from ..unpool import unpool

    border = kernel - 1 - padding
    if border < 0:
        raise CliError(
            f"transposed-conv: --padding {padding} must be at most --kernel minus 1 "
            f"({kernel - 1}) for the zero-insertion picture"
        )
    x = _grid([[1, 2], [3, 4]])
    w = _grid(np.arange(1, kernel * kernel + 1).reshape(kernel, kernel))
    out = conv_transpose(x, w, stride=stride, padding=padding, method="scatter")
    steps = []
    for r in range(2):
        for c in range(2):
            one = np.zeros_like(x)
            one[0, 0, r, c] = x[0, 0, r, c]
            steps.append(conv_transpose(one, w, stride=stride, padding=padding)[0, 0])
    # zero insertion: stride - 1 zeros between the inputs (bed of nails, trimmed), then a border
    # of kernel - 1 - padding zeros, then an ordinary convolution with the flipped kernel
    inserted = unpool(x, stride, mode="bed_of_nails")[:, :, : stride + 1, : stride + 1]
    padded = np.pad(inserted, ((0, 0), (0, 0), (border, border), (border, border)))
    flipped = w[:, :, ::-1, ::-1].copy()
    return {
        "input": x[0, 0],
        "weight": w[0, 0],
        "output": out[0, 0],
        "steps": steps,
        "step_origin": [
            (r * stride - padding, c * stride - padding) for r in range(2) for c in range(2)
        ],
        "inserted": inserted[0, 0],
        "padded": padded[0, 0],
        "border": border,
        "flipped": flipped[0, 0],
        "zero_insertion": conv(padded, flipped)[0, 0],
        "zero_insertion_method": conv_transpose(
            x, w, stride=stride, padding=padding, method="zero_insertion"
        )[0, 0],
        "kernel": kernel,
        "stride": stride,
        "padding": padding,
    }


# --------------------------------------------------------------------------- checkerboard
def checkerboard_data(kernels: tuple[int, ...] = (3, 4), stride: int = 2) -> dict:
    """Overlap counts of kernel ``k`` at stride ``s``, and a constant image and a photograph
    through a transposed convolution with a constant kernel (scaled so that even overlap gives
    1), with padding ``k - s``: it crops the ``k - s`` outputs of each edge that fewer inputs
    reach, leaving the interior, where only the overlap pattern shows."""
    from ..conv import checkerboard, conv_transpose
    from ..data import sample

    photo = _gray_crop(sample(), 96, 200, 48)
    rows = []
    for k in kernels:
        overlap = np.asarray(checkerboard((k, k), (stride, stride)))
        padding = max(k - stride, 0)
        size = max(5, -(-k // stride) + 3)  # an interior of at least 4 periods
        ones = np.ones((1, 1, size, size))
        w = np.full((1, 1, k, k), stride * stride / (k * k))
        rows.append(
            {
                "kernel": k,
                "size": size,
                "padding": padding,
                "overlap": overlap,
                "tiled": np.tile(overlap, (4, 4)),
                "output": conv_transpose(ones, w, stride=stride, padding=padding)[0, 0],
                "photo": conv_transpose(photo, w, stride=stride, padding=padding)[0, 0],
            }
        )
    return {"stride": stride, "rows": rows, "photo_input": photo[0, 0]}


def _gray_crop(image: np.ndarray, top: int, left: int, size: int) -> np.ndarray:
    """A ``size`` x ``size`` crop of the sample's channel mean, float64 ``(1, 1, size, size)``."""
    crop = image[:, :, top : top + size, left : left + size]
    return crop.mean(1, keepdims=True).astype(np.float64)


# -------------------------------------------------------------------------- deconvolution
NOISE = 0.01  # standard deviation of the noise added to h (the image is in [0, 1])
NOISY_TOL = 1e-3  # LSQR's tolerance on the noisy h (tighter: more noise, and minutes)
DAMP = 0.1  # the Tikhonov damping of the regularised solve


def deconvolution_data(kernel: int = 5, stride: int = 1, padding: int | None = None) -> dict:
    """A crop of the sample blurred by a binomial kernel, then brought back two ways: the
    transposed convolution (same kernel, not an inverse) and :func:`upsampling.deconvolve`;
    and the same blurred image with a little noise: undamped, the inverse amplifies it, damped,
    it gives an approximation."""
    from ..conv import conv, conv_transpose
    from ..data import sample
    from ..deconvolution import deconvolve
    from .metrics import psnr

    padding = kernel - 1 if padding is None else padding
    x = _gray_crop(sample(), 72, 184, 64)
    taps = np.array([_binomial(kernel - 1, i) for i in range(kernel)], dtype=np.float64)
    w = (np.outer(taps, taps) / taps.sum() ** 2)[None, None]  # binomial: integers / 4^(k-1)
    geometry = {"stride": stride, "padding": padding}
    y = conv(x, w, **geometry)
    t = conv_transpose(y, w, output_size=x.shape[2:], **geometry)
    d = deconvolve(y, w, x.shape[2:], **geometry)
    noisy = y + np.random.default_rng(0).normal(0.0, NOISE, y.shape)
    amplified = deconvolve(noisy, w, x.shape[2:], tol=NOISY_TOL, **geometry)
    damped = deconvolve(noisy, w, x.shape[2:], damp=DAMP, **geometry)
    return {
        "image": x[0, 0],
        "weight": w[0, 0],
        "conv": y[0, 0],
        "transposed": t[0, 0],
        "deconvolved": d[0, 0],
        "psnr_transposed": psnr(x, t),
        "psnr_deconvolved": psnr(x, d),
        "noisy": noisy[0, 0],
        "noise": NOISE,
        "noisy_tol": NOISY_TOL,
        "damp": DAMP,
        "amplified": amplified[0, 0],
        "damped": damped[0, 0],
        "psnr_amplified": psnr(x, amplified),
        "psnr_damped": psnr(x, damped),
        "weight_denominator": int(taps.sum() ** 2),
        "underdetermined": y.size < x.size,  # fewer equations than unknowns: not invertible
        "kernel": kernel,
        **geometry,
    }


def _binomial(n: int, k: int) -> int:
    from math import comb

    return comb(n, k)


# -------------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class Topic:
    name: str
    data: Callable[..., dict]
    options: tuple[str, ...]  # which of kernel, stride, padding it accepts
    summary: str
    needs: tuple[str, ...] = ("conv",)  # the modules of upsampling it calls

    def missing(self) -> list[str]:
        from .methods import missing_modules

        return missing_modules(self.needs)


TOPICS: dict[str, Topic] = {
    t.name: t
    for t in [
        Topic("unpooling", unpooling_data, ("stride",), "nearest vs bed of nails", ("unpool",)),
        Topic(
            "max-unpooling",
            max_unpooling_data,
            ("kernel", "stride"),
            "pooling indices",
            ("unpool",),
        ),
        Topic("bilinear", bilinear_data, (), "P and Q along x, the star along y", ("interpolate",)),
        Topic("conv-matrix", conv_matrix_data, ("kernel", "stride", "padding"), "C and C^T"),
        Topic(
            "transposed-conv",
            transposed_conv_data,
            ("kernel", "stride", "padding"),
            "scatter vs zero insertion",
        ),
        Topic("checkerboard", checkerboard_data, ("kernel", "stride"), "uneven overlap"),
        Topic(
            "deconvolution",
            deconvolution_data,
            ("kernel", "stride", "padding"),
            "conv, transposed conv, deconvolve",
            ("conv", "deconvolution"),
        ),
    ]
}


def topic_data(name: str, **options) -> dict:
    """The numbers of topic ``name``; ``options`` are the non-None kernel/stride/padding."""
    topic = TOPICS[name]
    given = {k: v for k, v in options.items() if v is not None}
    if name == "checkerboard" and "kernel" in given:
        given["kernels"] = (given.pop("kernel"),)
    return topic.data(**given)
