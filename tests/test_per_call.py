"""The eager shortcut of the custom ops (``nn._dispatch.Op``) and the caches of a small call:
the same results and gradients bit for bit as the registered op's dispatch, the op still used
wherever a trace needs it, and the caches keyed by everything that changes the answer."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
import torch
from torch._subclasses.fake_tensor import FakeTensorMode

import upsampling as up
from upsampling import _backend, _checks
from upsampling.filters import table
from upsampling.nn import _conv_ops, _dispatch, _interpolate_ops
from upsampling.spec import ResizeSpec

interpolate = sys.modules["upsampling.interpolate"]
conv = sys.modules["upsampling.conv"]  # (the module: up.interpolate is the function)


def _x(shape, dtype, layout="nchw", seed=0):
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)
    return x.contiguous(memory_format=torch.channels_last) if layout == "last" else x


def _unpool_max(t):
    n, c, h, w = t.shape
    big = torch.randn(n, c, 2 * h, 2 * w, generator=torch.Generator().manual_seed(5))
    _, indices = torch.nn.functional.max_pool2d(big, 2, return_indices=True)
    return up.max_unpool(t, indices, 2)


CALLS = {
    "nearest x2": lambda t: up.interpolate(t, scale_factor=2),
    "nearest-exact x1.5": lambda t: up.interpolate(t, scale_factor=1.5, mode="nearest-exact"),
    "bilinear x2": lambda t: up.interpolate(t, scale_factor=2, mode="bilinear"),
    "bilinear x1.5 corners": lambda t: up.interpolate(
        t, scale_factor=1.5, mode="bilinear", align_corners=True
    ),
    "bicubic size": lambda t: up.interpolate(t, size=(11, 5), mode="bicubic"),
    "area": lambda t: up.interpolate(t, size=(3, 2), mode="area"),
    "Upsample bilinear": up.nn.Upsample(scale_factor=2, mode="bilinear"),
    "unpool": lambda t: up.unpool(t, 2),
    "unpool bed_of_nails": lambda t: up.unpool(t, (2, 3), mode="bed_of_nails"),
    "max_pool": lambda t: up.max_pool(t, 2),
    "max_pool padded": lambda t: up.max_pool(t, 3, stride=2, padding=1),
    "max_unpool": _unpool_max,
}
SHAPES = [(1, 16, 8, 8), (2, 3, 5, 7), (1, 1, 1, 1)]


def _through_the_op(monkeypatch):
    """Send every call through the registered custom op's dispatch (the general path)."""
    monkeypatch.setattr(_dispatch, "plain_eager", lambda args: False)


def _run(fn, x):
    xg = x.clone(memory_format=torch.preserve_format).requires_grad_()
    y = fn(xg)
    y.backward(_x(y.shape, y.dtype, seed=1))
    return fn(x), y.detach(), xg.grad


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("name", sorted(CALLS))
def test_shortcut_equals_the_op_bit_for_bit(name, dtype, shape, monkeypatch):
    fn = CALLS[name]
    if name.startswith("max") and shape[2] * shape[3] < 4:
        shape = (1, 2, 2, 2)
    if "corners" in name and min(shape[2:]) < 2:
        pytest.skip("align_corners x1.5 of one pixel is one pixel: covered by the others")
    x = _x(shape, dtype)
    fast = _run(fn, x)
    _through_the_op(monkeypatch)
    slow = _run(fn, x)
    for a, b in zip(fast, slow, strict=True):
        assert a.dtype == b.dtype and a.stride() == b.stride()
        assert a.numpy().tobytes() == b.numpy().tobytes()  # bits: -0.0 and NaN too


