"""Empty batches and empty channels: each operator refuses exactly where PyTorch 2.13 refuses.

PyTorch's max_pool, max_unpool, nearest interpolation (unpool's equivalent) and conv_transpose
refuse an input without channels, and every convolution refuses a weight without output
channels; all of them take an empty batch. ``conv`` and ``pixel_shuffle`` take an input without
channels. We raise a ``ValueError`` naming the parameter instead of PyTorch's RuntimeError.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import upsampling as up

TORCH_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
TORCH_UNPOOL = {1: F.max_unpool1d, 2: F.max_unpool2d, 3: F.max_unpool3d}
TORCH_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
TORCH_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}

SHAPES = [
    (1, 0, 10),
    (0, 1, 10),
    (1, 0, 4, 4),
    (0, 2, 4, 4),
    (0, 0, 4, 4),
    (1, 0, 1, 2, 10),
    (0, 1, 2, 2, 2),
]


def _kernel(nd: int) -> tuple[int, ...]:
    return (1,) * nd


# name -> (ours, PyTorch's), each called with (x, the library module or F) on the same data
def _max_pool(x, lib):
    if lib is up:
        return up.max_pool(x, 1, return_indices=True)
    return TORCH_POOL[x.ndim - 2](x, 1, return_indices=True)


def _max_unpool(x, lib):
    indices = torch.zeros(tuple(x.shape), dtype=torch.int64)
    if lib is up:
        indices = indices if isinstance(x, torch.Tensor) else indices.numpy()
        return up.max_unpool(x, indices, 2)
    return TORCH_UNPOOL[x.ndim - 2](x, indices, 2)


def _unpool(mode):
    def call(x, lib):
        if lib is up:
            return up.unpool(x, 2, mode)
        return F.interpolate(x, scale_factor=2, mode="nearest")

    return call


def _weight(x, shape):
    w = torch.ones(shape, dtype=torch.float64)
    return w if isinstance(x, torch.Tensor) else w.numpy()


def _conv(x, lib):
    w = _weight(x, (3, x.shape[1], *_kernel(x.ndim - 2)))
    return up.conv(x, w) if lib is up else TORCH_CONV[x.ndim - 2](x, w)


def _conv_transpose(x, lib):
    w = _weight(x, (x.shape[1], 3, *_kernel(x.ndim - 2)))
    return up.conv_transpose(x, w) if lib is up else TORCH_CONV_T[x.ndim - 2](x, w)


OPERATORS = {
    "max_pool": _max_pool,
    "max_unpool": _max_unpool,
    "unpool-nearest": _unpool("nearest"),
    "unpool-bed_of_nails": _unpool("bed_of_nails"),
    "conv": _conv,
    "conv_transpose": _conv_transpose,
}
# Where PyTorch returns a result of another shape than the size rule gives: conv of an input
# without channels returns (N, 0, *out) where the rule (and our NumPy path) gives C_out channels.
SHAPE_DIFFERS = {"conv"}


def _outcome(call):
    try:
        result = call()
    except (RuntimeError, ValueError, IndexError) as exc:
        return exc
    return result


def _shapes(result) -> list[tuple[int, ...]]:
    parts = result if isinstance(result, tuple) else (result,)
    return [tuple(p.shape) for p in parts]


@pytest.mark.parametrize("kind", ["numpy", "torch"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", list(OPERATORS))
def test_refuses_where_pytorch_refuses(name, shape, kind):
    op = OPERATORS[name]
    reference = torch.zeros(shape, dtype=torch.float64)
    expected = _outcome(lambda: op(reference, F))
    x = reference if kind == "torch" else reference.numpy()
    fn = name.split("-")[0]
    if isinstance(expected, Exception):
        assert shape[1] == 0  # (the only refusals in this grid)
        message = f"{fn}: x has shape {shape}; its channels (axis 1) must be positive"
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            op(x, up)
    else:
        result = op(x, up)
        if name not in SHAPE_DIFFERS or kind == "torch":
            assert _shapes(result) == _shapes(expected)


@pytest.mark.parametrize("kind", ["numpy", "torch"])
@pytest.mark.parametrize("shape", [(1, 2, 10), (0, 2, 10), (1, 2, 3, 4), (0, 2, 1, 2, 3)], ids=str)
@pytest.mark.parametrize("name", ["conv", "conv_transpose"])
def test_weight_without_output_channels_is_refused(name, shape, kind):
    nd = len(shape) - 2
    reference = torch.zeros(shape, dtype=torch.float64)
    if name == "conv":
        w_shape, axis, ours, theirs = (0, 2, *_kernel(nd)), 0, up.conv, TORCH_CONV[nd]
    else:
        w_shape, axis, ours, theirs = (2, 0, *_kernel(nd)), 1, up.conv_transpose, TORCH_CONV_T[nd]
    w = torch.zeros(w_shape, dtype=torch.float64)
    with pytest.raises((RuntimeError, IndexError)):
        theirs(reference, w)
    x, w = (reference, w) if kind == "torch" else (reference.numpy(), w.numpy())
    message = f"{name}: weight has shape {w_shape}; its output channels (axis {axis}) must be"
    with pytest.raises(ValueError, match=f"^{re.escape(message)} positive$"):
        ours(x, w)


@pytest.mark.parametrize("kind", ["numpy", "torch"])
@pytest.mark.parametrize("shape", [(1, 0, 4, 4), (0, 0, 4, 4), (0, 4, 4, 4)], ids=str)
def test_pixel_shuffle_takes_empty_channels_as_pytorch_does(shape, kind):
    reference = torch.zeros(shape)
    expected = F.pixel_shuffle(reference, 2)  # PyTorch refuses neither
    x = reference if kind == "torch" else reference.numpy()
    assert tuple(up.pixel_shuffle(x, 2).shape) == tuple(expected.shape)
    assert np.prod(up.pixel_unshuffle(x, 2).shape) == 0


def test_the_issue_examples():
    """max_pool of ``(1, 0, 10)`` (and 3-D, and NumPy) returned an empty array."""
    for x in (torch.zeros(1, 0, 10), torch.zeros(1, 0, 1, 2, 10), np.zeros((1, 0, 10))):
        with pytest.raises(ValueError, match=r"^max_pool: x has shape \(1, 0,"):
            up.max_pool(x, 1)


def test_modules_refuse_too():
    x = torch.zeros(1, 0, 4, 4)
    with pytest.raises(ValueError, match=r"^max_pool: x has shape \(1, 0, 4, 4\); its channels"):
        up.nn.MaxPool(2)(x)
    with pytest.raises(ValueError, match=r"^unpool: x has shape \(1, 0, 4, 4\); its channels"):
        up.nn.Unpool(2)(x)


def test_dask_arrays_refuse_too():
    da = pytest.importorskip("dask.array")
    x = da.zeros((1, 0, 4, 4))
    with pytest.raises(ValueError, match=r"^unpool: x has shape \(1, 0, 4, 4\); its channels"):
        up.unpool(x, 2)
    with pytest.raises(ValueError, match=r"^conv_transpose: x has shape \(1, 0, 4, 4\)"):
        up.conv_transpose(x, np.zeros((0, 1, 1, 1)))
    with pytest.raises(ValueError, match=r"^conv: weight has shape \(0, 2, 1, 1\)"):
        up.conv(da.zeros((1, 2, 4, 4)), np.zeros((0, 2, 1, 1)))


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear", "bicubic", "area"])
@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_interpolate_zero_channels_as_pytorch(mode, kind):
    """PyTorch's resizes refuse empty channels; its adaptive pooling ('area') takes them."""
    t = torch.zeros(1, 0, 4, 4)
    x = t if kind == "torch" else t.numpy()
    if mode == "area":
        expected = torch.nn.functional.interpolate(t, scale_factor=2, mode=mode)
        assert tuple(up.interpolate(x, scale_factor=2, mode=mode).shape) == tuple(expected.shape)
        return
    with pytest.raises(RuntimeError):
        torch.nn.functional.interpolate(t, scale_factor=2, mode=mode)
    with pytest.raises(ValueError, match=r"interpolate: x has shape \(1, 0, 4, 4\); its channels"):
        up.interpolate(x, scale_factor=2, mode=mode)
