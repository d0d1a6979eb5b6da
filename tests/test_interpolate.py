"""``interpolate`` against ``torch.nn.functional.interpolate``: forward, gradients, dtypes, laws
and bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import upsampling as up
from conftest import rebuild_layout, tolerance
from upsampling._kernels import interpolate as kernels
from upsampling.conventions import make_plan
from upsampling.filters import table
from upsampling.interpolate import _layout_args, _no_table, interpolate
from upsampling.nn import _interpolate_ops as ops
from upsampling.spec import ResizeSpec
from upsampling.unpool import unpool

MODES_BY_RANK = {
    1: ["nearest", "nearest-exact", "linear", "area"],
    2: ["nearest", "nearest-exact", "bilinear", "bicubic", "area"],
    3: ["nearest", "nearest-exact", "trilinear", "area"],
}
INTERPOLATING = {"linear", "bilinear", "trilinear", "bicubic"}
SIZES = {1: [1, 2, 3, 5, 8], 2: [1, 2, 3, 5, 8], 3: [1, 2, 4]}
SCALES = [0.37, 0.5, 1.0, 1.6, 2.0, 2.5, 3.0]


def _case_list():
    for nd, modes in MODES_BY_RANK.items():
        for mode in modes:
            for ac in [False, True] if mode in INTERPOLATING else [None]:
                name = f"{mode}-{nd}d" + ("" if ac is None else f"-ac{int(ac)}")
                yield pytest.param(nd, mode, ac, id=name)


CASES = list(_case_list())


def _plan(in_size, **kw):
    return make_plan(ResizeSpec.of("t", **kw), in_size, fn="t")


def _compare(x: np.ndarray, **kw) -> None:
    """Our NumPy result equals PyTorch's on the same float64 data (or both refuse)."""
    try:
        ref = F.interpolate(torch.from_numpy(x), **kw).numpy()
    except RuntimeError:
        with pytest.raises(ValueError):
            interpolate(x, **kw)
        return
    if ref.size == 0:  # PyTorch returns an empty 'area' result; we refuse an empty output
        with pytest.raises(ValueError, match="empty"):
            interpolate(x, **kw)
        return
    got = interpolate(x, **kw)
    assert got.shape == ref.shape, kw
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12, err_msg=str(kw))


# ------------------------------------------------------------------------------ forward parity
@pytest.mark.parametrize(("nd", "mode", "ac"), CASES)
def test_forward_matches_torch_sizes(nd, mode, ac, rng):
    for n_in in SIZES[nd]:
        x = rng.standard_normal((2, 3, *(n_in + i for i in range(nd))))
        for n_out in SIZES[nd] + [13]:
            size = tuple(n_out + 2 * i for i in range(nd))
            _compare(x, size=size, mode=mode, align_corners=ac)


@pytest.mark.parametrize(("nd", "mode", "ac"), CASES)
@pytest.mark.parametrize("recompute", [None, False, True], ids=lambda r: f"recompute{r}")
def test_forward_matches_torch_scales(nd, mode, ac, recompute, rng):
    for n_in in SIZES[nd]:
        x = rng.standard_normal((1, 2, *(n_in + i for i in range(nd))))
        for s in SCALES:
            scale = tuple(s * (1 + 0.1 * i) for i in range(nd))
            _compare(
                x, scale_factor=s, mode=mode, align_corners=ac, recompute_scale_factor=recompute
            )
            _compare(
                x, scale_factor=scale, mode=mode, align_corners=ac, recompute_scale_factor=recompute
            )


