"""The up-sampling layers: parity with torch.nn, the laws of their initialisations, inverse_of,
gradcheck, determinism and the argument checks."""

from __future__ import annotations

import math
from unittest import mock

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import upsampling.nn as up_nn
from conftest import tolerance
from upsampling.nn import PixelShuffle, ResizeConv, SubPixelConv, Upsample, _export_ops
from upsampling.nn.conv_transpose import (
    ConvTranspose,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
    bilinear_kernel,
)
from upsampling.nn.inverse import inverse_of
from upsampling.nn.modules import MaxPool

F64 = torch.float64


def _t(rng, *shape, dtype=F64):
    return torch.from_numpy(rng.standard_normal(shape)).to(dtype)


def _as_exported(layer, *args):
    """The layer as ``torch.onnx.export`` runs it: through the export operators."""
    with mock.patch.object(_export_ops, "exporting", lambda: True):
        return layer(*args)


# ------------------------------------------------------------------------------------ Upsample
@pytest.mark.parametrize(
    ("shape", "kwargs"),
    [
        ((1, 2, 5), {"scale_factor": 2, "mode": "nearest"}),
        ((1, 2, 5), {"scale_factor": 3, "mode": "linear", "align_corners": True}),
        ((1, 2, 4, 5), {"scale_factor": 2, "mode": "bilinear"}),
        ((1, 2, 4, 5), {"size": (7, 9), "mode": "bicubic", "align_corners": False}),
        ((1, 2, 4, 5), {"scale_factor": 1.5, "mode": "nearest-exact"}),
        ((1, 2, 6, 6), {"size": 3, "mode": "area"}),
        ((1, 2, 6, 6), {"size": 3, "mode": "bilinear", "antialias": True}),
        ((1, 1, 3, 3, 4), {"scale_factor": (2, 1, 2), "mode": "trilinear"}),
    ],
    ids=[
        "1d-nearest",
        "1d-linear-ac",
        "2d-bilinear",
        "2d-bicubic-size",
        "nearest-exact",
        "area",
        "antialias",
        "3d-trilinear",
    ],
)
def test_upsample_matches_torch(rng, shape, kwargs):
    x = _t(rng, *shape)
    expected = (
        torch.nn.Upsample(**kwargs)(x) if "antialias" not in kwargs else F.interpolate(x, **kwargs)
    )
    torch.testing.assert_close(Upsample(**kwargs)(x), expected, **tolerance(F64))


def test_upsample_linear_and_cubic_names_any_rank(rng):
    x = _t(rng, 1, 1, 3, 4)
    torch.testing.assert_close(
        Upsample(scale_factor=2, mode="linear")(x),
        F.interpolate(x, scale_factor=2, mode="bilinear"),
    )
    torch.testing.assert_close(
        Upsample(scale_factor=2, mode="cubic")(x), F.interpolate(x, scale_factor=2, mode="bicubic")
    )


def test_upsample_onnx_options_reach_interpolate(rng):
    interpolate = pytest.importorskip("upsampling.interpolate").interpolate
    x = _t(rng, 1, 1, 3, 4)
    options = {"coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}
    expected = interpolate(x, scale_factor=2, mode="nearest", **options)
    torch.testing.assert_close(Upsample(scale_factor=2, **options)(x), expected)


def test_upsample_repr():
    assert repr(Upsample(scale_factor=2, mode="bilinear")) == (
        "Upsample(scale_factor=2.0, mode='bilinear')"
    )
    text = repr(Upsample(size=(3, 4), coordinate_transformation_mode="asymmetric"))
    assert (
        text == "Upsample(size=(3, 4), mode='nearest', coordinate_transformation_mode='asymmetric')"
    )


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({}, ValueError, "exactly one of size and scale_factor"),
        ({"size": 4, "scale_factor": 2}, ValueError, "exactly one"),
        ({"size": 0}, ValueError, "size"),
        ({"size": 2.5}, TypeError, "size"),
        ({"scale_factor": -1.0}, ValueError, "scale_factor"),
        ({"scale_factor": float("nan")}, ValueError, "scale_factor"),
        ({"scale_factor": 2, "mode": "box"}, ValueError, "mode"),
        ({"scale_factor": 2, "mode": "nearest", "align_corners": True}, ValueError, "align_corn"),
        ({"scale_factor": 2, "antialias": 1}, TypeError, "antialias"),
        ({"scale_factor": 2, "coordinate_transformation_mode": "edge"}, ValueError, "coordinate"),
        ({"scale_factor": 2, "nearest_mode": "up"}, ValueError, "nearest_mode"),
        ({"scale_factor": 2, "cubic_coeff_a": "x"}, TypeError, "cubic_coeff_a"),
        ({"scale_factor": 2, "extrapolation_value": "0"}, TypeError, "extrapolation_value"),
        ({"scale_factor": 2, "roi": 0.5}, TypeError, "roi"),
    ],
    ids=[
        "none",
        "both",
        "size-0",
        "size-float",
        "scale-neg",
        "scale-nan",
        "mode",
        "align",
        "antialias",
        "coordinates",
        "nearest_mode",
        "cubic",
        "extrapolation",
        "roi",
    ],
)
def test_upsample_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=f"Upsample: .*{match}"):
        Upsample(**kwargs)


