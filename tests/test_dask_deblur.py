"""deblur of Dask arrays: exact where it can be (one chunk per plane; Richardson-Lucy with a
fixed number of iterations, whose reach the halo covers; the noise estimate), and a bounded
error at the seams of the global methods."""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
import dask  # noqa: E402
from scipy.ndimage import convolve  # noqa: E402

import upsampling as up  # noqa: E402
from upsampling import shapes  # noqa: E402
from upsampling.deblur import deblur, estimate_noise  # noqa: E402

deblurring = pytest.importorskip("upsampling._dask.deblurring")

METHODS = ["wiener", "tikhonov", "tv", "richardson_lucy", "richardson_lucy_tv"]


@pytest.fixture(autouse=True)
def _synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


@pytest.fixture(scope="module")
def blurred():
    """Two colour planes of the sample photograph, Gaussian blur, noise 0.01."""
    rng = np.random.default_rng(20261125)
    image = up.data.sample()[0, :2, 100:196, 200:296].astype(np.float64)
    g = np.exp(-0.5 * np.arange(-3, 4) ** 2 / 1.5**2)
    psf = np.outer(g, g)
    y = np.stack([convolve(p, psf / psf.sum(), mode="reflect") for p in image])
    return (y + 0.01 * rng.standard_normal(y.shape)).astype(np.float32), psf


@pytest.mark.parametrize("method", METHODS)
def test_one_chunk_per_plane_is_the_in_memory_result(blurred, method):
    """With each plane in one chunk the solve is the in-memory one, parameters included."""
    y, psf = blurred
    got = deblur(da.from_array(y, chunks=(1, -1, -1)), psf, method=method)
    assert isinstance(got, da.Array) and got.dtype == y.dtype and got.chunks[0] == (1, 1)
    np.testing.assert_allclose(got.compute(), deblur(y, psf, method=method), rtol=0, atol=1e-6)


@pytest.mark.parametrize("method", ["richardson_lucy", "richardson_lucy_tv"])
@pytest.mark.parametrize("chunks", [(16, 16), (20, 13), (5, 7)], ids=["16", "20x13", "5x7"])
def test_richardson_lucy_with_fixed_iterations_is_exact(blurred, method, chunks):
    """The halo is the iterations' reach: up to FFT rounding, the chunks are the whole.
    Richardson-Lucy-TV's gradient wraps around the FFT grid, coupling the image's opposite
    edges: exact only farther from them than the iterations reach."""
    y, psf = blurred
    y = y.astype(np.float64) - 0.05  # negative values: the shift comes from the whole plane
    expected = deblur(y, psf, method=method, iterations=4)
    got = deblur(da.from_array(y, chunks=(1, *chunks)), psf, method=method, iterations=4)
    got = got.compute()
    inner = (Ellipsis, slice(25, -25), slice(25, -25))  # 4 iterations x (7 - 1) pixels
    np.testing.assert_allclose(got[inner], expected[inner], rtol=0, atol=1e-10)
    if method == "richardson_lucy":
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)
    else:
        assert 1e-6 < np.abs(got - expected).max() < 1e-2


@pytest.mark.parametrize(
    ("shape", "chunks"),
    [
        ((3, 37, 41), (2, 7, 5)),
        ((2, 20, 21), (1, 1, 1)),
        ((1, 9), (1, 2)),
        ((1, 8, 7, 9), (1, 3, 3, 4)),
    ],
    ids=["2d", "pixels", "1d", "3d"],
)
@pytest.mark.parametrize("ties", [False, True], ids=["real", "integers"])
def test_noise_estimate_is_the_in_memory_median(shape, chunks, ties):
    """The median of all Haar coefficients of a plane, found chunk by chunk in two passes."""
    y = np.random.default_rng(len(shape)).standard_normal(shape) * 3
    y[..., :2] *= 10
    if ties:
        y = np.round(y)
    got = deblurring._noise_estimate(da.from_array(y, chunks=chunks)[:, None]).compute()
    np.testing.assert_array_equal(got, estimate_noise(y, y.ndim - 1))


