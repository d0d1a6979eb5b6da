"""max_pool and max_unpool of channels_last inputs run kernels that read and write that layout
(:func:`upsampling._kernels.unpool.max_pool_last` and its siblings): the results, indices and
gradients equal the NCHW path's bit for bit (and PyTorch's), and come back channels_last."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import upsampling as up
from upsampling import _backend
from upsampling._kernels import unpool as kernels

TORCH_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
TORCH_UNPOOL = {1: F.max_unpool1d, 2: F.max_unpool2d, 3: F.max_unpool3d}

# (input spatial size, kernel_size, stride, padding, dilation, ceil_mode)
GRID = [
    ((9,), 3, 2, 1, 1, True),
    ((10,), 4, 3, 2, 2, True),
    ((5, 6), 2, None, 0, 1, False),
    ((7, 7), 3, 2, 1, 1, True),
    ((9, 8), (3, 2), (2, 1), (1, 0), (2, 3), False),
    ((6, 7), (2, 3), (3, 2), (1, 1), 1, True),
    ((8, 9), 3, 1, 1, 1, False),
    ((4, 5, 6), 2, None, 0, 1, False),
    ((5, 6, 7), 3, 2, 1, (1, 2, 1), True),
    ((4, 6, 5), (1, 3, 2), (1, 2, 2), (0, 1, 1), (1, 1, 2), False),
]
DTYPES = ["float32", "float64", "float16", "int16"]


def _id(case) -> str:
    size, k, s, p, d, ceil = case
    return f"in{size}-k{k}-s{s}-p{p}-d{d}-{'ceil' if ceil else 'floor'}".replace(" ", "")


def _last(a: np.ndarray) -> np.ndarray:
    """``a`` copied into the channels_last layout (same shape, channels innermost)."""
    return np.moveaxis(np.ascontiguousarray(np.moveaxis(a, 1, -1)), -1, 1)


def _is_last(a) -> bool:
    a = a.numpy() if isinstance(a, torch.Tensor) else a
    return _backend.channels_last(a)


def _ties_and_nans(rng, shape, dtype):
    """Small integers (many ties), with NaN and -inf sprinkled in for float dtypes."""
    x = rng.integers(0, 4, size=shape).astype(dtype)
    if np.issubdtype(x.dtype, np.floating):
        x[rng.random(shape) < 0.15] = np.nan
        x[rng.random(shape) < 0.1] = -np.inf
    return x


def _same(a, b) -> bool:
    """Equal bits (NaN where NaN), same dtype."""
    a = a.numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
    b = b.numpy() if isinstance(b, torch.Tensor) else np.asarray(b)
    return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


def _pool(x, case):
    _, k, s, p, d, ceil = case
    return up.max_pool(x, k, s, p, d, ceil, return_indices=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", GRID, ids=_id)
def test_numpy_max_pool_equals_nchw_and_torch(case, dtype, rng):
    x = _ties_and_nans(rng, (2, 5, *case[0]), dtype)
    xl = _last(x)
    assert _is_last(xl)
    values, indices = _pool(xl, case)
    want_values, want_indices = _pool(x, case)
    assert _is_last(values) and _is_last(indices)
    assert _same(values, want_values) and _same(indices, want_indices)
    if dtype != "int16":  # PyTorch has no CPU max_pool of int16 tensors
        t = torch.from_numpy(xl)
        ref_values, ref_indices = TORCH_POOL[len(case[0])](*_torch_args(t, case))
        assert _same(values, ref_values)
        # PyTorch's channels_last_3d kernel gives a window of only -inf an index outside the
        # window (its NCHW kernel, and ours in both layouts, that of the first tap)
        finite = values != -np.inf
        assert _same(indices[finite], ref_indices.numpy()[finite])
        ref_nchw = TORCH_POOL[len(case[0])](*_torch_args(torch.from_numpy(x), case))[1]
        assert _same(indices, ref_nchw)


def _torch_args(t, case):
    """``TORCH_POOL``'s arguments for ``case``, with ``return_indices``."""
    return t, *case[1:], True


