"""Determinism: every differentiable operator and module gives the same gradient bits on every
run (the library's promise), on two threads, with shapes large enough that our kernels split
their work over the threads (``_backend._PARALLEL_MIN_WORK`` elements) and PyTorch's
reductions run in parallel."""

from __future__ import annotations

import math

import pytest
import torch

import upsampling as up
from upsampling import _backend
from upsampling.conv import METHODS
from upsampling.nn import CARAFE, ConvTranspose, DySample, ResizeConv, SubPixelConv, Upsample

RUNS = 10
# 51200 inputs, 204800 outputs after a 2x up-sampling: work for both threads (with the split
# threshold lowered to this size here, so the test stays small).
SHAPE = (2, 4, 80, 80)
SPLIT_WORK = 1 << 16
assert 4 * math.prod(SHAPE) >= 2 * SPLIT_WORK


@pytest.fixture(autouse=True)
def two_threads(monkeypatch):
    monkeypatch.setattr(_backend, "_PARALLEL_MIN_WORK", SPLIT_WORK)
    before = (up.get_num_threads(), torch.get_num_threads())
    up.set_num_threads(2)
    torch.set_num_threads(2)
    yield
    up.set_num_threads(before[0])
    torch.set_num_threads(before[1])


def _randn(*shape, seed=0):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def _same_bits(fn, *inputs, params=()):
    """``fn(*inputs)`` and its gradients (for the inputs and ``params``) ``RUNS`` times: the same
    bits each time, and a gradient for every leaf."""
    leaves = [t.requires_grad_() for t in inputs] + list(params)
    first = grad = None
    for _ in range(RUNS):
        for t in leaves:
            t.grad = None
        out = fn(*inputs)
        out = out[0] if isinstance(out, tuple) else out
        if grad is None:
            grad = _randn(*out.shape, seed=1).to(out.dtype)
        out.backward(grad)
        got = [out.detach().clone()] + [t.grad.clone() for t in leaves]
        if first is None:
            first = got
            assert all(g is not None for g in got)
            continue
        for i, (a, b) in enumerate(zip(first, got, strict=True)):
            assert torch.equal(a, b), f"{'output' if i == 0 else f'gradient {i}'} changed"


# ------------------------------------------------------------------------------- the functions
FUNCTIONS = {
    "unpool-nearest": (lambda x: up.unpool(x, 2), [SHAPE]),
    "unpool-bed_of_nails": (lambda x: up.unpool(x, 2, "bed_of_nails", offset=1), [SHAPE]),
    "max_pool": (lambda x: up.max_pool(x, 3, 2, 1), [(2, 4, 128, 128)]),
    "max_pool-dilated": (lambda x: up.max_pool(x, 2, 1, dilation=2), [SHAPE]),
    "pixel_shuffle": (lambda x: up.pixel_shuffle(x, 2), [(2, 16, 64, 64)]),
    "conv": (lambda x, w: up.conv(x, w, stride=2, padding=1), [(2, 4, 64, 64), (4, 4, 3, 3)]),
    "deconvolve": (lambda y: up.deconvolve(y, _randn(2, 2, 3, 3, seed=2)), [(1, 2, 6, 6)]),
}
for mode in ("nearest", "nearest-exact", "bilinear", "bicubic", "area"):
    FUNCTIONS[f"interpolate-{mode}"] = (
        lambda x, mode=mode: up.interpolate(x, scale_factor=2, mode=mode),
        [SHAPE],
    )
for mode in ("bilinear", "bicubic"):
    FUNCTIONS[f"interpolate-{mode}-antialias"] = (
        lambda x, mode=mode: up.interpolate(x, scale_factor=0.4, mode=mode, antialias=True),
        [(2, 4, 160, 160)],
    )
    FUNCTIONS[f"interpolate-{mode}-onnx"] = (
        lambda x, mode=mode: up.interpolate(
            x, scale_factor=2, mode=mode, coordinate_transformation_mode="half_pixel"
        ),
        [SHAPE],
    )
for method in METHODS:
    FUNCTIONS[f"conv_transpose-{method}"] = (
        lambda x, w, method=method: up.conv_transpose(x, w, stride=2, padding=1, method=method),
        [(2, 4, 17, 19), (4, 3, 4, 4)],  # the issue's shapes
    )


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_gradients_are_the_same_bits(name):
    fn, shapes = FUNCTIONS[name]
    _same_bits(fn, *(_randn(*s, seed=i) for i, s in enumerate(shapes)))


def test_max_unpool_gradients_are_the_same_bits():
    values, indices = up.max_pool(_randn(2, 4, 128, 128), 2, return_indices=True)
    _same_bits(lambda v: up.max_unpool(v, indices, 2), values.detach())


def test_issue_19_matrix_weight_gradient():
    """The issue's case: the matrix method's weight gradient took two values in ten runs."""
    fn = lambda x, w: up.conv_transpose(x, w, stride=2, padding=1, method="matrix")  # noqa: E731
    _same_bits(fn, _randn(2, 4, 17, 19), _randn(4, 3, 4, 4, seed=1))


# --------------------------------------------------------------------------------- the modules
MODULES = {
    "Upsample-bilinear": (lambda: Upsample(scale_factor=2, mode="bilinear"), SHAPE),
    "Upsample-bicubic-antialias": (
        lambda: Upsample(scale_factor=0.5, mode="bicubic", antialias=True),
        (2, 4, 128, 128),
    ),
    **{
        f"ConvTranspose-{m}": (lambda m=m: ConvTranspose(4, 4, 4, 2, 1, method=m), (2, 4, 17, 19))
        for m in METHODS
    },
    "SubPixelConv": (lambda: SubPixelConv(4, 4, 2), SHAPE),
    "SubPixelConv-blur": (lambda: SubPixelConv(4, 4, 2, blur=True), SHAPE),
    "ResizeConv": (lambda: ResizeConv(4, 4, 2, mode="bilinear"), SHAPE),
    "CARAFE": (lambda: CARAFE(4, 2, c_mid=8), (2, 4, 32, 32)),
    "DySample-lp": (lambda: DySample(8, 2, groups=2), (2, 8, 32, 32)),
    "DySample-pl": (lambda: DySample(8, 2, style="pl", groups=2, dyscope=True), (2, 8, 32, 32)),
}


@pytest.mark.parametrize("name", MODULES)
def test_module_gradients_are_the_same_bits(name):
    make, shape = MODULES[name]
    torch.manual_seed(0)
    module = make()
    params = list(module.parameters())
    for p in params:  # away from any initialisation whose gradient would vanish
        p.data.add_(0.1 * _randn(*p.shape, seed=3))
    _same_bits(module, _randn(*shape), params=params)
