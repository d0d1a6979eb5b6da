"""deblur: quality floors on a synthetic scene, boundaries, automatic parameters, laws
(normalisation, shift and scale equivariance, batches), N-d, the numba and NumPy paths of tv,
torch and integer input, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
import torch

from upsampling import _deblur_solvers as solvers
from upsampling.deblur import deblur, estimate_noise

METHODS = ("tv", "wiener", "tikhonov", "richardson_lucy", "richardson_lucy_tv")


# ------------------------------------------------------------------------------------ scenes
def scene(n: int = 64) -> np.ndarray:
    """A piecewise-smooth test image in [0, 1]: a ramp, a rectangle, a disk and a dark bar."""
    t = np.linspace(0, 1, n)
    x = 0.2 + 0.3 * t[:, None] * t[None, :]
    x[10:30, 12:40] += 0.4
    r, c = np.mgrid[:n, :n]
    x[(r - 44) ** 2 + (c - 40) ** 2 < 100] = 0.9
    x[48:58, 6:20] = 0.05
    return x


def gaussian_psf(sigma: float = 1.2, radius: int = 4, d: int = 2) -> np.ndarray:
    t = np.arange(-radius, radius + 1)
    g = np.exp(-(t**2) / (2 * sigma**2))
    k = g
    for _ in range(d - 1):
        k = np.multiply.outer(k, g)
    return k / k.sum()


def motion_psf() -> np.ndarray:
    k = np.zeros((7, 7))
    k[np.arange(1, 6), np.arange(5, 0, -1)] = 1  # a diagonal streak
    return k / k.sum()


def blur(x: np.ndarray, psf: np.ndarray) -> np.ndarray:
    """``x * psf`` of a scene continued by reflection past the frame (trailing axes)."""
    lead = x.ndim - psf.ndim
    pads = [(0, 0)] * lead + [(k // 2, k - 1 - k // 2) for k in psf.shape]
    kernel = psf.reshape((1,) * lead + psf.shape)
    return scipy.signal.fftconvolve(np.pad(x, pads, mode="reflect"), kernel, mode="valid")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((np.asarray(a) - b) ** 2)))


@pytest.fixture(scope="module")
def case():
    x = scene()
    psf = gaussian_psf()
    clean = blur(x, psf)
    noisy = clean + 0.01 * np.random.default_rng(5).standard_normal(x.shape)
    return x, psf, clean, noisy


# ----------------------------------------------------------------------------------- quality
# PSNR floors (dB) on the noisy scene; the blurred input scores 26.1 dB.
FLOORS = {
    "auto": 33.2,
    "tv": 33.2,
    "wiener": 27.2,
    "tikhonov": 27.2,
    "richardson_lucy": 26.9,
    "richardson_lucy_tv": 28.5,
}


@pytest.mark.parametrize("method", list(FLOORS))
def test_quality_floor(case, method):
    x, psf, _, noisy = case
    assert psnr(deblur(noisy, psf, method=method), x) >= FLOORS[method]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("psf_name", ["gaussian", "motion"])
def test_clean_image_is_not_made_worse(case, method, psf_name):
    """Automatic parameters on a noise-free blurred image: never worse than the input."""
    x = case[0]
    psf = gaussian_psf() if psf_name == "gaussian" else motion_psf()
    clean = blur(x, psf)
    assert psnr(deblur(clean, psf, method=method), x) > psnr(clean, x) + 1.0


def test_tv_beats_the_linear_methods(case):
    x, psf, _, noisy = case
    tv = psnr(deblur(noisy, psf), x)
    assert tv > psnr(deblur(noisy, psf, method="wiener"), x) + 3
    assert tv > psnr(deblur(noisy, psf, method="tikhonov"), x) + 3


@pytest.mark.parametrize("method", METHODS)
def test_reflect_boundary_does_not_ring_at_the_edge(case, method):
    """The frame's border band is restored about as well as the interior with the default
    boundary; a periodic assumption on a non-periodic scene rings there."""
    x, psf, _, noisy = case
    band = np.ones(x.shape, bool)
    band[6:-6, 6:-6] = False

    def error(out, where):
        return float(np.sqrt(np.mean((out - x)[where] ** 2)))

    out = deblur(noisy, psf, method=method)
    assert error(out, band) < 1.6 * error(out, ~band)
    periodic = deblur(noisy, psf, method=method, boundary="periodic")
    assert error(out, band) < 0.75 * error(periodic, band)


@pytest.mark.parametrize("method", ["tv", "wiener", "tikhonov"])
def test_periodic_boundary_on_a_periodic_blur(case, method):
    x, psf = case[0], case[1]
    big = np.zeros(x.shape)
    big[: psf.shape[0], : psf.shape[1]] = psf
    big = np.roll(big, (-(psf.shape[0] // 2), -(psf.shape[1] // 2)), axis=(0, 1))
    y = np.fft.irfft2(np.fft.rfft2(x) * np.fft.rfft2(big), s=x.shape)
    y += 0.01 * np.random.default_rng(1).standard_normal(x.shape)
    assert psnr(deblur(y, psf, method=method, boundary="periodic"), x) > psnr(y, x) + 1


def test_explicit_balance_and_iterations(case):
    x, psf, _, noisy = case

    def total_variation(a):
        return float(np.abs(np.diff(a, axis=0)).sum() + np.abs(np.diff(a, axis=1)).sum())

    strong = deblur(noisy, psf, balance=1.0)
    assert total_variation(strong) < 0.5 * total_variation(deblur(noisy, psf))
    one = deblur(noisy, psf, iterations=1)
    many = deblur(noisy, psf, iterations=40)
    assert psnr(many, x) > psnr(one, x)
    weak, strong = (deblur(noisy, psf, method="wiener", balance=b) for b in (1e-6, 10.0))
    assert np.std(weak) > np.std(strong)


# --------------------------------------------------------------------------------------- laws
@pytest.mark.parametrize("method", METHODS)
def test_psf_is_normalised(case, method):
    _, psf, _, noisy = case
    np.testing.assert_allclose(
        deblur(noisy, 3.5 * psf, method=method), deblur(noisy, psf, method=method), atol=1e-9
    )


@pytest.mark.parametrize("method", ["tv", "wiener", "tikhonov"])
def test_shift_equivariance_negative_values(case, method):
    """Negative values are ordinary values: deblur(y - c) == deblur(y) - c."""
    _, psf, _, noisy = case
    np.testing.assert_allclose(
        deblur(noisy - 0.7, psf, method=method),
        deblur(noisy, psf, method=method) - 0.7,
        atol=1e-8,
    )


@pytest.mark.parametrize("method", METHODS)
def test_scale_equivariance(case, method):
    _, psf, _, noisy = case
    y = noisy + 0.1  # positive, for the Richardson-Lucy methods
    np.testing.assert_allclose(
        deblur(250 * y, psf, method=method), 250 * deblur(y, psf, method=method), rtol=1e-7
    )


@pytest.mark.parametrize("method", ["richardson_lucy", "richardson_lucy_tv"])
def test_richardson_lucy_with_negative_values(case, method):
    x, psf, _, noisy = case
    out = deblur(noisy - 0.3, psf, method=method) + 0.3
    assert np.isfinite(out).all()
    assert psnr(out, x) > psnr(noisy, x) + 1


def test_batch_planes_are_independent(case):
    x, psf, _, noisy = case
    rng = np.random.default_rng(2)
    second = blur(x[::-1].copy(), psf) + 0.02 * rng.standard_normal(x.shape)
    batch = np.stack([noisy, second]).reshape(2, 1, *x.shape)
    out = deblur(batch, psf)
    assert out.shape == batch.shape
    np.testing.assert_allclose(out[0, 0], deblur(noisy, psf), atol=1e-10)
    np.testing.assert_allclose(out[1, 0], deblur(second, psf), atol=1e-10)


def test_clip(case):
    _, psf, _, noisy = case
    free = deblur(noisy, psf, method="wiener")
    assert free.max() > noisy.max() or free.min() < noisy.min()  # overshoot exists
    clipped = deblur(noisy, psf, method="wiener", clip=True)
    assert clipped.min() >= noisy.min() and clipped.max() <= noisy.max()
    np.testing.assert_array_equal(clipped, np.clip(free, noisy.min(), noisy.max()))


def test_constant_image_is_kept():
    y = np.full((20, 24), 0.3)
    for method in METHODS:
        np.testing.assert_allclose(deblur(y, gaussian_psf(), method=method), y, atol=1e-6)


def test_estimate_noise():
    rng = np.random.default_rng(3)
    planes = np.stack([0.4 + s * rng.standard_normal((128, 128)) for s in (0.02, 0.05)])
    np.testing.assert_allclose(estimate_noise(planes, 2), [0.02, 0.05], rtol=0.05)
    assert estimate_noise(planes).shape == ()
    assert abs(float(estimate_noise(blur(scene(128), gaussian_psf())))) < 1e-3


# ------------------------------------------------------------------------- dims and backends
@pytest.mark.parametrize("method", METHODS)
def test_volume(method):
    """A 3-D volume with a 3-D PSF."""
    n = 24
    r = np.indices((n, n, n)) - n / 2
    x = 0.2 + 0.6 * ((r**2).sum(0) < 49) + 0.1 * (r[0] > 3)
    psf = gaussian_psf(1.0, 2, d=3)
    y = blur(x, psf) + 0.01 * np.random.default_rng(4).standard_normal(x.shape)
    assert psnr(deblur(y, psf, method=method), x) > psnr(y, x) + 1


def test_signal_1d():
    t = np.linspace(0, 1, 200)
    x = np.where(t > 0.3, 1.0, 0.2) - 0.5 * (t > 0.7)
    psf = gaussian_psf(2.0, 6, d=1)
    y = blur(x, psf) + 0.01 * np.random.default_rng(6).standard_normal(x.shape)
    assert psnr(deblur(y, psf), x) > psnr(y, x) + 3


@pytest.mark.parametrize("d", [1, 2, 3])
def test_tv_numba_matches_numpy(d):
    rng = np.random.default_rng(d)
    y = rng.random((2,) + (12,) * d)
    psf = gaussian_psf(1.0, 1, d=d)
    args = (y, psf, "reflect", np.array([0.01, 0.02]), np.array([0.01, 0.03]), np.array([0.1, 0.2]))
    fused = solvers.tv(*args, 7, fused=True)
    plain = solvers.tv(*args, 7, fused=False)
    np.testing.assert_allclose(fused, plain, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_torch(case, dtype):
    _, psf, _, noisy = case
    t = torch.from_numpy(noisy).to(dtype)
    out = deblur(t, torch.from_numpy(psf))
    assert isinstance(out, torch.Tensor) and out.dtype == dtype and out.device == t.device
    expected = deblur(t.float().numpy() if dtype != torch.float64 else noisy, psf)
    tol = {torch.float16: 2e-3, torch.bfloat16: 1e-2}.get(dtype, 1e-6)
    np.testing.assert_allclose(out.float().numpy(), expected, atol=tol)


def test_float32_and_uint8(case):
    x, psf, _, noisy = case
    out32 = deblur(noisy.astype(np.float32), psf)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, deblur(noisy, psf), atol=2e-3)
    u8 = np.clip(np.rint(noisy * 255), 0, 255).astype(np.uint8)
    out8 = deblur(u8, psf)
    assert out8.dtype == np.uint8
    assert psnr(out8 / 255.0, x) > psnr(u8 / 255.0, x) + 3


# ---------------------------------------------------------------------------------- bad input
GOOD = np.ones((16, 16))
PSF = np.ones((3, 3))


@pytest.mark.parametrize(
    ("image", "psf", "kwargs", "exc", "match"),
    [
        (np.full((16, 16), np.nan), PSF, {}, ValueError, "image contains NaN"),
        (np.where(np.eye(16) > 0, np.inf, 1.0), PSF, {}, ValueError, "image contains inf"),
        (GOOD, np.full((3, 3), np.nan), {}, ValueError, "psf contains NaN"),
        (GOOD, np.zeros((3, 3)), {}, ValueError, "psf is all zero"),
        (GOOD, np.array([1.0, -1.0]), {}, ValueError, "psf sums to 0"),
        (GOOD, np.ones((17, 3)), {}, ValueError, "no larger than"),
        (GOOD, np.ones((1, 1, 1)), {}, ValueError, "between 1 and image.ndim"),
        (GOOD, np.ones(()), {}, ValueError, "between 1 and image.ndim"),
        (np.ones((0, 4)), PSF, {}, ValueError, "non-empty"),
        (GOOD, PSF, {"method": "blind"}, ValueError, "method 'blind' must be one of"),
        (GOOD, PSF, {"method": 3}, TypeError, "method 3 must be one of"),
        (GOOD, PSF, {"boundary": "zero"}, ValueError, "boundary 'zero' must be one of"),
        (GOOD, PSF, {"balance": 0.0}, ValueError, "balance 0.0 must be positive"),
        (GOOD, PSF, {"balance": np.inf}, ValueError, "balance inf must be finite"),
        (GOOD, PSF, {"balance": "1"}, TypeError, "balance '1' must be a real number"),
        (GOOD, PSF, {"method": "richardson_lucy", "balance": 1.0}, ValueError, "not used"),
        (GOOD, PSF, {"iterations": 0}, ValueError, "iterations"),
        (GOOD, PSF, {"iterations": 2.0}, TypeError, "iterations 2.0 must be an int"),
        (GOOD, PSF, {"method": "wiener", "iterations": 3}, ValueError, "not used"),
        (GOOD, PSF, {"clip": 1}, TypeError, "clip 1 must be True or False"),
        (GOOD, np.array([[1.0, -0.2]]), {"method": "richardson_lucy"}, ValueError, "negative"),
        ([[1.0]], PSF, {}, TypeError, "image must be a numpy.ndarray or a torch.Tensor"),
        (GOOD, [1.0], {}, TypeError, "psf must be a numpy.ndarray"),
        (GOOD.astype(complex), PSF, {}, TypeError, "image has dtype complex128"),
        (GOOD.astype(bool), PSF, {}, TypeError, "image has dtype bool"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_input(image, psf, kwargs, exc, match):
    with pytest.raises(exc, match=f"^deblur: .*{match}"):
        deblur(image, psf, **kwargs)


def test_negative_psf_is_fine_for_linear_and_tv(case):
    x, psf, _, noisy = case
    wobbly = psf.copy()
    wobbly[0, 0] = -1e-4
    for method in ("tv", "wiener"):
        assert psnr(deblur(noisy, wobbly, method=method), x) > psnr(noisy, x) + 1
