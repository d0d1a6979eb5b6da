"""unpool: nearest (parity with F.interpolate(mode="nearest")) and bed of nails, dtypes, layouts,
gradients on the numba and pure-PyTorch paths, determinism, laws (hypothesis) and bad input."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import upsampling as up
from upsampling.nn import _dispatch


@pytest.fixture
def torch_path(monkeypatch):
    """Send CPU float32/float64/int tensors down the pure-PyTorch path (the CUDA code)."""
    monkeypatch.setattr(_dispatch, "numba_ok", lambda *tensors: False)


def _nearest_reference(x: np.ndarray, scale) -> np.ndarray:
    for axis, s in enumerate(scale, start=2):
        x = np.repeat(x, s, axis=axis)
    return x


def _nails_reference(x: np.ndarray, scale, offset) -> np.ndarray:
    out = np.zeros(
        (*x.shape[:2], *(n * s for n, s in zip(x.shape[2:], scale, strict=True))), x.dtype
    )
    out[(..., *(slice(o, None, s) for o, s in zip(offset, scale, strict=True)))] = x
    return out


def _sum_pool(y: np.ndarray, scale) -> np.ndarray:
    """Sum over non-overlapping blocks of size ``scale``."""
    n, c, *size = y.shape
    blocks = [n, c]
    for a, s in zip(size, scale, strict=True):
        blocks += [a // s, s]
    return y.reshape(blocks).sum(axis=tuple(range(3, 2 + 2 * len(scale), 2)))


# (spatial size, scale_factor)
GRID = [
    ((5,), 2),
    ((4,), 3),
    ((3, 4), 2),
    ((3, 5), (2, 3)),
    ((2, 3), (1, 4)),
    ((2, 3, 4), 2),
    ((3, 2, 2), (1, 2, 3)),
]


def _id(case):
    return f"{len(case[0])}d-in{case[0]}-s{case[1]}".replace(" ", "")


# ---------------------------------------------------------------------------------- nearest
@pytest.mark.parametrize("dtype", ["float32", "float64", "uint8"])
@pytest.mark.parametrize("case", GRID, ids=_id)
def test_nearest_matches_interpolate(case, dtype, rng):
    size, scale = case
    x = rng.integers(0, 200, size=(2, 3, *size)).astype(dtype)
    if dtype != "uint8":
        x[0, 0].flat[0] = np.nan
        x[1, 2].flat[-1] = -np.inf
    factor = scale if isinstance(scale, int) else tuple(float(s) for s in scale)
    ref = F.interpolate(torch.from_numpy(x), scale_factor=factor, mode="nearest")
    got = up.unpool(x, scale)
    assert isinstance(got, np.ndarray) and got.dtype == x.dtype
    assert np.array_equal(got, ref.numpy(), equal_nan=True)
    got = up.unpool(torch.from_numpy(x), scale)
    assert got.dtype == ref.dtype and torch.equal(got.nan_to_num(), ref.nan_to_num())


@pytest.mark.parametrize(
    "dtype", ["int8", "int16", "int32", "int64", "uint16", "uint64", "float16"]
)
@pytest.mark.parametrize("case", GRID[::3], ids=_id)
def test_nearest_other_dtypes(case, dtype, rng):
    size, scale = case
    x = rng.integers(0, 100, size=(2, 2, *size)).astype(dtype)
    scale_t = (scale,) * len(size) if isinstance(scale, int) else scale
    expected = _nearest_reference(x, scale_t)
    assert np.array_equal(up.unpool(x, scale), expected)
    got = up.unpool(torch.from_numpy(x), scale)
    assert got.dtype == torch.from_numpy(x).dtype
    assert np.array_equal(got.numpy(), expected)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("case", GRID, ids=_id)
def test_half_precision_pure_torch_path(case, dtype, rng):
    size, scale = case
    x = torch.from_numpy(rng.standard_normal((2, 3, *size))).to(dtype)
    scale_t = (scale,) * len(size) if isinstance(scale, int) else scale
    ref = F.interpolate(x, scale_factor=tuple(float(s) for s in scale_t), mode="nearest")
    assert torch.equal(up.unpool(x, scale), ref)
    offset = tuple(s - 1 for s in scale_t)
    nails = up.unpool(x, scale, "bed_of_nails", offset=offset)
    expected = _nails_reference(x.float().numpy(), scale_t, offset)
    assert nails.dtype == dtype and np.array_equal(nails.float().numpy(), expected)


@pytest.mark.parametrize("mode", ["nearest", "bed_of_nails"])
@pytest.mark.parametrize("case", GRID, ids=_id)
def test_pure_torch_path_equals_numba(case, mode, rng, monkeypatch):
    size, scale = case
    x = torch.from_numpy(rng.standard_normal((2, 3, *size)))
    scale_t = (scale,) * len(size) if isinstance(scale, int) else scale
    offset = tuple(s // 2 for s in scale_t) if mode == "bed_of_nails" else 0
    g = torch.from_numpy(
        rng.standard_normal((2, 3, *(a * s for a, s in zip(size, scale_t, strict=True))))
    )
    results = []
    for pure in (False, True):
        if pure:
            monkeypatch.setattr(_dispatch, "numba_ok", lambda *t: False)
        leaf = x.clone().requires_grad_()
        out = up.unpool(leaf, scale, mode, offset=offset)
        out.backward(g)
        results.append((out.detach(), leaf.grad))
    assert torch.equal(results[0][0], results[1][0])
    assert torch.equal(results[0][1], results[1][1])


@pytest.mark.parametrize("kind", ["numpy", "torch", "torch-float16"])
def test_scale_one_is_a_copy(kind, rng):
    x = rng.standard_normal((1, 2, 3, 3))
    if kind != "numpy":
        x = torch.from_numpy(x).to(torch.float16 if kind == "torch-float16" else torch.float64)
        x.requires_grad_()
    for mode in ("nearest", "bed_of_nails"):
        y = up.unpool(x, 1, mode)
        assert np.array_equal(
            np.asarray(y.detach() if kind != "numpy" else y),
            np.asarray(x.detach() if kind != "numpy" else x),
        )
        if kind == "numpy":
            assert not np.shares_memory(y, x)
        else:
            assert y.data_ptr() != x.data_ptr()
            y.sum().backward()


@pytest.mark.parametrize("dtype", [torch.float16, torch.float64])
def test_size_one_axes_give_a_fresh_contiguous_tensor(dtype):
    """Expanding a size-1 axis is a stride-0 view of x on the pure-PyTorch path: a custom op
    may not return it, and writing into it would write into x."""
    x = torch.tensor([[[1.5]]], dtype=dtype)
    y = up.unpool(x, 3)
    assert y.is_contiguous() and y.tolist() == [[[1.5, 1.5, 1.5]]]
    y[0, 0, 0] = 7
    assert x.item() == 1.5 and y.tolist() == [[[7.0, 1.5, 1.5]]]


# ------------------------------------------------------------------------------ bed of nails
@pytest.mark.parametrize("dtype", ["float32", "float64", "uint8", "int32", "float16"])
@pytest.mark.parametrize("case", GRID, ids=_id)
def test_bed_of_nails(case, dtype, rng):
    size, scale = case
    scale_t = (scale,) * len(size) if isinstance(scale, int) else scale
    x = rng.integers(1, 100, size=(2, 2, *size)).astype(dtype)
    for offset in (0, tuple(s - 1 for s in scale_t)):
        off_t = (offset,) * len(size) if isinstance(offset, int) else offset
        expected = _nails_reference(x, scale_t, off_t)
        got = up.unpool(x, scale, "bed_of_nails", offset=offset)
        assert got.dtype == x.dtype and np.array_equal(got, expected)
        got = up.unpool(torch.from_numpy(x), scale, "bed_of_nails", offset=offset)
        assert np.array_equal(got.numpy(), expected)


def test_seed_figure_example():
    """The seed's figure: a 2x2 map unpooled to 4x4 by nearest neighbour and bed of nails."""
    x = np.array([[[[1, 2], [3, 4]]]])
    assert up.unpool(x, 2).tolist() == [[[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]]]
    assert up.unpool(torch.from_numpy(x), 2, "bed_of_nails").tolist() == [
        [[[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]]]
    ]