@pytest.mark.parametrize("name", ["unpool", "max_pool", "max_unpool"])
def test_double_backward_through_the_shortcut_equals_the_op(name, monkeypatch):
    fn = CALLS[name]
    x = _x((2, 3, 4, 6), torch.float64)

    def second(x):
        xg = x.clone().requires_grad_()
        y = fn(xg)
        v = _x(y.shape, y.dtype, seed=1).requires_grad_()
        (g,) = torch.autograd.grad(y, xg, v, create_graph=True)
        (gg,) = torch.autograd.grad(g, v, _x(g.shape, g.dtype, seed=2))
        return g.detach(), gg

    fast = second(x)
    _through_the_op(monkeypatch)
    slow = second(x)
    assert all(torch.equal(a, b) for a, b in zip(fast, slow, strict=True))
    assert torch.autograd.gradgradcheck(fn, (x[:1, :2].clone().requires_grad_(),))


def test_eager_calls_skip_the_dispatch_and_traces_keep_it(monkeypatch):
    op = _interpolate_ops._interpolate_op
    calls = []
    custom = op.custom
    monkeypatch.setattr(op, "custom", lambda *a: calls.append(1) or custom(*a))
    x = _x((1, 2, 3, 3), torch.float32)
    up.interpolate(x, scale_factor=2)
    up.interpolate(x.clone().requires_grad_(), scale_factor=2).sum().backward()
    with torch.no_grad():
        up.interpolate(x.clone().requires_grad_(), scale_factor=2)
    assert calls == []
    with FakeTensorMode(allow_non_fake_inputs=True) as mode:
        fake = up.interpolate(mode.from_tensor(x), scale_factor=2)
    assert calls == [1] and fake.shape == (1, 2, 6, 6)
    with warnings.catch_warnings():  # the tracer's about sizes read as constants
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.jit.trace(lambda t: up.interpolate(t, scale_factor=2), x, check_trace=False)
    assert calls == [1, 1]


def test_plain_eager_refuses_traces_modes_and_subclasses():
    x = torch.zeros(1, 1, 2, 2)
    assert _dispatch.plain_eager((x, [2], 1.0))
    assert not _dispatch.plain_eager((torch.nn.Parameter(x), [2]))
    with torch.device("cpu"):  # a function mode
        assert not _dispatch.plain_eager((x,))
    with FakeTensorMode():
        assert not _dispatch.plain_eager((x,))


def test_a_non_differentiable_op_still_says_so():
    """An op defined without a backward (the interpolation backward) goes through the op when
    a gradient is wanted, which refuses to differentiate as before."""
    spec = ResizeSpec.of("interpolate", scale_factor=2, mode="bilinear")
    key, size, scale = spec.op_arguments()
    g = torch.ones(1, 1, 4, 4, requires_grad=True)
    out = _interpolate_ops._backward_op(g, key, size, scale, [1, 1, 2, 2])
    with pytest.raises(RuntimeError):
        torch.autograd.grad(out.sum(), g)


def test_unaliased_outputs_of_the_shortcut():
    x = torch.ones(1, 1, 4)
    y = up.unpool(x, 1)
    assert torch.equal(y, x) and y.untyped_storage().data_ptr() != x.untyped_storage().data_ptr()


# -------------------------------------------------------------------------- argument caches
def test_spec_cache_keys_on_types_and_positions():
    a = ResizeSpec.of("interpolate", None, 2, "bilinear")
    assert ResizeSpec.of("interpolate", None, 2, "bilinear") is a
    assert ResizeSpec.of("interpolate", scale_factor=2, mode="bilinear") == a
    assert ResizeSpec.of("interpolate", None, 2.0, "bilinear").scale_factor == 2.0
    with pytest.raises(TypeError, match="align_corners"):
        ResizeSpec.of("interpolate", None, 2, "bilinear", 1)  # 1 is not True
    assert ResizeSpec.of("interpolate", None, 2, "bilinear", True).align_corners is True
    assert ResizeSpec.of("interpolate", (4, 5)).size == (4, 5)
    with pytest.raises(TypeError, match="size"):
        ResizeSpec.of("interpolate", (4, 5.0))


def test_op_arguments_are_the_key_and_values():
    spec = ResizeSpec.of("interpolate", scale_factor=(2, 1.5), mode="bilinear")
    assert spec.op_arguments() == (spec.key(), spec.size_values(), spec.scale_values())
    assert spec.op_arguments() is spec.op_arguments()
    assert ResizeSpec.from_key(*spec.op_arguments()) == spec


