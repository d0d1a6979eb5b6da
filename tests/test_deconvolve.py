"""deconvolve: round trips where conv is injective (strides, channels, groups, 1-3 dims), the
three methods agree, the least-norm solution where conv is not injective, damping, the adjoint
operator, input sizes, torch tensors (dtypes, autograd), and bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from upsampling.conv import conv, conv_matrix
from upsampling.deconvolution import _Problem, deconvolve

METHODS = ("lsqr", "cg", "direct")
TIGHT = {"tol": 1e-12, "iterations": 20_000}

# (input shape, weight shape, stride, padding, dilation, groups): conv is injective for generic
# weights in each (stride 1 with padding >= k - 1, non-overlapping windows with enough output
# channels, "same" on a smooth kernel, ...).
INJECTIVE = {
    "1d-full": ((2, 1, 20), (1, 1, 4), 1, 3, 1, 1),
    "2d-full-channels": ((2, 2, 7, 7), (3, 2, 3, 3), 1, 2, 1, 1),
    "2d-stride2-blocks": ((2, 2, 8, 8), (8, 2, 2, 2), 2, 0, 1, 1),
    "2d-stride2-overlap": ((1, 1, 9, 9), (4, 1, 3, 3), 2, 1, 1, 1),
    "2d-dilated": ((1, 1, 8, 8), (1, 1, 2, 2), 1, 2, 2, 1),
    "2d-groups": ((1, 4, 6, 6), (4, 2, 3, 3), 1, 2, 1, 2),
    "2d-same-stride1": ((1, 1, 8, 8), (1, 1, 3, 3), 1, "same", 1, 1),
    "3d-full": ((1, 1, 5, 5, 5), (2, 1, 2, 2, 2), 1, 1, 1, 1),
}


def _weight(rng, shape, padding):
    w = rng.standard_normal(shape)
    if padding == "same":  # a kernel whose transfer function has no zero
        w = np.abs(w)
        w[(..., *(k // 2 for k in shape[2:]))] += w.sum()
    return w


@pytest.fixture(params=list(INJECTIVE), ids=list(INJECTIVE))
def injective(request, rng):
    xs, ws, stride, padding, dilation, groups = INJECTIVE[request.param]
    x = rng.standard_normal(xs)
    w = _weight(rng, ws, padding)
    y = conv(x, w, None, stride, padding, dilation, groups)
    kwargs = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    return x, w, y, kwargs


@pytest.mark.parametrize("method", METHODS)
def test_round_trip(injective, method):
    x, w, y, kwargs = injective
    out = deconvolve(y, w, x.shape[2:], method=method, **kwargs, **TIGHT)
    assert out.shape == x.shape and out.dtype == x.dtype
    np.testing.assert_allclose(out, x, atol=1e-7)


def test_round_trip_float32(rng):
    x = rng.standard_normal((2, 2, 7, 7)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    y = conv(x, w, padding=2)
    out = deconvolve(y, w, padding=2)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, x, atol=1e-3)


def test_default_input_size_is_the_smallest(rng):
    w = rng.standard_normal((1, 1, 3, 3))
    y = conv(rng.standard_normal((1, 1, 9, 10)), w, stride=2)
    assert deconvolve(y, w, stride=2, method="direct").shape == (1, 1, 9, 9)
    # one more row and column give the same output size; conv never reads them: zero
    out = deconvolve(y, w, (10, 10), stride=2, method="direct")
    assert out.shape == (1, 1, 10, 10)
    np.testing.assert_array_equal(out[..., -1, :], 0)
    np.testing.assert_array_equal(out[..., :, -1], 0)


@pytest.mark.parametrize(
    "stride,padding,dilation", [(1, 0, 1), (2, 0, 1), (3, 1, 1), (2, "same", 1), (2, 1, 2)], ids=str
)
def test_input_sizes_accepted_are_the_stated_range(rng, stride, padding, dilation):
    """Every input_size that conv maps to y's size is accepted, and the message of any other
    states exactly those sizes (shapes.size_range, the range conv_transpose also states)."""
    if padding == "same":
        stride = 1
    w = rng.standard_normal((1, 1, 3))
    y = conv(rng.standard_normal((1, 1, 11)), w, None, stride, padding, dilation)
    kwargs = {"stride": stride, "padding": padding, "dilation": dilation, "method": "direct"}
    accepted = []
    for n in range(1, 20):
        try:
            conv(np.zeros((1, 1, n)), w, None, stride, padding, dilation)
        except ValueError:
            continue
        if conv(np.zeros((1, 1, n)), w, None, stride, padding, dilation).shape == y.shape:
            assert deconvolve(y, w, (n,), **kwargs).shape == (1, 1, n)
            accepted.append(n)
    assert deconvolve(y, w, **kwargs).shape == (1, 1, accepted[0])
    with pytest.raises(ValueError) as info:
        deconvolve(y, w, (accepted[-1] + 1,), **kwargs)
    assert str(info.value).endswith(f"between ({accepted[0]},) and ({accepted[-1]},)")


# ------------------------------------------------------------------------- not injective
NOT_INJECTIVE = {
    "valid-2d": ((2, 3, 6, 6), (2, 3, 3, 3), 1, 0, 1),
    "stride-skips-inputs": ((1, 1, 9, 9), (1, 1, 2, 2), 3, 0, 1),
    "fewer-out-channels-1d": ((1, 4, 10), (2, 4, 3), 1, 1, 1),
    "dilated-valid-3d": ((1, 1, 5, 5, 5), (1, 1, 2, 2, 2), 1, 0, 2),
}


@pytest.fixture(params=list(NOT_INJECTIVE), ids=list(NOT_INJECTIVE))
def lossy(request, rng):
    xs, ws, stride, padding, dilation = NOT_INJECTIVE[request.param]
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    y = conv(x, w, None, stride, padding, dilation)
    kwargs = {"stride": stride, "padding": padding, "dilation": dilation}
    return x, w, y, kwargs


@pytest.mark.parametrize("method", METHODS)
def test_least_norm_solution(lossy, method):
    x, w, y, kwargs = lossy
    out = deconvolve(y, w, x.shape[2:], method=method, **kwargs, **TIGHT)
    # same output, and orthogonal to the difference (which conv cannot see): the least norm
    np.testing.assert_allclose(conv(out, w, None, **kwargs), y, atol=1e-8)
    for n in range(len(x)):
        assert abs(np.vdot(out[n], x[n] - out[n])) < 1e-8 * np.vdot(x[n], x[n])
        assert np.linalg.norm(out[n]) < np.linalg.norm(x[n])
    matrix = conv_matrix(w, x.shape[2:], **kwargs).toarray()
    expected = np.linalg.pinv(matrix) @ y.reshape(len(y), -1).T
    np.testing.assert_allclose(out.reshape(len(y), -1), expected.T, atol=1e-8)


@pytest.mark.parametrize("damp", [0.0, 0.3])
def test_methods_agree(lossy, damp):
    x, w, y, kwargs = lossy
    outs = [deconvolve(y, w, x.shape[2:], method=m, damp=damp, **kwargs, **TIGHT) for m in METHODS]
    np.testing.assert_allclose(outs[0], outs[2], atol=1e-8)
    np.testing.assert_allclose(outs[1], outs[2], atol=1e-8)


def test_damped_solution(rng):
    x, w = rng.standard_normal((1, 2, 6, 6)), rng.standard_normal((3, 2, 3, 3))
    y = conv(x, w, padding=1)
    a = conv_matrix(w, (6, 6), padding=1).toarray()
    expected = np.linalg.solve(a.T @ a + 0.49 * np.eye(a.shape[1]), a.T @ y.ravel())
    for method in METHODS:
        out = deconvolve(y, w, padding=1, method=method, damp=0.7, **TIGHT)
        np.testing.assert_allclose(out.ravel(), expected, atol=1e-9)


@pytest.mark.parametrize(
    ("size", "weight", "stride", "pads", "dilation", "groups"),
    [
        ((7, 6), (4, 1, 3, 2), (2, 1), ((1, 1), (0, 0)), (1, 2), 2),
        ((8, 8), (2, 2, 4, 4), (1, 1), ((1, 2), (1, 2)), (1, 1), 1),  # "same": asymmetric
        ((9,), (3, 1, 3), (3,), ((2, 2),), (1,), 1),
    ],
)
def test_operator_adjoint(rng, size, weight, stride, pads, dilation, groups):
    """<A v, u> == <v, A^T u>: conv_transpose is the operator's exact adjoint."""
    w = rng.standard_normal(weight)
    out = tuple(
        (n + b + a - d * (k - 1) - 1) // s + 1
        for n, k, s, (b, a), d in zip(size, weight[2:], stride, pads, dilation, strict=True)
    )
    problem = _Problem(w, size, out, stride, dilation, pads, groups, [p[0] for p in pads])
    v, u = rng.standard_normal(problem.shape[1]), rng.standard_normal(problem.shape[0])
    np.testing.assert_allclose(
        np.vdot(problem.forward(v), u), np.vdot(v, problem.adjoint(u)), rtol=1e-12
    )


