"""channels_last arrays through the NumPy-level workers: the same values as the NCHW path, bit
for bit, forward and backward, and outputs in the input's layout (issue 12)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from upsampling import _backend
from upsampling.interpolate import interpolate_array, interpolate_backward_array, plan_for
from upsampling.spec import ResizeSpec

_unpool = sys.modules["upsampling.unpool"]  # the module (``upsampling.unpool`` is the function)


def channels_last(a: np.ndarray) -> np.ndarray:
    """The same values with the channel axis innermost in memory (a channels_last view)."""
    return np.moveaxis(np.ascontiguousarray(np.moveaxis(a, 1, -1)), -1, 1)


def is_channels_last(a: np.ndarray) -> bool:
    return np.moveaxis(a, 1, -1).flags.c_contiguous and not a.flags.c_contiguous


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal values, NaN where NaN, as the same dtype and shape."""
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


CASES = [
    ((2, 5, 11), {"scale_factor": 2, "mode": "linear"}),
    ((2, 5, 11), {"size": 23, "mode": "linear", "align_corners": True}),
    ((2, 5, 11), {"scale_factor": 3, "mode": "nearest"}),
    ((2, 5, 7, 9), {"scale_factor": 2, "mode": "bilinear"}),
    ((2, 5, 7, 9), {"scale_factor": 1.5, "mode": "bilinear", "align_corners": True}),
    ((2, 5, 7, 9), {"scale_factor": 0.75, "mode": "bilinear"}),
    ((2, 5, 13, 9), {"size": (29, 20), "mode": "bicubic"}),
    ((2, 5, 7, 9), {"scale_factor": 2, "mode": "bicubic", "align_corners": True}),
    ((2, 5, 7, 9), {"scale_factor": 2, "mode": "nearest"}),
    ((2, 5, 7, 9), {"scale_factor": 1.7, "mode": "nearest-exact"}),
    ((2, 5, 17, 19), {"size": (7, 5), "mode": "area"}),
    ((2, 5, 17, 19), {"size": (7, 6), "mode": "bilinear", "antialias": True}),
    ((2, 3, 4, 5, 6), {"scale_factor": 2, "mode": "trilinear"}),
    ((2, 3, 4, 5, 6), {"scale_factor": (1.5, 1, 0.5), "mode": "trilinear"}),
    ((2, 3, 4, 5, 6), {"scale_factor": 2, "mode": "nearest"}),
]


def _ids(case) -> str:
    shape, kw = case
    return f"{len(shape) - 2}d-" + "-".join(f"{k}={v}" for k, v in kw.items())


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_interpolate_channels_last_matches_nchw(case, dtype, rng):
    shape, kw = case
    x = rng.standard_normal(shape).astype(dtype)
    x[0, 1, ..., 0] = np.nan  # a NaN spreads to the same outputs either way
    plan = plan_for(ResizeSpec.of("interpolate", **kw), shape, x.itemsize, dtype == "float64")
    want = interpolate_array(x, plan)
    got = interpolate_array(channels_last(x), plan)
    assert is_channels_last(got)
    assert same_bits(got, want)
    g = rng.standard_normal(want.shape).astype(dtype)
    want_g = interpolate_backward_array(g, plan)
    got_g = interpolate_backward_array(channels_last(g), plan)
    assert is_channels_last(got_g)
    assert same_bits(got_g, want_g)


@pytest.mark.parametrize("dtype", ["uint8", "int16", "int32"])
def test_integer_channels_last_matches_nchw(dtype, rng):
    x = rng.integers(0, 100, (2, 4, 7, 9)).astype(dtype)
    for kw in ({"scale_factor": 1.5, "mode": "bilinear"}, {"scale_factor": 2, "mode": "nearest"}):
        plan = plan_for(ResizeSpec.of("interpolate", **kw), x.shape, x.itemsize, False)
        assert same_bits(interpolate_array(channels_last(x), plan), interpolate_array(x, plan))


