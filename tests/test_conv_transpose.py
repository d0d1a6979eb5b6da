"""conv_transpose: parity with torch.nn.functional.conv_transpose{1,2,3}d (forward and gradients,
every method, NumPy and torch), the torch module's output_size rule, padding="same" and the
ONNX reference ConvTranspose, the laws (adjoint of conv, all methods agree), the seed's
example, checkerboard counts, dtypes, and the bad-input table."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

from conftest import tolerance
from upsampling import shapes
from upsampling._kernels import conv as kernels
from upsampling.conv import METHODS, checkerboard, conv, conv_transpose
from upsampling.nn import _conv_ops

TORCH_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
ALL = list(METHODS)

# (input size, groups, kernel_size, stride, padding, output_padding, dilation)
GRID = [
    ((5,), 1, 3, 2, 1, 1, 1),
    ((6,), 1, 4, 2, 1, 0, 1),
    ((4,), 1, 1, 3, 0, 2, 1),  # k < s: phases no tap reaches
    ((5,), 2, 3, 1, 2, 0, 2),
    ((5,), 1, 2, 3, 1, 2, 2),
    ((4,), 1, 3, 2, 0, 2, 3),  # output_padding >= stride, allowed by the dilation
    ((6,), 2, 5, 4, 3, 0, 1),
    ((2, 2), 1, 3, 2, 0, 0, 1),  # the seed's example
    ((4, 5), 1, 4, 2, 1, 0, 1),
    ((5, 4), 1, 3, 2, 1, 1, 1),
    ((3, 3), 2, 2, 2, 0, 0, 1),
    ((4, 3), 1, (3, 2), (2, 3), (1, 0), (1, 2), (1, 2)),
    ((3, 4), 2, 3, 2, 1, 0, 2),
    ((3, 3), 3, 3, 3, 2, 2, 1),
    ((4, 4), 1, 1, 1, 0, 0, 1),
    ((3, 3), 1, 5, 1, 3, 0, 1),  # padding crops all but one entry of the full result
    ((2, 3, 2), 1, 3, 2, 1, 1, 1),
    ((2, 2, 3), 2, (2, 3, 1), (2, 1, 3), (0, 1, 0), (1, 0, 2), (1, 2, 1)),
]


def _id(case) -> str:
    size, g, k, s, p, op, d = case
    return f"{len(size)}d-in{size}-g{g}-k{k}-s{s}-p{p}-op{op}-d{d}".replace(" ", "")


def _operands(case, rng, dtype=np.float64, c_og=3):
    size, g, k, *_ = case
    nd = len(size)
    kernel = (k,) * nd if isinstance(k, int) else k
    x = rng.standard_normal((2, 2 * g, *size)).astype(dtype)
    w = rng.standard_normal((2 * g, c_og, *kernel)).astype(dtype)
    b = rng.standard_normal(c_og * g).astype(dtype)
    return x, w, b


def _args(case) -> dict:
    _, g, _, s, p, op, d = case
    return {"stride": s, "padding": p, "output_padding": op, "groups": g, "dilation": d}


def _torch_reference(x, w, b, case):
    a = _args(case)
    x, w, b = (torch.as_tensor(v) for v in (x, w, b))
    return TORCH_T[x.ndim - 2](
        x, w, b, a["stride"], a["padding"], a["output_padding"], a["groups"], a["dilation"]
    )


# ------------------------------------------------------------------------------------ parity
@pytest.mark.parametrize("method", ALL)
@pytest.mark.parametrize("case", GRID, ids=_id)
def test_numpy_matches_torch(case, method, rng):
    x, w, b = _operands(case, rng)
    y = conv_transpose(x, w, b, **_args(case), method=method)
    ref = _torch_reference(x, w, b, case).numpy()
    assert isinstance(y, np.ndarray) and y.dtype == np.float64
    assert y.shape == ref.shape
    np.testing.assert_allclose(y, ref, **tolerance("float64"))


@pytest.mark.parametrize("method", ALL)
@pytest.mark.parametrize("case", GRID, ids=_id)
def test_torch_forward_and_gradients_match_torch(case, method, rng):
    x, w, b = (torch.tensor(v, requires_grad=True) for v in _operands(case, rng))
    y = conv_transpose(x, w, b, **_args(case), method=method)
    ref = _torch_reference(x, w, b, case)
    torch.testing.assert_close(y, ref, **tolerance(torch.float64))
    upstream = torch.from_numpy(rng.standard_normal(tuple(ref.shape)))
    got = torch.autograd.grad(y, (x, w, b), upstream)
    want = torch.autograd.grad(ref, (x, w, b), upstream)
    for g, r in zip(got, want, strict=True):
        torch.testing.assert_close(g, r, **tolerance(torch.float64))


@pytest.mark.parametrize("method", ALL)
@pytest.mark.parametrize(
    "case", [((3,), 1, 3, 2, 1, 1, 1), ((2, 3), 2, (2, 3), (2, 1), (0, 1), (1, 0), (1, 2))], ids=_id
)
def test_gradcheck(case, method, rng):
    x, w, b = (torch.tensor(v, requires_grad=True) for v in _operands(case, rng, c_og=1))
    x = x[:1].detach().requires_grad_()

    def f(x, w, b):
        return conv_transpose(x, w, b, **_args(case), method=method)

    assert torch.autograd.gradcheck(f, (x, w, b))


@pytest.mark.parametrize("method", ALL)
def test_float32(method, rng):
    case = GRID[9]
    x, w, b = _operands(case, rng, np.float32)
    ref = _torch_reference(x, w, b, case)
    y = conv_transpose(x, w, b, **_args(case), method=method)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, ref.numpy(), **tolerance("float32"))
    yt = conv_transpose(*map(torch.from_numpy, (x, w, b)), **_args(case), method=method)
    assert yt.dtype == torch.float32
    torch.testing.assert_close(yt, ref, **tolerance(torch.float32))


@pytest.mark.parametrize("method", ALL)
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
def test_half_precision_tensors(method, dtype, rng):
    case = GRID[12]
    x, w, b = (torch.from_numpy(v) for v in _operands(case, rng))
    ref = _torch_reference(x, w, b, case)
    y = conv_transpose(x.to(dtype), w.to(dtype), b.to(dtype), **_args(case), method=method)
    assert y.dtype == dtype
    torch.testing.assert_close(y.double(), ref, rtol=0.05, atol=0.1)


@pytest.mark.parametrize("method", ALL)
def test_numpy_float16_computes_in_float32(method, rng):
    case = GRID[1]
    x, w, b = _operands(case, rng, np.float16)
    y = conv_transpose(x, w, b, **_args(case), method=method)
    assert y.dtype == np.float16
    ref = _torch_reference(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), case)
    np.testing.assert_allclose(y.astype(np.float64), ref.numpy(), rtol=5e-3, atol=5e-3)


@pytest.mark.parametrize("method", ALL)
def test_non_contiguous_numpy_views(method, rng):
    x = rng.standard_normal((2, 6, 5, 8))[:, ::2, :, ::-2]  # strided, reversed
    w = np.asfortranarray(rng.standard_normal((3, 2, 3, 2)))
    ref = F.conv_transpose2d(torch.from_numpy(x.copy()), torch.from_numpy(w.copy()), stride=2)
    y = conv_transpose(x, w, stride=2, method=method)
    np.testing.assert_allclose(y, ref.numpy(), **tolerance("float64"))


@pytest.mark.parametrize("budget", [1, 400, 5000], ids=lambda b: f"cols{b}B")
@pytest.mark.parametrize("case", [GRID[9], GRID[12], GRID[17]], ids=_id)
def test_chunks_and_row_slabs(case, budget, rng, monkeypatch):
    """A small column budget cuts the batch into chunks and images into slabs of rows."""
    monkeypatch.setattr(kernels, "_COLS_BYTES", budget)
    x, w, b = _operands(case, rng)
    ref = _torch_reference(x, w, b, case).numpy()
    for method in ("subpixel", "zero_insertion", "scatter"):
        y = conv_transpose(x, w, b, **_args(case), method=method)
        np.testing.assert_allclose(y, ref, err_msg=method, **tolerance("float64"))


def test_empty_batch():
    x, w = np.zeros((0, 2, 3, 3)), np.ones((2, 4, 3, 3))
    for method in ALL:
        assert conv_transpose(x, w, stride=2, method=method).shape == (0, 4, 7, 7)
        assert conv_transpose(torch.from_numpy(x), torch.from_numpy(w), stride=2).shape == (
            0,
            4,
            7,
            7,
        )


# ----------------------------------------------------------------------------------- laws
def _random_geometry(seed):
    r = np.random.default_rng(seed)
    nd = int(r.integers(1, 4))
    k = tuple(int(v) for v in r.integers(1, 5 if nd < 3 else 4, nd))
    s = tuple(int(v) for v in r.integers(1, 4, nd))
    d = tuple(int(v) for v in r.integers(1, 4, nd))
    g = int(r.integers(1, 3))
    size = tuple(int(v) for v in r.integers(1, 6 if nd < 3 else 4, nd))
    p = tuple(int(r.integers(0, dd * (kk - 1) + 1)) for kk, dd in zip(k, d, strict=True))
    op = tuple(int(r.integers(0, max(ss, dd))) for ss, dd in zip(s, d, strict=True))
    return size, g, k, s, p, op, d


GEOMETRIES = [
    geo
    for geo in map(_random_geometry, range(300))
    if all(
        (n - 1) * s - 2 * p + d * (k - 1) + op + 1 >= 1
        for n, k, s, p, op, d in zip(geo[0], *geo[2:], strict=True)
    )
][:60]


@pytest.mark.parametrize("case", GEOMETRIES, ids=_id)
def test_all_methods_agree(case, rng):
    x, w, b = _operands(case, rng, c_og=2)
    results = {m: conv_transpose(x, w, b, **_args(case), method=m) for m in ALL}
    for method, y in results.items():
        np.testing.assert_allclose(y, results["scatter"], err_msg=method, **tolerance("float64"))
    xt, wt, bt = map(torch.from_numpy, (x, w, b))
    for method in ("subpixel", "zero_insertion", "auto"):
        yt = conv_transpose(xt, wt, bt, **_args(case), method=method)
        np.testing.assert_allclose(yt.numpy(), results["scatter"], **tolerance("float64"))


@pytest.mark.parametrize("method", ALL)
@pytest.mark.parametrize("case", GEOMETRIES[:20], ids=_id)
def test_adjoint_of_conv(case, method, rng):
    """<conv(x), y> == <x, conv_transpose(y)> with the same weight and arguments."""
    size, g, k, s, p, _, d = case
    nd = len(size)
    kernel = (k,) * nd if isinstance(k, int) else k
    big = tuple(
        n * ss + dd * (kk - 1) + 1 for n, ss, dd, kk in zip(size, s, d, kernel, strict=True)
    )
    w = rng.standard_normal((2 * g, 2, *kernel))  # conv weight (C_out, C_in / g, *k)
    x = rng.standard_normal((2, 2 * g, *big))
    cx = conv(x, w, stride=s, padding=p, dilation=d, groups=g)
    y = rng.standard_normal(cx.shape)
    ty = conv_transpose(
        y, w, stride=s, padding=p, dilation=d, groups=g, output_size=big, method=method
    )
    assert ty.shape == x.shape
    np.testing.assert_allclose(np.vdot(cx, y), np.vdot(x, ty), rtol=1e-10)


def test_plan_covers_every_output_once():
    for n, k, s, d, c in itertools.product(
        range(1, 4), range(1, 5), range(1, 4), range(1, 4), range(-2, 3)
    ):
        full = (n - 1) * s + d * (k - 1) + 1
        for t in range(1, full + 3):
            plan = kernels.transpose_plan((n,), (k,), (s,), (d,), (c,), (t,))
            hits = np.zeros(t, dtype=int)
            for group in plan.groups:
                for phase in group.phases:
                    hits[phase.dst[0]] += 1
            for dst in plan.empty:
                hits[dst[0]] += 1
            assert (hits == 1).all(), (n, k, s, d, c, t)


# ------------------------------------------------------------------- output_size and "same"
@pytest.mark.parametrize("method", ALL)
def test_output_size_follows_the_torch_module(method, rng):
    module = torch.nn.ConvTranspose2d(2, 3, (3, 4), stride=(3, 2), padding=1, dilation=(1, 2))
    module.double()
    x = torch.from_numpy(rng.standard_normal((1, 2, 3, 2)))
    low = module(x).shape[2:]
    for extra in itertools.product(range(3), range(2)):
        size = tuple(a + e for a, e in zip(low, extra, strict=True))
        ref = module(x, output_size=size).detach()
        for out_size in (size, (1, 3, *size)):
            y = conv_transpose(
                x.numpy(),
                module.weight.detach().numpy(),
                module.bias.detach().numpy(),
                stride=(3, 2),
                padding=1,
                dilation=(1, 2),
                output_size=out_size,
                method=method,
            )
            np.testing.assert_allclose(y, ref.numpy(), **tolerance("float64"))


def test_output_size_overrides_output_padding():
    x, w = np.ones((1, 1, 3)), np.ones((1, 1, 3))
    y = conv_transpose(x, w, stride=2, output_padding=1, output_size=(7,))
    assert y.shape == (1, 1, 7)


def test_output_size_out_of_range_states_the_range():
    x, w = np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3))
    with pytest.raises(ValueError, match=r"between \(7, 7\) and \(8, 8\)"):
        conv_transpose(x, w, stride=2, output_size=(9, 8))
    with pytest.raises(ValueError, match="out of range"):
        conv_transpose(x, w, stride=2, output_size=(6, 7))


def _onnx_conv_transpose(x, w, b=None, **attrs):
    inputs = ["X", "W"] + (["B"] if b is not None else [])
    node = helper.make_node("ConvTranspose", inputs, ["Y"], **attrs)
    info = [helper.make_tensor_value_info(name, TensorProto.DOUBLE, None) for name in inputs]
    graph = helper.make_graph(
        [node], "g", info, [helper.make_tensor_value_info("Y", TensorProto.DOUBLE, None)]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    feeds = {"X": x, "W": w} | ({"B": b} if b is not None else {})
    return ReferenceEvaluator(model).run(None, feeds)[0]


@pytest.mark.parametrize("method", ALL)
@pytest.mark.parametrize(
    "k, s, d",
    [(3, 2, 1), (4, 2, 1), (2, 2, 1), (1, 2, 1), (1, 3, 1), (2, 4, 1), (3, 2, 2), (5, 3, 1)],
    ids=lambda v: str(v),
)
def test_same_padding_matches_onnx_same_upper(k, s, d, method, rng):
    x, w, b = (
        rng.standard_normal((1, 2, 3, 4)),
        rng.standard_normal((2, 2, k, k)),
        rng.standard_normal(2),
    )
    ref = _onnx_conv_transpose(x, w, b, auto_pad="SAME_UPPER", strides=[s, s], dilations=[d, d])
    y = conv_transpose(x, w, b, stride=s, dilation=d, padding="same", method=method)
    assert y.shape == (1, 2, 3 * s, 4 * s) == ref.shape
    np.testing.assert_allclose(y, ref, **tolerance("float64"))
    yt = conv_transpose(
        *map(torch.from_numpy, (x, w, b)), stride=s, dilation=d, padding="same", method=method
    )
    np.testing.assert_allclose(yt.numpy(), ref, **tolerance("float64"))


# The reference implementation takes one group, and its col2im needs output_padding < stride.
@pytest.mark.parametrize(
    "case", [c for c in GRID if c[1] == 1 and np.all(np.less(c[5], c[3]))], ids=_id
)
def test_matches_onnx_reference(case, rng):
    size, _, _, s, p, op, d = case
    nd = len(size)
    x, w, b = _operands(case, rng)
    per = lambda v: list(v) if isinstance(v, tuple) else [v] * nd  # noqa: E731
    ref = _onnx_conv_transpose(
        x, w, b, strides=per(s), pads=per(p) * 2, output_padding=per(op), dilations=per(d)
    )
    np.testing.assert_allclose(conv_transpose(x, w, b, **_args(case)), ref, **tolerance("float64"))


# ----------------------------------------------------------------------------------- the seed
@pytest.mark.parametrize("method", ALL)
def test_seed_example_2x2_to_5x5(method):
    torch.manual_seed(0)
    m = torch.nn.ConvTranspose2d(in_channels=1, out_channels=1, kernel_size=3, stride=2)
    x = torch.ones(1, 1, 2, 2)
    ref = m(x).detach()
    assert ref.shape == (1, 1, 5, 5)
    w, b = m.weight.detach(), m.bias.detach()
    y = conv_transpose(x, w, b, stride=2, method=method)
    assert y.shape == (1, 1, 5, 5)
    torch.testing.assert_close(y, ref)
    yn = conv_transpose(x.numpy(), w.numpy(), b.numpy(), stride=2, method=method)
    np.testing.assert_allclose(yn, ref.numpy(), **tolerance("float32"))


def test_checkerboard_counts():
    assert checkerboard((3, 3), (2, 2)).tolist() == [[4, 2], [2, 1]]  # uneven: artifacts
    assert checkerboard((4, 4), (2, 2)).tolist() == [[4, 4], [4, 4]]  # uniform
    assert checkerboard(3, 2).tolist() == [2, 1]
    assert checkerboard(2, 2, dims=2).tolist() == [[1, 1], [1, 1]]
    assert checkerboard(3, 2, 2).tolist() == [3, 0]
    assert checkerboard(5, 3, dims=3).shape == (3, 3, 3)
    assert checkerboard(4, 3, 2).tolist() == [2, 1, 1]  # taps 0,2,4,6 land on phases 0,2,1,0
    assert checkerboard(3, 2).dtype == np.int64


@pytest.mark.parametrize(
    "k, s, d", [(3, 2, 1), (4, 2, 1), (5, 3, 1), (3, 2, 2), (4, 3, 2), (2, 4, 1)]
)
def test_checkerboard_is_the_steady_state_of_ones(k, s, d):
    """A kernel of ones on an input of ones counts the taps reaching each output."""
    y = conv_transpose(np.ones((1, 1, 12, 12)), np.ones((1, 1, k, k)), stride=s, dilation=d)
    reach = d * (k - 1)
    interior = y[0, 0, reach : reach + s, reach : reach + s]  # far from both borders
    counts = checkerboard(k, s, d, dims=2)
    phase = np.arange(reach, reach + s) % s
    np.testing.assert_array_equal(interior, counts[np.ix_(phase, phase)])


# ----------------------------------------------------------------------------- torch details
def test_auto_uses_torch_kernel_and_keeps_tensor_properties(rng):
    x = torch.from_numpy(rng.standard_normal((1, 2, 3, 3))).float().requires_grad_()
    w = torch.from_numpy(rng.standard_normal((2, 2, 3, 3))).float()
    y = conv_transpose(x, w, stride=2, padding="same")
    assert y.shape == (1, 2, 6, 6) and y.dtype == torch.float32 and y.requires_grad
    y.sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape


def test_auto_takes_subpixel_only_for_2d_cpu_inference_on_few_threads(rng, monkeypatch):
    x = torch.ones(2, 64, 64, 64)  # 2**19 elements times 64 output channels: 2**25
    w = torch.ones(64, 64, 4, 4, requires_grad=True)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 4)
    with torch.no_grad():
        assert not _conv_ops.subpixel_is_faster(x, w, None, (2, 2))
    for threads in (1, 2):
        monkeypatch.setattr(torch, "get_num_threads", lambda threads=threads: threads)
        assert not _conv_ops.subpixel_is_faster(x, w, None, (2, 2))  # a gradient is wanted
        with torch.no_grad():
            assert _conv_ops.subpixel_is_faster(x, w, None, (2, 2))
            assert _conv_ops.subpixel_is_faster(x, w[..., :3, :2], None, (2, 2))
            assert not _conv_ops.subpixel_is_faster(x, w[..., :2, :2], None, (2, 2))  # 1x1
            assert not _conv_ops.subpixel_is_faster(x, w, None, (1, 1))
            assert not _conv_ops.subpixel_is_faster(x[..., :32], w, None, (2, 2))
            assert not _conv_ops.subpixel_is_faster(x, w[:, :32], None, (2, 2))
            assert not _conv_ops.subpixel_is_faster(x[:1, :, :32, :32], w, None, (2, 2))
            assert not _conv_ops.subpixel_is_faster(x.half(), w.half(), None, (2, 2))
            assert not _conv_ops.subpixel_is_faster(x[..., 0], w[..., 0], None, (2,))
            y = conv_transpose(x, w, stride=2, padding=1)
        torch.testing.assert_close(y, F.conv_transpose2d(x, w.detach(), stride=2, padding=1))


def test_torch_kernel_crops_and_extends_windows(rng):
    """padding='same' with an odd or negative total: a window torch's arguments cannot name."""
    x = torch.from_numpy(rng.standard_normal((1, 1, 4)))
    for k, s in [(1, 2), (1, 3), (2, 4), (2, 1), (4, 3)]:
        w = torch.from_numpy(rng.standard_normal((1, 1, k)))
        geometry = shapes.conv_transpose_geometry((4,), (k,), (s,), "same", 0, (1,), None, "t")
        args = (x, w, None, (s,), (1,), 1, *geometry)
        torch.testing.assert_close(
            _conv_ops.transpose_torch(*args), _conv_ops.transpose_scatter(*args)
        )


