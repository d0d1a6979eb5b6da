"""0-d tensors and 0-d NumPy arrays as int and float arguments count as their values, and 1-d
ones as tuples of per-dimension values, as PyTorch accepts them (``size=torch.tensor(7)``):
every operator gives exactly the result of the plain call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch

import upsampling as up


@dataclass(frozen=True)
class Case:
    call: Callable[..., object]  # call(arrays, **options)
    arrays: Callable[[np.random.Generator], tuple]
    options: dict  # ints, floats (exact in float32) and tuples of them


def _x(shape):
    return lambda rng: (rng.standard_normal(shape),)


def _interpolate(arrays, **options):
    return up.interpolate(*arrays, **options)


def _pooled(rng):
    values, indices = up.max_pool(rng.standard_normal((2, 3, 6, 8)), 2, return_indices=True)
    return values, indices


def _deconvolve_arrays(rng):
    weight = rng.standard_normal((2, 1, 3, 3))
    return up.conv(rng.standard_normal((1, 1, 6, 6)), weight), weight


def _deblur_arrays(rng):
    psf = np.outer([1.0, 2.0, 1.0], [1.0, 2.0, 1.0])
    return rng.random((12, 14)), psf / psf.sum()


_X2 = _x((2, 3, 5, 4))
CASES = {
    "interpolate-size": Case(_interpolate, _X2, {"size": 7}),
    "interpolate-sizes": Case(_interpolate, _X2, {"size": (7, 9)}),
    "interpolate-scale-int": Case(_interpolate, _X2, {"scale_factor": 2, "mode": "bilinear"}),
    "interpolate-scale-float": Case(_interpolate, _X2, {"scale_factor": 1.5, "mode": "bicubic"}),
    "interpolate-scales": Case(_interpolate, _X2, {"scale_factor": (2.0, 1.5), "mode": "area"}),
    "interpolate-onnx": Case(
        _interpolate,
        _X2,
        {
            "size": (7, 6),
            "mode": "bicubic",
            "coordinate_transformation_mode": "tf_crop_and_resize",
            "roi": (0.125, 0.25, 0.75, 0.875),
            "cubic_coeff_a": -0.5,
        },
    ),
    "unpool": Case(
        lambda a, **o: up.unpool(*a, **o),
        _X2,
        {"scale_factor": 3, "mode": "bed_of_nails", "offset": 1},
    ),
    "unpool-tuples": Case(
        lambda a, **o: up.unpool(*a, **o),
        _X2,
        {"scale_factor": (2, 3), "mode": "bed_of_nails", "offset": (1, 2)},
    ),
    "max_pool": Case(
        lambda a, **o: up.max_pool(*a, **o, return_indices=True),
        _x((2, 3, 9, 8)),
        {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2},
    ),
    "max_unpool": Case(
        lambda a, **o: up.max_unpool(*a, **o),
        _pooled,
        {"kernel_size": 2, "stride": 2, "padding": 0, "output_size": (7, 9)},
    ),
    "conv": Case(
        lambda a, **o: up.conv(*a, **o),
        lambda rng: (rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((2, 2, 3, 2))),
        {"stride": 2, "padding": 1, "dilation": 2, "groups": 2},
    ),
    "conv_transpose": Case(
        lambda a, **o: up.conv_transpose(*a, **o),
        lambda rng: (rng.standard_normal((2, 4, 4, 3)), rng.standard_normal((4, 1, 3, 2))),
        {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2, "dilation": 2},
    ),
    "conv_transpose-output_size": Case(
        lambda a, **o: up.conv_transpose(*a, **o, stride=2),
        lambda rng: (rng.standard_normal((2, 4, 4, 3)), rng.standard_normal((4, 1, 3, 2))),
        {"output_size": (10, 7)},
    ),
    "conv_matrix": Case(
        lambda a, **o: up.conv_matrix(*a, **o).toarray(),
        lambda rng: (rng.standard_normal((2, 4, 3, 2)),),
        {"input_size": (6, 5), "stride": 2, "padding": 1, "dilation": 1, "groups": 2},
    ),
    "deconvolve": Case(
        lambda a, **o: up.deconvolve(*a, **o),
        _deconvolve_arrays,
        {
            "input_size": (6, 6),
            "stride": 1,
            "padding": 0,
            "dilation": 1,
            "groups": 1,
            "damp": 0.125,
            "iterations": 100,
            "tol": 2.0**-10,
        },
    ),
    "deblur-tikhonov": Case(
        lambda a, **o: up.deblur(*a, method="tikhonov", **o), _deblur_arrays, {"balance": 0.25}
    ),
    "deblur-richardson_lucy": Case(
        lambda a, **o: up.deblur(*a, method="richardson_lucy", **o),
        _deblur_arrays,
        {"iterations": 3},
    ),
    "pixel_shuffle": Case(
        lambda a, **o: up.pixel_shuffle(*a, **o), _x((2, 8, 3, 4)), {"upscale_factor": 2}
    ),
    "pixel_shuffle-tuple": Case(
        lambda a, **o: up.pixel_shuffle(*a, **o), _x((2, 6, 3, 4)), {"upscale_factor": (2, 3)}
    ),
    "pixel_unshuffle": Case(
        lambda a, **o: up.pixel_unshuffle(*a, **o), _x((2, 2, 4, 6)), {"downscale_factor": 2}
    ),
    "checkerboard": Case(
        lambda a, **o: up.checkerboard(**o), lambda rng: (), {"kernel_size": 3, "stride": 2}
    ),
    "checkerboard-dims": Case(
        lambda a, **o: up.checkerboard(**o, dims=2),
        lambda rng: (),
        {"kernel_size": (3, 4), "stride": (2, 3), "dilation": 1},
    ),
}


def _zero_d(kind: str, v):
    """``v`` as a 0-d tensor or array (floats in float32, exact for the values above); a tuple
    as a tuple of them."""
    if isinstance(v, tuple):
        return tuple(_zero_d(kind, e) for e in v)
    return torch.tensor(v) if kind == "torch" else np.array(v)


def _one_d(kind: str, v):
    """A tuple as one 1-d tensor or array; a number as a 0-d one."""
    if isinstance(v, tuple):
        return torch.tensor(v) if kind == "torch" else np.array(v)
    return _zero_d(kind, v)


WRAPPERS = {
    "torch-0d": lambda v: _zero_d("torch", v),
    "numpy-0d": lambda v: _zero_d("numpy", v),
    "torch-1d": lambda v: _one_d("torch", v),
    "numpy-1d": lambda v: _one_d("numpy", v),
}


def _wrapped(options: dict, wrap, only=None) -> dict:
    return {
        k: wrap(v) if not isinstance(v, str) and only in (None, k) else v
        for k, v in options.items()
    }


def _as_numpy(result):
    if isinstance(result, tuple):
        return tuple(_as_numpy(r) for r in result)
    return result.numpy() if isinstance(result, torch.Tensor) else result


def assert_same(got, want) -> None:
    if isinstance(want, tuple):
        for g, w in zip(got, want, strict=True):
            assert_same(g, w)
        return
    got, want = _as_numpy(got), _as_numpy(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("array_kind", ["numpy", "torch"])
@pytest.mark.parametrize("wrapper", WRAPPERS)
@pytest.mark.parametrize("name", CASES)
def test_tensor_arguments_equal_plain_ones(name, wrapper, array_kind, rng):
    case = CASES[name]
    arrays = case.arrays(rng)
    if array_kind == "torch":
        arrays = tuple(torch.from_numpy(a) for a in arrays)
    want = case.call(arrays, **case.options)
    wrap = WRAPPERS[wrapper]
    assert_same(case.call(arrays, **_wrapped(case.options, wrap)), want)
    for key in case.options:  # each argument alone
        if not isinstance(case.options[key], str):
            assert_same(case.call(arrays, **_wrapped(case.options, wrap, key)), want)


def test_checkerboard_of_0d_tensors():
    # The example: a bare "iteration over a 0-d tensor" before.
    want = up.checkerboard(3, 2)
    np.testing.assert_array_equal(up.checkerboard(torch.tensor(3), torch.tensor(2)), want)


def test_bad_tensor_arguments_name_the_function_and_the_parameter():
    x = np.zeros((1, 1, 4, 4))
    with pytest.raises(TypeError, match=r"^max_pool: stride tensor\(2\.\) must be an int"):
        up.max_pool(x, 2, stride=torch.tensor(2.0))
    with pytest.raises(
        TypeError, match=r"(?s)^max_pool: kernel_size tensor.* must be an int or a tuple"
    ):
        up.max_pool(x, torch.ones(2, 2, dtype=torch.int64))
    with pytest.raises(TypeError, match=r"^unpool: scale_factor tensor\(True\) must be an int"):
        up.unpool(x, torch.tensor(True))
    with pytest.raises(TypeError, match=r"^interpolate: size 7\.0 must be an int"):
        up.interpolate(x, size=torch.tensor(7.0))
    with pytest.raises(ValueError, match=r"^deconvolve: damp .* must be finite"):
        up.deconvolve(x, np.ones((1, 1, 1, 1)), damp=torch.tensor(float("inf")))


def test_a_size_tensor_is_read_at_each_call():
    # Tensors are mutable and hashed by identity: never a key of the normalised-spec cache.
    x = np.zeros((1, 1, 2, 2))
    size = torch.tensor(3)
    assert up.interpolate(x, size=size).shape == (1, 1, 3, 3)
    size.fill_(5)
    assert up.interpolate(x, size=size).shape == (1, 1, 5, 5)


def test_the_remaining_argument_forms():
    """Tensors as input_size, as per-dim checkerboard arguments (dims from their length), as
    the extrapolation value and as a per-dim scale factor of the size function."""
    w = np.ones((1, 1, 3))
    assert up.conv_matrix(w, input_size=torch.tensor(6)).shape == up.conv_matrix(w, 6).shape
    np.testing.assert_array_equal(
        up.checkerboard(torch.tensor([3, 3]), torch.tensor([2, 2])), up.checkerboard(3, 2, dims=2)
    )
    x = np.arange(4.0).reshape(1, 1, 4)
    kw = dict(size=8, mode="linear", coordinate_transformation_mode="tf_crop_and_resize")
    kw["roi"] = (-0.5, 1.5)
    np.testing.assert_array_equal(
        up.interpolate(x, extrapolation_value=torch.tensor(2.5), **kw),
        up.interpolate(x, extrapolation_value=2.5, **kw),
    )
    got = up.shapes.interpolate_output_size((4, 4), scale_factor=torch.tensor([2.0, 3.0]))
    assert got == (8, 12)
