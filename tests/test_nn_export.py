"""The learnable layers leave PyTorch: ONNX export checked with onnxruntime, and torch.compile.

One small case per module (export and compilation are slow).
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from upsampling.nn import PixelShuffle, ResizeConv, SubPixelConv, Upsample
from upsampling.nn.carafe import CARAFE
from upsampling.nn.conv_transpose import ConvTranspose, ConvTranspose2d
from upsampling.nn.dysample import DySample

ort = pytest.importorskip("onnxruntime")


def _cases():
    return {
        "Upsample-bicubic": (Upsample(scale_factor=2, mode="bicubic"), (1, 2, 4, 5)),
        "ConvTranspose2d": (ConvTranspose2d(2, 3, 3, 2, 1, 1), (1, 2, 4, 5)),
        "ConvTranspose1d-same": (ConvTranspose(2, 3, 4, 2, "same", dims=1), (1, 2, 5)),
        "PixelShuffle-3d": (PixelShuffle(2), (1, 16, 2, 3, 2)),
        "SubPixelConv-blur": (SubPixelConv(2, 3, 2, icnr=False, blur=True), (1, 2, 4, 5)),
        "ResizeConv-bilinear": (ResizeConv(2, 3, 2, mode="bilinear"), (1, 2, 4, 5)),
        "CARAFE": (CARAFE(4, 2, k_up=3, c_mid=4, groups=2), (1, 4, 4, 5)),
        "DySample-lp-dynamic": (DySample(4, 2, groups=2, dyscope=True), (1, 4, 4, 5)),
        "DySample-pl": (DySample(8, 2, style="pl", groups=2), (1, 8, 4, 5)),
    }


def _randomised(layer):
    torch.manual_seed(0)
    for p in layer.parameters():
        torch.nn.init.normal_(p, std=0.3)  # DySample's offsets and CARAFE's kernels start flat
    return layer.eval()


@pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::UserWarning", "ignore::torch.jit.TracerWarning"
)
@pytest.mark.parametrize("name", list(_cases()))
def test_onnx_export_matches_onnxruntime(name):
    layer, shape = _cases()[name]
    layer = _randomised(layer)
    x = torch.randn(shape)
    buffer = io.BytesIO()
    torch.onnx.export(layer, (x,), buffer, dynamo=False, opset_version=17, input_names=["x"])
    session = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"x": x.numpy()})
    with torch.no_grad():
        expected = layer(x).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_torch_compile():
    torch.manual_seed(0)
    model = _randomised(
        torch.nn.Sequential(
            CARAFE(4, 2, k_up=3, c_mid=4),
            DySample(4, 1, groups=2, dyscope=True),
            SubPixelConv(4, 4, 1, blur=True),
            ResizeConv(4, 4, 1, mode="bilinear"),
            ConvTranspose2d(4, 2, 3, 2, "same"),
        )
    ).train()
    x = torch.randn(2, 4, 3, 4, requires_grad=True)
    compiled = torch.compile(model, backend="aot_eager", fullgraph=False)
    y = compiled(x)
    torch.testing.assert_close(y, model(x))
    (gx,) = torch.autograd.grad(y.square().sum(), x)
    (ex,) = torch.autograd.grad(model(x).square().sum(), x)
    torch.testing.assert_close(gx, ex)


def test_torch_compile_parameterless_layers_in_one_graph():
    """Upsample and PixelShuffle (the library's custom ops underneath) compile without breaks,
    and stay one graph when the input size changes (dynamic shapes)."""
    model = torch.nn.Sequential(
        Upsample(scale_factor=2, mode="bicubic"), PixelShuffle(2), Upsample(size=(5, 7))
    )
    torch._dynamo.reset()
    compiled = torch.compile(model, backend="aot_eager", fullgraph=True)
    for shape in [(1, 8, 3, 4), (2, 8, 5, 3), (1, 8, 6, 6)]:
        x = torch.randn(shape, dtype=torch.float64, requires_grad=True)
        y = compiled(x)
        torch.testing.assert_close(y, model(x))
        (gx,) = torch.autograd.grad(y.sum(), x)
        (ex,) = torch.autograd.grad(model(x).sum(), x)
        torch.testing.assert_close(gx, ex)


def test_torch_compile_interpolate_over_sizes():
    """One compiled function over several input sizes, ONNX keywords included: the numbers of
    the eager call, and a call that is bad at one size still fails with the eager message
    (Dynamo wraps an error raised while it traces in its own RuntimeError)."""
    import upsampling as up

    def resize(x):
        return up.interpolate(
            x,
            scale_factor=0.75,
            mode="cubic",
            coordinate_transformation_mode="asymmetric",
            cubic_coeff_a=-0.5,
        )

    torch._dynamo.reset()
    compiled = torch.compile(resize, backend="aot_eager", fullgraph=True)
    for n in (4, 7, 9, 12):
        x = torch.randn(1, 2, n, n + 1, dtype=torch.float64)
        torch.testing.assert_close(compiled(x), resize(x), rtol=0, atol=0)
    with pytest.raises((ValueError, RuntimeError), match=r"scale_factor .* empty output"):
        compiled(torch.randn(1, 2, 1, 3, dtype=torch.float64))


def test_torch_compile_size_from_another_tensor():
    """The U-Net pattern, ``size=skip.shape[2:]``: one graph over changing sizes (the size is
    symbolic there), gradients included."""
    from torch._dynamo.utils import counters

    import upsampling as up

    def merge(x, skip):
        return up.interpolate(x, size=skip.shape[2:], mode="bilinear") + skip

    torch._dynamo.reset()
    counters.clear()
    compiled = torch.compile(merge, backend="aot_eager", fullgraph=True)
    for n in (4, 6, 9, 13):
        x = torch.randn(1, 2, n, n, dtype=torch.float64, requires_grad=True)
        skip = torch.randn(1, 2, 2 * n + 1, 2 * n, dtype=torch.float64)
        y = compiled(x, skip)
        (gx,) = torch.autograd.grad(y.sum(), x)
        expected = merge(x, skip)
        (ex,) = torch.autograd.grad(expected.sum(), x)
        assert torch.equal(y, expected) and torch.equal(gx, ex)
    assert counters["stats"]["unique_graphs"] <= 2  # the first size, then all others


def test_torch_compile_scale_factor_passed_in():
    """A scale_factor argument that changes between calls compiles (Dynamo specialises each
    value) and gives the eager numbers and gradients; a bool factor is still refused."""
    import upsampling as up

    def resize(x, scale):
        return up.interpolate(x, scale_factor=scale, mode="bilinear")

    torch._dynamo.reset()
    compiled = torch.compile(resize, backend="aot_eager", fullgraph=True)
    for scale in (2.0, 3.0, 0.75, (1.5, 2.5)):
        x = torch.randn(1, 2, 4, 5, dtype=torch.float64, requires_grad=True)
        y = compiled(x, scale)
        (gx,) = torch.autograd.grad(y.sum(), x)
        expected = resize(x, scale)
        (ex,) = torch.autograd.grad(expected.sum(), x)
        assert torch.equal(y, expected) and torch.equal(gx, ex)
    with pytest.raises(TypeError, match="scale_factor True must be a real number"):
        resize(torch.randn(1, 1, 3, 3), True)
