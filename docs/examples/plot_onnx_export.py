"""
Exporting a model with ``upsampling.nn`` layers to ONNX
=======================================================

The layers export with ``torch.onnx.export`` as standard ONNX operators (``Resize``,
``ConvTranspose``, ``DepthToSpace``, ...) with the eager numbers, so an exported decoder runs
in onnxruntime, or anywhere ONNX runs, without this library. Here a small decoder with four of
them is exported and its onnxruntime output compared with PyTorch's.
"""

import collections
import io
import warnings

import numpy as np
import onnx
import onnxruntime
import torch
from torch import nn

import upsampling.nn as unn

torch.manual_seed(0)
decoder = nn.Sequential(
    unn.Upsample(scale_factor=2, mode="bilinear"),
    nn.Conv2d(8, 8, 3, padding=1),
    unn.ConvTranspose(8, 8, 4, stride=2, padding=1, init="bilinear"),
    nn.ReLU(),
    unn.SubPixelConv(8, 4, 2),
    unn.Unpool(2),
    nn.Conv2d(4, 3, 1),
).eval()
x = torch.randn(1, 8, 12, 16)
with torch.no_grad():
    expected = decoder(x).numpy()

buffer = io.BytesIO()
# dynamo=False: the TorchScript exporter, quick, which warns that it is the legacy one and that
# the traced sizes become constants (as intended here); the default exporter (dynamo=True,
# which needs onnxscript) exports these layers too.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", torch.jit.TracerWarning)
    torch.onnx.export(decoder, (x,), buffer, dynamo=False, opset_version=17, input_names=["x"])
model = onnx.load_from_string(buffer.getvalue())
onnx.checker.check_model(model)
print("ONNX operators:", dict(collections.Counter(node.op_type for node in model.graph.node)))

session = onnxruntime.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
(got,) = session.run(None, {"x": x.numpy()})
print("output", got.shape, "max |onnxruntime - PyTorch| =", f"{np.abs(got - expected).max():.1e}")
assert np.allclose(got, expected, atol=1e-5)
