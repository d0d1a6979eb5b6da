"""max_pool: parity with torch.nn.functional.max_pool{1,2,3}d (values, indices, gradients), NaN
and tie rules, dtypes, layouts, empty batches, determinism, and the bad-input table."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import upsampling as up
from upsampling.nn import _dispatch
from upsampling.nn import _unpool_ops as ops
from upsampling.unpool import max_pool_backward_array

TORCH_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}

# (input spatial size, kernel_size, stride, padding, dilation, ceil_mode)
GRID = [
    ((7,), 2, None, 0, 1, False),
    ((8,), 3, 2, 1, 1, True),
    ((9,), 3, 1, 1, 2, False),
    ((10,), 4, 3, 2, 2, True),
    ((5, 6), 2, None, 0, 1, False),
    ((7, 7), 3, 2, 1, 1, True),
    ((9, 8), (3, 2), (2, 1), (1, 0), (2, 3), False),
    ((6, 7), (2, 3), (3, 2), (1, 1), 1, True),
    ((4, 5, 6), 2, None, 0, 1, False),
    ((5, 6, 7), 3, 2, 1, (1, 2, 1), True),
    ((4, 6, 5), (1, 3, 2), (1, 2, 2), (0, 1, 1), (1, 1, 2), False),
]


def _id(case) -> str:
    size, k, s, p, d, ceil = case
    return f"{len(size)}d-in{size}-k{k}-s{s}-p{p}-d{d}-{'ceil' if ceil else 'floor'}".replace(
        " ", ""
    )


def _ties_and_specials(rng, shape, dtype, specials=True):
    """Small integers (many ties) with NaN and -inf sprinkled in for float dtypes."""
    x = rng.integers(0, 4, size=shape).astype(dtype)
    if specials and np.issubdtype(np.dtype(dtype), np.floating):
        x[rng.random(shape) < 0.1] = np.nan
        x[rng.random(shape) < 0.1] = -np.inf
    return x


def _torch_reference(x: torch.Tensor, case):
    size, k, s, p, d, ceil = case
    return TORCH_POOL[len(size)](x, k, s, p, d, ceil, return_indices=True)


def _assert_same(values, indices, ref_values, ref_indices):
    """Bit-equal values (NaN where NaN) and equal int64 indices; NumPy results are compared
    through zero-copy tensors."""
    assert isinstance(values, np.ndarray) == isinstance(indices, np.ndarray)
    if isinstance(values, np.ndarray):
        values, indices = torch.from_numpy(values), torch.from_numpy(indices)
    assert values.dtype == ref_values.dtype
    assert indices.dtype == torch.int64
    torch.testing.assert_close(values, ref_values, rtol=0, atol=0, equal_nan=True)
    assert torch.equal(indices, ref_indices)


def _bits(t: torch.Tensor) -> torch.Tensor:
    """A float tensor as its integer bit patterns (``torch.equal`` says ``-0.0 == 0.0``)."""
    bits = {torch.float32: torch.int32, torch.float64: torch.int64}
    return t.view(bits[t.dtype]) if t.dtype in bits else t


# ------------------------------------------------------------------------------- seed example
@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_seed_example(kind):
    x = np.array([[[[1.0, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]]])
    x = torch.from_numpy(x).float() if kind == "torch" else x
    values, indices = up.max_pool(x, 2, stride=2, return_indices=True)
    assert values.tolist() == [[[[6.0, 8.0], [14.0, 16.0]]]]
    assert indices.tolist() == [[[[5, 7], [13, 15]]]]
    only = up.max_pool(x, 2, stride=2)
    assert only.tolist() == values.tolist()


# ---------------------------------------------------------------------------------- parity
@pytest.mark.parametrize("dtype", ["float32", "float64", "uint8", "int32"])
@pytest.mark.parametrize("case", GRID, ids=_id)
def test_parity_grid(case, dtype, rng):
    x = _ties_and_specials(rng, (2, 3, *case[0]), dtype)
    ref = _torch_reference(torch.from_numpy(x), case)
    _, k, s, p, d, ceil = case
    values, indices = up.max_pool(x, k, s, p, d, ceil, return_indices=True)
    assert isinstance(values, np.ndarray) and values.dtype == x.dtype
    _assert_same(values, indices, *ref)
    values, indices = up.max_pool(torch.from_numpy(x), k, s, p, d, ceil, return_indices=True)
    assert isinstance(values, torch.Tensor)
    _assert_same(values, indices, *ref)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("case", GRID[::2], ids=_id)
def test_parity_half_precision(case, dtype, rng):
    x = torch.from_numpy(_ties_and_specials(rng, (2, 2, *case[0]), "float32")).to(dtype)
    _, k, s, p, d, ceil = case
    _assert_same(*up.max_pool(x, k, s, p, d, ceil, return_indices=True), *_torch_reference(x, case))


@pytest.mark.parametrize("case", GRID[::3], ids=_id)
def test_numpy_float16_matches_torch(case, rng):
    x = _ties_and_specials(rng, (2, 2, *case[0]), "float16")
    _, k, s, p, d, ceil = case
    values, indices = up.max_pool(x, k, s, p, d, ceil, return_indices=True)
    assert values.dtype == np.float16
    _assert_same(
        torch.from_numpy(values),
        torch.from_numpy(indices),
        *_torch_reference(torch.from_numpy(x), case),
    )


def test_random_sweep_matches_torch():
    """Several hundred random geometries in 1-3 dims (a window that covers no input is refused
    by us, so those are skipped here and tested below)."""
    rnd, rng = random.Random(7), np.random.default_rng(7)
    checked = 0
    for _ in range(400):
        dims = rnd.choice([1, 2, 3])
        k = tuple(rnd.randint(1, 4) for _ in range(dims))
        s = tuple(rnd.randint(1, 4) for _ in range(dims))
        p = tuple(rnd.randint(0, kk // 2) for kk in k)
        d = tuple(rnd.randint(1, 3) for _ in range(dims))
        ceil = rnd.random() < 0.5
        size = tuple(rnd.randint(1, 8) for _ in range(dims))
        x = _ties_and_specials(rng, (1, 2, *size), "float32")
        try:
            ref = TORCH_POOL[dims](torch.from_numpy(x), k, s, p, d, ceil, return_indices=True)
        except RuntimeError:  # output too small: we raise too
            with pytest.raises(ValueError, match="max_pool"):
                up.max_pool(x, k, s, p, d, ceil)
            continue
        ones = torch.ones(x.shape)
        if torch.isinf(TORCH_POOL[dims](ones, k, s, p, d, ceil)).any():  # an empty window
            with pytest.raises(ValueError, match="covers no input element"):
                up.max_pool(x, k, s, p, d, ceil)
            continue
        _assert_same(*up.max_pool(x, k, s, p, d, ceil, return_indices=True), *ref)
        checked += 1
    assert checked > 250


# Long rows for the row-at-a-time kernel: stride 1 (the input row read in place), 2 (its own
# gather loop) and 3 (the general gather), with padding, dilation and ceil_mode at the edges.
ROWS = [
    ((3, 70), (2, 3), (1, 1), (1, 1), 1, False),
    ((4, 131), 2, 2, 0, 1, False),
    ((5, 129), 3, 2, 1, 1, True),
    ((4, 100), (2, 5), (2, 3), (1, 2), (1, 2), True),
    ((3, 5, 67), (2, 2, 3), (1, 2, 2), (0, 1, 1), (2, 1, 1), False),
    ((257,), 4, 3, 2, 1, True),
]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint8"])
@pytest.mark.parametrize("case", ROWS, ids=_id)
def test_long_rows_match_torch(case, dtype, rng):
    """Values, indices and gradients on rows long enough for the vectorised loops and their
    remainders; gradients bit for bit, so a -0.0 gradient must land as PyTorch's +0.0."""
    x = _ties_and_specials(rng, (2, 3, *case[0]), dtype)
    ref = _torch_reference(torch.from_numpy(x), case)
    _, k, s, p, d, ceil = case
    _assert_same(*up.max_pool(x, k, s, p, d, ceil, return_indices=True), *ref)
    _assert_same(*up.max_pool(torch.from_numpy(x), k, s, p, d, ceil, return_indices=True), *ref)
    if dtype.startswith("float"):
        a, b = (torch.from_numpy(x).requires_grad_() for _ in range(2))
        g = torch.from_numpy(rng.standard_normal(ref[0].shape).astype(dtype))
        g[g < -0.5] = -0.0
        _torch_reference(a, case)[0].backward(g)
        up.max_pool(b, k, s, p, d, ceil).backward(g)
        assert torch.equal(_bits(a.grad), _bits(b.grad))


