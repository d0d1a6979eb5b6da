"""A ``channels_last`` (``channels_last_3d``) tensor in gives the same memory format out, with the
values of the NCHW call, for every operator; gradients come back in the input's layout, and the
fake implementations (what ``torch.compile`` sees) promise the strides the ops deliver."""

from __future__ import annotations

import pytest
import torch
from torch._subclasses.fake_tensor import FakeTensorMode

import upsampling as up
from upsampling.conv import METHODS
from upsampling.nn import _dispatch, _interpolate_ops, _unpool_ops

CL = {4: torch.channels_last, 5: torch.channels_last_3d}


def _last(t: torch.Tensor) -> torch.Tensor:
    return t.contiguous(memory_format=CL[t.dim()])


def _is_last(t: torch.Tensor) -> bool:
    return t.is_contiguous(memory_format=CL[t.dim()]) and not t.is_contiguous()


def _x(shape, dtype=torch.float64, seed=0):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _deeper(t, k):
    """``t`` with ``k`` times the channels, in ``t``'s layout (``repeat`` writes NCHW)."""
    deep = t.repeat(1, k, *(1,) * (t.dim() - 2))
    return _last(deep) if _is_last(t) else deep


def _max_unpool(t):
    n, c, *size = t.shape
    big = _x((n, c, *(2 * s for s in size)), seed=1)
    pool = torch.nn.functional.max_pool2d if len(size) == 2 else torch.nn.functional.max_pool3d
    _, indices = pool(big, 2, return_indices=True)
    return up.max_unpool(t, indices.contiguous(memory_format=CL[t.dim()]), 2)


OPERATORS = {
    "nearest": lambda t: up.interpolate(t, scale_factor=2),
    "nearest-exact x1.5": lambda t: up.interpolate(t, scale_factor=1.5, mode="nearest-exact"),
    "bilinear": lambda t: up.interpolate(t, scale_factor=2, mode="bilinear"),
    "bilinear corners x1.5": lambda t: up.interpolate(
        t, scale_factor=1.5, mode="bilinear", align_corners=True
    ),
    "bicubic": lambda t: up.interpolate(t, size=(7, 9), mode="bicubic"),
    "area": lambda t: up.interpolate(t, size=(3, 4), mode="area"),
    "antialias": lambda t: up.interpolate(t, size=(3, 4), mode="bilinear", antialias=True),
    "unpool": lambda t: up.unpool(t, 2),
    "unpool bed_of_nails": lambda t: up.unpool(t, (2, 3), mode="bed_of_nails"),
    "max_pool": lambda t: up.max_pool(t, 2),
    "max_pool padded": lambda t: up.max_pool(t, 3, stride=2, padding=1),
    "max_unpool": _max_unpool,
    "pixel_shuffle": lambda t: up.pixel_shuffle(_deeper(t, 4), 2),
    "pixel_shuffle 2x3": lambda t: up.pixel_shuffle(_deeper(t, 6), (2, 3)),
    "conv": lambda t: up.conv(t, _x((4, 3, 3, 3), seed=2), padding=1),
    **{
        f"conv_transpose {m}": (
            lambda t, m=m: up.conv_transpose(t, _x((3, 4, 4, 4), seed=3), stride=2, method=m)
        )
        for m in METHODS
    },
}
# the conv family runs PyTorch's (or BLAS) kernels, whose sums may be ordered differently per layout
CLOSE = {"conv", *(f"conv_transpose {m}" for m in METHODS)}


def _check_equal(name, got, want):
    if name in CLOSE:
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    else:
        assert torch.equal(got, want)


@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_channels_last_in_channels_last_out_with_the_nchw_values(name):
    fn = OPERATORS[name]
    x = _x((2, 3, 6, 8))
    want = fn(x)
    got = fn(_last(x))
    assert _is_last(got), got.stride()
    _check_equal(name, got, want)


@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_gradient_comes_back_in_the_input_layout(name):
    """The gradient that reaches the layer before (a non-leaf input) is channels_last, and the
    values are those of the NCHW call."""
    fn = OPERATORS[name]
    x = _x((2, 3, 6, 8))
    grads = {}
    for layout, base in (("nchw", x), ("last", _last(x))):
        leaf = base.clone(memory_format=torch.preserve_format).requires_grad_()
        inner = leaf * 1  # a non-leaf: its gradient is what the op's backward returns
        seen = []
        inner.register_hook(seen.append)
        out = fn(inner)
        (out * _x(out.shape, seed=4)).sum().backward()
        grads[layout] = (seen[0], leaf.grad)
    if name.startswith(("conv", "pixel")):  # PyTorch's own autograd: its layout rules
        assert _is_last(grads["last"][1])
    else:
        assert _is_last(grads["last"][0]), grads["last"][0].stride()
        assert grads["nchw"][0].is_contiguous()
    _check_equal(name, grads["last"][1], grads["nchw"][1])


