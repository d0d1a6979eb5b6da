"""Arrays of non-native byte order (``">f4"``, ``">f8"``, ``">i2"`` on a little-endian machine)
give, for every operator, the result of the native-order input bit for bit, in the native-order
dtype; a ``numpy.ma.MaskedArray`` is refused (its mask would be lost)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.sparse

import upsampling as up


@dataclass(frozen=True)
class Case:
    fn: str  # the name errors carry
    call: Callable[..., object]
    arrays: Callable[[np.random.Generator, np.dtype], dict[str, np.ndarray]]
    integers: bool = False  # integer dtypes allowed


def _x(shape):
    def arrays(rng, dtype):
        x = rng.standard_normal(shape) * 20
        return {"x": x.round().astype(dtype) if dtype.kind == "i" else x.astype(dtype)}

    return arrays


def _interpolate(**kwargs):
    return lambda x: up.interpolate(x, **kwargs)


def _conv_arrays(transposed):
    def arrays(rng, dtype):
        weight = (3, 2, 3, 2) if transposed else (2, 3, 3, 2)
        return {
            "x": rng.standard_normal((2, 3, 6, 5)).astype(dtype),
            "weight": rng.standard_normal(weight).astype(dtype),
            "bias": rng.standard_normal(2).astype(dtype),
        }

    return arrays


def _unpool_arrays(rng, dtype):
    x = (rng.standard_normal((2, 3, 6, 8)) * 20).round().astype(dtype)
    values, indices = up.max_pool(x, 2, return_indices=True)
    return {"x": values, "indices": indices}


def _deconvolve_arrays(rng, dtype):
    weight = rng.standard_normal((2, 1, 3, 3)).astype(dtype)
    y = up.conv(rng.standard_normal((1, 1, 6, 6)).astype(dtype), weight)
    return {"y": y, "weight": weight}


def _deblur_arrays(rng, dtype):
    image = rng.random((12, 14)) * 200
    psf = np.outer([1.0, 2.0, 1.0], [1.0, 2.0, 1.0])
    psf = psf / psf.sum() if dtype.kind == "f" else psf
    return {
        "image": image.round().astype(dtype) if dtype.kind == "i" else image.astype(dtype),
        "psf": psf.astype(dtype),
    }


CASES = {
    "interpolate-nearest": Case(
        "interpolate", _interpolate(scale_factor=2), _x((2, 3, 5, 4)), True
    ),
    "interpolate-nearest-exact": Case(
        "interpolate", _interpolate(size=(7, 3), mode="nearest-exact"), _x((2, 3, 5, 4)), True
    ),
    "interpolate-linear": Case(
        "interpolate", _interpolate(scale_factor=3, mode="linear"), _x((2, 3, 5)), True
    ),
    "interpolate-bilinear": Case(
        "interpolate", _interpolate(scale_factor=2, mode="bilinear"), _x((2, 3, 5, 4)), True
    ),
    "interpolate-bilinear-corners": Case(
        "interpolate",
        _interpolate(size=(9, 7), mode="bilinear", align_corners=True),
        _x((2, 3, 5, 4)),
        True,
    ),
    "interpolate-bilinear-antialias": Case(
        "interpolate",
        _interpolate(size=(3, 2), mode="bilinear", antialias=True),
        _x((2, 3, 9, 7)),
        True,
    ),
    "interpolate-bicubic": Case(
        "interpolate", _interpolate(scale_factor=2, mode="bicubic"), _x((2, 3, 5, 4)), True
    ),
    "interpolate-trilinear": Case(
        "interpolate", _interpolate(scale_factor=2, mode="trilinear"), _x((1, 2, 3, 4, 3)), True
    ),
    "interpolate-area-size": Case(
        "interpolate", _interpolate(size=(3, 2), mode="area"), _x((2, 3, 7, 5)), True
    ),
    "interpolate-area-scale": Case(
        "interpolate", _interpolate(scale_factor=0.5, mode="area"), _x((2, 3, 8, 6)), True
    ),
    "interpolate-onnx": Case(
        "interpolate",
        _interpolate(scale_factor=2, mode="bicubic", coordinate_transformation_mode="half_pixel"),
        _x((2, 3, 5, 4)),
        True,
    ),
    "unpool-nearest": Case("unpool", lambda x: up.unpool(x, 2), _x((2, 3, 4, 3)), True),
    "unpool-bed_of_nails": Case(
        "unpool", lambda x: up.unpool(x, (2, 3), "bed_of_nails", offset=1), _x((2, 3, 4, 3)), True
    ),
    "max_pool": Case(
        "max_pool",
        lambda x: up.max_pool(x, 3, 2, 1, return_indices=True),
        _x((2, 3, 7, 6)),
        True,
    ),
    "max_unpool": Case(
        "max_unpool",
        lambda x, indices: up.max_unpool(x, indices, 2, output_size=(7, 9)),
        _unpool_arrays,
        True,
    ),
    "conv": Case(
        "conv",
        lambda x, weight, bias: up.conv(x, weight, bias, stride=2, padding=1),
        _conv_arrays(False),
    ),
    **{
        f"conv_transpose-{method}": Case(
            "conv_transpose",
            lambda x, weight, bias, method=method: up.conv_transpose(
                x, weight, bias, stride=2, padding=1, output_padding=1, method=method
            ),
            _conv_arrays(True),
        )
        for method in ("auto", "scatter", "zero_insertion", "subpixel", "matrix")
    },
    "conv_matrix": Case(
        "conv_matrix",
        lambda weight: up.conv_matrix(weight, (6, 5), stride=2, padding=1),
        lambda rng, dtype: {"weight": rng.standard_normal((2, 3, 3, 2)).astype(dtype)},
    ),
    **{
        f"deconvolve-{method}": Case(
            "deconvolve",
            lambda y, weight, method=method: up.deconvolve(y, weight, method=method),
            _deconvolve_arrays,
        )
        for method in ("lsqr", "cg", "direct")
    },
    "deblur-wiener": Case(
        "deblur", lambda image, psf: up.deblur(image, psf, method="wiener"), _deblur_arrays, True
    ),
    "deblur-richardson_lucy": Case(
        "deblur",
        lambda image, psf: up.deblur(image, psf, method="richardson_lucy", iterations=3),
        _deblur_arrays,
        True,
    ),
    "pixel_shuffle": Case(
        "pixel_shuffle", lambda x: up.pixel_shuffle(x, 2), _x((2, 8, 3, 4)), True
    ),
    "pixel_unshuffle": Case(
        "pixel_unshuffle", lambda x: up.pixel_unshuffle(x, 2), _x((2, 2, 4, 6)), True
    ),
}

DTYPES = ["float32", "float64", "int16"]


def swapped(a: np.ndarray) -> np.ndarray:
    """The same values in the other byte order (``">f4"`` on a little-endian machine)."""
    out = a.astype(a.dtype.newbyteorder("S"))
    assert not out.dtype.isnative and np.array_equal(out, a)
    return out


def assert_same(got, want) -> None:
    """Equal bit for bit, with the same (native) dtype."""
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            assert_same(g, w)
        return
    if scipy.sparse.issparse(want):
        got, want = got.tocsr(), want.tocsr()
        assert got.shape == want.shape
        for g, w in ((got.indptr, want.indptr), (got.indices, want.indices)):
            assert_same(g, w)
        got, want = got.data, want.data
    assert isinstance(got, np.ndarray) and type(got) is type(want)
    assert got.dtype == want.dtype and got.dtype.isnative
    assert got.shape == want.shape
    assert np.ascontiguousarray(got).tobytes() == np.ascontiguousarray(want).tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", CASES)
def test_swapped_byte_order_equals_native(name, dtype, rng):
    case = CASES[name]
    if dtype.startswith("int") and not case.integers:
        pytest.skip("floats only")
    arrays = case.arrays(rng, np.dtype(dtype))
    want = case.call(**arrays)
    every = {k: swapped(a) for k, a in arrays.items()}
    assert_same(case.call(**every), want)
    if len(arrays) > 1:  # each argument alone in the other order
        for key in arrays:
            assert_same(case.call(**{**arrays, key: every[key]}), want)


def test_result_dtype_is_the_native_equivalent(rng):
    x = swapped(rng.standard_normal((1, 1, 3, 4)))
    for y in (up.interpolate(x, scale_factor=2, mode="bilinear"), up.unpool(x, 2)):
        assert y.dtype == np.dtype("float64") and y.dtype.isnative


def test_float64_computes_in_float64(rng):
    # The issue: the compute dtype was chosen by ``dtype == np.float64``, False for ">f8".
    x = rng.standard_normal((1, 2, 5, 6))
    for mode in ("bilinear", "bicubic", "area"):
        want = up.interpolate(x, scale_factor=2, mode=mode)
        got = up.interpolate(swapped(x), scale_factor=2, mode=mode)
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", CASES)
def test_masked_arrays_are_refused(name, rng):
    case = CASES[name]
    arrays = case.arrays(rng, np.dtype("float64"))
    for key, a in arrays.items():
        masked = np.ma.masked_array(a, mask=np.zeros(a.shape, bool))
        message = rf"^{case.fn}: {key} is a numpy.ma.MaskedArray.*np\.ma\.filled\({key}, value\)"
        with pytest.raises(TypeError, match=message):
            case.call(**{**arrays, key: masked})


DASK_CASES = {
    "interpolate": lambda a: up.interpolate(a, scale_factor=2, mode="bilinear"),
    "unpool": lambda a: up.unpool(a, 2),
    "conv": lambda a: up.conv(a, np.ones((3, 2, 3, 3)), padding=1),
    "conv_transpose": lambda a: up.conv_transpose(a, np.ones((2, 3, 3, 3)), stride=2),
    "deblur": lambda a: up.deblur(a, np.ones((3, 3)) / 9, method="wiener"),
}


@pytest.mark.parametrize("name", sorted(DASK_CASES))
def test_dask_arrays_of_swapped_byte_order(name, rng):
    """A Dask array of ">f8" computes as float64, equal to the native in-memory result."""
    da = pytest.importorskip("dask.array")
    a = rng.random((1, 2, 6, 7))
    expected = DASK_CASES[name](a)
    got = DASK_CASES[name](da.from_array(a.astype(">f8"), chunks=(1, 2, 3, 4))).compute()
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