# ------------------------------------------------------------------------------- layouts
def test_non_contiguous(rng):
    x = rng.standard_normal((2, 4, 5, 6))
    views = {
        "transposed": np.swapaxes(x, -1, -2),
        "sliced": x[:, ::2, 1:, ::2],
        "reversed": x[..., ::-1],
        "big-endian": x.astype(">f8"),
        "read-only": np.lib.stride_tricks.as_strided(x, writeable=False),
    }
    for name, v in views.items():
        expected = _nearest_reference(np.ascontiguousarray(v, dtype="=f8"), (2, 3))
        assert np.array_equal(up.unpool(v, (2, 3)), expected), name
    t = torch.from_numpy(x)
    for v in (
        t.transpose(-1, -2),
        t[:, ::2, 1:, ::2],
        t.contiguous(memory_format=torch.channels_last),
    ):
        assert torch.equal(up.unpool(v, (2, 3)), F.interpolate(v, scale_factor=(2.0, 3.0)))


@pytest.mark.parametrize("kind", ["numpy", "torch", "torch-float16"])
@pytest.mark.parametrize("shape", [(0, 3, 2, 2), (1, 1, 0, 3)], ids=str)
def test_empty(shape, kind):
    """An empty batch or spatial axis (C=0 is refused: tests/test_zero_channels.py)."""
    x = np.zeros(shape)
    if kind != "numpy":  # (from_numpy would give the empty tensor NumPy's zero strides)
        dtype = torch.float16 if kind == "torch-float16" else torch.float64
        x = torch.zeros(shape, dtype=dtype, requires_grad=True)
    for mode in ("nearest", "bed_of_nails"):
        y = up.unpool(x, (2, 3), mode)
        assert tuple(y.shape) == (*shape[:2], shape[2] * 2, shape[3] * 3)
        if kind != "numpy":
            (gx,) = torch.autograd.grad(y.sum(), x)
            assert gx.shape == x.shape