@pytest.mark.parametrize(
    ("mode", "ac"),
    [
        ("bilinear", False),
        ("bilinear", True),
        ("bicubic", False),
        ("bicubic", True),
        ("lanczos", False),
    ],
    ids=["bilinear-ac0", "bilinear-ac1", "bicubic-ac0", "bicubic-ac1", "lanczos"],
)
def test_antialias_matches_torch(mode, ac, rng):
    for (h, w), size in itertools.product([(1, 2), (7, 9), (16, 13)], [(1, 1), (3, 4), (5, 20)]):
        x = rng.standard_normal((1, 2, h, w))
        _compare(x, size=size, mode=mode, align_corners=ac, antialias=True)
    x = rng.standard_normal((1, 2, 17, 11))
    for s in [(0.3, 0.45), (0.5, 0.5), (1.5, 0.7)]:
        _compare(x, scale_factor=s, mode=mode, align_corners=ac, antialias=True)
        _compare(
            x,
            scale_factor=s,
            mode=mode,
            align_corners=ac,
            antialias=True,
            recompute_scale_factor=True,
        )


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_antialias_corners_to_one_column_resamples_the_height(mode, rng):
    """The one shape where we differ from PyTorch (documented in ``interpolate``): antialias
    with align_corners to an output width of 1. PyTorch 2.13's CPU kernel then gives every
    output row the first row's value; we resample the height by its own scale, which is
    PyTorch's height pass alone followed by its width pass alone."""
    x = torch.from_numpy(rng.standard_normal((1, 2, 5, 3)))
    kw = dict(mode=mode, antialias=True, align_corners=True)
    ours = up.interpolate(x, size=(4, 1), **kw)
    theirs = F.interpolate(x, size=(4, 1), **kw)
    assert torch.all(theirs == theirs[:, :, :1])  # PyTorch's: one value down each column
    two_steps = F.interpolate(F.interpolate(x, size=(4, 3), **kw), size=(4, 1), **kw)
    torch.testing.assert_close(ours, two_steps, rtol=1e-12, atol=1e-12)
    assert not torch.all(ours == ours[:, :, :1])
    torch.testing.assert_close(  # an output height of 1 (and any other width) agree
        up.interpolate(x, size=(1, 2), **kw), F.interpolate(x, size=(1, 2), **kw)
    )


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("nd", [1, 2, 3], ids=lambda n: f"{n}d")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
def test_nearest_picks_torch_pixel_for_every_size_pair(mode, nd, dtype):
    """PyTorch picks nearest pixels in float32 (float64 for float64 input in its 1-D and 3-D
    kernels, with exact shortcuts in its 2-D one): the same pixel, bit for bit, for every size
    pair (1..64 in float32, 1..32 in float64) and for given scale factors."""

    def shape(n):
        return (1,) * (nd - 1) + (n,)

    top = 65 if dtype == torch.float32 else 33
    scales = [0.3, 0.7, 1.04, 1.1, 1.5, 2.04, 2.1, 2.5, 3.3]
    for n_in in range(1, top):
        x = torch.arange(n_in, dtype=dtype).reshape(1, 1, *shape(n_in))
        for n_out in range(1, top):
            ref = F.interpolate(x, size=shape(n_out), mode=mode)
            assert torch.equal(interpolate(x, size=shape(n_out), mode=mode), ref), (n_in, n_out)
        for s in scales:
            if int(n_in * s) < 1:
                continue
            sf = (1.0,) * (nd - 1) + (s,)
            ref = F.interpolate(x, scale_factor=sf, mode=mode)
            assert torch.equal(interpolate(x, scale_factor=sf, mode=mode), ref), (n_in, s)


def test_scale_factor_drives_the_coordinates_unless_recomputed():
    """in=4, scale 1.7: output 6; the coordinate step is 1/1.7, not 4/6."""
    x = np.arange(4.0).reshape(1, 1, 4)
    kept = interpolate(x, scale_factor=1.7, mode="linear")
    recomputed = interpolate(x, scale_factor=1.7, mode="linear", recompute_scale_factor=True)
    np.testing.assert_allclose(kept[0, 0], np.clip((np.arange(6) + 0.5) / 1.7 - 0.5, 0, 3))
    np.testing.assert_allclose(recomputed[0, 0], np.clip((np.arange(6) + 0.5) * 4 / 6 - 0.5, 0, 3))