def test_huge_padded_kernel_visits_only_live_taps():
    """Taps that reach no input are never listed (a 2**29 kernel on one element is instant)."""
    x = np.array([[[3.0]]], dtype=np.float32)
    values, indices = up.max_pool(x, 2**29, padding=2**28, return_indices=True)
    assert values.tolist() == [[[3.0]]] and indices.tolist() == [[[0]]]
    y = np.arange(12.0).reshape(1, 1, 3, 4)
    kw = dict(kernel_size=(2**20, 3), stride=(2**20, 2), padding=(2**19, 1), return_indices=True)
    _assert_same(*up.max_pool(torch.from_numpy(y), **kw), *F.max_pool2d(torch.from_numpy(y), **kw))


# ---------------------------------------------------------------------- NaN, ties, -inf
@pytest.mark.parametrize("kind", ["numpy", "torch", "torch-float16"])
def test_nan_rule_last_nan_wins(kind):
    x = np.array([[[1.0, np.nan, 5.0, np.nan, 2.0, 9.0]]])
    if kind != "numpy":
        x = torch.from_numpy(x).to(torch.float16 if kind == "torch-float16" else torch.float64)
    values, indices = up.max_pool(x, 6, return_indices=True)
    assert np.isnan(float(values[0, 0, 0]))
    assert int(indices[0, 0, 0]) == 3  # the last NaN in window order
    ref = F.max_pool1d(torch.as_tensor(np.asarray(x, dtype=np.float64)), 6, return_indices=True)
    assert int(ref[1][0, 0, 0]) == 3


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_ties_go_to_the_first_in_window_order(kind):
    x = np.zeros((1, 1, 3, 3), dtype=np.float32)
    x[0, 0, 0, 2] = x[0, 0, 1, 0] = x[0, 0, 2, 2] = 7.0
    x = torch.from_numpy(x) if kind == "torch" else x
    _, indices = up.max_pool(x, 3, return_indices=True)
    assert int(indices[0, 0, 0, 0]) == 2
    _, indices = up.max_pool(x * 0, 3, return_indices=True)  # all tied: the first element
    assert int(indices[0, 0, 0, 0]) == 0


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_all_minus_inf_window(kind):
    x = np.full((1, 1, 4, 4), -np.inf, dtype=np.float32)
    x = torch.from_numpy(x) if kind == "torch" else x
    values, indices = up.max_pool(x, 2, padding=1, return_indices=True)
    ref = F.max_pool2d(torch.as_tensor(np.asarray(x)), 2, padding=1, return_indices=True)
    _assert_same(torch.as_tensor(np.asarray(values)), torch.as_tensor(np.asarray(indices)), *ref)