# ----------------------------------------------------------------------------------- bad input
def _x():
    return np.ones((1, 4, 3, 3))


def _w(*shape):
    return np.ones(shape or (4, 2, 3, 3))


BAD = [
    ("channel-mismatch", lambda: conv_transpose(_x(), _w(3, 2, 3, 3)), ValueError, "C_in 3"),
    ("groups-not-dividing", lambda: conv_transpose(_x(), _w(), groups=3), ValueError, "groups 3"),
    ("groups-zero", lambda: conv_transpose(_x(), _w(), groups=0), ValueError, "groups"),
    ("zero-stride", lambda: conv_transpose(_x(), _w(), stride=0), ValueError, "stride"),
    ("negative-padding", lambda: conv_transpose(_x(), _w(), padding=-1), ValueError, "padding"),
    ("zero-dilation", lambda: conv_transpose(_x(), _w(), dilation=(1, 0)), ValueError, "dilation"),
    (
        "output-padding-too-big",
        lambda: conv_transpose(_x(), _w(), stride=2, output_padding=2),
        ValueError,
        r"output_padding \(2, 2\) must be smaller than stride \(2, 2\) or dilation \(1, 1\)",
    ),
    (
        "output-padding-stride-1",
        lambda: conv_transpose(_x(), _w(), output_padding=1),
        ValueError,
        "output_padding",
    ),
    (
        "output-size-range",
        lambda: conv_transpose(_x(), _w(), output_size=(4, 5)),
        ValueError,
        "out of range",
    ),
    (
        "output-size-rank",
        lambda: conv_transpose(_x(), _w(), output_size=(5,)),
        ValueError,
        "output_size",
    ),
    ("weight-rank", lambda: conv_transpose(_x(), _w(4, 2, 3)), ValueError, "weight has shape"),
    (
        "unknown-method",
        lambda: conv_transpose(_x(), _w(), method="fft"),
        ValueError,
        "method 'fft'",
    ),
    ("method-type", lambda: conv_transpose(_x(), _w(), method=1), TypeError, "method"),
    ("empty-output", lambda: conv_transpose(_x(), _w(), padding=3), ValueError, "empty"),
    (
        "empty-input",
        lambda: conv_transpose(np.ones((1, 4, 0, 3)), _w(4, 2, 1, 1)),
        ValueError,
        "empty",
    ),
    (
        "same-with-output-size",
        lambda: conv_transpose(_x(), _w(), padding="same", output_size=(3, 3)),
        ValueError,
        "same",
    ),
    (
        "same-with-output-padding",
        lambda: conv_transpose(_x(), _w(), stride=2, padding="same", output_padding=1),
        ValueError,
        "same",
    ),
    (
        "padding-valid",
        lambda: conv_transpose(_x(), _w(), padding="valid"),
        ValueError,
        "padding 'valid'",
    ),
    ("float-stride", lambda: conv_transpose(_x(), _w(), stride=1.5), TypeError, "stride"),
    (
        "int32-dtype",  # PyTorch's CPU transposed convolution takes int64 only
        lambda: conv_transpose(_x().astype(np.int32), _w().astype(np.int32)),
        TypeError,
        "dtype int32; allowed dtypes: float16, bfloat16, float32, float64, int64$",
    ),
    (
        "uint8-dtype",
        lambda: conv_transpose(_x().astype(np.uint8), _w().astype(np.uint8)),
        TypeError,
        "dtype uint8; allowed dtypes: .*, int64$",
    ),
    (
        "dtype-mismatch",
        lambda: conv_transpose(_x(), _w().astype(np.float32)),
        TypeError,
        "must match",
    ),
    ("not-an-array", lambda: conv_transpose([[1.0]], _w()), TypeError, "numpy.ndarray"),
    ("weight-not-array", lambda: conv_transpose(_x(), 1.0), TypeError, "weight"),
    (
        "mixed-kinds",
        lambda: conv_transpose(torch.ones(1, 4, 3, 3, dtype=torch.float64), _w()),
        TypeError,
        "both",
    ),
    (
        "bias-shape",
        lambda: conv_transpose(_x(), _w(), np.ones(3)),
        ValueError,
        r"bias has shape \(3,\)",
    ),
    ("zero-kernel", lambda: conv_transpose(_x(), _w(4, 2, 0, 3)), ValueError, "kernel size"),
    ("x-rank", lambda: conv_transpose(np.ones((4, 3)), _w()), ValueError, "x has shape"),
    (
        "matrix-too-big",  # its entries would take terabytes: refused before any allocation
        lambda: conv_transpose(
            np.ones((1, 64, 128, 128), np.float32),
            np.ones((64, 64, 32, 32), np.float32),
            stride=4,
            method="matrix",
        ),
        ValueError,
        r"method 'matrix' .* would take [\d,]+ bytes",
    ),
]


