"""The functional operators inside a model export to ONNX with either exporter, and
onnxruntime gives the eager numbers (the modules are checked in test_nn_export*.py)."""

from __future__ import annotations

import io
import math
import warnings

import numpy as np
import pytest
import torch

import upsampling as up

ort = pytest.importorskip("onnxruntime")


class _Call(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


W_T = torch.linspace(-1, 1, 4 * 2 * 3 * 3).reshape(4, 2, 3, 3)
W = torch.linspace(-1, 1, 3 * 4 * 3 * 3).reshape(3, 4, 3, 3)
CASES = {
    "unpool-bed_of_nails": lambda x: up.unpool(x, (2, 3), "bed_of_nails", offset=(1, 2)),
    "max_pool-indices": lambda x: torch.cat(
        [t.to(x.dtype) for t in up.max_pool(x, 3, 2, 1, ceil_mode=True, return_indices=True)]
    ),
    "max_pool-max_unpool": lambda x: up.max_unpool(
        *up.max_pool(x, 2, return_indices=True), 2, output_size=(7, 9)
    ),
    "interpolate-bicubic": lambda x: up.interpolate(x, scale_factor=1.5, mode="bicubic"),
    "interpolate-onnx-options": lambda x: up.interpolate(
        x,
        size=(5, 11),
        mode="cubic",
        coordinate_transformation_mode="half_pixel",
        cubic_coeff_a=-0.5,
        exclude_outside=True,
    ),
    "interpolate-antialias": lambda x: up.interpolate(
        x, size=(3, 4), mode="bilinear", antialias=True
    ),
    "conv_transpose-same": lambda x: up.conv_transpose(x, W_T, stride=2, padding="same"),
    "conv-same": lambda x: up.conv(x, W, padding="same"),
}


def _export(model, x, dynamo: bool) -> bytes:
    if dynamo:
        pytest.importorskip("onnxscript")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.onnx.export(model, (x,), dynamo=True).model_proto.SerializeToString()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), buffer, dynamo=False, opset_version=17)
    return buffer.getvalue()


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
@pytest.mark.parametrize("name", list(CASES))
def test_function_exports_and_matches(name, dynamo):
    torch.manual_seed(0)
    x = torch.randn(2, 4, 7, 9)
    x[0, 1, 2, 3] = x[0, 1, 2, 4]  # a tie for the pooling cases
    model = _Call(CASES[name]).eval()
    session = ort.InferenceSession(_export(model, x, dynamo), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    expected = model(x).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_eager_calls_keep_the_custom_ops():
    """Outside an export nothing changes: the functions run the library's ops."""
    from upsampling import _backend
    from upsampling.nn import _export_ops, _unpool_ops

    assert not _export_ops.exporting()
    assert _backend.torch_ops("unpool") is _unpool_ops


RANKED = {
    "extrapolation_value-only-1d": (
        (1, 2, 6),
        lambda x: up.interpolate(x, size=4, mode="nearest", extrapolation_value=1.0),
    ),
    "cubic-1d": ((1, 2, 5), lambda x: up.interpolate(x, scale_factor=2, mode="cubic")),
    "cubic-3d": ((1, 1, 3, 4, 5), lambda x: up.interpolate(x, size=(4, 6, 7), mode="cubic")),
    "linear-3d": ((1, 1, 3, 4, 5), lambda x: up.interpolate(x, scale_factor=1.5, mode="linear")),
}


@pytest.mark.parametrize("name", list(RANKED))
def test_interpolate_exports_in_every_rank(name):
    """1-D and 3-D: cubic (bicubic is 2-D only in F.interpolate) and an ONNX keyword alone."""
    shape, fn = RANKED[name]
    x = torch.arange(math.prod(shape), dtype=torch.float32).reshape(shape).sin()
    model = _Call(fn).eval()
    session = ort.InferenceSession(_export(model, x, False), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    np.testing.assert_allclose(got, model(x).numpy(), rtol=1e-5, atol=1e-5)


DYNAMIC = {
    "interpolate-bilinear": lambda x: up.interpolate(x, scale_factor=2, mode="bilinear"),
    "unpool": lambda x: up.unpool(x, 2),
    "conv_transpose": lambda x: up.conv_transpose(x, W_T, stride=2, padding=1),
    "conv_transpose-same": lambda x: up.conv_transpose(x, W_T, stride=2, padding="same"),
}


@pytest.mark.parametrize("name", list(DYNAMIC))
def test_dynamic_shapes_export_with_the_default_exporter(name):
    """Exported for one size with every dim dynamic, the model runs at another size."""
    pytest.importorskip("onnxscript")
    from torch.export import Dim

    model = _Call(DYNAMIC[name]).eval()
    dims = {0: Dim("batch"), 2: Dim("height"), 3: Dim("width")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            model, (torch.randn(2, 4, 6, 8),), dynamo=True, dynamic_shapes=(dims,)
        )
    session = ort.InferenceSession(
        program.model_proto.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    x = torch.randn(3, 4, 9, 5)
    (got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    np.testing.assert_allclose(got, model(x).numpy(), rtol=1e-5, atol=1e-5)