@pytest.mark.parametrize(
    ("size", "kw"),
    [
        ((40, 64), dict(size=(97, 128), mode="bilinear")),
        ((33, 64), dict(scale_factor=(2.0, 3.0), mode="bilinear", align_corners=True)),
        ((40, 50), dict(scale_factor=(2.1, 1.5), mode="bicubic")),
        ((64, 48), dict(size=(21, 200), mode="bicubic", antialias=True)),
        ((64, 48), dict(size=(32, 16), mode="bilinear", antialias=True, align_corners=True)),
        ((30, 90), dict(scale_factor=(3.0, 0.5), mode="nearest")),
        ((30, 90), dict(size=(77, 45), mode="nearest-exact")),
        ((30, 90), dict(size=(12, 200), mode="area")),
    ],
    ids=[
        "bilinear",
        "bilinear-ac",
        "bicubic-2.1",
        "bicubic-aa",
        "bilinear-aa-ac",
        "nearest",
        "nearest-exact",
        "area",
    ],
)
def test_large_sizes_take_the_laid_out_paths(size, kw, rng):
    """Sizes large enough for periodic and band layouts of the row kernel, forward and
    gradient, float32 and float64."""
    x64 = torch.from_numpy(rng.standard_normal((2, 3, *size))).requires_grad_()
    ref = F.interpolate(x64, **kw)
    y = interpolate(x64, **kw)
    torch.testing.assert_close(y, ref, rtol=1e-12, atol=1e-12)
    g = torch.from_numpy(rng.standard_normal(tuple(ref.shape)))
    torch.testing.assert_close(
        torch.autograd.grad(y, x64, g)[0],
        torch.autograd.grad(ref, x64, g)[0],
        rtol=1e-12,
        atol=1e-12,
    )
    x32 = x64.detach().float()
    torch.testing.assert_close(
        interpolate(x32, **kw), F.interpolate(x32, **kw), rtol=2e-5, atol=2e-5
    )


def _row_kernel(src, out, tab, weight, layout) -> None:
    """The row pass alone: the rows of ``src`` ``(R, W)`` through ``tab`` with ``layout``'s
    arguments, by the kernel's entry with the W axis as its only pass."""
    none = _no_table(np.float32)
    kernels.resample(
        0, 1, src.reshape((1, 1, *src.shape, 1)), out.reshape((1, 1, *out.shape, 1)),
        *none, *none, tab.index, weight, tab.count,
        layout, np.array([2], np.int64), 0, False, False,
    )  # fmt: skip


@pytest.mark.parametrize(
    "kw",
    [
        dict(size=256, mode="linear"),
        dict(size=384, mode="cubic"),
        dict(size=255, mode="linear", align_corners=True),
        dict(size=200, mode="cubic", antialias=True),
        dict(size=43, mode="linear", antialias=True),
        dict(scale_factor=2.1, mode="linear"),
        dict(size=301, mode="nearest"),
        dict(
            size=7,
            mode="cubic",
            coordinate_transformation_mode="tf_crop_and_resize",
            roi=(-0.3, 1.2),
        ),
    ],
    ids=[
        "linear",
        "cubic-x3",
        "linear-ac",
        "cubic-aa",
        "linear-aa",
        "linear-2.1",
        "nearest",
        "crop",
    ],
)
def test_row_layout_reproduces_its_table(kw):
    """The row kernel's layout (periodic run, band rows, the rest) is the table, exactly, for
    the table and its transpose."""
    t = table(_plan((128,), **kw).axes[0])
    for tab in (t, t.transposed()):
        lay = tab.layout(np.float64)
        dense = tab.dense()
        np.testing.assert_array_equal(rebuild_layout(lay, dense), dense)
        assert lay.period == 0 or lay.repeats * lay.period > tab.out_size // 2
        # every path of the row kernel sums a row in the same order: the same bits
        src = np.random.default_rng(3).standard_normal((5, tab.in_size)).astype(np.float32)
        w = tab.weight.astype(np.float32)
        laid, plain = (np.empty((5, tab.out_size), np.float32) for _ in range(2))
        _row_kernel(src, laid, tab, w, _layout_args(tab.layout(np.float32)))
        none = np.zeros(0, np.int64)
        everything_through_the_table = (
            0,
            0,
            0,
            0,
            none,
            np.zeros((0, 1, 0), np.float32),
            none,
            none,
            np.zeros((0, 1), np.float32),
            np.arange(tab.out_size),
            False,
            np.zeros((1, 1), np.bool_),
        )
        _row_kernel(src, plain, tab, w, everything_through_the_table)
        np.testing.assert_array_equal(laid, plain)