@pytest.mark.parametrize("call, exc, match", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match) as info:
        call()
    assert str(info.value).startswith("conv_transpose: ")


# ------------------------------------------------------------------------- the list of methods
def test_methods_are_one_list():
    """conv.METHODS names every method once: the torch implementations cover exactly them, the
    layer takes exactly them, and both refuse another name with the same list."""
    from upsampling.nn.conv_transpose import ConvTranspose

    assert len(set(METHODS)) == len(METHODS) and METHODS[0] == "auto"
    assert set(_conv_ops._METHODS) == set(METHODS)
    for method in METHODS:
        assert ConvTranspose(2, 2, 3, method=method).method == method
    allowed = ", ".join(repr(m) for m in METHODS)
    with pytest.raises(
        ValueError, match=rf"^conv_transpose: method 'fft' must be one of {allowed}$"
    ):
        conv_transpose(_x(), _w(), method="fft")
    with pytest.raises(
        ValueError, match=rf"^ConvTranspose: method 'fft' must be one of {allowed}$"
    ):
        ConvTranspose(2, 2, 3, method="fft")


def test_layer_and_function_refuse_output_padding_alike():
    from upsampling.nn.conv_transpose import ConvTranspose

    for kwargs in ({"stride": 2, "output_padding": 2}, {"padding": "same", "output_padding": 1}):
        with pytest.raises(ValueError) as function:
            conv_transpose(_x(), _w(), **kwargs)
        with pytest.raises(ValueError) as layer:
            ConvTranspose(4, 2, 3, **kwargs)
        assert str(function.value).removeprefix("conv_transpose: ") == str(
            layer.value
        ).removeprefix("ConvTranspose: ")


# ---------------------------------------------------------------------------- integer dtypes
@pytest.mark.parametrize("method", ALL)
@pytest.mark.parametrize("case", [GRID[0], GRID[4], GRID[11], GRID[12], GRID[-1]], ids=_id)
def test_int64_matches_torch_bit_for_bit(case, method):
    """int64, the one integer dtype of PyTorch's CPU conv_transpose: every method gives its
    integers, wrapping around on overflow as PyTorch's (values span the whole int64 range)."""
    gen = torch.Generator().manual_seed(3)
    info = torch.iinfo(torch.int64)
    x, w, b = (
        torch.randint(info.min, info.max, tuple(v.shape), generator=gen, dtype=torch.int64)
        for v in _operands(case, np.random.default_rng(0))
    )
    expected = _torch_reference(x, w, b, case)
    got = conv_transpose(x, w, b, **_args(case), method=method)
    assert got.dtype == torch.int64 and torch.equal(got, expected)
    got = conv_transpose(x.numpy(), w.numpy(), b.numpy(), **_args(case), method=method)
    assert got.dtype == np.int64 and np.array_equal(got, expected.numpy())