def test_iteration_limit_warns(rng):
    x, w = rng.standard_normal((1, 1, 12, 12)), rng.standard_normal((1, 1, 3, 3))
    y = conv(x, w, padding=2)
    for method in ("lsqr", "cg"):
        with pytest.warns(RuntimeWarning, match=f"deconvolve: method '{method}' stopped after"):
            deconvolve(y, w, padding=2, method=method, iterations=2, tol=1e-12)


# ------------------------------------------------------------------------------------ torch
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16])
def test_torch_tensors(rng, dtype):
    x = rng.standard_normal((2, 2, 7, 7))
    w = rng.standard_normal((3, 2, 3, 3))
    y = conv(x, w, padding=2)
    yt, wt = torch.from_numpy(y).to(dtype), torch.from_numpy(w).to(dtype)
    out = deconvolve(yt, wt, padding=2, tol=1e-10)
    assert isinstance(out, torch.Tensor) and out.dtype == dtype and out.device.type == "cpu"
    atol = {torch.float64: 1e-5, torch.float32: 1e-3}.get(dtype, 0.5)
    np.testing.assert_allclose(out.double().numpy(), x, atol=atol)


@pytest.mark.parametrize(("method", "damp"), [("lsqr", 0.0), ("cg", 0.2), ("direct", 0.0)])
def test_torch_gradient(rng, method, damp):
    """Differentiable in y (the backward pass solves with the adjoint), also non-injective."""
    w = torch.from_numpy(rng.standard_normal((2, 3, 2, 2)))
    y = torch.from_numpy(rng.standard_normal((1, 2, 2, 3))).requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda t: deconvolve(t, w, method=method, damp=damp, **TIGHT), (y,), atol=1e-6
    )


