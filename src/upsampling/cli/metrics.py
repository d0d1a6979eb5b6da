"""Image quality: PSNR and SSIM, written here so the library needs no image-processing package.

Both take images of shape ``(C, H, W)`` or ``(N, C, H, W)`` with values in ``[0, data_range]``
and average over every plane (the tests check them against :mod:`skimage.metrics`).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["psnr", "ssim"]


def _pair(a, b, fn: str) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim < 2:
        raise ValueError(f"{fn}: images of shapes {a.shape} and {b.shape} must match (..., H, W)")
    return a, b


def psnr(reference, image, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB, ``10 log10(data_range^2 / MSE)`` (inf when equal).

    >>> import numpy as np
    >>> round(psnr(np.zeros((1, 4, 4)), np.full((1, 4, 4), 0.1)), 6)
    20.0
    """
    a, b = _pair(reference, image, "psnr")
    mse = float(np.mean((a - b) ** 2))
    return math.inf if mse == 0.0 else 10.0 * math.log10(data_range**2 / mse)


def ssim(reference, image, data_range: float = 1.0, sigma: float = 1.5) -> float:
    """Mean structural similarity (Wang et al. 2004) with a Gaussian window, plane by plane.

    The local means, variances and covariance are Gaussian-weighted averages (``sigma`` 1.5,
    truncated at 3.5 sigma: an 11-tap window, edges mirrored), the population (not sample)
    covariance is used, and the map is averaged after cropping half a window from each edge:
    the same numbers as ``skimage.metrics.structural_similarity(..., gaussian_weights=True,
    sigma=1.5, use_sample_covariance=False, data_range=1)`` in float64.

    >>> import numpy as np
    >>> x = np.linspace(0, 1, 256).reshape(1, 16, 16)
    >>> ssim(x, x)
    1.0
    """
    from scipy.ndimage import gaussian_filter

    a, b = _pair(reference, image, "ssim")
    radius = int(3.5 * sigma + 0.5)
    if min(a.shape[-2:]) < 2 * radius + 1:
        raise ValueError(
            f"ssim: images of spatial size {a.shape[-2:]} are smaller than the "
            f"{2 * radius + 1}x{2 * radius + 1} window"
        )
    planes_a = a.reshape(-1, *a.shape[-2:])
    planes_b = b.reshape(-1, *b.shape[-2:])
    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2
    scores = []
    for x, y in zip(planes_a, planes_b, strict=True):

        def blur(v):
            return gaussian_filter(v, sigma=sigma, truncate=3.5, mode="reflect")

        mx, my = blur(x), blur(y)
        vx = blur(x * x) - mx * mx
        vy = blur(y * y) - my * my
        cxy = blur(x * y) - mx * my
        s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
        scores.append(s[radius:-radius, radius:-radius].mean())
    return float(np.mean(scores))