# ------------------------------------------------------------------------------- ConvTranspose
CONV_T_CASES = [
    (1, {"kernel_size": 3, "stride": 2}),
    (1, {"kernel_size": 4, "stride": 3, "padding": 1, "output_padding": 2, "bias": False}),
    (2, {"kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1}),
    (2, {"kernel_size": (2, 3), "stride": (2, 1), "groups": 2, "dilation": (1, 2)}),
    (2, {"kernel_size": 3, "stride": 1, "dilation": 3, "output_padding": 2}),
    (3, {"kernel_size": 2, "stride": 2, "padding": (0, 1, 0)}),
]


@pytest.mark.parametrize(("dims", "kwargs"), CONV_T_CASES, ids=lambda v: str(v))
def test_conv_transpose_matches_torch(rng, dims, kwargs):
    torch_cls = getattr(torch.nn, f"ConvTranspose{dims}d")
    torch.manual_seed(7)
    ours = ConvTranspose(4, 6, dims=dims, dtype=F64, **kwargs)
    torch.manual_seed(7)
    theirs = torch_cls(4, 6, dtype=F64, **kwargs)
    assert torch.equal(ours.weight, theirs.weight)  # the same initialisation, draw for draw
    assert (ours.bias is None) == (theirs.bias is None)
    if ours.bias is not None:
        assert torch.equal(ours.bias, theirs.bias)
    x = _t(rng, 2, 4, *(3,) * dims)
    torch.testing.assert_close(ours(x), theirs(x), **tolerance(F64))
    # the ONNX export path (F.conv_transpose) agrees with the eager one
    torch.testing.assert_close(_as_exported(ours, x), theirs(x), **tolerance(F64))


def test_conv_transpose_output_size_in_forward(rng):
    torch.manual_seed(0)
    ours = ConvTranspose2d(2, 3, 3, stride=(2, 3), padding=1, dtype=F64)
    theirs = torch.nn.ConvTranspose2d(2, 3, 3, stride=(2, 3), padding=1, dtype=F64)
    theirs.load_state_dict(ours.state_dict())
    x = _t(rng, 1, 2, 4, 4)
    for size in [(7, 10), (8, 12), (1, 2, 8, 11)]:
        torch.testing.assert_close(ours(x, output_size=size), theirs(x, output_size=size))
    with pytest.raises(ValueError, match="output_size"):
        ours(x, output_size=(9, 10))


@pytest.mark.parametrize(
    ("k", "s", "d"),
    [(3, 2, 1), (4, 2, 1), (2, 2, 1), (1, 3, 1), (3, 1, 2), (5, 3, 1), (2, 4, 1)],
    ids=lambda v: str(v),
)
def test_conv_transpose_same_padding(rng, k, s, d):
    """Output n * s, from offset total // 2 of the full result (total = its length - n * s, the
    odd remainder cut at the end as ONNX's SAME_UPPER); where the full result is shorter, the
    positions outside it hold the bias alone."""
    layer = ConvTranspose1d(2, 3, k, stride=s, padding="same", dilation=d, dtype=F64)
    x = _t(rng, 2, 2, 5)
    full = F.conv_transpose1d(x, layer.weight, None, s, dilation=d)
    offset = (full.shape[-1] - 5 * s) // 2
    padded = F.pad(full, (max(-offset, 0), 5 * s))
    start = max(offset, 0)
    expected = padded[..., start : start + 5 * s] + layer.bias[:, None]
    got = layer(x)
    assert got.shape[-1] == 5 * s
    torch.testing.assert_close(got, expected, **tolerance(F64))
    torch.testing.assert_close(_as_exported(layer, x), expected, **tolerance(F64))


@pytest.mark.parametrize("s", [2, 3, 4])
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_bilinear_init_is_bilinear_upsampling_inside(rng, dims, s):
    k, p = 2 * s - s % 2, math.ceil((s - 1) / 2)
    layer = ConvTranspose(3, 3, k, s, p, dims=dims, init="bilinear", dtype=F64)
    x = _t(rng, 1, 3, *(4,) * dims)
    mode = {1: "linear", 2: "bilinear", 3: "trilinear"}[dims]
    expected = F.interpolate(x, scale_factor=s, mode=mode, align_corners=False)
    y = layer(x)
    assert y.shape == expected.shape
    inner = (..., *(slice(s, -s),) * dims)  # the border differs: zeros outside, not clamping
    torch.testing.assert_close(y[inner], expected[inner], **tolerance(F64))


def test_bilinear_init_depthwise_and_kernel():
    layer = ConvTranspose2d(4, 4, 4, 2, 1, groups=4, init="bilinear")
    assert layer.weight.shape == (4, 1, 4, 4)
    k1 = torch.tensor([0.25, 0.75, 0.75, 0.25], dtype=F64)
    torch.testing.assert_close(bilinear_kernel((4, 4), dtype=F64), torch.outer(k1, k1))
    assert all(torch.equal(layer.weight[i, 0], layer.weight[0, 0]) for i in range(4))
    dense = ConvTranspose2d(2, 2, 3, 2, init="bilinear")
    assert torch.all(dense.weight[0, 1] == 0) and torch.all(dense.weight[1, 0] == 0)
    assert torch.all(dense.bias == 0)


@pytest.mark.parametrize("method", ["scatter", "zero_insertion", "subpixel", "matrix"])
def test_conv_transpose_methods_agree(rng, method):
    pytest.importorskip("upsampling.conv")
    torch.manual_seed(0)
    layer = ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1, dtype=F64)
    ref = F.conv_transpose2d(_x := _t(rng, 1, 2, 4, 5), layer.weight, layer.bias, 2, 1, 1)
    layer.method = method
    torch.testing.assert_close(layer(_x), ref, **tolerance(F64))


def test_conv_transpose_fixed_dims_and_repr():
    assert ConvTranspose1d(2, 2, 3).weight.shape == (2, 2, 3)
    assert ConvTranspose3d(2, 4, 3, groups=2).weight.shape == (2, 2, 3, 3, 3)
    with pytest.raises(TypeError, match="ConvTranspose2d: dims is fixed"):
        ConvTranspose2d(2, 2, 3, dims=3)
    text = repr(ConvTranspose2d(2, 4, 3, 2, padding="same", groups=2, bias=False))
    assert text == (
        "ConvTranspose2d(2, 4, kernel_size=(3, 3), stride=(2, 2), padding='same', groups=2, "
        "bias=False, dims=2, init='default', method='auto')"
    )


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        ((0, 2, 3), {}, ValueError, "in_channels"),
        ((2, 2, 0), {}, ValueError, "kernel_size"),
        ((2, 2, 3), {"stride": (1, 2, 3)}, ValueError, "stride"),
        ((2, 2, 3), {"padding": "valid"}, ValueError, "padding"),
        ((2, 2, 3), {"padding": -1}, ValueError, "padding"),
        ((2, 2, 3), {"stride": 2, "output_padding": 2}, ValueError, "output_padding"),
        ((2, 2, 3), {"stride": 2, "padding": "same", "output_padding": 1}, ValueError, "same"),
        ((3, 2, 3), {"groups": 2}, ValueError, "divisible"),
        ((2, 3, 3), {"groups": 2}, ValueError, "divisible"),
        ((2, 3, 3), {"init": "bilinear"}, ValueError, "in_channels 2 must equal"),
        ((2, 2, 3), {"init": "xavier"}, ValueError, "init"),
        ((2, 2, 3), {"method": "fft"}, ValueError, "method"),
        ((2, 2, 3), {"bias": 0}, TypeError, "bias"),
        ((2, 2, 3), {"dims": 0}, ValueError, "dims"),
    ],
    ids=[
        "channels",
        "kernel",
        "stride-len",
        "valid",
        "pad-neg",
        "outpad",
        "same-outpad",
        "groups-in",
        "groups-out",
        "bilinear-channels",
        "init",
        "method",
        "bias",
        "dims",
    ],
)
def test_conv_transpose_bad_arguments(args, kwargs, exc, match):
    with pytest.raises(exc, match=f"ConvTranspose: .*{match}"):
        ConvTranspose(*args, **kwargs)