# ---------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("case", GRID, ids=_id)
def test_nearest_gradient_is_the_block_sum(case, rng):
    size, scale = case
    scale_t = (scale,) * len(size) if isinstance(scale, int) else scale
    x = torch.from_numpy(rng.standard_normal((2, 2, *size))).requires_grad_()
    out = up.unpool(x, scale)
    g = torch.from_numpy(rng.integers(-8, 8, size=out.shape).astype(np.float64))
    out.backward(g)
    assert np.array_equal(x.grad.numpy(), _sum_pool(g.numpy(), scale_t))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("case", GRID, ids=_id)
def test_nearest_gradient_equals_interpolate_bit_for_bit(case, dtype, rng):
    """The same bits as PyTorch's own backward (float16/bfloat16 add in float32 as it does)."""
    size, scale = case
    scale_t = (scale,) * len(size) if isinstance(scale, int) else scale
    x = torch.from_numpy(rng.standard_normal((2, 3, *size))).to(dtype)
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    out = up.unpool(a, scale)
    g = torch.from_numpy(rng.standard_normal(out.shape)).to(dtype)
    out.backward(g)
    F.interpolate(b, scale_factor=tuple(float(s) for s in scale_t)).backward(g)
    assert torch.equal(a.grad, b.grad)


@pytest.mark.parametrize("mode", ["nearest", "bed_of_nails"])
@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("path", ["numba", "torch-pure"])
def test_gradcheck_and_gradgradcheck(dims, mode, path, rng, request):
    if path == "torch-pure":
        request.getfixturevalue("torch_path")
    x = torch.from_numpy(rng.standard_normal((1, 2, *(2,) * dims))).requires_grad_()
    scale = (2, 3, 1)[:dims]
    offset = (1, 2, 0)[:dims] if mode == "bed_of_nails" else 0
    assert torch.autograd.gradcheck(lambda t: up.unpool(t, scale, mode, offset=offset), (x,))
    assert torch.autograd.gradgradcheck(lambda t: up.unpool(t, scale, mode, offset=offset), (x,))