@pytest.mark.parametrize("dtype", ["int8", "int64", "uint64"])
def test_integer_extremes(dtype):
    """Values next to the dtype's limits (above 2**53 for 64 bits: no detour through float)."""
    info = np.iinfo(dtype)
    row = [info.min, info.min + 1, info.max - 1, info.max, info.max, info.max - 1, 0, info.min]
    x = np.array([[row]], dtype=dtype)
    expected_values = np.array([[[info.min + 1, info.max, info.max, 0]]], dtype=dtype)
    expected_indices = [[[1, 3, 4, 6]]]
    kinds = [x] if dtype == "uint64" else [x, torch.from_numpy(x)]  # torch: no uint64 pooling
    for arr in kinds:
        values, indices = up.max_pool(arr, 2, return_indices=True)
        assert np.array_equal(np.asarray(values), expected_values)
        assert np.asarray(values).dtype == x.dtype
        assert np.asarray(indices).tolist() == expected_indices
    if dtype != "uint64":
        ref = F.max_pool1d(torch.from_numpy(x), 2, return_indices=True)
        assert ref[0].numpy().tolist() == expected_values.tolist()
        assert ref[1].tolist() == expected_indices


# ------------------------------------------------------------------------------- layouts
def _layouts_numpy(x):
    return {
        "transposed": np.swapaxes(x, -1, -2),
        "sliced": x[:, ::2, 1:, ::2],
        "reversed": x[..., ::-1],
        "fortran": np.asfortranarray(x),
        "big-endian": x.astype(x.dtype.newbyteorder(">")),
        "read-only": np.lib.stride_tricks.as_strided(x, writeable=False),
    }