def test_conv_transpose_bad_input():
    layer = ConvTranspose2d(2, 2, 3)
    with pytest.raises(ValueError, match="ConvTranspose2d: x has 3 channels"):
        layer(torch.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError, match="ConvTranspose2d: x has shape"):
        layer(torch.zeros(1, 2, 4))


# -------------------------------------------------------------------------------- PixelShuffle
def test_pixel_shuffle_2d_matches_torch(rng):
    x = _t(rng, 2, 18, 3, 4)
    torch.testing.assert_close(PixelShuffle(3)(x), torch.nn.PixelShuffle(3)(x), rtol=0, atol=0)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_pixel_shuffle_crd_order(rng, dims):
    scale = (2, 3, 2)[:dims]
    r = math.prod(scale)
    x = _t(rng, 1, 2 * r, *(2,) * dims)
    y = PixelShuffle(scale)(x).numpy()
    xn = x.numpy()
    for index in np.ndindex(*y.shape):
        c, out = index[1], index[2:]
        phase = np.ravel_multi_index(tuple(o % s for o, s in zip(out, scale, strict=True)), scale)
        src = (0, c * r + phase, *(o // s for o, s in zip(out, scale, strict=True)))
        assert y[index] == xn[src]


def test_pixel_shuffle_bad():
    with pytest.raises(ValueError, match=r"PixelShuffle: .*divisible"):
        PixelShuffle(2)(torch.zeros(1, 6, 2, 2))
    with pytest.raises(ValueError, match="PixelShuffle: upscale_factor"):
        PixelShuffle((2, 2))(torch.zeros(1, 8, 2, 2, 2))
    with pytest.raises(ValueError, match="PixelShuffle: upscale_factor"):
        PixelShuffle(0)
    assert repr(PixelShuffle(2)) == "PixelShuffle(upscale_factor=2)"


# -------------------------------------------------------------------------------- SubPixelConv
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_icnr_starts_as_nearest_upsampling(rng, dims):
    layer = SubPixelConv(3, 2, 2, dims=dims, dtype=F64)
    r = 2**dims
    w, b = layer.conv.weight, layer.conv.bias
    assert all(torch.equal(w[i], w[i - i % r]) for i in range(w.shape[0]))
    x = _t(rng, 2, 3, *(4,) * dims)
    conv = getattr(F, f"conv{dims}d")(x, w[::r], b[::r], padding=1)
    expected = F.interpolate(conv, scale_factor=2, mode="nearest")
    torch.testing.assert_close(layer(x), expected, **tolerance(F64))


def test_icnr_draws_like_a_conv_to_out_channels():
    torch.manual_seed(5)
    layer = SubPixelConv(3, 2, 3, kernel_size=5)
    torch.manual_seed(5)
    reference = torch.nn.Conv2d(3, 2, 5)
    torch.testing.assert_close(layer.conv.weight[::9], reference.weight, rtol=0, atol=0)
    torch.testing.assert_close(layer.conv.bias[::9], reference.bias, rtol=0, atol=0)


def test_without_icnr_phases_differ_and_blur(rng):
    torch.manual_seed(0)
    layer = SubPixelConv(2, 2, 2, icnr=False, dtype=F64)
    torch.manual_seed(0)
    reference = torch.nn.Conv2d(2, 8, 3, padding=1, dtype=F64)
    assert torch.equal(layer.conv.weight, reference.weight)
    x = _t(rng, 1, 2, 4, 4)
    y = layer(x)
    assert not torch.equal(y[..., ::2, ::2], y[..., 1::2, 1::2])
    layer.blur = True
    padded = F.pad(y, (1, 0, 1, 0), mode="replicate")
    torch.testing.assert_close(layer(x), F.avg_pool2d(padded, 2, 1), **tolerance(F64))


# ---------------------------------------------------------------------------------- ResizeConv
@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic"])
def test_resize_conv_is_interpolate_then_conv(rng, mode):
    layer = ResizeConv(3, 2, 2, mode=mode, dtype=F64)
    x = _t(rng, 1, 3, 4, 5)
    up = F.interpolate(x, scale_factor=2, mode=mode)
    expected = F.conv2d(up, layer.conv.weight, layer.conv.bias, padding=1)
    torch.testing.assert_close(layer(x), expected, **tolerance(F64))
    assert ResizeConv(2, 2, 3, dims=1)(_t(rng, 1, 2, 5, dtype=torch.float32)).shape == (1, 2, 15)


@pytest.mark.parametrize(
    ("cls", "args", "kwargs", "match"),
    [
        (SubPixelConv, (2, 2, 2), {"kernel_size": 2}, "kernel_size .* odd"),
        (SubPixelConv, (2, 2, 0), {}, "scale_factor"),
        (SubPixelConv, (2, 2, 2), {"dims": 4}, "dims"),
        (ResizeConv, (2, 2, 2), {"mode": "box"}, "mode"),
        (ResizeConv, (2, 2, 0), {}, "scale_factor"),
        (ResizeConv, (2, 0, 2), {}, "out_channels"),
    ],
    ids=["spc-even", "spc-scale", "spc-dims", "rc-mode", "rc-scale", "rc-channels"],
)
def test_learnable_layers_bad_arguments(cls, args, kwargs, match):
    with pytest.raises(ValueError, match=f"{cls.__name__}: .*{match}"):
        cls(*args, **kwargs)


# ---------------------------------------------------------------------------------- inverse_of
@pytest.mark.parametrize(
    ("dims", "kwargs", "size"),
    [
        (2, {"kernel_size": 3, "stride": 2, "padding": 1}, (10, 11)),
        (2, {"kernel_size": (3, 2), "stride": (3, 2), "dilation": (2, 1)}, (13, 9)),
        (1, {"kernel_size": 4, "stride": 3, "padding": 2}, (17,)),
        (3, {"kernel_size": 2, "stride": 2}, (5, 4, 3)),
        (2, {"kernel_size": 3, "padding": "same", "dilation": 2}, (6, 5)),
        (2, {"kernel_size": 4, "padding": "same"}, (6, 5)),
        (1, {"kernel_size": 3, "padding": "valid", "groups": 2}, (8,)),
    ],
    ids=["s2p1", "dilated", "1d", "3d", "same-odd", "same-even", "valid-groups"],
)
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_inverse_of_conv_restores_the_shape_and_is_the_adjoint(rng, dims, kwargs, size):
    conv = getattr(torch.nn, f"Conv{dims}d")(2, 4, bias=False, dtype=F64, **kwargs)
    up = inverse_of(conv, (1, 2, *size))
    assert isinstance(up, ConvTranspose) and up.weight.shape == conv.weight.shape
    x = _t(rng, 1, 2, *size)
    y = conv(x)
    with torch.no_grad():
        up.weight.copy_(conv.weight)
        up.bias = None
    back = up(y)
    assert back.shape == x.shape
    g = _t(rng, *y.shape)
    # <conv(x), g> == <x, conv^T(g)>: the tied inverse is the transpose, the seed's C^T
    torch.testing.assert_close((conv(x) * g).sum(), (x * up(g)).sum(), **tolerance(F64))


@pytest.mark.parametrize(
    "pool",
    [
        torch.nn.MaxPool2d(2, return_indices=True),
        torch.nn.MaxPool2d(3, 2, 1, return_indices=True, ceil_mode=True),
        torch.nn.MaxPool2d(3, 2, dilation=2, return_indices=True),
        torch.nn.MaxPool1d(3, 2, return_indices=True),
    ],
    ids=["k2", "ceil", "dilated", "1d"],
)
def test_inverse_of_max_pool(rng, pool):
    dims = 1 if isinstance(pool, torch.nn.MaxPool1d) else 2
    size = (11, 9)[:dims]
    x = _t(rng, 2, 3, *size, dtype=torch.float32)
    values, indices = pool(x)
    unpool = inverse_of(pool, x.shape)
    y = unpool(values, indices)
    assert y.shape == x.shape
    expected = torch.zeros_like(x).flatten(2).scatter(2, indices.flatten(2), values.flatten(2))
    torch.testing.assert_close(y, expected.reshape(x.shape), rtol=0, atol=0)


def test_inverse_of_our_max_pool(rng):
    x = _t(rng, 1, 2, 7, 6, dtype=torch.float32)
    pool = MaxPool(2)
    values, indices = pool(x)
    assert inverse_of(pool, x.shape)(values, indices).shape == x.shape
    assert inverse_of(MaxPool((2, 3)), (7, 6))(*MaxPool((2, 3))(x)).shape == x.shape
    with pytest.raises(ValueError, match="inverse_of: input_shape"):
        inverse_of(pool, (7, 6))


@pytest.mark.parametrize(
    "pool",
    [torch.nn.AvgPool2d(2), torch.nn.AvgPool2d(3, 2, 1), torch.nn.AdaptiveAvgPool2d(2)],
    ids=["k2", "k3s2", "adaptive"],
)
def test_inverse_of_avg_pool(rng, pool):
    x = _t(rng, 1, 2, 7, 6, dtype=torch.float32)
    up = inverse_of(pool, x.shape)
    assert isinstance(up, Upsample) and up(pool(x)).shape == x.shape


def test_inverse_of_pixel_unshuffle_and_bad(rng):
    x = _t(rng, 1, 2, 4, 6)
    assert torch.equal(inverse_of(torch.nn.PixelUnshuffle(2), x.shape)(F.pixel_unshuffle(x, 2)), x)
    with pytest.raises(TypeError, match="inverse_of: module Linear"):
        inverse_of(torch.nn.Linear(2, 2), (1, 2))
    with pytest.raises(ValueError, match="inverse_of: input_shape"):
        inverse_of(torch.nn.Conv2d(1, 1, 3), (1, 1, 5))
    with pytest.raises(ValueError, match="too small"):
        inverse_of(torch.nn.Conv2d(1, 1, 3), (2, 2))


# ------------------------------------------------------------- every module: the common contract
def _modules():
    return {
        "ConvTranspose": (ConvTranspose2d(2, 2, 3, 2, 1, 1, dtype=F64), (1, 2, 3, 3)),
        "ConvTranspose-same": (ConvTranspose1d(2, 2, 4, 2, "same", dtype=F64), (1, 2, 3)),
        "SubPixelConv": (SubPixelConv(2, 1, 2, blur=True, dtype=F64), (1, 2, 3, 3)),
        "ResizeConv": (ResizeConv(2, 1, 2, mode="bilinear", dtype=F64), (1, 2, 3, 3)),
        "Upsample": (Upsample(scale_factor=2, mode="bicubic"), (1, 2, 3, 3)),
        "PixelShuffle": (PixelShuffle((2, 1)), (1, 4, 2, 3)),
    }


@pytest.mark.parametrize("name", list(_modules()))
def test_gradcheck(name):
    layer, shape = _modules()[name]
    torch.manual_seed(0)
    for p in layer.parameters():
        torch.nn.init.normal_(p)
    x = torch.randn(shape, dtype=F64, requires_grad=True)
    names = [n for n, _ in layer.named_parameters()]

    def run(x, *ps):
        return torch.func.functional_call(layer, dict(zip(names, ps, strict=True)), (x,))

    assert torch.autograd.gradcheck(run, (x, *layer.parameters()), fast_mode=True)


@pytest.mark.parametrize("name", list(_modules()))
def test_deterministic_mode(name):
    layer, shape = _modules()[name]
    x = torch.randn(shape, dtype=F64, requires_grad=True)
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        results = []
        for _ in range(2):
            x.grad = None
            layer.zero_grad()
            y = layer(x)
            y.square().sum().backward()
            results.append((y.detach(), x.grad.clone()))
    finally:
        torch.use_deterministic_algorithms(previous)
    assert torch.equal(results[0][0], results[1][0]) and torch.equal(results[0][1], results[1][1])
    layer.reset_parameters()


def test_device_and_dtype():
    for layer in (
        ConvTranspose2d(2, 2, 3, device="cpu", dtype=torch.float16),
        SubPixelConv(2, 2, 2, device="cpu", dtype=torch.float16),
        ResizeConv(2, 2, 2, device="cpu", dtype=torch.float16),
    ):
        assert all(p.dtype == torch.float16 and p.device.type == "cpu" for p in layer.parameters())


# ------------------------------------------------------------------ the seed's learning experiment
@pytest.mark.parametrize(
    ("c_in", "c_out", "k", "stride"), [(1, 1, 3, 2), (2, 3, 4, 2)], ids=["seed-3x3-s2", "2to3-k4"]
)
def test_conv_transpose_learns_the_hidden_kernel(c_in, c_out, k, stride):
    """Given g and h = conv_transpose(g, f), a ConvTranspose layer learns f' = f (LBFGS)."""
    generator = torch.Generator().manual_seed(1)
    f = torch.randn(c_in, c_out, k, k, generator=generator, dtype=F64)
    g = torch.randn(4, c_in, 4, 4, generator=generator, dtype=F64)
    h = F.conv_transpose2d(g, f, stride=stride)
    torch.manual_seed(0)
    layer = ConvTranspose2d(c_in, c_out, k, stride=stride, bias=False, dtype=F64)
    assert (layer.weight - f).abs().max() > 0.1
    optimiser = torch.optim.LBFGS(
        layer.parameters(),
        max_iter=100,
        tolerance_grad=1e-14,
        tolerance_change=1e-16,
        line_search_fn="strong_wolfe",
    )

    def closure():
        optimiser.zero_grad()
        loss = torch.mean((layer(g) - h) ** 2)
        loss.backward()
        return loss

    for _ in range(3):
        optimiser.step(closure)
    assert (layer.weight.detach() - f).abs().max() < 1e-4


# ----------------------------------------------------- the contract every module of upsampling.nn
_EVERY_MODULE = {
    "Upsample": lambda **kw: up_nn.Upsample(scale_factor=2, **kw),
    "PixelShuffle": lambda **kw: up_nn.PixelShuffle(2, **kw),
    "SubPixelConv": lambda **kw: up_nn.SubPixelConv(2, 2, 2, **kw),
    "ResizeConv": lambda **kw: up_nn.ResizeConv(2, 2, 2, **kw),
    "ConvTranspose": lambda **kw: up_nn.ConvTranspose(2, 2, 3, **kw),
    "ConvTranspose1d": lambda **kw: up_nn.ConvTranspose1d(2, 2, 3, **kw),
    "ConvTranspose2d": lambda **kw: up_nn.ConvTranspose2d(2, 2, 3, **kw),
    "ConvTranspose3d": lambda **kw: up_nn.ConvTranspose3d(2, 2, 3, **kw),
    "CARAFE": lambda **kw: up_nn.CARAFE(4, c_mid=4, **kw),
    "DySample": lambda **kw: up_nn.DySample(8, **kw),
    "Unpool": lambda **kw: up_nn.Unpool(2, **kw),
    "MaxPool": lambda **kw: up_nn.MaxPool(2, **kw),
    "MaxUnpool": lambda **kw: up_nn.MaxUnpool(2, **kw),
}


def test_every_module_is_covered():
    exported = {
        name
        for name in up_nn.__all__
        if isinstance(getattr(up_nn, name), type)
        and issubclass(getattr(up_nn, name), torch.nn.Module)
    }
    assert exported == set(_EVERY_MODULE)


@pytest.mark.parametrize("name", sorted(_EVERY_MODULE))
def test_every_module_takes_device_and_dtype(name):
    make = _EVERY_MODULE[name]
    layer = make(device="cpu", dtype=torch.float64)
    assert all(p.dtype == torch.float64 and p.device.type == "cpu" for p in layer.parameters())
    state = {k: v.clone() for k, v in layer.state_dict().items()}
    layer.reset_parameters()  # every module has one, with or without parameters
    assert state.keys() == layer.state_dict().keys()
    assert isinstance(layer.extra_repr(), str)
    with pytest.raises(TypeError, match=rf"{name}.*device 'gpu0'"):
        make(device="gpu0")
    with pytest.raises(TypeError, match=rf"{name}.*dtype 'float32'"):
        make(dtype="float32")
    if list(layer.parameters()):
        with pytest.raises(TypeError, match=rf"{name}.*dtype torch.int64 must be a floating"):
            make(dtype=torch.int64)