# ---------------------------------------------------------------------------- the seed example
SEED = [
    [6.0000, 7.3333, 8.6667, 10.0000],
    [7.0000, 8.2222, 9.4444, 10.6667],
    [8.0000, 9.1111, 10.2222, 11.3333],
    [9.0000, 10.0000, 11.0000, 12.0000],
]


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_seed_bilinear_example(kind):
    x = torch.Tensor([6, 10, 9, 12]).view(1, 1, 2, 2)
    x = x.numpy() if kind == "numpy" else x
    y = interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
    assert type(y) is type(x) and y.dtype == x.dtype and tuple(y.shape) == (1, 1, 4, 4)
    np.testing.assert_array_equal(np.round(np.asarray(y[0, 0], dtype=np.float64), 4), SEED)
    ref = torch.nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)(torch.as_tensor(x))
    np.testing.assert_allclose(np.asarray(y), ref.numpy(), rtol=1e-6)


# ------------------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize(
    "kw",
    [
        dict(size=(9, 11), mode="nearest"),
        dict(size=(9, 11), mode="nearest-exact"),
        dict(size=(9, 11), mode="bilinear"),
        dict(size=(4, 3), mode="bilinear", align_corners=True),
        dict(size=(13, 17), mode="bicubic"),
        dict(size=(4, 5), mode="bicubic", align_corners=True),
        dict(size=(3, 4), mode="bilinear", antialias=True),
        dict(size=(3, 4), mode="bicubic", antialias=True),
        dict(size=(11, 9), mode="bicubic", antialias=True),
    ],
    ids=lambda kw: "-".join(str(v) for v in kw.values()),
)
def test_uint8_within_one_of_torch(kw):
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (2, 3, 7, 6), dtype=torch.uint8, generator=g)
    x[0, 0] = 255  # saturation: overshooting cubic weights must clip, never wrap
    x[0, 1, ::2] = 0
    ref = F.interpolate(x, **kw)
    for y in (interpolate(x, **kw), torch.from_numpy(interpolate(x.numpy(), **kw))):
        assert y.dtype == torch.uint8
        diff = (y.int() - ref.int()).abs().max().item()
        assert diff <= (0 if "nearest" in kw["mode"] else 1), diff


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
@pytest.mark.parametrize(
    "kw",
    [
        dict(scale_factor=2, mode="nearest"),
        dict(size=(5, 7), mode="bilinear", align_corners=True),
        dict(size=(9, 4), mode="bicubic"),
        dict(size=(3, 3), mode="area"),
    ],
    ids=["nearest", "bilinear", "bicubic", "area"],
)
def test_low_precision_forward_and_backward(dtype, kw):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 6, 5, generator=g).to(dtype).requires_grad_()
    y = interpolate(x, **kw)
    ref = F.interpolate(x.detach().float(), **kw)
    assert y.dtype == dtype
    torch.testing.assert_close(y.float(), ref, **tolerance(dtype))
    gy = torch.randn(y.shape, generator=g).to(dtype)
    (gx,) = torch.autograd.grad(y, x, gy)
    xr = x.detach().float().requires_grad_()
    (gr,) = torch.autograd.grad(F.interpolate(xr, **kw), xr, gy.float())
    assert gx.dtype == dtype
    scale = 4 if dtype == torch.bfloat16 else 1
    tol = {k: v * scale for k, v in tolerance(dtype).items()}
    torch.testing.assert_close(gx.float(), gr, **tol)


def test_integer_nearest_is_exact_for_every_integer_dtype(rng):
    for dtype in (np.int8, np.int16, np.int32, np.int64, np.uint16, np.float16):
        x = rng.integers(-100, 100, (1, 2, 3, 4)).astype(dtype)
        y = interpolate(x, scale_factor=2, mode="nearest")
        np.testing.assert_array_equal(y, x.repeat(2, 2).repeat(2, 3))


# ---------------------------------------------------------------------------------- gradients
GRAD_CASES = [
    dict(size=(4, 9), mode="bilinear"),
    dict(size=(2, 3), mode="bilinear", align_corners=True),
    dict(size=(7, 3), mode="bicubic"),
    dict(size=(3, 4), mode="bicubic", antialias=True),
    dict(size=(3, 7), mode="nearest"),
    dict(scale_factor=1.7, mode="nearest-exact"),
    dict(size=(4, 3), mode="area"),
]


