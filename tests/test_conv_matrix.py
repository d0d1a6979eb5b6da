"""conv_matrix: the seed's 4x16 matrix and its 16x4 transpose, ``C @ x == conv(x)`` and
``C.T @ y == conv_transpose(y)`` over a grid, the "matrix" method, tensors as weights, and the
refusal of matrices that would not fit in memory."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
import torch

from conftest import tolerance
from upsampling import shapes
from upsampling.conv import conv, conv_matrix, conv_transpose

# (input size, groups, kernel_size, stride, padding, dilation)
GRID = [
    ((4, 4), 1, 3, 1, 0, 1),  # the seed's example
    ((7,), 1, 3, 2, 1, 1),
    ((8,), 2, 2, 3, 2, 2),
    ((5, 6), 2, (3, 2), (2, 1), (1, 0), (1, 2)),
    ((6, 5), 1, 4, 1, "same", 1),
    ((5, 5), 1, 3, 2, "valid", 1),
    ((4, 3, 4), 1, 2, (1, 2, 1), 1, (2, 1, 1)),
]


def _id(case) -> str:
    size, g, k, s, p, d = case
    return f"{len(size)}d-in{size}-g{g}-k{k}-s{s}-p{p}-d{d}".replace(" ", "").replace("'", "")


def test_seed_matrices():
    """The seed's figures: a 3x3 kernel on a 4x4 input is a 4x16 sparse matrix; its transpose
    (16x4) takes a 2x2 input to a 4x4 output."""
    w = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    c = conv_matrix(w, (4, 4))
    assert isinstance(c, scipy.sparse.csr_matrix) and c.shape == (4, 16) and c.nnz == 36
    row = np.zeros(16)
    row[[0, 1, 2, 4, 5, 6, 8, 9, 10]] = w.ravel()
    expected = np.stack([np.roll(row, shift) for shift in (0, 1, 4, 5)])
    np.testing.assert_array_equal(c.toarray(), expected)
    y = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    ct = c.T
    assert ct.shape == (16, 4)
    np.testing.assert_array_equal((ct @ y.ravel()).reshape(4, 4), conv_transpose(y, w)[0, 0])


@pytest.mark.parametrize("case", GRID, ids=_id)
def test_matrix_is_conv_and_its_transpose_is_conv_transpose(case, rng):
    size, g, k, s, p, d = case
    nd = len(size)
    kernel = (k,) * nd if isinstance(k, int) else k
    w = rng.standard_normal((3 * g, 2, *kernel))
    x = rng.standard_normal((2, 2 * g, *size))
    c = conv_matrix(w, size, stride=s, padding=p, dilation=d, groups=g)
    y = conv(x, w, stride=s, padding=p, dilation=d, groups=g)
    assert c.shape == (y[0].size, x[0].size)
    for n in range(2):
        np.testing.assert_allclose(c @ x[n].ravel(), y[n].ravel(), **tolerance("float64"))
    if isinstance(p, str):
        return  # conv_transpose has no "valid", and its "same" is another rule
    ty = conv_transpose(y, w, stride=s, padding=p, dilation=d, groups=g, output_size=size)
    for n in range(2):
        np.testing.assert_allclose(c.T @ y[n].ravel(), ty[n].ravel(), **tolerance("float64"))


def test_tensor_weight_and_dtypes(rng):
    w = torch.from_numpy(rng.standard_normal((2, 1, 3, 3))).float().requires_grad_()
    c = conv_matrix(w, (5, 5))
    assert c.dtype == np.float32 and c.shape == (18, 25)
    np.testing.assert_array_equal(c.toarray(), conv_matrix(w.detach().numpy(), (5, 5)).toarray())
    assert conv_matrix(w.to(torch.bfloat16), (5, 5)).dtype == np.float32
    assert conv_matrix(w.detach().numpy().astype(np.float16), 5).dtype == np.float32


def test_int_input_size_broadcasts():
    w = np.ones((1, 1, 2, 2))
    assert conv_matrix(w, 3).shape == conv_matrix(w, (3, 3)).shape == (4, 9)


def test_refuses_a_matrix_that_would_not_fit():
    with pytest.raises(ValueError, match=r"conv_matrix: the convolution matrix .* [\d,]+ bytes"):
        conv_matrix(np.ones((1, 1, 3, 3)), (10**6, 10**6))


BAD = [
    ("weight-rank", lambda: conv_matrix(np.ones((3, 3)), (4, 4)), ValueError, "weight has shape"),
    (
        "size-length",
        lambda: conv_matrix(np.ones((1, 1, 3, 3)), (4, 4, 4)),
        ValueError,
        "input_size",
    ),
    ("too-small", lambda: conv_matrix(np.ones((1, 1, 3, 3)), (2, 2)), ValueError, "too small"),
    ("groups", lambda: conv_matrix(np.ones((3, 1, 3, 3)), (4, 4), groups=2), ValueError, "groups"),
    ("not-array", lambda: conv_matrix([[1.0]], (4, 4)), TypeError, "weight"),
    ("int-dtype", lambda: conv_matrix(np.ones((1, 1, 3, 3), int), (4, 4)), TypeError, "dtype"),
    (
        "zero-stride",
        lambda: conv_matrix(np.ones((1, 1, 3, 3)), (4, 4), stride=0),
        ValueError,
        "stride",
    ),
]


@pytest.mark.parametrize("call, exc, match", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match) as info:
        call()
    assert str(info.value).startswith("conv_matrix: ")


def test_shapes_conv_transpose_output_size():
    assert shapes.conv_transpose_output_size((2, 2), 3, stride=2) == (5, 5)
    assert shapes.conv_transpose_output_size((4,), 4, 2, 1) == (8,)
    assert shapes.conv_transpose_output_size((4,), 3, 2, 1, 1) == (8,)
    assert shapes.conv_transpose_output_size((3, 5), 3, 2, padding="same") == (6, 10)
    assert shapes.conv_transpose_output_size((3,), 3, 2, output_size=(8,)) == (8,)
    with pytest.raises(ValueError, match="out of range"):
        shapes.conv_transpose_output_size((3,), 3, 2, output_size=(9,))
