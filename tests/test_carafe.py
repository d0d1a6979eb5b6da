"""CARAFE: the tap-loop reassembly against unfold references, the module's laws and its checks."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import tolerance
from upsampling.nn.carafe import CARAFE, carafe_reassemble


def _t(rng, *shape, dtype=torch.float64):
    return torch.from_numpy(rng.standard_normal(shape)).to(dtype)


def _unfold_reference_2d(x, kernels, s, k):
    """The textbook form with torch's own unfold: independent of our code."""
    n, c, h, w = x.shape
    g = kernels.shape[1]
    cols = F.unfold(x, k, padding=k // 2).reshape(n, c, k * k, h, w)
    cols = cols.repeat_interleave(s, -2).repeat_interleave(s, -1)
    cols = cols.reshape(n, g, c // g, k * k, h * s, w * s)
    return (cols * kernels[:, :, None]).sum(3).reshape(n, c, h * s, w * s)


def _loop_reference(x, kernels, scale, k):
    """Element by element in NumPy, any number of spatial dims."""
    x, kernels = x.numpy(), kernels.numpy()
    n, c, *spatial = x.shape
    g = kernels.shape[1]
    out_size = [a * s for a, s in zip(spatial, scale, strict=True)]
    y = np.zeros((n, c, *out_size))
    taps = list(itertools.product(*(range(kk) for kk in k)))
    for b, ch in itertools.product(range(n), range(c)):
        grp = ch // (c // g)
        for o in np.ndindex(*out_size):
            total = 0.0
            for t, offs in enumerate(taps):
                src = [
                    oo // s + j - kk // 2 for oo, s, j, kk in zip(o, scale, offs, k, strict=True)
                ]
                if all(0 <= p < a for p, a in zip(src, spatial, strict=True)):
                    total += kernels[(b, grp, t, *o)] * x[(b, ch, *src)]
            y[(b, ch, *o)] = total
    return torch.from_numpy(y)


# ------------------------------------------------------------------------------- reassembly
@pytest.mark.parametrize("groups", [1, 2], ids=lambda g: f"g{g}")
@pytest.mark.parametrize("k", [1, 3, 5], ids=lambda k: f"k{k}")
@pytest.mark.parametrize("s", [1, 2, 3], ids=lambda s: f"x{s}")
def test_taps_equal_torch_unfold_2d(rng, s, k, groups):
    x = _t(rng, 2, 4, 4, 5)
    kernels = _t(rng, 2, groups, k * k, 4 * s, 5 * s)
    expected = _unfold_reference_2d(x, kernels, s, k)
    for method in ("taps", "unfold"):
        got = carafe_reassemble(x, kernels, s, k, method=method)
        torch.testing.assert_close(got, expected, **tolerance(torch.float64))


@pytest.mark.parametrize(
    ("spatial", "scale", "k"),
    [((5,), (3,), (3,)), ((3, 4), (2, 3), (3, 1)), ((2, 3, 2), (2, 1, 2), (3, 3, 1))],
    ids=["1d", "2d-anisotropic", "3d"],
)
def test_taps_equal_loop_reference(rng, spatial, scale, k):
    x = _t(rng, 1, 2, *spatial)
    out = [a * s for a, s in zip(spatial, scale, strict=True)]
    kernels = _t(rng, 1, 2, math.prod(k), *out)
    expected = _loop_reference(x, kernels, scale, k)
    for method in ("taps", "unfold"):
        got = carafe_reassemble(x, kernels, scale, k, method=method)
        torch.testing.assert_close(got, expected, **tolerance(torch.float64))


def test_centre_tap_is_nearest_upsampling(rng):
    x = _t(rng, 2, 3, 4, 5, dtype=torch.float32)
    kernels = torch.zeros(2, 1, 9, 8, 10)
    kernels[:, :, 4] = 1.0
    expected = F.interpolate(x, scale_factor=2, mode="nearest")
    assert torch.equal(carafe_reassemble(x, kernels, 2, 3), expected)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
def test_reassembly_dtypes(rng, dtype):
    x = _t(rng, 1, 2, 3, 4)
    kernels = torch.softmax(_t(rng, 1, 1, 9, 6, 8), 2)
    got = carafe_reassemble(x.to(dtype), kernels.to(dtype), 2, 3)
    assert got.dtype == dtype
    expected = carafe_reassemble(x, kernels, 2, 3).to(dtype)
    torch.testing.assert_close(got, expected, **tolerance(dtype))


def test_reassembly_gradcheck(rng):
    x = _t(rng, 1, 2, 3, 3).requires_grad_()
    kernels = _t(rng, 1, 2, 9, 6, 6).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: carafe_reassemble(a, b, 2, 3), (x, kernels))


# ------------------------------------------------------------------------------------- module
def test_module_shapes_and_normalised_kernels(rng):
    layer = CARAFE(6, 3, k_up=3, c_mid=4, groups=2, dtype=torch.float64)
    for p in layer.parameters():
        torch.nn.init.normal_(p, std=0.5)
    x = _t(rng, 2, 6, 4, 5)
    kernels = layer.kernels(x)
    assert kernels.shape == (2, 2, 9, 12, 15)
    torch.testing.assert_close(kernels.sum(2), torch.ones(2, 2, 12, 15, dtype=torch.float64))
    expected = _unfold_reference_2d(x, kernels, 3, 3)
    torch.testing.assert_close(layer(x), expected, **tolerance(torch.float64))


def test_module_kernels_follow_the_pixel_shuffle_layout(rng):
    """Encoder channel (g * k^2 + t) * s^2 + phase is the weight of tap t at that phase."""
    layer = CARAFE(2, 2, k_up=3, c_mid=2, groups=1, dtype=torch.float64)
    x = _t(rng, 1, 2, 3, 3)
    logits = layer.encoder(layer.compressor(x))  # (1, 9 * 4, 3, 3)
    kernels = layer.kernels(x)
    for t, phase in itertools.product(range(9), range(4)):
        a, b = divmod(phase, 2)
        expected = torch.softmax(logits[0, phase::4], 0)[t]
        torch.testing.assert_close(kernels[0, 0, t, a::2, b::2], expected)


@pytest.mark.parametrize("dims", [1, 3])
def test_module_other_dims(rng, dims):
    layer = CARAFE(2, 2, k_up=3, c_mid=2, dims=dims)
    x = _t(rng, 1, 2, *(3,) * dims, dtype=torch.float32)
    assert layer(x).shape == (1, 2, *(6,) * dims)


def test_module_gradcheck():
    torch.manual_seed(0)
    layer = CARAFE(2, 2, k_up=3, c_mid=2, dtype=torch.float64)
    for p in layer.parameters():
        torch.nn.init.normal_(p, std=0.5)
    x = torch.randn(1, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    params = tuple(layer.parameters())

    def run(x, *ps):
        out = torch.func.functional_call(
            layer, dict(zip([n for n, _ in layer.named_parameters()], ps, strict=True)), (x,)
        )
        return out

    assert torch.autograd.gradcheck(run, (x, *params))


def test_module_deterministic_and_device_dtype():
    torch.manual_seed(1)
    layer = CARAFE(4, 2, c_mid=4, device="cpu", dtype=torch.float64)
    assert all(p.dtype == torch.float64 for p in layer.parameters())
    x = torch.randn(2, 4, 5, 5, dtype=torch.float64, requires_grad=True)
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        runs = []
        for _ in range(2):
            x.grad = None
            y = layer(x)
            y.square().sum().backward()
            runs.append((y.detach(), x.grad.clone()))
    finally:
        torch.use_deterministic_algorithms(previous)
    assert torch.equal(runs[0][0], runs[1][0]) and torch.equal(runs[0][1], runs[1][1])


def test_reset_parameters_and_repr():
    layer = CARAFE(4, 2, k_up=3, c_mid=8, groups=2)
    for p in layer.parameters():
        torch.nn.init.constant_(p, 3.0)
    layer.reset_parameters()
    assert layer.encoder.weight.abs().max() < 0.01
    assert torch.all(layer.compressor.bias == 0) and torch.all(layer.encoder.bias == 0)
    assert layer.encoder.out_channels == 2 * 9 * 4
    text = repr(layer)
    assert "scale_factor=(2, 2)" in text and "k_up=(3, 3)" in text and "groups=2" in text


def test_fresh_module_is_close_to_a_box_filter(rng):
    """Near-zero encoder weights give a uniform softmax: a k_up box over nearest pixels."""
    layer = CARAFE(2, 2, k_up=3, c_mid=4)
    torch.nn.init.zeros_(layer.encoder.weight)
    x = _t(rng, 1, 2, 4, 4, dtype=torch.float32)
    box = F.avg_pool2d(x, 3, 1, 1, count_include_pad=True)
    expected = F.interpolate(box, scale_factor=2, mode="nearest")
    torch.testing.assert_close(layer(x), expected)


# ---------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"channels": 0}, ValueError, "channels"),
        ({"channels": 4.0}, TypeError, "channels"),
        ({"channels": 4, "scale_factor": 0}, ValueError, "scale_factor"),
        ({"channels": 4, "scale_factor": 1.5}, TypeError, "scale_factor"),
        ({"channels": 4, "k_up": 4}, ValueError, "k_up .* odd"),
        ({"channels": 4, "k_enc": 2}, ValueError, "k_enc .* odd"),
        ({"channels": 4, "groups": 3}, ValueError, "divisible"),
        ({"channels": 4, "c_mid": 0}, ValueError, "c_mid"),
        ({"channels": 4, "dims": 4}, ValueError, "dims"),
        ({"channels": 4, "scale_factor": (2, 2, 2)}, ValueError, "scale_factor"),
    ],
    ids=lambda v: "-".join(f"{k}={x}" for k, x in v.items()) if isinstance(v, dict) else None,
)
def test_bad_constructor_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=f"CARAFE: .*{match}"):
        CARAFE(**kwargs)