def test_plan_cache_keys_on_shape_dtype_and_arguments():
    key, size, scale = ResizeSpec.of("interpolate", scale_factor=2).op_arguments()
    x32, x64 = torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 3, 3, dtype=torch.float64)
    p = _interpolate_ops.call_plan(x32, x32.shape, key, size, scale)
    assert _interpolate_ops.call_plan(x32, (1, 1, 3, 3), key, size, scale) is p
    assert _interpolate_ops.call_plan(x64, x64.shape, key, size, scale).out_size == (6, 6)
    assert _interpolate_ops.call_plan(x32, (1, 1, 4, 3), key, size, scale).out_size == (8, 6)


def test_dtype_check_cache_still_refuses():
    x = torch.zeros(1, 1, 2, 2)
    _checks.dtype_in(x, ("float32",), "f", "x")
    _checks.dtype_in(x, ("float32",), "f", "x")
    with pytest.raises(TypeError, match="f: x has dtype float32; allowed dtypes: float64"):
        _checks.dtype_in(x, ("float64",), "f", "x")
    with pytest.raises(TypeError, match="dtype float32"):
        _checks.dtype_in(x, ["float64"], "f", "x")  # an unhashable list works too


def test_integer_fast_path_keeps_the_refusals():
    assert _checks.integer(3, "f", "k") == 3 and _checks.ntuple(2, 3, "f", "k") == (2, 2, 2)
    for bad in (True, 2.0, "2"):
        with pytest.raises(TypeError, match="f: k"):
            _checks.integer(bad, "f", "k")
    with pytest.raises(ValueError, match="out of range"):
        _checks.ntuple(1 << 63, 2, "f", "k")


# ------------------------------------------------------------------------------ small fixes
def test_a_huge_size_is_refused_naming_it():
    x = torch.zeros(1, 1, 2, 2)
    with pytest.raises(ValueError, match=r"size \(1000000000, 1000000000\)") as info:
        up.interpolate(x, size=(10**9, 10**9))
    assert str(info.value).startswith("interpolate: ")
    with pytest.raises(ValueError, match=r"from scale_factor 1000000000.0"):
        up.interpolate(x, scale_factor=1e9)


def test_zero_d_tensor_arguments_count_as_their_values():
    x = torch.arange(4.0).reshape(1, 1, 2, 2)
    want = up.interpolate(x, scale_factor=2.0, mode="bilinear")
    assert torch.equal(up.interpolate(x, scale_factor=torch.tensor(2.0), mode="bilinear"), want)
    assert torch.equal(up.nn.Upsample(scale_factor=torch.tensor(2.0), mode="bilinear")(x), want)
    assert up.interpolate(x, size=torch.tensor(3)).shape == (1, 1, 3, 3)
    with pytest.raises(TypeError, match="size"):
        up.interpolate(x, size=torch.tensor(3.0))


# ------------------------------------------------------------------ conv on an accelerator
def test_auto_on_an_accelerator_runs_pytorchs_transposed_convolution(monkeypatch):
    """On CUDA ``method="auto"`` is ``F.conv_transpose*`` (cuDNN): the device check alone
    decides there, whatever the sub-pixel heuristic says."""
    x, w = torch.randn(1, 4, 32, 32), torch.randn(4, 2, 4, 4)
    assert not _conv_ops.on_accelerator(x) and _conv_ops.on_accelerator(x.to("meta"))
    monkeypatch.setattr(_conv_ops, "subpixel_is_faster", lambda *a: True)
    assert _conv_ops.auto_method(x, w, None, (2, 2)) == "subpixel"
    monkeypatch.setattr(_conv_ops, "on_accelerator", lambda t: True)
    assert _conv_ops.auto_method(x, w, None, (2, 2)) == "torch"
    monkeypatch.setattr(_conv_ops, "transpose_subpixel", lambda *a: pytest.fail("sub-pixel"))
    expected = torch.nn.functional.conv_transpose2d(x, w, stride=2, padding=1)
    for prepared in (_conv_ops.torch_kernel_call, lambda *a: None):  # the eager call, the op's
        monkeypatch.setattr(_conv_ops, "torch_kernel_call", prepared)
        conv._TRANSPOSE_CALLS.clear()
        assert torch.equal(up.conv_transpose(x, w, stride=2, padding=1), expected)


