"""How the torch custom ops are made, shared by every ``nn/_*_ops.py`` module.

Each op has one implementation for every device: CPU tensors of a dtype numba computes in run the
NumPy-level functions of the operator's module on zero-copy views; anything else (CUDA, float16,
bfloat16) runs a pure-PyTorch version of the same algorithm. Ops are registered with
``torch.library.custom_op`` (opaque to ``torch.compile``, with fake implementations for tracing)
and fall back to ``torch.autograd.Function`` on torch releases that lack it. Autograd formulas
gather (or add in a fixed order), so gradients are the same bit for bit on every run.
"""

from __future__ import annotations

import torch
from torch import Tensor

_NUMBA_DTYPES = frozenset(
    {torch.float32, torch.float64, torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8}
)


def numba_ok(*tensors: Tensor) -> bool:
    return all(t.device.type == "cpu" and t.dtype in _NUMBA_DTYPES for t in tensors)


def as_numpy(t: Tensor):
    return t.detach().numpy()


def from_numpy(a) -> Tensor:
    return torch.from_numpy(a)


def define(name: str, impl, fake, backward=None, setup_context=None):
    """Register ``impl`` as the op ``upsampling::name`` with its fake and autograd formula.

    ``impl`` carries the schema in its annotations. On torch releases without
    ``torch.library.custom_op`` (before 2.4) the op is an ``autograd.Function`` instead.
    """
    if hasattr(torch.library, "custom_op"):
        op = torch.library.custom_op(f"upsampling::{name}", mutates_args=())(impl)
        op.register_fake(fake)
        if backward is not None:
            op.register_autograd(backward, setup_context=setup_context)
        return op
    if backward is None:  # pragma: no cover - torch < 2.4
        return impl

    class _Function(torch.autograd.Function):  # pragma: no cover - torch < 2.4
        @staticmethod
        def forward(ctx, *inputs):
            output = impl(*inputs)
            setup_context(ctx, inputs, output)
            return output

        @staticmethod
        def backward(ctx, *grads):
            return backward(ctx, *grads)

    _Function.__name__ = name
    return _Function.apply