# Measured on this image with chunks of 32, 40x24 and 7x9 pixels (fractions of the input's
# range), with a margin: the seams of the global methods and each chunk's own stopping rule.
BOUNDS = {  # method: (max, mean)
    "wiener": (1e-5, 1e-6),
    "tikhonov": (2e-2, 5e-3),
    "tv": (0.15, 4e-3),
    "richardson_lucy": (0.06, 2e-3),
    "richardson_lucy_tv": (0.08, 3e-3),
}


@pytest.mark.parametrize("chunks", [(32, 32), (40, 24)], ids=["32", "40x24"])
@pytest.mark.parametrize("method", METHODS)
def test_seam_error_is_bounded(blurred, method, chunks):
    y, psf = blurred
    expected = deblur(y, psf, method=method)
    got = deblur(da.from_array(y, chunks=(1, *chunks)), psf, method=method).compute()
    err = np.abs(got - expected) / float(y.max() - y.min())
    worst, mean = BOUNDS[method]
    assert err.max() <= worst and err.mean() <= mean
    if method != "wiener":  # the bound is not loose: the seams do differ
        assert err.max() > worst / 100


@pytest.mark.parametrize(
    ("shape", "chunks", "psf", "kw"),
    [
        ((40, 36), (13, 10), np.ones((3, 3)), dict(method="wiener")),
        ((2, 3, 30, 28), (1, 2, 15, 14), np.ones((3, 3)), dict(method="wiener", clip=True)),
        ((2, 3, 50), (1, 3, 20), np.array([1.0, 2.0, 1.0]), dict(method="richardson_lucy")),
        ((40, 36), (20, 18), np.ones((3, 3)), dict(method="wiener", boundary="periodic")),
        ((3, 40, 36), (2, 40, 36), np.ones((3, 3)), dict(boundary="periodic")),
    ],
    ids=["2d", "batch-clip", "1d-psf", "periodic-chunks", "periodic-whole"],
)
@pytest.mark.parametrize("dtype", ["float64", "uint8"])
def test_layouts_and_dtypes(shape, chunks, psf, kw, dtype):
    y = np.random.default_rng(3).random(shape)
    y = (y * 255).astype(dtype) if dtype == "uint8" else y
    kw = dict(kw, iterations=3) if kw.get("method") == "richardson_lucy" else kw
    expected = deblur(y, psf, **kw)
    got = deblur(da.from_array(y, chunks=chunks), psf, **kw)
    assert got.shape == y.shape and got.dtype == y.dtype
    assert got.chunks == da.from_array(y, chunks=chunks).chunks  # the input's chunks
    atol = 1.0 if dtype == "uint8" else 1e-5  # uint8: a rounding may fall the other way
    np.testing.assert_allclose(got.compute().astype(float), expected.astype(float), atol=atol)


def test_halo_formula():
    assert shapes.deblur_halo((5, 3), "richardson_lucy", 10) == (41, 21)
    assert shapes.deblur_halo((1,), "richardson_lucy_tv", 2) == (3,)
    assert shapes.deblur_halo((7,), "tv", None) == (6 * shapes.DEBLUR_WIDTHS,)
    assert shapes.deblur_halo((7,), "richardson_lucy", None) == (6 * shapes.DEBLUR_WIDTHS,)


def test_lazy_and_errors_at_compute():
    y = np.random.default_rng(0).random((24, 24))
    y[5, 5] = np.nan
    lazy = deblur(da.from_array(y, chunks=12), np.ones((3, 3)))  # nothing computed yet
    with pytest.raises(ValueError, match="deblur: image contains NaN"):
        lazy.compute()


BAD = [
    dict(method="blind"),
    dict(boundary="zero"),
    dict(method="richardson_lucy", balance=0.1),
    dict(method="wiener", iterations=3),
    dict(iterations=0),
    dict(balance=-1.0),
    dict(psf=np.zeros((3, 3))),
    dict(psf=np.ones((30, 3))),
    dict(psf=-np.ones((3, 3)), method="richardson_lucy"),
    dict(clip=1),
]


@pytest.mark.parametrize("kw", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_input_same_error_as_in_memory(kw):
    kw = dict(kw)
    psf = kw.pop("psf", np.ones((3, 3)))
    y = np.ones((2, 20, 20))
    with pytest.raises((ValueError, TypeError)) as expected:
        deblur(y, psf, **kw)
    with pytest.raises(expected.type) as got:
        deblur(da.from_array(y, chunks=10), psf, **kw)
    assert str(got.value) == str(expected.value)
