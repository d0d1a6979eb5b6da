"""pixel_shuffle / pixel_unshuffle: parity with torch (2-D), ONNX DepthToSpace in "CRD" order,
the 1-D and 3-D generalisation (explicit formula, round trips), per-dim factors, dtypes,
autograd, and the bad-input table."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

from upsampling.conv import conv, conv_transpose
from upsampling.pixel_shuffle import pixel_shuffle, pixel_unshuffle


@pytest.mark.parametrize("r", [1, 2, 3])
@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_2d_matches_torch(r, kind, rng):
    x = rng.standard_normal((2, 2 * r * r, 3, 4))
    ref = F.pixel_shuffle(torch.from_numpy(x), r)
    if kind == "torch":
        x = torch.from_numpy(x)
    y = pixel_shuffle(x, r)
    np.testing.assert_array_equal(np.asarray(y), ref.numpy())
    back = pixel_unshuffle(y, r)
    np.testing.assert_array_equal(np.asarray(back), np.asarray(x))
    np.testing.assert_array_equal(
        np.asarray(back), F.pixel_unshuffle(torch.as_tensor(np.asarray(y)), r).numpy()
    )


def test_matches_onnx_depth_to_space_crd(rng):
    x = rng.standard_normal((1, 12, 2, 3)).astype(np.float32)
    node = helper.make_node("DepthToSpace", ["X"], ["Y"], blocksize=2, mode="CRD")
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, None)],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    ref = ReferenceEvaluator(model).run(None, {"X": x})[0]
    np.testing.assert_array_equal(pixel_shuffle(x, 2), ref)


@pytest.mark.parametrize("r", [2, (2, 3), (1, 2, 3)], ids=str)
@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_formula_in_1_to_3_dims(r, kind, rng):
    nd = 3 if isinstance(r, int) else len(r)
    r = (r,) * nd if isinstance(r, int) else r
    size = (2, 3, 2)[:nd]
    x = rng.standard_normal((2, 2 * int(np.prod(r)), *size))
    xin = torch.from_numpy(x) if kind == "torch" else x
    y = np.asarray(pixel_shuffle(xin, r))
    assert y.shape == (2, 2, *(a * f for a, f in zip(size, r, strict=True)))
    for pos in itertools.product(*(range(a * f) for a, f in zip(size, r, strict=True))):
        offsets = tuple(p % f for p, f in zip(pos, r, strict=True))
        block = int(np.ravel_multi_index(offsets, r))
        src = tuple(p // f for p, f in zip(pos, r, strict=True))
        for c in range(2):
            assert y[(1, c, *pos)] == x[(1, c * int(np.prod(r)) + block, *src)]
    np.testing.assert_array_equal(np.asarray(pixel_unshuffle(pixel_shuffle(xin, r), r)), x)


def test_subpixel_convolution_is_a_transposed_convolution(rng):
    """Shi et al.: a stride-1 convolution to C r^2 channels then pixel shuffle is a stride-r
    transposed convolution (kernel r, no overlap)."""
    x = rng.standard_normal((1, 3, 4, 5))
    w = rng.standard_normal((3, 2, 2, 2))  # transposed weight (C_in, C_out, r, r)
    sub = w.transpose(1, 2, 3, 0).reshape(8, 3, 1, 1)  # conv weight (C_out * r^2, C_in, 1, 1)
    np.testing.assert_allclose(pixel_shuffle(conv(x, sub), 2), conv_transpose(x, w, stride=2))


@pytest.mark.parametrize(
    "dtype", [np.uint8, np.int64, np.bool_, np.float16, np.float32], ids=lambda d: np.dtype(d).name
)
def test_dtypes_are_kept(dtype):
    x = (np.arange(32) % 7).astype(dtype).reshape(1, 8, 2, 2)
    assert pixel_shuffle(x, 2).dtype == dtype
    assert pixel_unshuffle(pixel_shuffle(x, 2), 2).dtype == dtype


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.uint8], ids=str)
def test_torch_dtypes(dtype):
    x = torch.arange(16).reshape(1, 4, 2, 2).to(dtype)
    torch.testing.assert_close(pixel_shuffle(x, 2), F.pixel_shuffle(x, 2))
    assert pixel_shuffle(x.reshape(1, 8, 2), 2).dtype == dtype


def test_autograd_3d():
    x = torch.randn(1, 8, 2, 2, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: pixel_shuffle(t, 2), (x,))
    assert torch.autograd.gradcheck(lambda t: pixel_unshuffle(t, 2), (x,))


BAD = [
    ("channels", lambda: pixel_shuffle(np.ones((1, 6, 2, 2)), 2), ValueError, "not divisible"),
    ("zero-factor", lambda: pixel_shuffle(np.ones((1, 4, 2, 2)), 0), ValueError, "positive"),
    ("float-factor", lambda: pixel_shuffle(np.ones((1, 4, 2, 2)), 2.0), TypeError, "int"),
    ("rank", lambda: pixel_shuffle(np.ones((4, 2)), 2), ValueError, "shape"),
    ("tuple-length", lambda: pixel_shuffle(np.ones((1, 4, 2, 2)), (2, 2, 1)), ValueError, "tuple"),
    ("not-array", lambda: pixel_shuffle([1, 2], 2), TypeError, "numpy.ndarray"),
]
BAD_UNSHUFFLE = [
    ("spatial", lambda: pixel_unshuffle(np.ones((1, 1, 3, 4)), 2), ValueError, "not divisible"),
    ("zero-factor", lambda: pixel_unshuffle(np.ones((1, 1, 2, 2)), 0), ValueError, "positive"),
]


@pytest.mark.parametrize(
    "call, exc, match, fn",
    [(*b[1:], "pixel_shuffle") for b in BAD] + [(*b[1:], "pixel_unshuffle") for b in BAD_UNSHUFFLE],
    ids=[b[0] for b in BAD] + ["unshuffle-" + b[0] for b in BAD_UNSHUFFLE],
)
def test_bad_input(call, exc, match, fn):
    with pytest.raises(exc, match=match) as info:
        call()
    assert str(info.value).startswith(fn + ": ")