CONV_CALLS = [
    ((1, 16, 8, 8), (16, 8, 4, 4), dict(stride=2, padding=1)),
    ((2, 4, 5, 7), (4, 6, 3, 3), dict(stride=(2, 3), padding=1, output_padding=(1, 0))),
    ((1, 4, 9), (4, 2, 5), dict(stride=3, dilation=2)),
    ((1, 6, 4, 4), (6, 2, 3, 3), dict(stride=2, groups=3)),
    ((1, 4, 6, 6), (4, 3, 4, 4), dict(stride=2, padding="same")),  # a window torch cannot name
]


@pytest.mark.parametrize("layout", ["nchw", "last"])
@pytest.mark.parametrize("case", CONV_CALLS, ids=str)
def test_prepared_transposed_convolution_equals_the_general_path(case, layout, monkeypatch):
    """An eager ``conv_transpose`` whose ``"auto"`` is PyTorch's kernel runs the call prepared
    with its first one (``_conv_ops.torch_kernel_call``): the same values, gradients, strides
    and memory format as the general path."""
    shape, wshape, kw = case
    x = _x(shape, torch.float32, layout if len(shape) == 4 else "nchw")
    w = _x(wshape, torch.float32, seed=3)

    def run():
        xg, wg = x.clone().requires_grad_(), w.clone().requires_grad_()
        y = up.conv_transpose(xg, wg, **kw)
        y.backward(_x(y.shape, y.dtype, seed=4))
        return up.conv_transpose(x, w, **kw), y.detach(), xg.grad, wg.grad

    conv._TRANSPOSE_CALLS.clear()
    fast = run()
    fast = run()  # (the second call of each key runs the prepared call)
    monkeypatch.setattr(_conv_ops, "torch_kernel_call", lambda *a: None)
    conv._TRANSPOSE_CALLS.clear()
    slow = run()
    for a, b in zip(fast, slow, strict=True):
        assert a.stride() == b.stride() and torch.equal(a, b)


def test_the_prepared_call_leaves_the_sub_pixel_method_its_shapes():
    """No prepared PyTorch call where ``"auto"`` may take the sub-pixel method (large 2-D work
    on the CPU, decided per call by grad mode and threads) or another method is named."""
    big = torch.empty(1, 64, 128, 128)
    w = torch.empty(64, 32, 4, 4)
    args = ((2, 2), (1, 1), 1, (1, 1), (256, 256))
    assert _conv_ops.torch_kernel_call(big, w, None, *args, "auto") is None
    small = torch.empty(1, 64, 8, 8)
    args = ((2, 2), (1, 1), 1, (1, 1), (16, 16))
    assert _conv_ops.torch_kernel_call(small, w, None, *args, "auto") is not None
    assert _conv_ops.torch_kernel_call(small, w, None, *args, "scatter") is None


DIRECT = [
    dict(scale_factor=2),
    dict(scale_factor=1.5, mode="nearest-exact"),
    dict(scale_factor=2, mode="bilinear"),
    dict(scale_factor=1.5, mode="bilinear", align_corners=True),
    dict(size=(11, 5), mode="bicubic"),
    dict(size=(3, 2), mode="area"),
    dict(size=(3, 2), mode="bilinear", antialias=True),
    dict(  # values outside the input: filled after the tables (forward), none in the gradient
        size=(9, 7),
        mode="linear",
        coordinate_transformation_mode="tf_crop_and_resize",
        roi=(0.1, -0.2, 1.2, 0.9),
        extrapolation_value=3.0,
    ),
]