def test_non_contiguous_numpy(rng):
    x = _ties_and_specials(rng, (2, 4, 7, 6), "float32")
    for name, arr in _layouts_numpy(x).items():
        values, indices = up.max_pool(arr, 3, 2, 1, return_indices=True)
        ref = F.max_pool2d(
            torch.from_numpy(np.ascontiguousarray(arr).astype(np.float32)),
            3,
            2,
            1,
            return_indices=True,
        )
        _assert_same(torch.from_numpy(values.astype(np.float32)), torch.from_numpy(indices), *ref)
        assert values.dtype.isnative, name


def test_non_contiguous_torch(rng):
    x = torch.from_numpy(_ties_and_specials(rng, (2, 4, 7, 6), "float32"))
    layouts = {
        "transposed": x.transpose(-1, -2),
        "sliced": x[:, ::2, 1:, ::2],
        "channels_last": x.contiguous(memory_format=torch.channels_last),
        "expanded": x[:, :1].expand(2, 4, 7, 6),
    }
    for arr in layouts.values():
        ref = F.max_pool2d(arr, 3, 2, 1, return_indices=True)
        _assert_same(*up.max_pool(arr, 3, 2, 1, return_indices=True), *ref)


@pytest.mark.parametrize("kind", ["numpy", "torch"])
@pytest.mark.parametrize("shape", [(0, 3, 6, 6), (0, 1, 5)], ids=str)
def test_empty_batch(shape, kind):
    """PyTorch takes N=0 (C=0 is refused as it refuses it: tests/test_zero_channels.py)."""
    x = np.zeros(shape, dtype=np.float32)
    x = torch.from_numpy(x) if kind == "torch" else x
    values, indices = up.max_pool(x, 2, return_indices=True)
    assert tuple(values.shape) == (*shape[:2], *(n // 2 for n in shape[2:]))
    assert tuple(indices.shape) == tuple(values.shape)
    if kind == "torch":
        leaf = x.clone().requires_grad_()
        up.max_pool(leaf, 2).sum().backward()
        assert leaf.grad.shape == leaf.shape


# ---------------------------------------------------------------------------- gradients
def test_gradients_equal_torch_exactly():
    rnd, rng = random.Random(11), np.random.default_rng(11)
    checked = 0
    for _ in range(150):
        dims = rnd.choice([1, 2, 3])
        k = tuple(rnd.randint(1, 4) for _ in range(dims))
        s = tuple(rnd.randint(1, 3) for _ in range(dims))
        p = tuple(rnd.randint(0, kk // 2) for kk in k)
        d = tuple(rnd.randint(1, 2) for _ in range(dims))
        ceil = rnd.random() < 0.5
        size = tuple(rnd.randint(2, 7) for _ in range(dims))
        dtype = rnd.choice([torch.float32, torch.float64])
        x = torch.from_numpy(rng.integers(0, 3, size=(2, 2, *size))).to(dtype)
        try:
            up.max_pool(x, k, s, p, d, ceil)
        except ValueError:
            continue
        a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
        ref, _ = TORCH_POOL[dims](a, k, s, p, d, ceil, return_indices=True)
        ours = up.max_pool(b, k, s, p, d, ceil)
        g = torch.from_numpy(rng.standard_normal(ref.shape)).to(dtype)
        ref.backward(g)
        ours.backward(g)
        assert torch.equal(a.grad, b.grad), (k, s, p, d, ceil, size)
        checked += 1
    assert checked > 80


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_gradients_equal_torch(dtype, rng):
    x = torch.from_numpy(rng.integers(0, 3, size=(2, 3, 9, 8))).to(dtype)
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    ref = F.max_pool2d(a, 3, 1, 1, 2)
    ours = up.max_pool(b, 3, 1, 1, 2)
    g = torch.from_numpy(rng.standard_normal(ref.shape)).to(dtype)
    ref.backward(g)
    ours.backward(g)
    assert torch.equal(a.grad, b.grad)


@pytest.mark.parametrize(
    "shape,kw",
    [
        ((1, 2, 9), dict(kernel_size=3, stride=2, padding=1)),
        ((1, 2, 5, 6), dict(kernel_size=(2, 3), stride=1, dilation=(2, 1), ceil_mode=True)),
        ((1, 1, 4, 5, 4), dict(kernel_size=2, stride=(1, 2, 1), padding=1)),
    ],
    ids=["1d", "2d", "3d"],
)
@pytest.mark.parametrize("path", ["numba", "torch-pure"])
def test_gradcheck_and_gradgradcheck(shape, kw, path, rng, monkeypatch):
    if path == "torch-pure":  # the code CUDA, float16 and bfloat16 run
        monkeypatch.setattr(_dispatch, "numba_ok", lambda *tensors: False)
    x = torch.from_numpy(rng.permutation(np.prod(shape)).reshape(shape) / 7.0)  # no ties
    x.requires_grad_()
    assert torch.autograd.gradcheck(lambda t: up.max_pool(t, **kw), (x,))
    assert torch.autograd.gradgradcheck(lambda t: up.max_pool(t, **kw), (x,))


def test_double_backward_equals_torch(rng):
    x = torch.from_numpy(rng.integers(0, 3, size=(2, 2, 6, 7)).astype(np.float64))
    results = []
    for pool in (lambda t: F.max_pool2d(t, 3, 1, 1), lambda t: up.max_pool(t, 3, 1, 1)):
        leaf = x.clone().requires_grad_()
        (g,) = torch.autograd.grad(pool(leaf).square().sum(), leaf, create_graph=True)
        (gg,) = torch.autograd.grad(g.sin().sum(), leaf)
        results.append((g.detach(), gg))
    assert torch.equal(results[0][0], results[1][0]) and torch.equal(results[0][1], results[1][1])


def test_torch_backward_path_equals_numba(rng):
    """``_max_pool_backward_torch`` (CUDA, float16, bfloat16) against the numba kernel."""
    rnd = random.Random(5)
    for _ in range(60):
        dims = rnd.choice([1, 2, 3])
        k = [rnd.randint(1, 4) for _ in range(dims)]
        s = [rnd.randint(1, 3) for _ in range(dims)]
        p = [rnd.randint(0, kk // 2) for kk in k]
        d = [rnd.randint(1, 3) for _ in range(dims)]
        size = [rnd.randint(3, 7) for _ in range(dims)]
        x = torch.from_numpy(rng.integers(0, 3, size=(2, 2, *size)).astype(np.float64))
        try:
            _, idx = up.max_pool(x, k, s, p, d, rnd.random() < 0.5, return_indices=True)
        except ValueError:
            continue
        g = torch.from_numpy(rng.standard_normal(idx.shape))
        numba = max_pool_backward_array(g.numpy(), idx.numpy(), tuple(size))
        torch_path = ops._max_pool_backward_torch(g, idx, size, k, s, p, d)
        assert torch.equal(torch_path, torch.from_numpy(numba)), (k, s, p, d, size)


def test_torch_backward_path_skips_dead_taps():
    """A huge padded kernel on a tiny input: only the taps that reach the input are visited."""
    x = torch.zeros((1, 1, 1), dtype=torch.float16, requires_grad=True)
    up.max_pool(x, 2**29, padding=2**28).sum().backward()
    assert x.grad.item() == 1.0


@pytest.mark.parametrize(
    "k,s,p", [(3, 1, 0), (2, 2, 0), (3, 2, 1)], ids=["overlap-s1", "disjoint-s2", "overlap-s2-p1"]
)
def test_deterministic_and_thread_count_independent(k, s, p, rng, split_small):
    x = torch.from_numpy(rng.integers(0, 5, size=(2, 8, 64, 64)).astype(np.float32))
    out = (64 + 2 * p - k) // s + 1
    g = torch.from_numpy(rng.standard_normal((2, 8, out, out)).astype(np.float32))
    results = []
    threads = up.get_num_threads()
    try:
        for n in (2, 2, 1, 3):
            up.set_num_threads(n)
            leaf = x.clone().requires_grad_()
            values, indices = up.max_pool(leaf, k, s, p, return_indices=True)
            values.backward(g)
            results.append((values.detach(), indices, leaf.grad))
    finally:
        up.set_num_threads(threads)
    for other in results[1:]:
        for a, b in zip(results[0], other, strict=True):
            assert torch.equal(_bits(a), _bits(b))  # bit for bit, signed zeros included


def test_indices_are_not_differentiable(rng):
    x = torch.from_numpy(rng.standard_normal((1, 1, 4, 4))).requires_grad_()
    values, indices = up.max_pool(x, 2, return_indices=True)
    assert values.requires_grad and not indices.requires_grad


# --------------------------------------------------------------------- compile / determinism
def test_torch_compile_fullgraph():
    x = torch.arange(16.0).reshape(1, 1, 4, 4).requires_grad_()
    compiled = torch.compile(lambda t: up.max_pool(t, 2, return_indices=True), fullgraph=True)
    values, indices = compiled(x)
    values.sum().backward()
    assert values.tolist() == [[[[5.0, 7.0], [13.0, 15.0]]]]
    assert indices.tolist() == [[[[5, 7], [13, 15]]]]
    assert x.grad.flatten().tolist() == [float(i in (5, 7, 13, 15)) for i in range(16)]


def test_deterministic_algorithms_mode(rng):
    x = torch.from_numpy(rng.standard_normal((1, 2, 6, 6))).requires_grad_()
    before = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        values = up.max_pool(x, 3, 1, 1)
        values.sum().backward()
        half = up.max_pool(x.detach().half().requires_grad_(), 3, 1, 1)
        half.sum().backward()
    finally:
        torch.use_deterministic_algorithms(before)
    assert torch.equal(values, F.max_pool2d(x, 3, 1, 1))


# ------------------------------------------------------------------------------ bad input
x4 = np.zeros((1, 1, 4, 4), dtype=np.float32)
BAD = [
    ("kernel-zero", dict(x=x4, kernel_size=0), ValueError, "kernel_size"),
    ("kernel-negative", dict(x=x4, kernel_size=(2, -1)), ValueError, "kernel_size"),
    ("kernel-float", dict(x=x4, kernel_size=2.0), TypeError, "kernel_size"),
    ("kernel-bool", dict(x=x4, kernel_size=True), TypeError, "kernel_size"),
    ("kernel-tuple-length", dict(x=x4, kernel_size=(2, 2, 2)), ValueError, "kernel_size"),
    ("stride-zero", dict(x=x4, kernel_size=2, stride=0), ValueError, "stride"),
    ("padding-negative", dict(x=x4, kernel_size=2, padding=-1), ValueError, "padding"),
    ("padding-over-half", dict(x=x4, kernel_size=2, padding=2), ValueError, "padding"),
    ("dilation-zero", dict(x=x4, kernel_size=2, dilation=0), ValueError, "dilation"),
    ("ceil-mode-int", dict(x=x4, kernel_size=2, ceil_mode=1), TypeError, "ceil_mode"),
    (
        "return-indices-none",
        dict(x=x4, kernel_size=2, return_indices=None),
        TypeError,
        "return_indices",
    ),
    ("output-empty", dict(x=x4, kernel_size=5), ValueError, "too small"),
    ("spatial-zero", dict(x=np.zeros((1, 1, 0, 4)), kernel_size=1), ValueError, "too small"),
    ("1-D", dict(x=np.zeros(4), kernel_size=2), ValueError, "x has shape"),
    ("2-D", dict(x=np.zeros((1, 4)), kernel_size=2), ValueError, "x has shape"),
    ("6-D", dict(x=np.zeros((1, 1, 2, 2, 2, 2)), kernel_size=2), ValueError, "x has shape"),
    ("object", dict(x=x4.astype(object), kernel_size=2), TypeError, "dtype object"),
    ("complex", dict(x=x4.astype(complex), kernel_size=2), TypeError, "dtype complex128"),
    ("bool", dict(x=x4.astype(bool), kernel_size=2), TypeError, "dtype bool"),
    ("list", dict(x=x4.tolist(), kernel_size=2), TypeError, "got list"),
    (
        "torch-uint16",
        dict(x=torch.zeros((1, 1, 4), dtype=torch.uint16), kernel_size=2),
        TypeError,
        "dtype uint16",
    ),
    ("stride-beyond-int32", dict(x=x4, kernel_size=1, stride=2**31), ValueError, "stride"),
    ("dilation-beyond-int64", dict(x=x4, kernel_size=1, dilation=2**70), ValueError, "dilation"),
]


@pytest.mark.parametrize("kind", ["numpy", "torch"])
@pytest.mark.parametrize("name,kwargs,exc,words", BAD, ids=[b[0] for b in BAD])
def test_bad_input(name, kwargs, exc, words, kind):
    kwargs = dict(kwargs)
    if kind == "torch" and isinstance(kwargs["x"], np.ndarray) and kwargs["x"].dtype != object:
        kwargs["x"] = torch.from_numpy(kwargs["x"])
    with pytest.raises(exc, match="max_pool") as info:
        up.max_pool(**kwargs)
    assert words in str(info.value)


@pytest.mark.parametrize(
    "size,k,s,p,d,ceil",
    [
        ((1,), 2, 1, 1, 2, False),
        ((2,), 2, 2, 1, 3, True),
        ((3, 3), (1, 2), 1, (0, 1), (1, 4), False),
        ((2, 2, 3), (1, 1, 2), 1, (0, 0, 1), (1, 1, 4), False),
    ],
    ids=["1d-floor", "1d-ceil", "2d", "3d"],
)
@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_empty_window_is_refused(size, k, s, p, d, ceil, kind):
    """PyTorch returns -inf and an index outside the window there; we raise."""
    x = np.ones((1, 1, *size), dtype=np.float32)
    ref, _ = TORCH_POOL[len(size)](torch.from_numpy(x), k, s, p, d, ceil, return_indices=True)
    assert torch.isinf(ref).any()  # the case really is an empty window in PyTorch
    x = torch.from_numpy(x) if kind == "torch" else x
    with pytest.raises(ValueError, match=r"max_pool: window \d+ along spatial axis \d covers no"):
        up.max_pool(x, k, s, p, d, ceil)


def test_numpy_bfloat16_from_ml_dtypes(rng):
    """NumPy bfloat16 (ml_dtypes, installed with onnx) computes like torch.bfloat16."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    x32 = _ties_and_specials(rng, (2, 3, 7, 6), "float32")
    x = x32.astype(ml_dtypes.bfloat16)
    values, indices = up.max_pool(x, 3, 2, 1, return_indices=True)
    ref_values, ref_indices = F.max_pool2d(
        torch.from_numpy(x32).bfloat16(), 3, 2, 1, return_indices=True
    )
    assert values.dtype == x.dtype
    assert np.array_equal(values.astype(np.float32), ref_values.float().numpy(), equal_nan=True)
    assert np.array_equal(indices, ref_indices.numpy())
