"""max_unpool: the seed's example, parity with torch.nn.functional.max_unpool{1,2,3}d (values,
output_size, gradients), the duplicate-index rule on both paths, index validation before any
write, layouts, empty batches, determinism and the bad-input table."""

from __future__ import annotations

import ast
import itertools
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import upsampling as up
from upsampling._kernels import unpool as kernels
from upsampling.nn import _dispatch
from upsampling.nn import _unpool_ops as ops

TORCH_UNPOOL = {1: F.max_unpool1d, 2: F.max_unpool2d, 3: F.max_unpool3d}
TORCH_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}

SEED_INPUT = [[[[1.0, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]]]
SEED_4X4 = [[[[0.0, 0, 0, 0], [0, 6, 0, 8], [0, 0, 0, 0], [0, 14, 0, 16]]]]
SEED_5X5 = [
    [
        [
            [0.0, 0, 0, 0, 0],
            [6, 0, 8, 0, 0],
            [0, 0, 0, 14, 0],
            [16, 0, 0, 0, 0],
            [0, 0, 0, 0, 0],
        ]
    ]
]


@pytest.fixture
def torch_path(monkeypatch):
    """Send CPU float32/float64/int tensors down the pure-PyTorch path (the CUDA code)."""
    monkeypatch.setattr(_dispatch, "numba_ok", lambda *tensors: False)


def _distinct_indices(rng, shape, plane):
    """Indices without duplicates inside each (n, c) plane."""
    n, c, *size = shape
    count = int(np.prod(size))
    rows = [rng.permutation(plane)[:count] for _ in range(n * c)]
    return np.array(rows, dtype=np.int64).reshape(shape)


# ------------------------------------------------------------------------------- seed example
@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_seed_example(kind):
    """The seed's code, literally: pool 2/2 with indices, unpool, then unpool to 5x5."""
    x = torch.tensor(SEED_INPUT) if kind == "torch" else np.array(SEED_INPUT)
    output, indices = up.max_pool(x, 2, stride=2, return_indices=True)
    unpooled = up.max_unpool(output, indices, 2, stride=2)
    assert unpooled.tolist() == SEED_4X4
    size = torch.Size([1, 1, 5, 5]) if kind == "torch" else (1, 1, 5, 5)
    assert up.max_unpool(output, indices, 2, stride=2, output_size=size).tolist() == SEED_5X5
    assert up.max_unpool(output, indices, 2, 2, output_size=(5, 5)).tolist() == SEED_5X5
    if kind == "torch":
        printed = repr(up.max_unpool(output, indices, 2, stride=2, output_size=size))
        assert printed == repr(F.max_unpool2d(output, indices, 2, 2, output_size=size))
        assert "[16.,  0.,  0.,  0.,  0.]" in printed


# What the seed note prints, copied verbatim (its spacing is an older PyTorch's).
SEED_PRINTED_4X4 = """tensor([[[[  0.,   0.,   0.,   0.],
             [  0.,   6.,   0.,   8.],
             [  0.,   0.,   0.,   0.],
             [  0.,  14.,   0.,  16.]]]])"""
SEED_PRINTED_5X5 = """tensor([[[[  0.,   0.,   0.,   0.,   0.],
             [  6.,   0.,   8.,   0.,   0.],
             [  0.,   0.,   0.,  14.,   0.],
             [ 16.,   0.,   0.,   0.,   0.],
             [  0.,   0.,   0.,   0.,   0.]]]])"""


def _parse_printed(text: str) -> np.ndarray:
    return np.array(ast.literal_eval(text.removeprefix("tensor(").removesuffix(")")))


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_seed_printed_output(kind):
    """The values the seed prints, parsed from its text, element for element."""
    x = torch.tensor(SEED_INPUT) if kind == "torch" else np.array(SEED_INPUT, dtype=np.float32)
    output, indices = up.max_pool(x, 2, stride=2, return_indices=True)
    four = up.max_unpool(output, indices, 2, stride=2)
    five = up.max_unpool(output, indices, 2, stride=2, output_size=(1, 1, 5, 5))
    for got, text in ((four, SEED_PRINTED_4X4), (five, SEED_PRINTED_5X5)):
        expected = _parse_printed(text)
        assert tuple(got.shape) == expected.shape
        assert np.array_equal(np.asarray(got), expected) and got.dtype == x.dtype


# ---------------------------------------------------------------------------------- parity
def _random_case(rnd):
    dims = rnd.choice([1, 2, 3])
    k = tuple(rnd.randint(1, 4) for _ in range(dims))
    s = tuple(rnd.randint(1, 4) for _ in range(dims))
    p = tuple(rnd.randint(0, kk // 2) for kk in k)
    size = tuple(rnd.randint(1, 5) for _ in range(dims))
    default = tuple((n - 1) * ss + kk - 2 * pp for n, ss, kk, pp in zip(size, s, k, p, strict=True))
    out = None
    if rnd.random() < 0.5:
        out = tuple(dd + rnd.randint(-ss + 1, ss - 1) for dd, ss in zip(default, s, strict=True))
        if rnd.random() < 0.3:
            out = (2, 3, *out)  # the full (N, C, *spatial) shape
    return k, s, p, size, default, out


def test_random_sweep_matches_torch():
    """Random geometries, output sizes over the whole allowed range, distinct indices."""
    rnd, rng = random.Random(3), np.random.default_rng(3)
    checked = 0
    for _ in range(300):
        k, s, p, size, default, out = _random_case(rnd)
        spatial = default if out is None else out[-len(size) :]
        if min(spatial) < 1:
            continue
        x = rng.standard_normal((2, 3, *size)).astype(np.float32)
        plane = int(np.prod(spatial))
        if plane < int(np.prod(size)):
            continue
        idx = _distinct_indices(rng, x.shape, plane)
        ref = TORCH_UNPOOL[len(size)](torch.from_numpy(x), torch.from_numpy(idx), k, s, p, out)
        got = up.max_unpool(x, idx, k, s, p, out)
        assert isinstance(got, np.ndarray) and got.dtype == np.float32
        assert np.array_equal(got, ref.numpy())
        got = up.max_unpool(torch.from_numpy(x), torch.from_numpy(idx), k, s, p, out)
        assert torch.equal(got, ref)
        checked += 1
    assert checked > 150


@pytest.mark.parametrize(
    "size,k,s,p",
    [
        ((8,), 2, 2, 0),
        ((9,), 3, 2, 1),
        ((6, 7), 2, 2, 0),
        ((7, 6), 3, (2, 1), 1),
        ((4, 5, 6), 2, 2, 0),
    ],
    ids=["1d", "1d-overlap", "2d", "2d-overlap", "3d"],
)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_trip_matches_torch(size, k, s, p, dtype, rng):
    """max_unpool(max_pool(x)) against PyTorch's pair, with the input's size as output_size."""
    x = rng.standard_normal((2, 3, *size)).astype(dtype)
    tv, ti = TORCH_POOL[len(size)](torch.from_numpy(x), k, s, p, return_indices=True)
    ref = TORCH_UNPOOL[len(size)](tv, ti, k, s, p, output_size=size)
    for arr in (x, torch.from_numpy(x)):
        values, indices = up.max_pool(arr, k, s, p, return_indices=True)
        got = up.max_unpool(values, indices, k, s, p, output_size=size)
        assert np.array_equal(np.asarray(got), ref.numpy())


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int32", "int64", "float16"])
@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_other_dtypes(dtype, kind, rng):
    """Integer dtypes (PyTorch has no max_unpool for them) against a direct scatter; NumPy
    float16 through the bit-moving kernel."""
    x = rng.integers(0, 100, size=(2, 2, 3, 3)).astype(dtype)
    idx = _distinct_indices(rng, x.shape, 36)
    expected = np.zeros((2, 2, 36), dtype=dtype)
    np.put_along_axis(expected, idx.reshape(2, 2, 9), x.reshape(2, 2, 9), axis=2)
    expected = expected.reshape(2, 2, 6, 6)
    if kind == "torch":
        got = up.max_unpool(torch.from_numpy(x), torch.from_numpy(idx), 2, 2)
        assert got.dtype == torch.from_numpy(x).dtype
        got = got.numpy()
    else:
        got = up.max_unpool(x, idx, 2, 2)
    assert got.dtype == np.dtype(dtype)
    assert np.array_equal(got, expected)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_matches_torch(dtype, rng):
    x = torch.from_numpy(rng.standard_normal((2, 3, 4, 5))).to(dtype)
    idx = torch.from_numpy(_distinct_indices(rng, x.shape, 80))
    ref = F.max_unpool2d(x, idx, 3, 2, 1, output_size=(8, 10))
    assert torch.equal(up.max_unpool(x, idx, 3, 2, 1, output_size=(8, 10)), ref)


@pytest.mark.parametrize("idx_dtype", ["int32", "int16", "uint8"])
@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_narrow_index_dtypes(idx_dtype, kind, rng):
    x = rng.standard_normal((1, 2, 2, 2))
    idx = _distinct_indices(rng, x.shape, 16)
    expected = up.max_unpool(x, idx, 2)
    narrow = idx.astype(idx_dtype)
    if kind == "torch":
        got = up.max_unpool(torch.from_numpy(x), torch.from_numpy(narrow), 2).numpy()
    else:
        got = up.max_unpool(x, narrow, 2)
    assert np.array_equal(got, expected)


# ------------------------------------------------------------------------------ duplicates
DUP_X = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
DUP_IDX = np.array([[[[5, 5], [0, 5]]]])  # three inputs name output 5: the last (4.0) wins


@pytest.mark.parametrize("path", ["numpy", "torch-numba", "torch-pure", "torch-float16"])
def test_duplicate_indices_later_input_wins(path, request):
    if path == "numpy":
        got = up.max_unpool(DUP_X, DUP_IDX, 2)
        assert got.reshape(-1).tolist()[:6] == [3.0, 0, 0, 0, 0, 4.0]
        return
    if path == "torch-pure":
        request.getfixturevalue("torch_path")
    dtype = torch.float16 if path == "torch-float16" else torch.float64
    x = torch.from_numpy(DUP_X).to(dtype).requires_grad_()
    out = up.max_unpool(x, torch.from_numpy(DUP_IDX), 2)
    assert out.reshape(-1).tolist()[:6] == [3.0, 0, 0, 0, 0, 4.0]
    g = torch.arange(16.0, dtype=dtype).reshape(out.shape)
    out.backward(g)
    assert x.grad.reshape(-1).tolist() == [0.0, 0.0, 0.0, 5.0]  # only the winner


def test_duplicates_random_numba_and_torch_paths_agree(rng, monkeypatch):
    x = torch.from_numpy(rng.standard_normal((3, 4, 5, 5)))
    idx = torch.from_numpy(rng.integers(0, 12, size=x.shape))  # many duplicates
    g = torch.from_numpy(rng.standard_normal((3, 4, 10, 10)))
    results = []
    for pure in (False, True):
        if pure:
            monkeypatch.setattr(_dispatch, "numba_ok", lambda *t: False)
        leaf = x.clone().requires_grad_()
        out = up.max_unpool(leaf, idx, 2)
        out.backward(g)
        results.append((out.detach(), leaf.grad))
    assert torch.equal(results[0][0], results[1][0])
    assert torch.equal(results[0][1], results[1][1])
    # the rule itself: output j holds the value of the last input that names it
    flat_x, flat_i = x.reshape(12, 25), idx.reshape(12, 25)
    expected = torch.zeros(12, 100, dtype=x.dtype)
    for plane in range(12):
        for i in range(25):
            expected[plane, flat_i[plane, i]] = flat_x[plane, i]
    assert torch.equal(results[0][0].reshape(12, 100), expected)


# ---------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_gradient_equals_torch(dims, dtype, rng):
    size = (3,) * dims
    x = torch.from_numpy(rng.standard_normal((2, 2, *size))).to(dtype)
    idx = torch.from_numpy(_distinct_indices(rng, x.shape, 6**dims))
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_size = (6,) * dims  # the default is 5: 6 is inside the range
    ref = TORCH_UNPOOL[dims](a, idx, 3, 2, 1, output_size=out_size)
    ours = up.max_unpool(b, idx, 3, 2, 1, output_size=out_size)
    g = torch.from_numpy(rng.standard_normal(ref.shape)).to(dtype)
    ref.backward(g)
    ours.backward(g)
    assert torch.equal(a.grad, b.grad)


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("path", ["numba", "torch-pure"])
def test_gradcheck_and_gradgradcheck(dims, path, rng, request):
    if path == "torch-pure":
        request.getfixturevalue("torch_path")
    x = torch.from_numpy(rng.standard_normal((1, 2, *(2,) * dims))).requires_grad_()
    idx = torch.from_numpy(_distinct_indices(rng, x.shape, 4**dims))
    assert torch.autograd.gradcheck(lambda t: up.max_unpool(t, idx, 2), (x,))
    assert torch.autograd.gradgradcheck(lambda t: up.max_unpool(t, idx, 2), (x,))
    dup = torch.from_numpy(rng.integers(0, 3, size=x.shape))  # duplicates: still the adjoint
    assert torch.autograd.gradgradcheck(lambda t: up.max_unpool(t, dup, 2), (x,))


def test_torch_backward_branch_equals_numba(rng):
    """The torch branch of the backward op (CUDA, float16) against the numba kernel, called
    directly with duplicates."""
    g = torch.from_numpy(rng.standard_normal((2, 3, 8, 8)))
    idx = torch.from_numpy(rng.integers(0, 64, size=(2, 3, 4, 4)))
    repeats = torch.tensor(True)
    numba = ops._max_unpool_backward_op(g, idx, repeats)
    half = ops._max_unpool_backward_op(g.half(), idx, repeats)
    assert torch.equal(half, numba.half())
    assert torch.equal(half.double(), numba.half().double())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gradient_bits_equal_torch_on_long_planes(dtype, rng):
    """Pooled indices (disjoint windows: no duplicates) on planes long enough for the kernel's
    loops: the gradient gathers ``g[indices]`` bit for bit, a -0.0 staying -0.0 as in
    PyTorch's gather."""
    x = torch.from_numpy(rng.standard_normal((2, 3, 33, 70))).to(dtype)
    values, idx = F.max_pool2d(x, 2, (2, 3), return_indices=True)
    a, b = values.clone().requires_grad_(), values.clone().requires_grad_()
    size = x.shape[2:]
    ref = F.max_unpool2d(a, idx, 2, (2, 3), output_size=size)
    ours = up.max_unpool(b, idx, 2, (2, 3), output_size=size)
    g = torch.from_numpy(rng.standard_normal(ref.shape)).to(dtype)
    g[g < -0.5] = -0.0
    ref.backward(g)
    ours.backward(g)
    bits = torch.int32 if dtype == torch.float32 else torch.int64
    assert torch.equal(a.grad.view(bits), b.grad.view(bits))


def test_backward_op_never_reads_or_writes_outside_the_plane():
    """The backward op called directly with an index the forward would have refused: that
    input gets a zero gradient, nothing outside the arrays is touched."""
    g = torch.arange(1.0, 9.0).reshape(1, 2, 4)
    idx = torch.tensor([[[3, -1, 4, 0], [2, 2, 99, 1]]])
    gx = ops._max_unpool_backward_op(g, idx, torch.tensor(True))
    assert gx.tolist() == [[[4.0, 0.0, 0.0, 1.0], [0.0, 7.0, 0.0, 6.0]]]


def test_deterministic_and_thread_count_independent(rng, split_small):
    x = torch.from_numpy(rng.standard_normal((4, 8, 64, 64)).astype(np.float32))
    idx = torch.from_numpy(rng.integers(0, 128 * 128, size=x.shape))
    g = torch.from_numpy(rng.standard_normal((4, 8, 128, 128)).astype(np.float32))
    results = []
    threads = up.get_num_threads()
    try:
        for n in (2, 2, 1, 3):
            up.set_num_threads(n)
            leaf = x.clone().requires_grad_()
            out = up.max_unpool(leaf, idx, 2)
            out.backward(g)
            results.append((out.detach(), leaf.grad))
    finally:
        up.set_num_threads(threads)
    for other in results[1:]:
        assert torch.equal(results[0][0], other[0]) and torch.equal(results[0][1], other[1])


# ------------------------------------------------------------------------------- layouts
def test_non_contiguous_inputs(rng):
    x = rng.standard_normal((2, 3, 4, 4))
    idx = _distinct_indices(rng, (2, 3, 4, 4), 64)
    expected = up.max_unpool(x, idx, 2)
    views = {
        "transposed": (np.swapaxes(x.copy(order="F"), -1, -2), np.swapaxes(idx, -1, -2)),
        "sliced": (np.repeat(x, 2, axis=-1)[..., ::2], np.repeat(idx, 2, axis=-1)[..., ::2]),
        "big-endian": (x.astype(">f8"), idx.astype(">i8")),
    }
    transposed_expected = up.max_unpool(
        np.ascontiguousarray(views["transposed"][0]),
        np.ascontiguousarray(views["transposed"][1]),
        2,
    )
    for name, (xv, iv) in views.items():
        want = transposed_expected if name == "transposed" else expected
        assert np.array_equal(up.max_unpool(xv, iv, 2), want), name
        got = up.max_unpool(
            torch.from_numpy(np.asarray(xv, dtype="=f8")),
            torch.from_numpy(np.asarray(iv, dtype="=i8")),
            2,
        )
        assert np.array_equal(got.numpy(), want), name
    tx, ti = torch.from_numpy(x), torch.from_numpy(idx)
    cl = up.max_unpool(
        tx.contiguous(memory_format=torch.channels_last),
        ti.contiguous(memory_format=torch.channels_last),
        2,
    )
    assert np.array_equal(cl.numpy(), expected)


@pytest.mark.parametrize("kind", ["numpy", "torch", "torch-float16"])
@pytest.mark.parametrize("shape", [(0, 3, 2, 2), (0, 1, 2)], ids=str)
def test_empty_batch(shape, kind):
    """PyTorch takes N=0 (C=0 is refused as it refuses it: tests/test_zero_channels.py)."""
    x, idx = np.zeros(shape), np.zeros(shape, dtype=np.int64)
    if kind != "numpy":
        x, idx = torch.from_numpy(x), torch.from_numpy(idx)
        if kind == "torch-float16":
            x = x.half()
        x.requires_grad_()
    out = up.max_unpool(x, idx, 2)
    assert tuple(out.shape) == (*shape[:2], *(2 * n for n in shape[2:]))
    if kind != "numpy":
        out.sum().backward()
        assert x.grad.shape == x.shape


# ------------------------------------------------------------------- index validation
@pytest.mark.parametrize("kind", ["numpy", "torch", "torch-float16", "torch-pure"])
@pytest.mark.parametrize("bad", [-1, 16, 2**40, -(2**63), 2**63 - 1])
def test_out_of_range_index_is_refused(bad, kind, request):
    x, idx = np.ones((2, 2, 2, 2)), np.zeros((2, 2, 2, 2), dtype=np.int64)
    idx[1, 0, 1, 1] = bad
    if kind == "torch-pure":
        request.getfixturevalue("torch_path")
    if kind != "numpy":
        x, idx = torch.from_numpy(x), torch.from_numpy(idx)
        x = x.half() if kind == "torch-float16" else x
    with pytest.raises(
        ValueError,
        match=r"max_unpool: indices holds -?\d+ \(plane 2, position 3\)"
        r".*must lie in \[0, 16\)",
    ):
        up.max_unpool(x, idx, 2)
    # and the process goes on: a valid call still works
    assert float(up.max_unpool(x, idx * 0, 2).sum()) == 4.0  # a 1 per plane


@pytest.mark.parametrize("repeats", [False, True], ids=["plain", "with-repeat-flags"])
def test_kernel_writes_nothing_in_a_plane_with_a_bad_index(repeats):
    x = np.arange(1.0, 9.0).reshape(2, 4)
    idx = np.array([[0, 1, 2, 3], [0, 1, 99, 2]], dtype=np.int64)
    out = np.zeros((2, 4))
    bad = np.empty(2, dtype=np.int64)
    twice = np.zeros(2 if repeats else 0, dtype=np.bool_)
    kernels.max_unpool(0, 2, x, idx, out, bad, twice)
    assert bad.tolist() == [-1, 2]
    assert out[0].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert out[1].tolist() == [0.0, 0.0, 0.0, 0.0]  # checked before any write
    assert twice.tolist() == ([False, False] if repeats else [])


def test_repeat_flag_picks_the_gather_gradient(rng):
    """The forward op tells the backward whether any output element was named twice: pooled
    indices of disjoint windows are not (the gradient is then a plain gather), random ones
    are; without a gradient to come, or on the pure-PyTorch path, it always says they may be.
    Both gradient paths agree bit for bit where there is no repeat."""
    x = torch.from_numpy(rng.standard_normal((2, 3, 8, 10)))
    values, pooled = F.max_pool2d(x, 2, return_indices=True)
    dup = torch.from_numpy(rng.integers(0, 12, size=values.shape))
    leaf = values.clone().requires_grad_()

    def repeats(t, indices):  # the flag as ops.max_unpool asks for it
        return ops._max_unpool_op(t, indices, [8, 10], ops._wants_grad(t))[1]

    assert not repeats(leaf, pooled)
    assert repeats(leaf, dup)
    assert repeats(values, pooled)  # no gradient to come: not looked
    with torch.no_grad():
        assert repeats(leaf, pooled)  # no gradient to come either
    assert repeats(leaf.half(), pooled)  # the torch path
    g = torch.from_numpy(rng.standard_normal((2, 3, 8, 10)))
    g[g < -0.5] = -0.0
    gather = ops._max_unpool_backward_op(g, pooled, torch.tensor(False))
    kernel = ops._max_unpool_backward_op(g, pooled, torch.tensor(True))
    assert torch.equal(gather.view(torch.int64), kernel.view(torch.int64))


x22 = np.zeros((1, 1, 2, 2), dtype=np.float32)
i22 = np.zeros((1, 1, 2, 2), dtype=np.int64)
BAD = [
    ("float-indices", dict(indices=i22.astype(np.float64)), TypeError, "indices has dtype float64"),
    ("bool-indices", dict(indices=i22.astype(bool)), TypeError, "indices has dtype bool"),
    ("list-indices", dict(indices=i22.tolist()), TypeError, "indices must be"),
    ("indices-shape", dict(indices=i22[..., :1]), ValueError, "indices has shape (1, 1, 2, 1)"),
    ("indices-rank", dict(indices=i22[0]), ValueError, "indices has shape"),
    ("x-1-D", dict(x=np.zeros(4), indices=np.zeros(4, dtype=np.int64)), ValueError, "x has shape"),
    (
        "x-6-D",
        dict(x=np.zeros((1,) * 6), indices=np.zeros((1,) * 6, dtype=np.int64)),
        ValueError,
        "x has shape",
    ),
    ("x-object", dict(x=x22.astype(object)), TypeError, "x has dtype object"),
    ("x-complex", dict(x=x22.astype(np.complex64)), TypeError, "x has dtype complex64"),
    ("x-list", dict(x=x22.tolist()), TypeError, "x must be"),
    ("output-size-small", dict(output_size=(2, 4)), ValueError, "between (3, 3) and (5, 5)"),
    ("output-size-large", dict(output_size=(1, 1, 6, 4)), ValueError, "between (3, 3) and (5, 5)"),
    ("output-size-length", dict(output_size=(4, 4, 4)), ValueError, "output_size"),
    ("output-size-float", dict(output_size=(4.0, 4)), TypeError, "output_size"),
    ("kernel-zero", dict(kernel_size=0), ValueError, "kernel_size"),
    ("kernel-fraction", dict(kernel_size=1.5), TypeError, "kernel_size"),
    ("stride-negative", dict(stride=-2), ValueError, "stride"),
    ("padding-negative", dict(padding=-1), ValueError, "padding"),
    ("default-size-empty", dict(padding=2), ValueError, "pass output_size"),
    ("absurd-size", dict(kernel_size=10**7), ValueError, "would take"),
    ("absurd-stride", dict(stride=2**70), ValueError, "stride"),
]


@pytest.mark.parametrize("kind", ["numpy", "torch"])
@pytest.mark.parametrize("name,kwargs,exc,words", BAD, ids=[b[0] for b in BAD])
def test_bad_input(name, kwargs, exc, words, kind):
    args = dict(x=x22, indices=i22, kernel_size=2)
    args.update(kwargs)
    if kind == "torch":
        for key in ("x", "indices"):
            value = args[key]
            if isinstance(value, np.ndarray) and value.dtype != object:
                args[key] = torch.from_numpy(value)
    with pytest.raises(exc, match="max_unpool") as info:
        up.max_unpool(**args)
    assert words in str(info.value)


@pytest.mark.parametrize("which", ["x-torch", "indices-torch"])
def test_mixed_kinds_are_refused(which):
    x, idx = x22, i22
    if which == "x-torch":
        x = torch.from_numpy(x)
    else:
        idx = torch.from_numpy(idx)
    with pytest.raises(TypeError, match=r"max_unpool: x is a .* but indices is a"):
        up.max_unpool(x, idx, 2)


def test_torch_uint16_is_refused():
    with pytest.raises(TypeError, match="max_unpool: x has dtype uint16"):
        up.max_unpool(torch.zeros((1, 1, 2), dtype=torch.uint16), torch.zeros((1, 1, 2)).long(), 2)


# --------------------------------------------------------------------- compile / determinism
def test_torch_compile_fullgraph():
    x = torch.tensor([[[[6.0, 8.0], [14.0, 16.0]]]], requires_grad=True)
    idx = torch.tensor([[[[5, 7], [13, 15]]]])
    compiled = torch.compile(lambda t, i: up.max_unpool(t, i, 2), fullgraph=True)
    out = compiled(x, idx)
    assert out.tolist() == SEED_4X4
    out.backward(torch.arange(16.0).reshape(1, 1, 4, 4))
    assert x.grad.tolist() == [[[[5.0, 7.0], [13.0, 15.0]]]]


def test_deterministic_algorithms_mode(rng):
    """PyTorch's own max_unpool raises in this mode; ours does not."""
    x = torch.from_numpy(rng.standard_normal((1, 2, 3, 3))).requires_grad_()
    idx = torch.from_numpy(_distinct_indices(rng, x.shape, 36))
    before = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        out = up.max_unpool(x, idx, 2)
        out.sum().backward()
        half = x.detach().half().requires_grad_()
        up.max_unpool(half, idx, 2).sum().backward()
    finally:
        torch.use_deterministic_algorithms(before)
    assert torch.equal(out, F.max_unpool2d(x, idx, 2))
    assert torch.equal(x.grad, torch.ones_like(x))


# ------------------------------------------------------------------------------------ laws
@st.composite
def _pool_case(draw):
    dims = draw(st.integers(1, 3))
    k = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    s = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    p = tuple(draw(st.integers(0, kk // 2)) for kk in k)
    size = tuple(draw(st.integers(kk, kk + 4)) for kk in k)
    seed = draw(st.integers(0, 2**32 - 1))
    x = np.random.default_rng(seed).integers(-3, 4, size=(1, 2, *size)).astype(np.float64)
    return x, k, s, p


def _window_sum(y: np.ndarray, k, s) -> np.ndarray:
    """Sum of each pooling window (no padding, no dilation), tap by tap."""
    out_size = [(n - kk) // ss + 1 for n, kk, ss in zip(y.shape[2:], k, s, strict=True)]
    total = np.zeros((*y.shape[:2], *out_size), dtype=y.dtype)
    for tap in itertools.product(*(range(kk) for kk in k)):
        total += y[
            (
                ...,
                *(
                    slice(j, j + (o - 1) * ss + 1, ss)
                    for j, o, ss in zip(tap, out_size, s, strict=True)
                ),
            )
        ]
    return total


@given(_pool_case(), st.sampled_from(["numpy", "torch"]))
def test_law_unpooling_the_pooled_keeps_exactly_the_maxima(case, kind):
    x, k, s, p = case
    arr = torch.from_numpy(x) if kind == "torch" else x
    values, indices = up.max_pool(arr, k, s, p, return_indices=True)
    y = np.asarray(up.max_unpool(values, indices, k, s, p, output_size=x.shape[2:]))
    values, indices = np.asarray(values), np.asarray(indices)
    flat_y, flat_x = y.reshape(2, -1), x.reshape(2, -1)
    named = np.zeros_like(flat_y, dtype=bool)
    np.put_along_axis(named, indices.reshape(2, -1), True, axis=1)
    # every named position holds its input value (the max of its window), the rest is zero
    assert np.array_equal(flat_y[named], flat_x[named])
    assert not flat_y[~named].any()
    assert np.array_equal(
        np.take_along_axis(flat_y, indices.reshape(2, -1), axis=1), values.reshape(2, -1)
    )
    if all(ss >= kk for ss, kk in zip(s, k, strict=True)) and not any(p):
        # windows do not overlap: each holds only its own maximum
        assert np.array_equal(_window_sum(y, k, s), values)


def test_numpy_bfloat16_from_ml_dtypes(rng):
    ml_dtypes = pytest.importorskip("ml_dtypes")
    x32 = rng.standard_normal((2, 2, 3, 3)).astype(np.float32)
    idx = _distinct_indices(rng, x32.shape, 36)
    got = up.max_unpool(x32.astype(ml_dtypes.bfloat16), idx, 2)
    assert got.dtype == ml_dtypes.bfloat16
    expected = up.max_unpool(x32.astype(ml_dtypes.bfloat16).astype(np.float32), idx, 2)
    assert np.array_equal(got.astype(np.float32), expected)
