"""channels_last arrays with few channels (RGB, RGBA photos) resample their last axis along rows
of ``W * C`` interleaved samples: the interleaved table and its derived row layout are the
per-channel table exactly, and the results (forward and gradient) are the NCHW call's, bit for
bit, in the channels_last layout."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import upsampling as up
from conftest import rebuild_layout
from upsampling.filters import table
from upsampling.interpolate import _INTERLEAVED, plan_for
from upsampling.spec import ResizeSpec

CASES = [
    dict(scale_factor=2, mode="bilinear"),
    dict(scale_factor=2, mode="bicubic"),
    dict(scale_factor=3, mode="bilinear", align_corners=True),
    dict(size=(13, 29), mode="bicubic"),
    dict(size=(7, 6), mode="bilinear", antialias=True),
    dict(size=(5, 7), mode="area"),
    dict(scale_factor=0.5, mode="bilinear"),
    dict(size=(11, 97), mode="bilinear"),
]


@pytest.mark.parametrize("kw", CASES[:4] + CASES[6:])
@pytest.mark.parametrize("channels", [2, 3, 4])
def test_interleaved_table_and_layout_are_the_channel_table(kw, channels):
    spec = ResizeSpec.of("interpolate", **kw)
    plan = plan_for(spec, (1, channels, 24, 40), 4, False)
    base = table(plan.axes[-1])
    for t in (base, base.transposed()):
        lanes = t.interleaved(channels)
        assert lanes.in_size == t.in_size * channels
        expected = np.kron(t.dense(), np.eye(channels))  # sample m*C+c reads x*C+c only
        np.testing.assert_array_equal(lanes.dense(), expected)
        lay, own = lanes.layout(np.float64), t.layout(np.float64)
        assert (lay.period, lay.stride, lay.repeats) == (
            own.period * channels,
            own.stride * channels,
            own.repeats,
        )
        np.testing.assert_array_equal(rebuild_layout(lay, expected), expected)


def _cl(a: np.ndarray) -> np.ndarray:
    """``a`` ``(N, C, H, W)`` as the zero-copy view of its NHWC copy."""
    return np.ascontiguousarray(np.moveaxis(a, 1, -1)).transpose(0, 3, 1, 2)


@pytest.mark.parametrize("kw", CASES)
@pytest.mark.parametrize("channels", list(range(2, _INTERLEAVED + 2)))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_few_channels_last_equal_nchw_bit_for_bit(kw, channels, dtype):
    rng = np.random.default_rng(channels)
    x = rng.standard_normal((2, channels, 17, 23)).astype(dtype)
    x[0, 0, 3, 4] = np.nan  # a NaN pixel reaches only the outputs that read it
    want = up.interpolate(x, **kw)
    got = up.interpolate(_cl(x), **kw)
    assert np.moveaxis(got, 1, -1).flags.c_contiguous and not got.flags.c_contiguous
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("kw", CASES[:5])
@pytest.mark.parametrize("channels", [3, 4])
def test_few_channels_last_tensor_gradient_equals_nchw(kw, channels):
    x = torch.randn(
        2, channels, 9, 14, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    )
    grads = []
    for t in (x.clone(), x.contiguous(memory_format=torch.channels_last)):
        t.requires_grad_(True)
        y = up.interpolate(t, **kw)
        y.backward(torch.linspace(-1, 1, y.numel(), dtype=y.dtype).reshape(y.shape))
        grads.append((y.detach(), t.grad))
    (y0, g0), (y1, g1) = grads
    assert y1.is_contiguous(memory_format=torch.channels_last)
    assert g1.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(y1, y0, rtol=0, atol=0)
    torch.testing.assert_close(g1, g0, rtol=0, atol=0)


def test_photo_as_hwc_view_equals_planes():
    """An ``(H, W, 3)`` image's view ``img.transpose(2, 0, 1)[None]`` is channels_last."""
    img = np.random.default_rng(5).random((31, 45, 3), np.float32)
    view = img.transpose(2, 0, 1)[None]
    planes = np.ascontiguousarray(view)
    for mode in ("bilinear", "bicubic"):
        np.testing.assert_array_equal(
            up.interpolate(view, size=(64, 77), mode=mode),
            up.interpolate(planes, size=(64, 77), mode=mode),
        )


@pytest.mark.parametrize("shape", [(1, 5, 1, 1), (2, 6, 1, 1), (1, 16, 1, 1), (1, 8, 1, 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
def test_small_nchw_calls_through_channels_last_match_torch(shape, dtype):
    """Small NCHW calls of short rows run the channels_last kernels (a single pixel too)."""
    x = (np.random.default_rng(2).random(shape) * 200).astype(dtype)
    for kw in (dict(size=(3, 5), mode="bicubic"), dict(scale_factor=2, mode="bilinear")):
        got = up.interpolate(x, **kw)
        want = torch.nn.functional.interpolate(torch.from_numpy(x), **kw).numpy()
        assert got.flags.c_contiguous
        if dtype == np.float32:
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
        else:
            assert np.abs(got.astype(int) - want.astype(int)).max() <= 1