@pytest.mark.parametrize("layout", ["nchw", "last"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=str)
@pytest.mark.parametrize("kw", DIRECT, ids=str)
def test_direct_small_calls_equal_the_prepared_path(kw, dtype, layout):
    """A small call on the plan's own tables runs its prepared kernel call at once
    (``interpolate._direct``): the same bits and layout as the general path, which prepares
    every call (tables passed in: nothing cached)."""
    ran = 0
    for shape in [(1, 16, 8, 8), (2, 3, 5, 7), (1, 1, 1, 1), (1, 5, 6, 1)]:
        x = np.random.default_rng(4).standard_normal(shape).astype(dtype)
        if layout == "last":
            x = _backend.as_channels_last(x)
        spec = ResizeSpec.of("interpolate", **kw)
        plan = interpolate.plan_for(spec, x.shape, x.itemsize, dtype == np.float64)
        direct = interpolate._direct(x, plan)
        ran += direct is not None
        fast = interpolate.interpolate_array(x, plan)
        tables = [table(a) for a in plan.axes]
        slow = interpolate.interpolate_array(x, plan, tables)
        assert fast.strides == slow.strides and fast.dtype == slow.dtype
        assert fast.tobytes() == slow.tobytes()
        # the gradient's tables: interpolate_backward_array against apply_tables uncached
        g = np.random.default_rng(5).standard_normal(fast.shape).astype(dtype)
        g = _backend.as_channels_last(g) if layout == "last" else g
        ran += interpolate._direct(g, plan, transposed=True) is not None
        fast = interpolate.interpolate_backward_array(g, plan)
        slow = interpolate.apply_tables(g, [t.transposed() for t in tables])
        assert fast.strides == slow.strides and fast.tobytes() == slow.tobytes()
    assert ran >= (3 if "extrapolation_value" in kw else 6)  # (forward: the general path)


def test_direct_calls_leave_larger_work_to_the_threads(monkeypatch):
    """The direct call is for work that stays on one thread; with the threshold lowered (as
    the thread tests do), the same call splits again."""
    x = np.ones((1, 16, 8, 8), np.float32)
    spec = ResizeSpec.of("interpolate", scale_factor=2, mode="bilinear")
    plan = interpolate.plan_for(spec, x.shape, 4, False)
    assert interpolate._direct(x, plan) is not None
    monkeypatch.setattr(_backend, "_PARALLEL_MIN_WORK", 1 << 8)
    assert interpolate._direct(x, plan) is None


def test_tensor_calls_run_the_kernels_at_once_only_when_nothing_records_them():
    x = _x((1, 2, 3, 3), torch.float32)
    assert _dispatch.runs_here(x)
    assert not _dispatch.runs_here(x.clone().requires_grad_())
    with torch.no_grad():
        assert _dispatch.runs_here(x.clone().requires_grad_())
    assert not _dispatch.runs_here(x.to(torch.float16))  # no numba kernel: the op's fallback
    with FakeTensorMode(allow_non_fake_inputs=True) as mode:
        assert not _dispatch.runs_here(mode.from_tensor(x))


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_an_empty_batch_of_many_channels_is_resized(dtype, monkeypatch):
    """An empty batch is no channels_last copy (its copy is C-contiguous again: the small-call
    reroute recursed forever on the general path; found in review)."""
    x = np.ones((0, 8, 4, 4), dtype)
    monkeypatch.setattr(interpolate, "_direct", lambda *a, **k: None)  # the general path
    for kw in (dict(scale_factor=2, mode="bilinear"), dict(size=(5, 3), mode="bicubic")):
        y = up.interpolate(x, **kw)
        assert y.shape[:2] == (0, 8) and y.dtype == dtype
    crop = dict(mode="linear", coordinate_transformation_mode="tf_crop_and_resize")
    y = up.interpolate(x, size=(5, 5), roi=[0.1, 0.1, 0.8, 0.8], **crop)
    assert y.shape == (0, 8, 5, 5)