@pytest.mark.parametrize(
    "fn",
    [
        lambda t: up.interpolate(t, scale_factor=2, mode="trilinear"),
        lambda t: up.interpolate(t, scale_factor=(1.5, 2, 0.5)),
        lambda t: up.unpool(t, 2),
        lambda t: up.max_pool(t, 2),
        lambda t: up.pixel_shuffle(_deeper(t, 8), 2),
    ],
    ids=["trilinear", "nearest", "unpool", "max_pool", "pixel_shuffle"],
)
def test_channels_last_3d(fn):
    x = _x((1, 3, 4, 6, 4))
    x.requires_grad_()
    got = fn(_last(x.detach()).requires_grad_())
    assert _is_last(got)
    assert torch.equal(got, fn(x))


def test_max_pool_indices_are_channels_last_like_pytorch():
    x = _last(_x((2, 3, 6, 8)))
    values, indices = up.max_pool(x, 2, return_indices=True)
    want_v, want_i = torch.nn.functional.max_pool2d(x, 2, return_indices=True)
    assert _is_last(values) and _is_last(indices) and _is_last(want_i)
    assert torch.equal(values, want_v) and torch.equal(indices, want_i)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32], ids=str)
def test_plain_pytorch_path_keeps_the_layout(dtype, monkeypatch):
    """The CUDA / 16-bit path (plain PyTorch), here on the CPU: the same format contract."""
    monkeypatch.setattr(_dispatch, "numba_ok", lambda *tensors: False)
    x = _x((1, 4, 5, 6)).to(dtype)
    for fn in (OPERATORS["bilinear"], OPERATORS["unpool"], OPERATORS["max_pool"]):
        got = fn(_last(x))
        assert _is_last(got) and torch.equal(got, fn(x))


def test_ambiguous_layouts_read_as_contiguous_like_pytorch():
    """One channel, or one pixel: the strides fit both layouts and the output is contiguous,
    as PyTorch's is."""
    for shape in [(2, 1, 4, 5), (1, 16, 1, 1)]:
        x = _last(_x(shape))
        got = up.interpolate(x, scale_factor=2, mode="bilinear")
        want = torch.nn.functional.interpolate(x, scale_factor=2, mode="bilinear")
        assert got.stride() == want.stride() and got.is_contiguous()
    assert _dispatch.memory_format(_last(_x((2, 3, 1, 5)))) == torch.channels_last


def test_fake_implementations_promise_the_strides_the_ops_deliver():
    x = _last(_x((2, 3, 6, 8)))
    key, size, scale = up.spec.ResizeSpec.of(
        "interpolate", scale_factor=1.5, mode="bicubic"
    ).op_arguments()
    calls = {
        "interpolate": (_interpolate_ops._interpolate_op, (x, key, size, scale)),
        "unpool": (_unpool_ops._unpool_op, (x, [2, 2], [0, 0], False)),
        "max_pool": (_unpool_ops._max_pool_op, (x, [2, 2], [2, 2], [0, 0], [1, 1], False)),
    }
    for name, (op, args) in calls.items():
        real = op(*args)
        with FakeTensorMode(allow_non_fake_inputs=True) as mode:
            fake_args = tuple(
                mode.from_tensor(a) if isinstance(a, torch.Tensor) else a for a in args
            )
            fake = op(*fake_args)
        real = real if isinstance(real, tuple) else (real,)
        fake = fake if isinstance(fake, tuple) else (fake,)
        for r, f in zip(real, fake, strict=True):
            assert r.shape == f.shape and r.stride() == f.stride(), name


def test_compiled_graph_keeps_the_layout_and_the_values():
    """Under ``torch.compile`` (AOTAutograd: the fakes' strides are what the graph assumes) the
    ops give the eager values and layouts, forward and backward."""

    def f(t):
        y = up.interpolate(t, scale_factor=2, mode="bilinear")
        return up.max_pool(up.unpool(y, 2), 2)

    x = _last(_x((1, 3, 4, 6)))
    compiled = torch.compile(f, backend="aot_eager", fullgraph=True)
    xe, xc = (x.clone(memory_format=torch.preserve_format).requires_grad_() for _ in range(2))
    want, got = f(xe), compiled(xc)
    assert _is_last(got) and torch.equal(got, want)
    want.sum().backward()
    got.sum().backward()
    assert torch.equal(xc.grad, xe.grad) and _is_last(xc.grad)
