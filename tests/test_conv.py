"""conv: parity with torch.nn.functional.conv{1,2,3}d (NumPy and torch, forward and gradients,
padding ints / tuples / "same" / "valid", stride, dilation, groups), dtypes, the im2col paths,
shapes.conv_output_size, and the bad-input table."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import tolerance
from upsampling import shapes
from upsampling._kernels import conv as kernels
from upsampling.conv import conv

TORCH_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}

# (input size, groups, kernel_size, stride, padding, dilation)
GRID = [
    ((7,), 1, 3, 1, 0, 1),
    ((9,), 2, 4, 2, 1, 1),
    ((8,), 1, 3, 1, "same", 2),
    ((8,), 1, 4, 1, "same", 1),  # even kernel: the odd padding goes after
    ((6,), 3, 2, 3, "valid", 1),
    ((5, 6), 1, 3, 1, 1, 1),
    ((7, 6), 2, (3, 2), (2, 1), (1, 0), (1, 2)),
    ((6, 6), 1, 4, 1, "same", (2, 1)),
    ((8, 8), 1, 1, 2, 0, 1),
    ((3, 3), 1, 3, 1, 0, 1),  # a 1x1 output
    ((12, 12), 1, 3, 1, 1, 1),  # enough pixels for the per-image GEMM
    ((4, 5, 4), 1, 3, 1, 1, 1),
    ((5, 4, 6), 2, (2, 3, 1), (2, 1, 3), (0, 1, 0), (1, 1, 2)),
    ((4, 4, 4), 1, 2, 1, "same", 1),
]


def _id(case) -> str:
    size, g, k, s, p, d = case
    return f"{len(size)}d-in{size}-g{g}-k{k}-s{s}-p{p}-d{d}".replace(" ", "").replace("'", "")


def _operands(case, rng, n=2, dtype=np.float64):
    size, g, k, *_ = case
    kernel = (k,) * len(size) if isinstance(k, int) else k
    x = rng.standard_normal((n, 2 * g, *size)).astype(dtype)
    w = rng.standard_normal((3 * g, 2, *kernel)).astype(dtype)
    b = rng.standard_normal(3 * g).astype(dtype)
    return x, w, b


def _args(case) -> dict:
    _, g, _, s, p, d = case
    return {"stride": s, "padding": p, "dilation": d, "groups": g}


def _reference(x, w, b, case):
    x, w, b = (torch.as_tensor(v) for v in (x, w, b))
    return TORCH_CONV[x.ndim - 2](x, w, b, **_args(case))


@pytest.mark.parametrize("batch", [1, 70], ids=["batch1", "batch70"])
@pytest.mark.parametrize("case", GRID, ids=_id)
def test_numpy_matches_torch(case, batch, rng):
    x, w, b = _operands(case, rng, n=batch)
    y = conv(x, w, b, **_args(case))
    ref = _reference(x, w, b, case).numpy()
    assert isinstance(y, np.ndarray) and y.dtype == np.float64 and y.shape == ref.shape
    np.testing.assert_allclose(y, ref, **tolerance("float64"))
    assert y.shape[2:] == shapes.conv_output_size(
        x.shape[2:], w.shape[2:], case[3], case[4], case[5]
    )


@pytest.mark.parametrize("case", GRID, ids=_id)
def test_torch_forward_and_gradients(case, rng):
    x, w, b = (torch.tensor(v, requires_grad=True) for v in _operands(case, rng))
    y = conv(x, w, b, **_args(case))
    ref = _reference(x, w, b, case)
    torch.testing.assert_close(y, ref, **tolerance(torch.float64))
    upstream = torch.randn(ref.shape, dtype=torch.float64)
    for got, want in zip(
        torch.autograd.grad(y, (x, w, b), upstream),
        torch.autograd.grad(ref, (x, w, b), upstream),
        strict=True,
    ):
        torch.testing.assert_close(got, want, **tolerance(torch.float64))


def test_gradcheck(rng):
    case = GRID[6]
    x, w, b = (torch.tensor(v, requires_grad=True) for v in _operands(case, rng, n=1))
    assert torch.autograd.gradcheck(lambda x, w, b: conv(x, w, b, **_args(case)), (x, w, b))


@pytest.mark.parametrize("budget", [1, 3000], ids=lambda b: f"cols{b}B")
@pytest.mark.parametrize("case", [GRID[6], GRID[12]], ids=_id)
def test_chunks_and_row_slabs(case, budget, rng, monkeypatch):
    """A small column budget cuts the batch into chunks and images into slabs of rows."""
    monkeypatch.setattr(kernels, "_COLS_BYTES", budget)
    x, w, b = _operands(case, rng, n=3)
    ref = _reference(x, w, b, case).numpy()
    np.testing.assert_allclose(conv(x, w, b, **_args(case)), ref, **tolerance("float64"))


def test_no_bias_and_strided_views(rng):
    x = rng.standard_normal((2, 6, 9, 10))[:, ::2, 1:, ::-1]  # a non-contiguous view
    w = rng.standard_normal((4, 3, 3, 3))
    ref = F.conv2d(torch.from_numpy(x.copy()), torch.from_numpy(w), padding=1)
    np.testing.assert_allclose(conv(x, w, padding=1), ref.numpy(), **tolerance("float64"))


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_numpy_dtypes(dtype, rng):
    case = GRID[6]
    x, w, b = _operands(case, rng, dtype=dtype)
    y = conv(x, w, b, **_args(case))
    assert y.dtype == dtype
    ref = _reference(*(v.astype(np.float64) for v in (x, w, b)), case).numpy()
    rtol, atol = (1e-5, 1e-5) if dtype == "float32" else (5e-3, 2e-2)
    np.testing.assert_allclose(y.astype(np.float64), ref, rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16], ids=str)
def test_torch_dtypes(dtype, rng):
    case = GRID[5]
    x, w, b = (torch.from_numpy(v).to(dtype) for v in _operands(case, rng))
    y = conv(x, w, b, **_args(case))
    assert y.dtype == dtype
    torch.testing.assert_close(y, _reference(x, w, b, case))


def test_empty_batch():
    assert conv(np.ones((0, 2, 5, 5)), np.ones((3, 2, 3, 3))).shape == (0, 3, 3, 3)


def test_seed_convolution_4x4_to_2x2():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    w = np.arange(9.0).reshape(1, 1, 3, 3)
    y = conv(x, w)
    assert y.shape == (1, 1, 2, 2)
    expected = [
        [(x[0, 0, i : i + 3, j : j + 3] * w[0, 0]).sum() for j in range(2)] for i in range(2)
    ]
    np.testing.assert_array_equal(y[0, 0], expected)


def _x():
    return np.ones((1, 4, 5, 5))


def _w(*shape):
    return np.ones(shape or (2, 4, 3, 3))


BAD = [
    ("channel-mismatch", lambda: conv(_x(), _w(2, 3, 3, 3)), ValueError, "axis 1 must be 4"),
    (
        "groups-not-dividing-out",
        lambda: conv(_x(), _w(3, 2, 3, 3), groups=2),
        ValueError,
        "groups 2",
    ),
    (
        "groups-not-dividing-in",
        lambda: conv(_x(), _w(3, 1, 3, 3), groups=3),
        ValueError,
        "groups 3",
    ),
    ("zero-stride", lambda: conv(_x(), _w(), stride=0), ValueError, "stride"),
    ("negative-padding", lambda: conv(_x(), _w(), padding=(1, -1)), ValueError, "padding"),
    ("same-with-stride", lambda: conv(_x(), _w(), padding="same", stride=2), ValueError, "same"),
    ("unknown-padding", lambda: conv(_x(), _w(), padding="full"), ValueError, "padding 'full'"),
    ("weight-rank", lambda: conv(_x(), _w(2, 4, 3)), ValueError, "weight has shape"),
    ("too-small", lambda: conv(_x(), _w(2, 4, 7, 7)), ValueError, "too small"),
    ("dtype-mismatch", lambda: conv(_x(), _w().astype(np.float32)), TypeError, "must match"),
    (
        "uint16-dtype",  # PyTorch's CPU convolution lacks it
        lambda: conv(_x().astype(np.uint16), _w().astype(np.uint16)),
        TypeError,
        "dtype uint16; allowed dtypes: float16, bfloat16, float32, float64, uint8, int8, int16, "
        "int32, int64$",
    ),
    ("bool-dtype", lambda: conv(_x().astype(bool), _w().astype(bool)), TypeError, "dtype bool"),
    ("bias-kind", lambda: conv(_x(), _w(), torch.ones(2, dtype=torch.float64)), TypeError, "bias"),
    ("tuple-length", lambda: conv(_x(), _w(), stride=(1, 1, 1)), ValueError, "stride"),
]


@pytest.mark.parametrize("call, exc, match", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match) as info:
        call()
    assert str(info.value).startswith("conv: ")


def test_shapes_conv_output_size():
    assert shapes.conv_output_size((4, 4), 3) == (2, 2)
    assert shapes.conv_output_size((7,), 3, stride=2, padding=1, dilation=2) == (3,)
    assert shapes.conv_output_size((5, 6), 4, padding="same") == (5, 6)
    assert shapes.conv_output_size((5, 6), 4, padding="valid") == (2, 3)
    with pytest.raises(ValueError, match="too small"):
        shapes.conv_output_size((2,), 3)


# ---------------------------------------------------------------------------- integer dtypes
INT_DTYPES = [torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64]


@pytest.mark.parametrize("dtype", INT_DTYPES, ids=str)
@pytest.mark.parametrize("case", [GRID[1], GRID[5], GRID[6], GRID[7], GRID[12]], ids=_id)
def test_integer_dtypes_match_torch_bit_for_bit(dtype, case):
    """The integer dtypes PyTorch's CPU convolution takes: the same integers, wrapping around
    on overflow as PyTorch's (the values span the dtype's whole range, so sums overflow).
    PyTorch has no dilated convolution below int64: there the rule is the same, int64
    arithmetic wrapped back to the dtype (what its undilated kernels give)."""
    info = torch.iinfo(dtype)
    gen = torch.Generator().manual_seed(7)
    x, w, b = (
        torch.randint(info.min, info.max, tuple(v.shape), generator=gen, dtype=torch.int64)
        for v in _operands(case, np.random.default_rng(0))
    )
    op = TORCH_CONV[x.ndim - 2]
    wrapped = op(x, w, b, **_args(case)).to(dtype)
    x, w, b = x.to(dtype), w.to(dtype), b.to(dtype)
    if dtype == torch.int64 or _args(case)["dilation"] == 1:
        assert torch.equal(op(x, w, b, **_args(case)), wrapped)
    else:
        with pytest.raises(NotImplementedError, match="slow_conv_dilated"):
            op(x, w, b, **_args(case))
    got = conv(x, w, b, **_args(case))
    assert got.dtype == dtype and torch.equal(got, wrapped)
    got = conv(x.numpy(), w.numpy(), b.numpy(), **_args(case))
    assert got.dtype == x.numpy().dtype and np.array_equal(got, wrapped.numpy())
    exact = op(x.double(), w.double(), b.double(), **_args(case))
    assert not torch.equal(wrapped.double(), exact)  # wrapped, not saturated or exact


def test_integer_tensor_off_cpu_is_refused():
    x = torch.ones(1, 1, 3, 3, dtype=torch.int64, device="meta")
    with pytest.raises(TypeError, match="conv: x has dtype int64 on meta; integer convolutions"):
        conv(x, torch.ones(1, 1, 2, 2, dtype=torch.int64, device="meta"))