def test_one_channel_dominates_and_nan_rule(rng):
    """Channels are independent: a pixel whose channels disagree on where the maximum is (or
    where the NaNs are) gives each channel its own index."""
    x = np.zeros((1, 3, 2, 2), np.float32)
    x[0, 0] = [[1, 5], [5, 2]]  # a tie: the first maximum (position 1)
    x[0, 1] = [[np.nan, 1], [np.nan, 0]]  # two NaNs: the last (position 2)
    x[0, 2] = [[-np.inf, -np.inf], [-np.inf, -np.inf]]  # all -inf: the first tap
    values, indices = up.max_pool(_last(x), 2, return_indices=True)
    assert indices[0, :, 0, 0].tolist() == [1, 2, 0]
    assert values[0, 0, 0, 0] == 5 and np.isnan(values[0, 1, 0, 0])


@pytest.mark.parametrize("case", [GRID[3], GRID[8]], ids=_id)
def test_torch_max_pool_forward_and_gradient_equal_nchw(case, rng):
    x = torch.from_numpy(_ties_and_nans(rng, (2, 4, *case[0]), "float64"))
    x = torch.nan_to_num(x, nan=1.5)  # finite gradients
    fmt = torch.channels_last if x.dim() == 4 else torch.channels_last_3d
    g = None
    outs, grads = [], []
    for layout in (torch.contiguous_format, fmt):
        t = x.clone(memory_format=layout).requires_grad_()
        values, indices = _pool(t, case)
        if g is None:
            g = torch.from_numpy(rng.standard_normal(values.shape))
        values.backward(g.contiguous(memory_format=layout))
        outs.append((values.detach(), indices))
        grads.append(t.grad)
    (v0, i0), (v1, i1) = outs
    assert v1.is_contiguous(memory_format=fmt) and i1.is_contiguous(memory_format=fmt)
    assert grads[1].is_contiguous(memory_format=fmt)
    assert _same(v0, v1) and _same(i0, i1) and _same(grads[0], grads[1])
    ref = TORCH_POOL[len(case[0])](*_torch_args(x.contiguous(memory_format=fmt), case))
    assert _same(v1, ref[0]) and _same(i1, ref[1])


def test_max_pool_backward_array_layouts(rng):
    """The NumPy-level gradient: channels_last ``g`` (indices in either layout) gives the NCHW
    result in the channels_last layout; windows that overlap add in the NCHW order."""
    from upsampling.unpool import max_pool_backward_array

    x = _ties_and_nans(rng, (2, 6, 9, 8), "float64")
    values, indices = up.max_pool(x, 3, 1, 1, return_indices=True)
    g = rng.standard_normal(values.shape)
    want = max_pool_backward_array(g, indices, (9, 8))
    for idx in (indices, _last(indices)):
        got = max_pool_backward_array(_last(g), idx, (9, 8))
        assert _is_last(got) and _same(got, want)


def _pooled_indices(rng, shape, case):
    """Indices of a max pooling of a random input of spatial ``case[0]`` (no repeats with
    disjoint windows) and random ones over the same plane (repeats)."""
    x = rng.standard_normal((*shape, *case[0]))
    values, pooled = _pool(x, case)
    plane = int(np.prod(case[0]))
    random = rng.integers(0, plane, size=values.shape)
    return values, pooled, random


UNPOOL_GRID = [GRID[0], GRID[2], GRID[3], GRID[7], GRID[8]]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "uint8"])
@pytest.mark.parametrize("case", UNPOOL_GRID, ids=_id)
def test_numpy_max_unpool_equals_nchw(case, dtype, rng):
    size, k, s, p, _, _ = case
    values, pooled, random = _pooled_indices(rng, (2, 5), case)
    x = _ties_and_nans(rng, values.shape, dtype)
    for indices in (pooled, random):  # random: repeated indices, the later input wins
        want = up.max_unpool(x, indices, k, s, p, output_size=size)
        for idx in (_last(indices), indices):  # indices in either layout
            got = up.max_unpool(_last(x), idx, k, s, p, output_size=size)
            assert _is_last(got) and _same(got, want)
    t = torch.from_numpy(_last(x))
    if dtype in ("float32", "float64"):  # PyTorch's CPU max_unpool; no repeats there
        ref = TORCH_UNPOOL[len(size)](t, torch.from_numpy(_last(pooled)), k, s, p, size)
        assert _same(up.max_unpool(t, torch.from_numpy(_last(pooled)), k, s, p, size), ref)