def test_deterministic_and_thread_count_independent(rng, split_small):
    x = torch.from_numpy(rng.standard_normal((2, 8, 64, 64)).astype(np.float32))
    g = torch.from_numpy(rng.standard_normal((2, 8, 128, 192)).astype(np.float32))
    results = []
    threads = up.get_num_threads()
    try:
        for n in (2, 2, 1):
            up.set_num_threads(n)
            leaf = x.clone().requires_grad_()
            out = up.unpool(leaf, (2, 3))
            out.backward(g)
            results.append((out.detach(), leaf.grad))
    finally:
        up.set_num_threads(threads)
    for other in results[1:]:
        assert torch.equal(results[0][0], other[0]) and torch.equal(results[0][1], other[1])


# ------------------------------------------------------------------------------------ laws
@st.composite
def _unpool_case(draw):
    dims = draw(st.integers(1, 3))
    size = tuple(draw(st.integers(1, 4)) for _ in range(dims))
    scale = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    offset = tuple(draw(st.integers(0, s - 1)) for s in scale)
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    x = np.random.default_rng(seed).integers(-50, 50, size=(n, c, *size))
    return x, scale, offset


@given(_unpool_case(), st.sampled_from(["numpy", "torch"]))
def test_law_nearest_then_sum_pool_is_scaled_identity(case, kind):
    x, scale, _ = case
    arr = torch.from_numpy(x) if kind == "torch" else x
    y = np.asarray(up.unpool(arr, scale))
    assert np.array_equal(_sum_pool(y, scale), np.prod(scale) * x)


@given(_unpool_case(), st.sampled_from(["numpy", "torch"]))
def test_law_bed_of_nails_then_slicing_is_identity(case, kind):
    x, scale, offset = case
    arr = torch.from_numpy(x.astype(np.float32)) if kind == "torch" else x
    y = np.asarray(up.unpool(arr, scale, "bed_of_nails", offset=offset))
    nails = (..., *(slice(o, None, s) for o, s in zip(offset, scale, strict=True)))
    assert np.array_equal(y[nails], x)
    assert np.count_nonzero(y) == np.count_nonzero(x)  # zeros everywhere else


# ------------------------------------------------------------------ compile / determinism
def test_torch_compile_fullgraph():
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], requires_grad=True)
    compiled = torch.compile(lambda t: up.unpool(t, 2), fullgraph=True)
    out = compiled(x)
    assert out.tolist() == [[[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]]]
    out.backward(torch.arange(16.0).reshape(1, 1, 4, 4))
    assert x.grad.tolist() == [[[[10.0, 18.0], [42.0, 50.0]]]]


def test_deterministic_algorithms_mode(rng):
    x = torch.from_numpy(rng.standard_normal((1, 2, 3, 3))).requires_grad_()
    before = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        out = up.unpool(x, 2)
        out.sum().backward()
        up.unpool(x.detach().half().requires_grad_(), 2, "bed_of_nails").sum().backward()
    finally:
        torch.use_deterministic_algorithms(before)
    assert torch.equal(x.grad, torch.full_like(x, 4.0))