@pytest.mark.parametrize("kw", GRAD_CASES, ids=lambda kw: "-".join(map(str, kw.values())))
def test_gradients_match_torch(kw, rng):
    x = torch.from_numpy(rng.standard_normal((2, 3, 5, 6))).requires_grad_()
    y, ref = interpolate(x, **kw), F.interpolate(x, **kw)
    gy = torch.from_numpy(rng.standard_normal(tuple(ref.shape)))
    (gx,) = torch.autograd.grad(y, x, gy)
    (gr,) = torch.autograd.grad(ref, x, gy)
    torch.testing.assert_close(gx, gr, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "kw",
    [
        dict(size=(3, 5), mode="bilinear"),
        dict(size=5, mode="linear", align_corners=True),
        dict(size=(2, 3, 4), mode="trilinear"),
        dict(size=(4, 2), mode="bicubic", antialias=True),
        dict(size=(1, 3, 2), mode="cubic"),
        dict(
            size=(5, 2),
            mode="nearest",
            coordinate_transformation_mode="tf_crop_and_resize",
            roi=(0.1, 0, 1.2, 0.9),
        ),
    ],
    ids=["bilinear", "linear-ac", "trilinear", "bicubic-aa", "cubic-3d", "onnx-crop"],
)
def test_gradcheck(kw, rng):
    n = len(kw["size"]) if isinstance(kw["size"], tuple) else 1
    x = torch.from_numpy(rng.standard_normal((1, 2, *range(3, 3 + n)))).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: interpolate(t, **kw), (x,))


def test_backward_is_deterministic_and_thread_independent(rng, split_small):
    x = torch.from_numpy(rng.standard_normal((4, 8, 33, 31)).astype(np.float32))
    x.requires_grad_()
    gy = torch.from_numpy(rng.standard_normal((4, 8, 70, 45)).astype(np.float32))
    grads = []
    before = up.get_num_threads()
    try:
        with torch.autograd.set_grad_enabled(True):
            torch.use_deterministic_algorithms(True)
            for threads in (1, 2, 2):
                up.set_num_threads(threads)
                y = interpolate(x, size=(70, 45), mode="bicubic")
                grads.append(torch.autograd.grad(y, x, gy)[0])
    finally:
        torch.use_deterministic_algorithms(False)
        up.set_num_threads(before)
    assert all(torch.equal(grads[0], g) for g in grads[1:])


