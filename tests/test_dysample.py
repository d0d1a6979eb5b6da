"""DySample: bilinear at initialisation, learned offsets against a NumPy sampler, its checks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import tolerance
from upsampling.nn.dysample import DySample


def _t(rng, *shape, dtype=torch.float64):
    return torch.from_numpy(rng.standard_normal(shape)).to(dtype)


def _randomise(layer, std=0.5):
    torch.manual_seed(3)
    for p in layer.parameters():
        torch.nn.init.normal_(p, std=std)
    return layer


def _bilinear_at(plane, py, px):
    """Sample one (H, W) plane at a position in pixel-centre units, the border replicated."""
    h, w = plane.shape
    py, px = min(max(py, 0.0), h - 1.0), min(max(px, 0.0), w - 1.0)
    y0, x0 = int(np.floor(py)), int(np.floor(px))
    y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
    fy, fx = py - y0, px - x0
    top = plane[y0, x0] * (1 - fx) + plane[y0, x1] * fx
    bottom = plane[y1, x0] * (1 - fx) + plane[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def _reference(x, offsets, scale, groups):
    """Output pixel (i*s + a, j*s + b) of channel c samples at the centre of input pixel (i, j),
    plus offsets[(axis * groups + g) * s^2 + a * s + b, i, j], with g the group of c."""
    x, offsets = x.numpy(), offsets.detach().numpy()
    n, c, h, w = x.shape
    sh, sw = scale
    y = np.zeros((n, c, h * sh, w * sw))
    for b, ch, i, j, a, e in itertools.product(
        range(n), range(c), range(h), range(w), range(sh), range(sw)
    ):
        g, phase = ch // (c // groups), a * sw + e
        dx = offsets[b, g * sh * sw + phase, i, j]
        dy = offsets[b, (groups + g) * sh * sw + phase, i, j]
        # centre i + 0.5 plus the offset, minus 0.5 to index pixel centres
        y[b, ch, i * sh + a, j * sw + e] = _bilinear_at(x[b, ch], i + dy, j + dx)
    return torch.from_numpy(y)


CONFIGS = [
    {"style": "lp", "groups": 2, "dyscope": False},
    {"style": "lp", "groups": 1, "dyscope": True},
    {"style": "pl", "groups": 2, "dyscope": False},
    {"style": "pl", "groups": 4, "dyscope": True},
]


def _id(cfg):
    return f"{cfg['style']}-g{cfg['groups']}-{'dynamic' if cfg['dyscope'] else 'static'}"


@pytest.mark.parametrize("cfg", CONFIGS, ids=_id)
@pytest.mark.parametrize("scale", [2, 3, (2, 3)], ids=["x2", "x3", "x2x3"])
def test_fresh_layer_is_bilinear(rng, cfg, scale):
    x = _t(rng, 2, 36, 4, 5)
    layer = DySample(36, scale, dtype=torch.float64, **cfg)
    expected = F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)
    torch.testing.assert_close(layer(x), expected, **tolerance(torch.float64))


def test_fresh_layer_is_bilinear_in_float32(rng):
    x = _t(rng, 1, 8, 6, 7, dtype=torch.float32)
    expected = F.interpolate(x, scale_factor=2, mode="bilinear")
    torch.testing.assert_close(DySample(8, 2)(x), expected, **tolerance(torch.float32))


@pytest.mark.parametrize("cfg", CONFIGS, ids=_id)
def test_learned_offsets_against_numpy_sampler(rng, cfg):
    layer = _randomise(DySample(8, 2, dtype=torch.float64, **cfg))
    x = _t(rng, 1, 8, 3, 4)
    offsets = layer.offsets(x)
    assert offsets.shape == (1, 2 * cfg["groups"] * 4, 3, 4)
    expected = _reference(x, offsets, (2, 2), cfg["groups"])
    torch.testing.assert_close(layer(x), expected, **tolerance(torch.float64))


def test_offsets_lp_static_scope_formula(rng):
    """lp, static: 0.25 * conv1x1(x) plus the bilinear sample positions."""
    layer = _randomise(DySample(4, 2, groups=2, dtype=torch.float64))
    x = _t(rng, 1, 4, 3, 3)
    conv = torch.einsum("oc,nchw->nohw", layer.offset.weight[:, :, 0, 0], x)
    conv = conv + layer.offset.bias[:, None, None]
    start = torch.tensor([-0.25, 0.25, -0.25, 0.25] * 2 + [-0.25, -0.25, 0.25, 0.25] * 2)
    expected = 0.25 * conv + start.to(torch.float64)[:, None, None]
    torch.testing.assert_close(layer.offsets(x), expected)


def test_uniform_offset_moves_every_sample(rng):
    """An offset bias of one pixel in x on every sample equals bilinear of the shifted image
    (away from the right border)."""
    layer = DySample(4, 2, groups=1, dtype=torch.float64)
    with torch.no_grad():
        layer.offset.bias[:4] = 4.0  # x offsets, times the static scope 0.25: one pixel
    x = _t(rng, 1, 4, 5, 6)
    shifted = F.interpolate(x[..., 1:], scale_factor=2, mode="bilinear")
    torch.testing.assert_close(layer(x)[..., :, 1:9], shifted[..., :, 1:9])


def test_gradcheck():
    layer = _randomise(DySample(4, 2, style="lp", groups=2, dyscope=True, dtype=torch.float64))
    x = torch.randn(1, 4, 3, 3, dtype=torch.float64, requires_grad=True)
    names = [n for n, _ in layer.named_parameters()]

    def run(x, *ps):
        return torch.func.functional_call(layer, dict(zip(names, ps, strict=True)), (x,))

    assert torch.autograd.gradcheck(run, (x, *layer.parameters()), fast_mode=True)


def test_deterministic_and_trains():
    torch.manual_seed(0)
    layer = DySample(4, 2, style="pl", groups=1, dtype=torch.float64)
    x = torch.randn(2, 4, 5, 5, dtype=torch.float64)
    target = torch.randn(2, 4, 10, 10, dtype=torch.float64)
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        grads = []
        for _ in range(2):
            layer.zero_grad()
            F.mse_loss(layer(x), target).backward()
            grads.append(layer.offset.weight.grad.clone())
    finally:
        torch.use_deterministic_algorithms(previous)
    assert torch.equal(grads[0], grads[1])
    assert grads[0].abs().max() > 0  # the zero-initialised offsets still learn


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_low_precision(rng, dtype):
    x = _t(rng, 1, 4, 4, 4)
    layer = DySample(4, 2, groups=2, dtype=dtype)
    y = layer(x.to(dtype))
    assert y.dtype == dtype
    expected = F.interpolate(x, scale_factor=2, mode="bilinear").to(dtype)
    torch.testing.assert_close(y, expected, **tolerance(dtype))


def test_reset_parameters_repr_and_buffers():
    layer = _randomise(DySample(8, 2, style="pl", groups=2, dyscope=True))
    layer.reset_parameters()
    assert all(torch.all(p == 0) for p in layer.parameters())
    assert layer.offset.in_channels == 2 and layer.offset.out_channels == 4
    assert "init_pos" not in layer.state_dict()
    text = repr(layer)
    assert "style='pl'" in text and "groups=2" in text and "dyscope=True" in text
    lp = DySample(8, 2, groups=2)
    assert lp.offset.in_channels == 8 and lp.offset.out_channels == 16 and lp.scope is None


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        ((0,), {}, ValueError, "in_channels"),
        ((8.0,), {}, TypeError, "in_channels"),
        ((8, 0), {}, ValueError, "scale_factor"),
        ((8, (2, 2, 2)), {}, ValueError, "scale_factor"),
        ((8,), {"style": "lpl"}, ValueError, "style"),
        ((8,), {"groups": 3}, ValueError, "divisible"),
        ((6,), {"style": "pl", "groups": 1}, ValueError, "style 'pl'"),
        ((8,), {"dyscope": 1}, TypeError, "dyscope"),
    ],
    ids=["channels-0", "channels-float", "scale-0", "scale-3d", "style", "groups", "pl", "scope"],
)
def test_bad_constructor_arguments(args, kwargs, exc, match):
    with pytest.raises(exc, match=f"DySample: .*{match}"):
        DySample(*args, **kwargs)


def test_bad_forward_input():
    layer = DySample(8, 2)
    with pytest.raises(ValueError, match="DySample: x has 4 channels"):
        layer(torch.zeros(1, 4, 3, 3))
    with pytest.raises(ValueError, match="DySample: x has shape"):
        layer(torch.zeros(1, 8, 3, 3, 3))
    with pytest.raises(TypeError, match="DySample: x has dtype"):
        layer(torch.zeros(1, 8, 3, 3, dtype=torch.int64))


def test_gather_sampler_equals_grid_sample(rng):
    """The deterministic path that CUDA takes under use_deterministic_algorithms: the same
    values and gradients as grid_sample, border included."""
    from upsampling.nn.dysample import _bilinear_gather

    x = _t(rng, 2, 3, 4, 5).requires_grad_()
    grid = (_t(rng, 2, 6, 7, 2) * 0.8).requires_grad_()  # some samples beyond the border
    expected = F.grid_sample(x, grid, "bilinear", "border", align_corners=False)
    got = _bilinear_gather(x, grid)
    torch.testing.assert_close(got, expected, **tolerance(torch.float64))
    g = _t(rng, *expected.shape)
    grads = torch.autograd.grad(expected, (x, grid), g)
    ours = torch.autograd.grad(got, (x, grid), g)
    for a, b in zip(ours, grads, strict=True):
        torch.testing.assert_close(a, b, **tolerance(torch.float64))