def test_repeated_indices_later_input_wins():
    x = _last(np.arange(1.0, 9.0).reshape(1, 2, 2, 2))
    idx = _last(np.array([[[[3, 3], [0, 3]], [[1, 0], [0, 1]]]]))
    out = up.max_unpool(x, idx, 2)
    assert _is_last(out)
    assert out[0, 0].ravel().tolist()[:4] == [3.0, 0.0, 0.0, 4.0]
    assert out[0, 1].ravel().tolist()[:4] == [7.0, 8.0, 0.0, 0.0]


@pytest.mark.parametrize("kind", ["numpy", "torch"])
@pytest.mark.parametrize("bad", [-1, 16, 99])
def test_bad_index_raises_as_nchw(bad, kind):
    x = np.ones((2, 3, 2, 2))
    idx = np.zeros((2, 3, 2, 2), np.int64)
    idx[1, 0, 1, 1] = bad  # plane 3, position 3
    idx[1, 2, 0, 1] = bad  # plane 5, position 1: later, not reported
    wrap = torch.from_numpy if kind == "torch" else np.asarray
    messages = []
    for a, b in ((x, idx), (_last(x), _last(idx))):
        with pytest.raises(ValueError, match=r"indices holds -?\d+ \(plane 3, position 3\)") as e:
            up.max_unpool(wrap(a), wrap(b), 2)
        messages.append(str(e.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("repeats", [False, True], ids=["pooled", "repeated"])
@pytest.mark.parametrize("case", [GRID[3], GRID[8]], ids=_id)
def test_torch_max_unpool_forward_and_gradient_equal_nchw(case, repeats, rng):
    size, k, s, p, _, _ = case
    values, pooled, random = _pooled_indices(rng, (2, 4), case)
    indices = torch.from_numpy(random if repeats else pooled)
    x = torch.from_numpy(values)
    fmt = torch.channels_last if x.dim() == 4 else torch.channels_last_3d
    g = torch.from_numpy(rng.standard_normal((2, 4, *size)))
    results = []
    for layout in (torch.contiguous_format, fmt):
        t = x.clone(memory_format=layout).requires_grad_()
        out = up.max_unpool(t, indices.contiguous(memory_format=layout), k, s, p, size)
        out.backward(g.contiguous(memory_format=layout))
        results.append((out.detach(), t.grad))
    (o0, g0), (o1, g1) = results
    assert o1.is_contiguous(memory_format=fmt) and g1.is_contiguous(memory_format=fmt)
    assert _same(o0, o1) and _same(g0, g1)


def test_max_unpool_backward_array_layouts(rng):
    from upsampling.unpool import max_unpool_backward_array

    indices = rng.integers(0, 20, size=(2, 5, 3, 3))  # repeats: only the last input owns
    g = rng.standard_normal((2, 5, 4, 5))
    want = max_unpool_backward_array(g, indices)
    for idx in (indices, _last(indices)):
        got = max_unpool_backward_array(_last(g), idx)
        assert _is_last(got) and _same(got, want)


def test_last_kernels_check_indices_before_writing():
    """An image with a bad index gets no scatter (and per channel the first bad position);
    ``twice`` says whether one channel named an element twice."""
    x = np.arange(1.0, 13.0).reshape(2, 3, 2)  # (images, pixels, channels)
    idx = np.array([[[0, 1], [1, 0], [2, 2]], [[0, 9], [1, 0], [-1, 1]]], np.int64)
    out = np.full((2, 3, 2), 7.0)
    bad = np.empty(4, np.int64)
    twice = np.zeros(2, np.bool_)
    kernels.max_unpool_last(0, 2, x, idx, out, bad, twice)
    assert bad.tolist() == [-1, -1, 2, 0]
    assert out[1].tolist() == [[0.0, 0.0]] * 3
    assert out[0].tolist() == [[1.0, 4.0], [3.0, 2.0], [5.0, 6.0]]
    assert twice[0] == np.False_
    idx[0, 2, 1] = 0  # channel 1 names element 0 twice
    kernels.max_unpool_last(0, 1, x, idx, out, bad, twice)
    assert twice[0] == np.True_ and out[0, 0, 1] == 6.0


def test_thread_count_does_not_change_bits(rng, split_small):
    """The channels_last kernels split by images and output rows: the same bits on 1 and 2
    threads (large enough to be split)."""
    x = _last(_ties_and_nans(rng, (1, 16, 96, 96), "float32"))
    before = up.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            up.set_num_threads(threads)
            values, indices = up.max_pool(x, 3, 2, 1, return_indices=True)
            results.append((values, indices, up.max_unpool(values, indices, 3, 2, 1, (96, 96))))
    finally:
        up.set_num_threads(before)
    for a, b in zip(*results, strict=True):
        assert _same(a, b)


def test_channels_last_never_runs_the_nchw_kernels(monkeypatch, rng):
    """The layout's own kernels, not the NCHW ones on a copy (issue 12)."""

    def refuse(*args):
        raise AssertionError("an NCHW kernel ran")

    for name in ("max_pool", "max_pool_backward", "max_unpool", "max_unpool_backward"):
        monkeypatch.setattr(kernels, name, refuse)
    x = torch.from_numpy(_last(rng.standard_normal((2, 3, 6, 6)))).requires_grad_()
    values = up.max_pool(x, 2)
    values.sum().backward()
    u = values.detach().requires_grad_()
    repeated = torch.from_numpy(_last(rng.integers(0, 36, size=(2, 3, 3, 3))))
    up.max_unpool(u, repeated, 2).sum().backward()
    assert x.grad.is_contiguous(memory_format=torch.channels_last)
    assert u.grad.is_contiguous(memory_format=torch.channels_last)


def test_numpy_bfloat16(rng):
    ml_dtypes = pytest.importorskip("ml_dtypes")
    x = _ties_and_nans(rng, (2, 4, 7, 6), "float32").astype(ml_dtypes.bfloat16)
    got = up.max_pool(_last(x), 3, 2, 1, return_indices=True)
    want = up.max_pool(x, 3, 2, 1, return_indices=True)
    assert _is_last(got[0]) and got[0].dtype == x.dtype
    assert _same(got[0].view(np.uint16), want[0].view(np.uint16)) and _same(got[1], want[1])
    out = up.max_unpool(*got, 3, 2, 1, (7, 6))
    assert _is_last(out)
    assert _same(out.view(np.uint16), up.max_unpool(*want, 3, 2, 1, (7, 6)).view(np.uint16))


@pytest.mark.parametrize("flags", [False, True], ids=["plain", "with-repeat-flags"])
def test_last_kernel_zeroes_every_unwritten_element(flags):
    """Indices that jump ahead, go back and skip pixels: whatever ``out`` held before, each
    element not written is zero (the kernel zeroes lazily ahead of its writes)."""
    x = np.arange(1.0, 9.0).reshape(1, 4, 2)
    idx = np.array([[[5, 1], [0, 6], [2, 6], [7, 3]]], np.int64)
    out = np.full((1, 9, 2), 7.0)
    bad = np.empty(2, np.int64)
    twice = np.zeros(1 if flags else 0, np.bool_)
    kernels.max_unpool_last(0, 1, x, idx, out, bad, twice)
    want = np.zeros((9, 2))
    for i in range(4):
        for c in range(2):
            want[idx[0, i, c], c] = x[0, i, c]
    assert out[0].tolist() == want.tolist() and bad.tolist() == [-1, -1]
    assert twice.tolist() == ([True] if flags else [])  # channel 1 names 6 twice: the later wins
    assert out[0, 6, 1] == 6.0