# ------------------------------------------------------------------------------ bad input
x4 = np.zeros((1, 1, 4, 4), dtype=np.float32)
BAD = [
    ("scale-zero", dict(scale_factor=0), ValueError, "scale_factor (0, 0) must be positive"),
    ("scale-negative", dict(scale_factor=(2, -1)), ValueError, "scale_factor (2, -1)"),
    ("scale-fraction", dict(scale_factor=1.5), TypeError, "scale_factor 1.5 must be an int"),
    ("scale-float-integral", dict(scale_factor=2.0), TypeError, "scale_factor 2.0"),
    ("scale-bool", dict(scale_factor=True), TypeError, "scale_factor True"),
    ("scale-string", dict(scale_factor="2"), TypeError, "scale_factor '2'"),
    ("scale-tuple-length", dict(scale_factor=(2, 2, 2)), ValueError, "tuple of 2 ints"),
    ("scale-absurd", dict(scale_factor=10**6), ValueError, "would take"),
    ("scale-beyond-int64", dict(scale_factor=2**70), ValueError, "scale_factor"),
    ("mode-unknown", dict(scale_factor=2, mode="bilinear"), ValueError, "mode 'bilinear'"),
    ("mode-not-string", dict(scale_factor=2, mode=None), TypeError, "mode None"),
    ("offset-with-nearest", dict(scale_factor=2, offset=1), ValueError, "offset (1, 1)"),
    (
        "offset-too-large",
        dict(scale_factor=2, mode="bed_of_nails", offset=2),
        ValueError,
        "0 <= offset < scale_factor",
    ),
    (
        "offset-negative",
        dict(scale_factor=2, mode="bed_of_nails", offset=(0, -1)),
        ValueError,
        "offset (0, -1)",
    ),
    (
        "offset-tuple-length",
        dict(scale_factor=2, mode="bed_of_nails", offset=(1,)),
        ValueError,
        "offset (1,)",
    ),
    ("offset-float", dict(scale_factor=2, mode="bed_of_nails", offset=0.5), TypeError, "offset"),
    ("x-1-D", dict(x=np.zeros(4), scale_factor=2), ValueError, "x has shape (4,)"),
    ("x-2-D", dict(x=np.zeros((1, 4)), scale_factor=2), ValueError, "x has shape (1, 4)"),
    ("x-6-D", dict(x=np.zeros((1,) * 6), scale_factor=2), ValueError, "x has shape"),
    ("x-object", dict(x=x4.astype(object), scale_factor=2), TypeError, "dtype object"),
    ("x-complex", dict(x=x4.astype(np.complex128), scale_factor=2), TypeError, "dtype complex"),
    ("x-bool", dict(x=x4.astype(bool), scale_factor=2), TypeError, "dtype bool"),
    ("x-list", dict(x=x4.tolist(), scale_factor=2), TypeError, "got list"),
    ("x-none", dict(x=None, scale_factor=2), TypeError, "got NoneType"),
]


@pytest.mark.parametrize("kind", ["numpy", "torch"])
@pytest.mark.parametrize("name,kwargs,exc,words", BAD, ids=[b[0] for b in BAD])
def test_bad_input(name, kwargs, exc, words, kind):
    args = dict(x=x4)
    args.update(kwargs)
    x = args.pop("x")
    if kind == "torch" and isinstance(x, np.ndarray) and x.dtype != object:
        x = torch.from_numpy(x)
    with pytest.raises(exc, match="unpool: ") as info:
        up.unpool(x, **args)
    assert words in str(info.value)


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_output_larger_than_memory_is_refused_before_allocating(kind):
    """An output as large as this machine's memory (under the absolute 1 TiB guard) is refused,
    not allocated lazily and then killed by the OOM killer."""
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    side = math.isqrt(ram // 8) + 1
    x = np.zeros((1, 1, 1, 1))
    x = torch.from_numpy(x) if kind == "torch" else x
    with pytest.raises(ValueError, match=r"unpool: the output of shape .* more than half of"):
        up.unpool(x, (side, side))


def test_numpy_bfloat16_from_ml_dtypes(rng):
    ml_dtypes = pytest.importorskip("ml_dtypes")
    x32 = rng.standard_normal((2, 2, 3, 4)).astype(np.float32)
    x = x32.astype(ml_dtypes.bfloat16)
    for mode, offset in (("nearest", 0), ("bed_of_nails", (1, 0))):
        got = up.unpool(x, (2, 3), mode, offset=offset)
        assert got.dtype == x.dtype
        expected = up.unpool(x.astype(np.float32), (2, 3), mode, offset=offset)
        assert np.array_equal(got.astype(np.float32), expected)
