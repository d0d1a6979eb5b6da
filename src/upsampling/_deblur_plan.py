"""What :func:`upsampling.deblur` solves with, written once for the in-memory and the Dask path.

The in-memory path and each chunk of a Dask image run the same steps; only where the statistics
come from differs (the plane itself, or a reduction over the whole Dask image):

* :class:`Plan`: the checked arguments (built by ``upsampling.deblur.check_arguments``);
* :func:`haar_detail` and :func:`sigma_from_median`: the two halves of the noise estimate (the
  Dask path takes the median of the coefficients chunk by chunk in between); :func:`noise`
  joins them for planes in memory;
* :class:`PlaneStats` (built in memory by :func:`plane_statistics`): each plane's noise,
  standard deviation, mean and minimum, from which the automatic parameters follow;
* :func:`solve`: the parameter rules and the method dispatch to :mod:`upsampling._deblur_solvers`;
* :func:`finish`: the optional clip and the cast to the input's dtype.

The rules and their constants are documented in the Notes of :func:`upsampling.deblur`.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from . import _checks

MAD = 0.6744897501960817  # the median of |N(0, 1)|

# Regularisation rules (fitted on scikit-image's camera, astronaut, rocket, clock, brick and
# coins; never on the benchmark images coffee, chelsea and moon). See deblur's Notes.
_TV_GAIN = 0.4  # tv: lambda = 0.4 sigma^1.5 / std(y)^0.5
_RLTV_GAIN = 0.4  # richardson_lucy_tv: the tv rule divided by mean(y)
_LINEAR_RULE = {"wiener": (2.0, 1.5), "tikhonov": (0.5, 1.0)}  # balance = a (sigma / std(y))^p
_NOISE_FLOOR = 1e-2  # sigma >= 1e-2 std(y): a noise-free image still gets some regularisation


@dataclasses.dataclass(frozen=True)
class Plan:
    """The checked arguments of one deblurring.

    Attributes
    ----------
    method : str
        A solver's name (``"auto"`` already resolved to ``"tv"``).
    boundary : {"reflect", "periodic"}
    balance : float or None
        The user's regularisation strength; None: chosen per plane by :func:`solve`.
    iterations : int or None
        A fixed number of iterations; None: each plane stops by its own rule.
    clip : bool
        Whether :func:`finish` is given the input's range.
    psf : numpy.ndarray
        Normalised to sum to one, in the compute dtype (float64 for float64 input, else float32).
    """

    method: str
    boundary: str
    balance: float | None
    iterations: int | None
    clip: bool
    psf: np.ndarray


# ------------------------------------------------------------------------------------ noise
def haar_detail(y: np.ndarray, d: int) -> np.ndarray:
    """``|c|`` of the finest Haar coefficients high-pass along each of the trailing ``d`` axes.

    Parameters
    ----------
    y : numpy.ndarray, shape ``(*planes, *spatial)``
        float64; a trailing axis of odd length drops its last element.
    d : int
        How many trailing axes form a plane.

    Returns
    -------
    numpy.ndarray, shape ``(*planes, m)``
        The coefficients of each plane, flattened (``m`` is 0 when an axis is shorter than 2).
    """
    c = y
    for axis in range(y.ndim - d, y.ndim):
        m = c.shape[axis] // 2 * 2
        even = c.take(np.arange(0, m, 2), axis=axis)
        odd = c.take(np.arange(1, m, 2), axis=axis)
        c = (even - odd) * math.sqrt(0.5)
    return np.abs(c).reshape(*y.shape[: y.ndim - d], -1)


def sigma_from_median(median):
    """The noise's standard deviation from the median of :func:`haar_detail` (the MAD rule);
    ``median`` a NumPy or a Dask array."""
    return median / MAD


def noise(y: np.ndarray, d: int) -> np.ndarray:
    """Per plane of ``y`` (float64, the trailing ``d`` axes a plane), the MAD noise estimate of
    :func:`upsampling.estimate_noise` (0 when an axis is shorter than 2)."""
    if any(n < 2 for n in y.shape[y.ndim - d :]):
        return np.zeros(y.shape[: y.ndim - d])
    return sigma_from_median(np.median(haar_detail(y, d), axis=-1))


# ------------------------------------------------------------------------------- statistics
@dataclasses.dataclass(frozen=True)
class PlaneStats:
    """What the automatic parameters look at, one float64 ``(P,)`` array per field.

    Attributes
    ----------
    noise : numpy.ndarray
        The MAD estimate (:func:`noise`), before its floor.
    std, mean : numpy.ndarray
        Of each plane's values.
    low : numpy.ndarray
        Each plane's minimum in the compute dtype (Richardson-Lucy shifts a plane with
        negative values by ``sigma - low``).
    """

    noise: np.ndarray
    std: np.ndarray
    mean: np.ndarray
    low: np.ndarray

    @property
    def spread(self) -> np.ndarray:
        """The scale of each plane: its standard deviation, or ``max(|mean|, 1)`` if constant."""
        return np.where(self.std > 0, self.std, np.maximum(np.abs(self.mean), 1.0))

    @property
    def sigma(self) -> np.ndarray:
        """The noise estimate, floored at ``1e-2 * spread`` (no plane is cleaner than 40 dB)."""
        return np.maximum(self.noise, _NOISE_FLOOR * self.spread)


def plane_statistics(planes: np.ndarray, y: np.ndarray) -> PlaneStats:
    """:class:`PlaneStats` of ``planes`` (float64 ``(P, *spatial)``) in memory; ``y`` is the same
    in the compute dtype."""
    d = planes.ndim - 1
    axes = tuple(range(1, d + 1))
    low = y.min(axis=axes).astype(np.float64)
    return PlaneStats(noise(planes, d), planes.std(axis=axes), planes.mean(axis=axes), low)


# ---------------------------------------------------------------------------------- solving
def solve(y: np.ndarray, plan: Plan, stats: PlaneStats) -> np.ndarray:
    """Deblur the planes ``y`` (``(P, *spatial)`` in the compute dtype) by ``plan``, with the
    automatic parameters of ``stats`` (``(P,)`` each, of these planes or of the whole image)."""
    from . import _deblur_solvers as solvers  # SciPy's FFT, imported on first use

    method, psf, boundary, iterations = plan.method, plan.psf, plan.boundary, plan.iterations
    sigma, spread = stats.sigma, stats.spread
    given = None if plan.balance is None else np.full(len(y), plan.balance)
    if method in ("wiener", "tikhonov"):
        balance = _linear_rule(method, sigma, spread) if given is None else given
        return solvers.linear(y, psf, boundary, balance, method == "tikhonov")
    if method == "tv":
        lam = _TV_GAIN * sigma**1.5 / np.sqrt(spread) if given is None else given
        start = _linear_rule("wiener", sigma, spread)
        return _each_plane(solvers.tv, y, psf, boundary, lam, sigma, start, iterations)
    lam = None
    if method == "richardson_lucy_tv":
        level = np.maximum(np.abs(stats.mean), spread)
        lam = given if given is not None else _RLTV_GAIN * sigma**1.5 / np.sqrt(spread) / level
    return _each_plane(
        solvers.richardson_lucy, y, psf, boundary, lam, iterations, sigma, stats.low, method
    )


def _each_plane(solver, y, psf, *args):
    """An iterative solver run plane by plane: each plane stops by its own rule, so a plane's
    result does not depend on the others in the batch."""
    out = np.empty_like(y)
    for p in range(len(y)):
        plane_args = [a[p : p + 1] if isinstance(a, np.ndarray) else a for a in args]
        out[p : p + 1] = solver(y[p : p + 1], psf, *plane_args)
    return out


def _linear_rule(method: str, sigma: np.ndarray, spread: np.ndarray) -> np.ndarray:
    gain, power = _LINEAR_RULE[method]
    return gain * (sigma / spread) ** power


def finish(out: np.ndarray, dtype: str, clip_range: tuple[float, float] | None) -> np.ndarray:
    """The solution clipped to ``clip_range`` when given, then in the NumPy dtype named
    ``dtype`` (integers rounded and saturated; a float dtype NumPy lacks, bfloat16, is left to
    the caller)."""
    if clip_range is not None:
        out = np.clip(out, *clip_range)
    if dtype in _checks.INT_DTYPES:
        info = np.iinfo(np.dtype(dtype))
        return np.clip(np.rint(out), info.min, info.max).astype(dtype)
    if dtype in ("float32", "float64", "float16"):
        return out.astype(dtype)
    return out