def test_torch_matches_numpy(rng):
    x, w = rng.standard_normal((1, 1, 6, 6)), rng.standard_normal((1, 1, 3, 3))
    y = conv(x, w)
    expected = deconvolve(y, w, tol=1e-10)
    out = deconvolve(torch.from_numpy(y), torch.from_numpy(w), tol=1e-10)
    np.testing.assert_array_equal(out.numpy(), expected)


# -------------------------------------------------------------------------------- bad input
Y = np.ones((1, 2, 4, 4))
W = np.ones((2, 1, 3, 3))


@pytest.mark.parametrize(
    ("y", "w", "kwargs", "exc", "match"),
    [
        ([[1.0]], W, {}, TypeError, "y must be a numpy.ndarray or a torch.Tensor"),
        (Y, "w", {}, TypeError, "weight must be a numpy.ndarray"),
        (Y, torch.ones(2, 1, 3, 3, dtype=torch.float64), {}, TypeError, "pass both"),
        (Y.astype(np.int64), W, {}, TypeError, "y has dtype int64"),
        (Y, W.astype(np.int64), {}, TypeError, "weight has dtype int64"),
        (np.ones((2, 4)), W, {}, ValueError, "expected \\(N, C, \\*spatial\\)"),
        (Y, np.ones((2, 1, 3)), {}, ValueError, "must have 4 dims"),
        (Y, np.ones((3, 1, 3, 3)), {}, ValueError, "C_out 3 must equal y's 2 channels"),
        (Y, W, {"groups": 3}, ValueError, "groups 3 must divide the output channels 2"),
        (Y, W, {"groups": 0}, ValueError, "groups 0 must be positive"),
        (Y, W, {"input_size": (5, 5)}, ValueError, "between \\(6, 6\\) and \\(6, 6\\)"),
        (Y, W, {"input_size": (6,)}, ValueError, "input_size \\(6,\\) must be an int"),
        (Y, W, {"input_size": 0}, ValueError, "input_size \\(0, 0\\) must be positive"),
        (Y, W, {"stride": 0}, ValueError, "stride \\(0, 0\\) must be positive"),
        (Y, W, {"padding": -1}, ValueError, "padding \\(-1, -1\\) must be non-negative"),
        (Y, W, {"padding": "same", "stride": 2}, ValueError, "padding 'same' needs stride 1"),
        (Y, W, {"padding": "full"}, ValueError, "padding 'full' must be one of"),
        (Y, W, {"method": "pinv"}, ValueError, "method 'pinv' must be one of"),
        (Y, W, {"damp": -1.0}, ValueError, "damp -1.0 must be non-negative"),
        (Y, W, {"damp": float("nan")}, ValueError, "damp nan must be finite"),
        (Y, W, {"damp": "0"}, TypeError, "damp '0' must be a real number"),
        (Y, W, {"iterations": 0}, ValueError, "iterations \\(0,\\) must be positive"),
        (Y, W, {"iterations": 2.5}, TypeError, "iterations 2.5 must be an int"),
        (Y, W, {"tol": 0.0}, ValueError, "tol 0.0 must lie strictly between 0 and 1"),
        (Y, W, {"tol": 1.0}, ValueError, "tol 1.0 must lie strictly between 0 and 1"),
        (np.full((1, 2, 4, 4), np.nan), W, {}, ValueError, "y contains NaN or inf"),
        (Y, np.full((2, 1, 3, 3), np.inf), {}, ValueError, "weight contains NaN or inf"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_input(y, w, kwargs, exc, match):
    with pytest.raises(exc, match=f"^deconvolve: .*{match}"):
        deconvolve(y, w, **kwargs)


def test_direct_warns_before_a_large_dense_svd(rng, monkeypatch):
    """A singular normal matrix sends 'direct' to a dense SVD: past a size it says so, and the
    answer is still the minimum-norm one (what lsqr finds)."""
    import upsampling.deconvolution as deconvolution

    w = np.zeros((1, 1, 3, 3))
    w[..., 0, 0] = 2.0  # with padding 1 the last row and column are never read: singular
    y = conv(rng.standard_normal((1, 1, 10, 10)), w, padding=1)
    monkeypatch.setattr(deconvolution, "_DENSE_WARN", 99)
    with pytest.warns(RuntimeWarning, match=r"dense SVD of a 100x100 matrix") as record:
        out = deconvolve(y, w, padding=1, method="direct")
    assert record[0].filename == __file__
    reference = deconvolve(y, w, padding=1, method="lsqr", tol=1e-12)
    np.testing.assert_allclose(out, reference, atol=1e-8)
    np.testing.assert_array_equal(out[..., -1, :], 0)
    monkeypatch.setattr(deconvolution, "_DENSE_WARN", 100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        deconvolve(y, w, padding=1, method="direct")