def test_other_strides_are_copied_to_nchw(rng):
    x = rng.standard_normal((2, 3, 8, 10))[:, :, :, ::2]  # neither layout
    plan = plan_for(ResizeSpec.of("interpolate", scale_factor=2, mode="bilinear"), x.shape, 8, True)
    got = interpolate_array(x, plan)
    assert got.flags.c_contiguous
    assert same_bits(got, interpolate_array(np.ascontiguousarray(x), plan))


def test_channels_last_tensor_view(rng):
    torch = pytest.importorskip("torch")
    t = torch.from_numpy(rng.standard_normal((2, 6, 9, 7)).astype(np.float32))
    a = t.contiguous(memory_format=torch.channels_last).numpy()
    assert _backend.channels_last(a)
    plan = plan_for(ResizeSpec.of("interpolate", scale_factor=2, mode="bicubic"), a.shape, 4, False)
    got = torch.from_numpy(interpolate_array(a, plan))
    assert got.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(got, torch.from_numpy(interpolate_array(t.numpy(), plan)))


def test_layout_detection():
    a = np.zeros((2, 3, 4, 5))
    assert not _backend.channels_last(a)
    assert _backend.channels_last(channels_last(a))
    assert not _backend.channels_last(channels_last(np.zeros((2, 1, 4, 5))))  # both: NCHW
    assert not _backend.channels_last(a[:, :, ::2])
    v = _backend.volumes(channels_last(a), True)
    assert v.shape == (2, 1, 4, 5, 3) and np.shares_memory(v, channels_last(a)) is not None


UNPOOL = [((2, 5, 7), (3,)), ((2, 5, 7, 9), (2, 3)), ((2, 3, 4, 5, 6), (2, 1, 3))]


@pytest.mark.parametrize("shape,scale", UNPOOL, ids=[f"{len(s) - 2}d" for s, _ in UNPOOL])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int16", "float16"])
def test_unpool_channels_last_matches_nchw(shape, scale, dtype, rng):
    x = (rng.standard_normal(shape) * 10).astype(dtype)
    for bed, offset in ((False, (0,) * len(scale)), (True, tuple(s - 1 for s in scale))):
        want = _unpool.unpool_array(x, scale, offset, bed)
        got = _unpool.unpool_array(channels_last(x), scale, offset, bed)
        assert is_channels_last(got)
        assert same_bits(got, want)
    if dtype != "float16":
        g = rng.standard_normal(want.shape).astype(dtype)
        want_g = _unpool.unpool_nearest_backward_array(g, scale)
        got_g = _unpool.unpool_nearest_backward_array(channels_last(g), scale)
        assert is_channels_last(got_g)
        assert same_bits(got_g, want_g)


@pytest.mark.parametrize("shape", [(2, 5, 8, 9), (2, 3, 4, 6, 5)], ids=["2d", "3d"])
def test_max_pool_and_unpool_keep_the_layout(shape, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    k = (2,) * (len(shape) - 2)
    args = (k, k, (0,) * len(k), (1,) * len(k), False)
    want_v, want_i = _unpool.max_pool_array(x, *args)
    got_v, got_i = _unpool.max_pool_array(channels_last(x), *args)
    assert is_channels_last(got_v) and is_channels_last(got_i)
    assert same_bits(got_v, want_v) and same_bits(got_i, want_i)
    g = rng.standard_normal(want_v.shape).astype(np.float32)
    want_g = _unpool.max_pool_backward_array(g, want_i, shape[2:])
    got_g = _unpool.max_pool_backward_array(channels_last(g), got_i, shape[2:])
    assert is_channels_last(got_g) and same_bits(got_g, want_g)
    want_u = _unpool.max_unpool_array(want_v, want_i, shape[2:])
    got_u = _unpool.max_unpool_array(got_v, got_i, shape[2:])
    assert is_channels_last(got_u) and same_bits(got_u, want_u)
    gu = rng.standard_normal(want_u.shape).astype(np.float32)
    want_b = _unpool.max_unpool_backward_array(gu, want_i)
    got_b = _unpool.max_unpool_backward_array(channels_last(gu), got_i)
    assert is_channels_last(got_b) and same_bits(got_b, want_b)