@pytest.mark.parametrize(
    "kw",
    [
        dict(size=(9, 4), mode="bilinear"),
        dict(size=(3, 8), mode="bicubic", antialias=True),
        dict(size=(10, 3), mode="nearest"),
        dict(size=(4, 4), mode="area"),
        dict(
            size=(6, 5),
            mode="cubic",
            coordinate_transformation_mode="tf_crop_and_resize",
            roi=(-0.2, 0.1, 0.9, 1.3),
            extrapolation_value=-7.0,
        ),
    ],
    ids=["bilinear", "bicubic-aa", "nearest", "area", "onnx-crop"],
)
def test_pure_torch_path_matches_numba_path(kw, rng):
    x = torch.from_numpy(rng.standard_normal((2, 3, 5, 6)))
    plan = make_plan(ResizeSpec.of("t", **kw), (5, 6), double=True, fn="t")
    y = interpolate(x, **kw)
    torch.testing.assert_close(ops.interpolate_torch(x, plan), y, rtol=1e-12, atol=1e-12)
    g = torch.from_numpy(rng.standard_normal(tuple(y.shape)))
    gx = ops.interpolate_backward_torch(g, plan)
    (ref,) = torch.autograd.grad(interpolate(x.requires_grad_(), **kw), x, g)
    torch.testing.assert_close(gx, ref, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------------------- laws
@pytest.mark.parametrize("mode", ["linear", "cubic", "nearest", "nearest-exact", "area"])
def test_same_size_is_the_identity(mode, rng):
    x = rng.standard_normal((2, 3, 4, 5, 6)).astype(np.float32)
    np.testing.assert_array_equal(interpolate(x, size=(4, 5, 6), mode=mode), x)
    np.testing.assert_array_equal(interpolate(x, scale_factor=1, mode=mode), x)


@pytest.mark.parametrize(
    "kw",
    [
        dict(mode="linear"),
        dict(mode="cubic"),
        dict(mode="linear", align_corners=True),
        dict(mode="cubic", antialias=True),
        dict(mode="area"),
    ],
    ids=["linear", "cubic", "linear-ac", "cubic-aa", "area"],
)
def test_weights_sum_to_one(kw):
    for n_in, n_out in itertools.product([1, 2, 5, 9], [1, 3, 4, 17]):
        plan = _plan((n_in,), size=n_out, **kw)
        np.testing.assert_allclose(table(plan.axes[0]).dense().sum(axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("scale", [1, 2, 3, (2, 3), (1, 4)], ids=str)
def test_nearest_integer_upsampling_equals_unpool(scale, rng):
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    np.testing.assert_array_equal(
        interpolate(x, scale_factor=scale, mode="nearest"), unpool(x, scale)
    )


def test_cubic_and_linear_work_in_every_rank(rng):
    x = rng.standard_normal((1, 2, 5, 6))
    for mode, ref in (("cubic", "bicubic"), ("linear", "bilinear")):
        np.testing.assert_array_equal(
            interpolate(x, size=(7, 3), mode=mode), interpolate(x, size=(7, 3), mode=ref)
        )
    row = x[:, :, :1]  # a 2-D resize of one row is the 1-D resize of that row
    one_d = interpolate(row[:, :, 0], size=9, mode="cubic")
    np.testing.assert_allclose(interpolate(row, size=(1, 9), mode="bicubic")[:, :, 0], one_d)
    vol = rng.standard_normal((1, 1, 3, 4, 5))
    sep = vol
    for axis, n in zip((2, 3, 4), (6, 2, 7), strict=True):
        moved = np.moveaxis(sep, axis, -1)
        flat = moved.reshape(1, -1, moved.shape[-1])
        sep = np.moveaxis(
            interpolate(flat, size=n, mode="cubic").reshape(*moved.shape[:-1], n), -1, axis
        )
    np.testing.assert_allclose(interpolate(vol, size=(6, 2, 7), mode="cubic"), sep, rtol=1e-12)


def test_tensor_in_tensor_out_keeps_layout_and_gradient_flag(rng):
    x = torch.from_numpy(rng.standard_normal((1, 2, 3, 4)).astype(np.float32))
    x = x.contiguous(memory_format=torch.channels_last).requires_grad_()
    y = interpolate(x, size=(6, 8), mode="bilinear")
    assert isinstance(y, torch.Tensor) and y.requires_grad and y.dtype == torch.float32
    torch.testing.assert_close(y, F.interpolate(x, size=(6, 8), mode="bilinear"))


def test_torch_compile_fullgraph_forward_and_backward(rng):
    """The plan is a compile-time constant: one opaque op in the graph, gradients included."""
    x = torch.from_numpy(rng.standard_normal((1, 2, 5, 6))).requires_grad_()
    kw = dict(size=[7, 4], mode="bicubic", antialias=True)
    compiled = torch.compile(lambda t: interpolate(t, **kw) * 2, fullgraph=True, backend="eager")
    y, ref = compiled(x), F.interpolate(x, size=(7, 4), mode="bicubic", antialias=True) * 2
    torch.testing.assert_close(y, ref)
    g = torch.from_numpy(rng.standard_normal((1, 2, 7, 4)))
    torch.testing.assert_close(torch.autograd.grad(y, x, g)[0], torch.autograd.grad(ref, x, g)[0])


# ------------------------------------------------------------------------------------ bad input
X4 = np.zeros((1, 1, 4, 4), np.float32)
BAD = [
    ("no size or scale", dict(), ValueError, "exactly one of size and scale_factor"),
    ("both", dict(size=2, scale_factor=2), ValueError, "exactly one"),
    ("zero size", dict(size=0), ValueError, "size"),
    ("negative size", dict(size=(2, -1)), ValueError, "size"),
    ("float size", dict(size=2.5), TypeError, "size"),
    ("size length", dict(size=(2, 2, 2)), ValueError, "tuple of 2"),
    ("scale length", dict(scale_factor=(2.0,)), ValueError, "tuple of 2"),
    ("nan scale", dict(scale_factor=float("nan")), ValueError, "finite"),
    ("inf scale", dict(scale_factor=float("inf")), ValueError, "finite"),
    ("zero scale", dict(scale_factor=0.0), ValueError, "positive"),
    ("empty output", dict(scale_factor=0.1), ValueError, "empty"),
    ("unknown mode", dict(size=2, mode="bilinearr"), ValueError, "mode 'bilinearr'"),
    ("ac with nearest", dict(size=2, align_corners=True), ValueError, "align_corners"),
    ("ac with area", dict(size=2, mode="area", align_corners=False), ValueError, "area"),
    ("linear alias rank", dict(size=2, mode="trilinear"), ValueError, "3 spatial"),
    ("antialias nearest", dict(size=2, antialias=True), ValueError, "antialias"),
    ("lanczos without antialias", dict(size=2, mode="lanczos"), ValueError, "antialias"),
    ("onnx mode area", dict(size=2, mode="area", nearest_mode="floor"), ValueError, "'area'"),
    ("text extrapolation", dict(size=2, extrapolation_value="0"), TypeError, "real"),
    ("recompute with size", dict(size=2, recompute_scale_factor=True), ValueError, "recompute"),
    ("unknown ctm", dict(size=2, coordinate_transformation_mode="half"), ValueError, "'half'"),
    ("unknown nearest_mode", dict(size=2, nearest_mode="round"), ValueError, "nearest_mode"),
    (
        "roi without crop",
        dict(size=2, roi=(0, 0, 1, 1), coordinate_transformation_mode="asymmetric"),
        ValueError,
        "tf_crop_and_resize",
    ),
    (
        "roi length",
        dict(size=2, roi=(0, 1), coordinate_transformation_mode="tf_crop_and_resize"),
        ValueError,
        "4 numbers",
    ),
    (
        "ac with onnx",
        dict(size=2, align_corners=True, nearest_mode="floor"),
        ValueError,
        "coordinate_transformation_mode",
    ),
    ("absurd size", dict(size=(10**7, 10**7)), ValueError, "bytes"),
    ("bool antialias", dict(size=2, mode="bilinear", antialias=1), TypeError, "antialias"),
]


@pytest.mark.parametrize(("kw", "exc", "match"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_is_refused(kw, exc, match):
    with pytest.raises(exc, match=match) as info:
        interpolate(X4, **kw)
    assert str(info.value).startswith("interpolate:")


def test_bad_array_is_refused():
    with pytest.raises(TypeError, match=r"numpy\.ndarray or a torch\.Tensor"):
        interpolate([[1.0]], size=2)
    with pytest.raises(ValueError, match="dims"):
        interpolate(np.zeros((4, 4)), size=2)
    with pytest.raises(TypeError, match="dtype bool"):
        interpolate(np.zeros((1, 1, 2), bool), size=2)
    with pytest.raises(ValueError, match="bilinear"):
        interpolate(torch.zeros(1, 1, 4), size=2, mode="bilinear")


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(scale_factor=np.float64(2.0), mode="bilinear"),
        dict(size=np.int64(8)),
        dict(size=(np.int64(8), np.int32(7))),
        dict(size=np.array([8, 7])),
        dict(scale_factor=2, mode="cubic", exclude_outside=np.bool_(True), cubic_coeff_a=-0.5),
        dict(
            size=8,
            mode="linear",
            coordinate_transformation_mode="tf_crop_and_resize",
            roi=np.array([0.1, 0.1, 0.9, 1.2]),
            extrapolation_value=float("inf"),
        ),
        dict(
            size=8,
            mode="nearest",
            coordinate_transformation_mode="tf_crop_and_resize",
            roi=(0.1, 0.1, 0.9, 1.2),
            extrapolation_value=float("nan"),
        ),
    ],
    ids=["np-scale", "np-size", "np-size-tuple", "np-array-size", "np-bool", "inf", "nan"],
)
def test_tensor_arguments_of_numpy_types_and_non_finite_values(rng, kwargs):
    """Arguments as NumPy scalars or arrays, and non-finite extrapolation values, give on a
    tensor what they give on an array."""
    x = rng.random((1, 2, 4, 4))
    expected = interpolate(x, **kwargs)
    got = interpolate(torch.from_numpy(x), **kwargs).numpy()
    np.testing.assert_array_equal(got, expected)
