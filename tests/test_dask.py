"""Dask arrays through the operators: every chunking (one-pixel chunks, ragged last chunks,
chunked N and C) gives the in-memory result, bit for bit for interpolation and unpooling and to
float rounding for the convolutions (BLAS on a smaller product); lazy; errors as in memory; the
core never imports dask."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
import dask  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from conftest import tolerance  # noqa: E402
from upsampling import _backend, shapes  # noqa: E402
from upsampling.conv import conv, conv_transpose  # noqa: E402
from upsampling.conventions import conventions  # noqa: E402
from upsampling.interpolate import interpolate  # noqa: E402
from upsampling.unpool import unpool  # noqa: E402


@pytest.fixture(autouse=True)
def _synchronous():
    """One thread: the graphs are small and the machine is shared (one test uses threads)."""
    with dask.config.set(scheduler="synchronous"):
        yield


# Spatial chunkings of a (2, 3, 7, 6) array: whole, one pixel, 2-3 pixels, ragged, uneven.
CHUNKS_2D = {
    "whole": (7, 6),
    "pixels": (1, 1),
    "two": (2, 2),
    "three-ragged": (3, 4),
    "uneven": ((1, 4, 2), (3, 1, 2)),
}


def _dask(x, spatial, nc=(-1, -1)):
    return da.from_array(x, chunks=(*nc, *spatial))


def _declared(block, block_info=None):
    assert block.shape == block_info[None]["chunk-shape"]
    return block


def _compute(y, expected):
    """``y`` computed once, each chunk checked against the chunk sizes ``y`` declares."""
    assert isinstance(y, da.Array)
    assert y.dtype == expected.dtype and y.shape == expected.shape
    got = y.map_blocks(_declared, meta=y._meta).compute()
    assert got.dtype == expected.dtype
    return got


def _same_bits(y, expected):
    np.testing.assert_array_equal(_compute(y, expected), expected)


# ------------------------------------------------------------------------------- interpolate
INTERP_CASES = {
    "nearest-x2": dict(scale_factor=2),
    "nearest-x1.7": dict(scale_factor=1.7),
    "nearest-exact-size": dict(size=(11, 4), mode="nearest-exact"),
    "bilinear-x2": dict(scale_factor=2, mode="bilinear"),
    "bilinear-x2.5-corners": dict(scale_factor=2.5, mode="bilinear", align_corners=True),
    "bilinear-recompute": dict(scale_factor=1.3, mode="bilinear", recompute_scale_factor=True),
    "bicubic-x3": dict(scale_factor=3, mode="bicubic"),
    "bicubic-size": dict(size=(10, 13), mode="bicubic", align_corners=True),
    "bilinear-down-antialias": dict(size=(3, 2), mode="bilinear", antialias=True),
    "bicubic-down-antialias": dict(scale_factor=0.6, mode="bicubic", antialias=True),
    "area-down": dict(size=(3, 4), mode="area"),
    "area-up": dict(size=(12, 9), mode="area"),
    "lanczos": dict(size=(9, 5), mode="lanczos", antialias=True),
}


@pytest.mark.parametrize("chunks", CHUNKS_2D.values(), ids=CHUNKS_2D.keys())
@pytest.mark.parametrize("case", INTERP_CASES.values(), ids=INTERP_CASES.keys())
def test_interpolate_torch_semantics(rng, case, chunks):
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    _same_bits(interpolate(_dask(x, chunks), **case), interpolate(x, **case))


LARGE_CASES = {
    "bilinear-x2": dict(scale_factor=2, mode="bilinear"),
    "bicubic-x1.5": dict(scale_factor=1.5, mode="bicubic"),
    "bicubic-x2.5-corners": dict(scale_factor=2.5, mode="bicubic", align_corners=True),
    "bilinear-x0.7-antialias": dict(scale_factor=0.7, mode="bilinear", antialias=True),
    "nearest-x1.25": dict(scale_factor=1.25),
}


@pytest.mark.parametrize("chunks", [(7, 9), (16, 13), (2, 5)], ids=["7x9", "16x13", "2x5"])
@pytest.mark.parametrize("case", LARGE_CASES.values(), ids=LARGE_CASES.keys())
def test_interpolate_larger_planes(rng, case, chunks):
    """Planes large enough that the in-memory kernel lays long periodic runs of rows out as
    phases while the chunks see short runs: each row must still be the same sum."""
    x = rng.standard_normal((1, 2, 41, 37)).astype(np.float32)
    _same_bits(interpolate(_dask(x, chunks), **case), interpolate(x, **case))


CTMS = [
    "half_pixel",
    "half_pixel_symmetric",
    "pytorch_half_pixel",
    "align_corners",
    "asymmetric",
    "tf_crop_and_resize",
]
ROI = (0.1, -0.2, 0.8, 1.1)  # partly outside the input: extrapolated rows at the seams too


@pytest.mark.parametrize("chunks", [(1, 1), (2, 3), (3, 4)], ids=["pixels", "two-three", "ragged"])
@pytest.mark.parametrize("mode", ["nearest", "linear", "cubic"])
@pytest.mark.parametrize("ctm", CTMS)
@pytest.mark.parametrize("size", [(11, 5), (4, 9)], ids=["up-down", "down-up"])
def test_interpolate_every_coordinate_mode(rng, ctm, mode, chunks, size):
    x = rng.standard_normal((1, 2, 7, 6))
    kw = dict(size=size, mode=mode, coordinate_transformation_mode=ctm)
    if ctm == "tf_crop_and_resize":
        kw.update(roi=ROI, extrapolation_value=-3.5)
    _same_bits(interpolate(_dask(x, chunks), **kw), interpolate(x, **kw))


@pytest.mark.parametrize(
    "nearest_mode", ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]
)
@pytest.mark.parametrize("scale", [1.5, 2.25, 0.75])
def test_interpolate_nearest_modes_non_integer_scales(rng, nearest_mode, scale):
    x = rng.standard_normal((1, 2, 9, 8)).astype(np.float32)
    kw = dict(
        scale_factor=scale, nearest_mode=nearest_mode, coordinate_transformation_mode="asymmetric"
    )
    _same_bits(interpolate(_dask(x, (2, 3)), **kw), interpolate(x, **kw))


@pytest.mark.parametrize("options", [dict(cubic_coeff_a=-0.5), dict(exclude_outside=True)])
@pytest.mark.parametrize("antialias", [False, True])
def test_interpolate_onnx_cubic_options(rng, options, antialias):
    x = rng.standard_normal((1, 2, 9, 8)).astype(np.float32)
    kw = dict(size=(4, 13), mode="cubic", antialias=antialias, **options)
    _same_bits(interpolate(_dask(x, (2, 3)), **kw), interpolate(x, **kw))


PRESETS = [(lib, m) for lib, methods in conventions.items() for m in methods]


@pytest.mark.parametrize(("library", "method"), PRESETS, ids=[f"{a}-{b}" for a, b in PRESETS])
def test_interpolate_library_presets(rng, library, method):
    """The private coordinate rules (Pillow's accumulated step, OpenCV's and TensorFlow's
    float arithmetic) included: their tables are global, so the seams are exact too."""
    x = rng.random((1, 2, 9, 7)).astype(np.float32)
    kw = conventions[library][method]
    for size in [(20, 16), (4, 3)]:
        _same_bits(interpolate(_dask(x, (2, 3)), size=size, **kw), interpolate(x, size=size, **kw))


DTYPES = ["float64", "float32", "float16", "uint8", "int16", "int32"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "case",
    [
        dict(scale_factor=2.5, mode="bilinear"),
        dict(size=(4, 13), mode="bicubic"),
        dict(size=(4, 13), mode="cubic", cubic_coeff_a=-0.5),  # ONNX rounding of integers
        dict(scale_factor=1.5),
    ],
    ids=["bilinear", "bicubic", "onnx-cubic", "nearest"],
)
def test_interpolate_dtypes(rng, dtype, case):
    x = (rng.random((2, 2, 7, 6)) * 200).astype(dtype)
    _same_bits(interpolate(_dask(x, (2, 3)), **case), interpolate(x, **case))


@pytest.mark.parametrize(
    ("shape", "chunks", "case"),
    [
        ((2, 3, 11), (1,), dict(scale_factor=2.5, mode="linear")),
        ((2, 3, 11), (3,), dict(size=4, mode="cubic", antialias=True)),
        ((1, 2, 5, 4, 6), (1, 1, 1), dict(scale_factor=2, mode="trilinear")),
        ((1, 2, 5, 4, 6), (2, 3, 4), dict(size=(3, 7, 5), mode="cubic", align_corners=True)),
        ((1, 2, 5, 4, 6), (2, 1, 4), dict(scale_factor=(1.5, 2, 0.5), mode="nearest-exact")),
        ((1, 2, 5, 4, 6), (3, 2, 5), dict(size=(2, 3, 4), mode="area")),
    ],
    ids=["1d-linear", "1d-antialias", "3d-trilinear", "3d-cubic", "3d-nearest-exact", "3d-area"],
)
def test_interpolate_1d_and_3d(rng, shape, chunks, case):
    x = rng.standard_normal(shape).astype(np.float32)
    _same_bits(interpolate(_dask(x, chunks), **case), interpolate(x, **case))


@given(
    st.lists(st.integers(1, 4), min_size=1, max_size=9),
    st.lists(st.integers(1, 4), min_size=1, max_size=9),
    st.floats(0.3, 3.5),
    st.sampled_from(["nearest", "bilinear", "bicubic"]),
    st.booleans(),
)
def test_interpolate_any_chunking(rows, cols, scale, mode, antialias):
    """Any partition of the spatial axes and any scale: the same bits."""
    x = np.random.default_rng(len(rows) * 31 + len(cols)).standard_normal(
        (1, 1, sum(rows), sum(cols))
    )
    if mode == "nearest":
        antialias = False
    kw = dict(scale_factor=scale, mode=mode, antialias=antialias)
    try:
        expected = interpolate(x, **kw)
    except ValueError:  # an empty output
        return
    y = interpolate(da.from_array(x, chunks=(1, 1, tuple(rows), tuple(cols))), **kw)
    np.testing.assert_array_equal(y.compute(), expected)


# ------------------------------------------------------------------------------------ unpool
@pytest.mark.parametrize("chunks", CHUNKS_2D.values(), ids=CHUNKS_2D.keys())
@pytest.mark.parametrize(
    "case",
    [
        dict(scale_factor=2),
        dict(scale_factor=(3, 1)),
        dict(scale_factor=3, mode="bed_of_nails", offset=(2, 1)),
    ],
    ids=["nearest", "nearest-3x1", "bed-of-nails"],
)
@pytest.mark.parametrize("dtype", ["float32", "uint8", "int64"])
def test_unpool(rng, case, chunks, dtype):
    x = (rng.random((2, 3, 7, 6)) * 100).astype(dtype)
    y = unpool(_dask(x, chunks), **case)
    _same_bits(y, unpool(x, **case))
    scale = shapes._checks.ntuple(case["scale_factor"], 2, "t", "s")
    for axis, s in enumerate(scale):  # output chunks are the input chunks times the scale
        in_chunks = _dask(x, chunks).chunks[axis + 2]
        assert y.chunks[axis + 2] == tuple(c * s for c in in_chunks)


@pytest.mark.parametrize("shape", [(2, 3, 5), (1, 2, 3, 4, 5)], ids=["1d", "3d"])
def test_unpool_1d_3d(rng, shape):
    x = rng.standard_normal(shape)
    spatial = (2,) * (len(shape) - 2)
    kw = dict(scale_factor=2, mode="bed_of_nails", offset=1)
    _same_bits(unpool(_dask(x, spatial), **kw), unpool(x, **kw))


# ------------------------------------------------------------------------------------- conv
def _close(y, expected):
    np.testing.assert_allclose(_compute(y, expected), expected, **tolerance(expected.dtype))


CONV_CASES = {
    "k3": dict(k=3),
    "k3-pad1": dict(k=3, padding=1),
    "k4-same": dict(k=4, padding="same"),
    "k3-s2-p1": dict(k=3, stride=2, padding=1),
    "k5-s3-p2-d1": dict(k=5, stride=3, padding=2),
    "k3-d2-p3": dict(k=3, dilation=2, padding=3),
    "k2x3-s2x1": dict(k=(2, 3), stride=(2, 1), padding=(1, 0)),
    "k1-pad4": dict(k=1, padding=4),  # outputs that read padding only
    "groups3": dict(k=3, padding=1, groups=3, c_out=6),
}


def _weights(rng, case, c_in, transposed, dtype=np.float32):
    k = case.get("k", 3)
    k = (k, k) if isinstance(k, int) else k
    groups = case.get("groups", 1)
    c_out = case.get("c_out", 4)
    shape = (c_in, c_out // groups, *k) if transposed else (c_out, c_in // groups, *k)
    w = rng.standard_normal(shape).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype)
    kw = {key: v for key, v in case.items() if key not in ("k", "c_out")}
    return w, b, kw


@pytest.mark.parametrize("chunks", CHUNKS_2D.values(), ids=CHUNKS_2D.keys())
@pytest.mark.parametrize("case", CONV_CASES.values(), ids=CONV_CASES.keys())
def test_conv(rng, case, chunks):
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    w, b, kw = _weights(rng, case, 3, transposed=False)
    _close(conv(_dask(x, chunks), w, b, **kw), conv(x, w, b, **kw))


CONVT_CASES = {
    "k3-s2": dict(k=3, stride=2),
    "k4-s2-p1": dict(k=4, stride=2, padding=1),
    "k3-s2-p1-op1": dict(k=3, stride=2, padding=1, output_padding=1),
    "k3-s3-same": dict(k=3, stride=3, padding="same"),
    "k1-s3-same": dict(k=1, stride=3, padding="same"),  # negative total padding: bias margins
    "k2-s3": dict(k=2, stride=3),  # gaps between contributions
    "k3-d2-p2": dict(k=3, dilation=2, padding=2),
    "k3x2-s2x1": dict(k=(3, 2), stride=(2, 1), padding=(1, 0)),
    "output-size": dict(k=3, stride=2, padding=1, output_size=(14, 12)),
    "groups3": dict(k=4, stride=2, padding=1, groups=3, c_out=6),
}


@pytest.mark.parametrize("chunks", CHUNKS_2D.values(), ids=CHUNKS_2D.keys())
@pytest.mark.parametrize("case", CONVT_CASES.values(), ids=CONVT_CASES.keys())
def test_conv_transpose(rng, case, chunks):
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    w, b, kw = _weights(rng, case, 3, transposed=True)
    _close(conv_transpose(_dask(x, chunks), w, b, **kw), conv_transpose(x, w, b, **kw))


@pytest.mark.parametrize("method", ["scatter", "zero_insertion", "subpixel", "matrix", "auto"])
@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
def test_conv_transpose_methods_dtypes(rng, method, dtype):
    x = rng.standard_normal((1, 2, 6, 5)).astype(dtype)
    w, b, kw = _weights(rng, dict(k=4, stride=2, padding=1), 2, True, dtype)
    y = conv_transpose(_dask(x, (2, 3)), w, b, method=method, **kw)
    _close(y, conv_transpose(x, w, b, method=method, **kw))


@pytest.mark.parametrize(
    ("shape", "chunks", "k", "kw"),
    [
        ((2, 3, 13), (1,), 3, dict(stride=2, padding=1)),
        ((2, 3, 13), (4,), 4, dict(dilation=3, padding="same")),
        ((1, 2, 5, 4, 6), (1, 2, 3), 3, dict(stride=2, padding=1)),
        ((1, 2, 5, 4, 6), (2, 3, 4), 2, dict(padding="valid")),
    ],
    ids=["1d-s2", "1d-same", "3d-s2", "3d-valid"],
)
@pytest.mark.parametrize("transposed", [False, True], ids=["conv", "conv_transpose"])
def test_conv_1d_3d(rng, shape, chunks, k, kw, transposed):
    x = rng.standard_normal(shape)
    kernel = (k,) * (len(shape) - 2)
    c = shape[1]
    w = rng.standard_normal((c, 3, *kernel) if transposed else (3, c, *kernel))
    if transposed and kw.get("padding") == "valid":
        kw = {}
    op = conv_transpose if transposed else conv
    _close(op(_dask(x, chunks), w, **kw), op(x, w, **kw))


# ------------------------------------------------------------------------------ dask itself
def test_lazy_and_threaded(rng):
    """Building the graph computes nothing; the threaded scheduler gives the same bits."""
    calls = []

    def source(block):
        calls.append(1)
        return block

    x = rng.standard_normal((2, 3, 16, 12)).astype(np.float32)
    d = _dask(x, (5, 4)).map_blocks(source, meta=np.empty((0,) * 4, x.dtype))
    ys = [
        interpolate(d, scale_factor=1.5, mode="bicubic"),
        unpool(d, 2),
        conv(d, rng.standard_normal((2, 3, 3, 3)).astype(np.float32), padding=1),
        conv_transpose(d, rng.standard_normal((3, 2, 4, 4)).astype(np.float32), stride=2),
    ]
    assert calls == []
    with dask.config.set(scheduler="threads", num_workers=2):
        got = dask.compute(*ys)
    np.testing.assert_array_equal(got[0], interpolate(x, scale_factor=1.5, mode="bicubic"))
    np.testing.assert_array_equal(got[1], unpool(x, 2))
    assert calls


def test_aligned_operators_are_one_fusable_blockwise_layer(rng):
    """An output chunk that reads exactly its input chunk needs no gathering task: the layer is
    Blockwise (Dask fuses it with its neighbours), the numbers those of memory; a halo is not."""
    from dask.blockwise import Blockwise

    x = rng.standard_normal((2, 3, 10, 9)).astype(np.float32)
    d = _dask(x, (3, 4))
    w1 = rng.standard_normal((2, 3, 1, 1)).astype(np.float32)
    w2 = rng.standard_normal((3, 2, 2, 2)).astype(np.float32)
    aligned = {
        "unpool": (lambda a: unpool(a, 2, "bed_of_nails", offset=1), True),
        "nearest": (lambda a: interpolate(a, scale_factor=3), True),
        "conv 1x1": (lambda a: conv(a, w1), True),
        "conv_transpose k=s": (lambda a: conv_transpose(a, w2, stride=2), True),
        "bilinear": (lambda a: interpolate(a, scale_factor=2, mode="bilinear"), False),
    }
    for name, (op, blockwise) in aligned.items():
        y = op(d)
        layer = y.dask.layers[y.name]
        assert isinstance(layer, Blockwise) == blockwise, name
        with dask.config.set(scheduler="threads", num_workers=2):
            (_close if name.startswith("conv") else _same_bits)(y, op(x))


def test_output_chunks_are_input_chunks_times_scale(rng):
    x = _dask(np.zeros((1, 1, 10, 9), np.float32), ((3, 3, 4), (2, 7)))
    assert interpolate(x, scale_factor=2, mode="bilinear").chunks[2:] == ((6, 6, 8), (4, 14))
    assert interpolate(x, scale_factor=0.5).chunks[2:] == ((1, 2, 2), (4,))  # merged
    w = np.zeros((1, 1, 4, 4), np.float32)
    assert conv_transpose(x, w, stride=2, padding=1).chunks[2:] == ((6, 6, 8), (4, 14))


def test_n_and_c_chunks(rng):
    """Chunks along N and C are kept (interpolate, unpool) or C is merged (convolutions mix
    channels); the values do not change."""
    x = rng.standard_normal((4, 6, 5, 5))
    d = da.from_array(x, chunks=(1, 2, 2, 3))
    y = interpolate(d, scale_factor=1.5, mode="bicubic")
    assert y.chunks[:2] == ((1,) * 4, (2,) * 3)
    _same_bits(y, interpolate(x, scale_factor=1.5, mode="bicubic"))
    assert unpool(d, 2).chunks[:2] == ((1,) * 4, (2,) * 3)
    _same_bits(unpool(d, 2), unpool(x, 2))
    w = rng.standard_normal((4, 3, 3, 3))
    y = conv(d, w, padding=1, groups=2)
    assert y.chunks[:2] == ((1,) * 4, (4,))
    _close(y, conv(x, w, padding=1, groups=2))
    w = rng.standard_normal((6, 2, 4, 4))
    y = conv_transpose(d, w, stride=2, padding=1)
    assert y.chunks[:2] == ((1,) * 4, (2,))
    _close(y, conv_transpose(x, w, stride=2, padding=1))


BAD = [
    ("interpolate", lambda x: interpolate(x, scale_factor=2, size=3)),
    ("interpolate", lambda x: interpolate(x, scale_factor=2, mode="trilinear")),
    ("interpolate", lambda x: interpolate(x, scale_factor=-1.0)),
    ("unpool", lambda x: unpool(x, 2.5)),
    ("unpool", lambda x: unpool(x, 2, offset=1)),
    ("conv", lambda x: conv(x, np.ones((1, 2, 3), np.float32))),
    ("conv", lambda x: conv(x, np.ones((1, 2, 3, 3), np.float64))),
    ("conv", lambda x: conv(x, np.ones((1, 2, 9, 9), np.float32))),
    ("conv", lambda x: conv(x, np.ones((1, 2, 3, 3), np.float32), stride=2, padding="same")),
    ("conv_transpose", lambda x: conv_transpose(x, np.ones((2, 1, 3, 3), np.float32), method="x")),
    (
        "conv_transpose",
        lambda x: conv_transpose(x, np.ones((2, 1, 3, 3), np.float32), stride=2, output_padding=2),
    ),
]


@pytest.mark.parametrize(("name", "call"), BAD, ids=[f"{n}-{i}" for i, (n, _) in enumerate(BAD)])
def test_bad_input_same_error_as_in_memory(name, call):
    x = np.zeros((1, 2, 5, 5), np.float32)
    with pytest.raises((ValueError, TypeError)) as expected:
        call(x)
    with pytest.raises(expected.type) as got:
        call(da.from_array(x, chunks=2))
    assert str(got.value) == str(expected.value)
    assert str(got.value).startswith(f"{name}:")


def test_bad_rank_and_dtype():
    with pytest.raises(ValueError, match=r"interpolate: x has shape \(2, 5\)"):
        interpolate(da.zeros((2, 5), chunks=2), scale_factor=2)
    with pytest.raises(TypeError, match="unpool: x has dtype complex128"):
        unpool(da.zeros((1, 1, 4), dtype=complex, chunks=2), 2)
    with pytest.raises(TypeError, match=r"conv: weight must be a numpy\.ndarray"):
        conv(da.zeros((1, 1, 4), chunks=2), da.ones((1, 1, 3), chunks=3))


def test_unknown_chunk_sizes():
    x = da.from_array(np.arange(8.0).reshape(1, 1, 8), chunks=4)
    x = x[:, :, x[0, 0] >= 0]  # a boolean mask: the sizes are known only once computed
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        interpolate(x, scale_factor=2)


# ---------------------------------------------------------------------------- halo formulas
def test_chunk_bounds():
    assert shapes.chunk_bounds((3, 3, 1), 7, 21) == (0, 9, 18, 21)
    assert shapes.chunk_bounds((1,) * 6, 6, 2) == (0, 1, 2)
    for chunks, n_out in itertools.product([(1,) * 7, (3, 4), (7,), (2, 2, 2, 1)], [1, 5, 7, 16]):
        b = shapes.chunk_bounds(chunks, 7, n_out)
        assert b[0] == 0 and b[-1] == n_out and all(p < q for p, q in itertools.pairwise(b))


@pytest.mark.parametrize(
    ("k", "s", "p", "d"), list(itertools.product([1, 2, 3, 5], [1, 2, 3], [0, 1, 4], [1, 2]))
)
def test_spans_are_exact(k, s, p, d):
    """By brute force: a convolution's span is the bounding range of the positions its
    windows read; a transposed convolution's, of the inputs whose extent (``i * s`` to
    ``i * s + d * (k - 1)`` on the full result) overlaps the outputs, so every input that adds
    into them (with dilation gaps, some inside add nothing)."""
    for o0, o1 in [(0, 1), (0, 4), (3, 7), (5, 6)]:
        read = [o * s - p + j * d for o in range(o0, o1) for j in range(k)]
        assert shapes.conv_span(o0, o1, k, s, p, d) == (min(read), max(read) + 1)
        overlap = [i for i in range(-20, 40) if i * s - p < o1 and i * s + d * (k - 1) - p >= o0]
        lo, hi = shapes.conv_transpose_span(o0, o1, k, s, p, d)
        if overlap:
            assert (lo, hi) == (min(overlap), max(overlap) + 1)
        else:  # outputs between two inputs' extents: an empty span
            assert lo >= hi
        adds = {i for i in range(-20, 40) for j in range(k) if o0 <= i * s + j * d - p < o1}
        assert adds <= set(range(lo, hi))


def test_is_dask_without_importing_dask():
    code = (
        "import sys, numpy as np, upsampling as up\n"
        "from upsampling import _backend\n"
        "x = np.ones((1, 1, 3, 3), np.float32)\n"
        "up.interpolate(x, scale_factor=2, mode='bilinear'); up.unpool(x, 2)\n"
        "up.conv(x, x); up.conv_transpose(x, x); up.deblur(x[0, 0], np.ones((2, 2)))\n"
        "assert not _backend.is_dask(x)\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'dask'], 'dask imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert _backend.is_dask(da.zeros(3)) and not _backend.is_dask(np.zeros(3))