def test_bad_forward_input():
    layer = CARAFE(4, 2, c_mid=4)
    with pytest.raises(ValueError, match="CARAFE: x has 3 channels"):
        layer(torch.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError, match="CARAFE: x has shape"):
        layer(torch.zeros(1, 4, 4))
    with pytest.raises(TypeError, match=r"CARAFE: x must be a torch\.Tensor"):
        layer(np.zeros((1, 4, 4, 4), np.float32))


@pytest.mark.parametrize(
    ("kernels", "kwargs", "exc", "match"),
    [
        (torch.zeros(1, 1, 9, 8, 8), {"k_up": 5}, ValueError, "kernels has shape"),
        (torch.zeros(1, 1, 9, 6, 8), {}, ValueError, "kernels has shape"),
        (torch.zeros(2, 1, 9, 8, 8), {}, ValueError, "kernels has shape"),
        (torch.zeros(1, 3, 9, 8, 8), {}, ValueError, "divisible"),
        (torch.zeros(1, 1, 9, 8, 8, dtype=torch.float64), {}, TypeError, "dtype and device"),
        (np.zeros((1, 1, 9, 8, 8)), {}, TypeError, "kernels must be a torch.Tensor"),
        (torch.zeros(1, 1, 9, 8, 8), {"method": "einsum"}, ValueError, "method"),
        (torch.zeros(1, 1, 16, 8, 8), {"k_up": 4}, ValueError, "odd"),
    ],
    ids=["k-mismatch", "size", "batch", "groups", "dtype", "numpy", "method", "even-k"],
)
def test_bad_reassembly_input(kernels, kwargs, exc, match):
    x = torch.zeros(1, 2, 4, 4)
    args = {"k_up": 3, **kwargs}
    with pytest.raises(exc, match=f"carafe_reassemble: .*{match}"):
        carafe_reassemble(x, kernels, 2, **args)
