"""The integer kernels (``upsampling._integer``, ``upsampling._kernels.integer``): close to the
float path of the same preset, layouts kept, threads irrelevant, other inputs left to the
float path, and bad input refused."""

from __future__ import annotations

import numpy as np
import pytest

from upsampling import _backend, _integer
from upsampling._kernels import integer as _k
from upsampling._kernels import integer_sweep as _ks
from upsampling.conventions import conventions
from upsampling.interpolate import interpolate, plan_for
from upsampling.resize import resize as up_resize
from upsampling.spec import ResizeSpec

EXACT = [("opencv", "linear"), ("pillow", "linear"), ("pillow", "cubic"), ("pillow", "lanczos")]


def _smooth(rng, shape) -> np.ndarray:
    """An image in [40, 215] with gentle gradients (no kernel overshoots past 0 or 255, so
    only rounding tells the paths apart)."""
    n, c, h, w = shape
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    phase = rng.random((n, c, 1, 1)) * 6
    return (127.5 + 85 * np.sin(3 * yy + 2 * xx + phase)).astype(np.uint8)


def _float_twin(library: str, method: str) -> dict:
    """The preset without its name: the same plan, computed by the float path."""
    return {k: v for k, v in conventions[library][method].items() if k != "preset"}


@pytest.mark.parametrize(("library", "method"), EXACT, ids=lambda v: str(v))
@pytest.mark.parametrize("size", [(41, 23), (12, 70), (9, 8)], ids=str)
def test_close_to_the_float_path(library, method, size, rng):
    """The libraries round their weights and (Pillow) each pass to 8 bits: within one level of
    the exact-weight float result for OpenCV's bilinear (its 11-bit weights), within a few
    for Pillow's two rounded passes (negative lobes amplify the first rounding)."""
    x = _smooth(rng, (2, 3, 19, 27))
    got = interpolate(x, size=size, **conventions[library][method])
    ref = interpolate(x.astype(np.float64), size=size, **_float_twin(library, method))
    diff = np.abs(got - ref)
    assert got.dtype == np.uint8 and got.shape == (2, 3, *size)
    assert diff.max() <= (1.0 if library == "opencv" else 3.0), diff.max()
    assert np.mean(diff > 1.0) < 0.02


def test_uint16_close_to_the_float_path(rng):
    x = rng.integers(0, 65536, (1, 2, 15, 16), dtype=np.uint16)
    for method in ("linear", "cubic", "lanczos"):
        got = interpolate(x, size=(31, 7), **conventions["pillow"][method])
        ref = interpolate(x.astype(np.float64), size=(31, 7), **_float_twin("pillow", method))
        assert got.dtype == np.uint16
        assert np.abs(got - np.clip(ref, 0, 65535)).max() <= 1.0


def test_layouts_come_back(rng):
    """NCHW in, NCHW out; channels-last in (an HWC photo's view, a batch of NHWC, a strided
    crop), channels-last out; the values the same either way."""
    kwargs = conventions["pillow"]["cubic"]
    nhwc = rng.integers(0, 256, (2, 20, 24, 3), dtype=np.uint8)
    last = nhwc.transpose(0, 3, 1, 2)
    planes = np.ascontiguousarray(last)
    a = interpolate(last, size=(33, 17), **kwargs)
    b = interpolate(planes, size=(33, 17), **kwargs)
    assert a.transpose(0, 2, 3, 1).flags.c_contiguous and b.flags.c_contiguous
    np.testing.assert_array_equal(a, b)
    crop = nhwc[:1, 3:17, 5:20].transpose(0, 3, 1, 2)
    c = interpolate(crop, size=(28, 30), **kwargs)
    assert c.transpose(0, 2, 3, 1).flags.c_contiguous
    np.testing.assert_array_equal(
        c, interpolate(np.ascontiguousarray(crop), size=(28, 30), **kwargs)
    )


@pytest.mark.parametrize(
    ("library", "method", "size"),
    [
        ("opencv", "linear", (611, 97)),
        ("opencv", "linear", (150, 100)),
        ("pillow", "cubic", (457, 333)),
        ("opencv", "cubic", (450, 300)),
        ("opencv", "cubic", (211, 77)),
    ],
    ids=str,
)
def test_threads_do_not_change_the_bits(library, method, size, rng, split_small):
    """One photo split into row blocks over 1, 2 or 3 threads: the same bits (HWC and NCHW)."""
    hwc = rng.integers(0, 256, (1, 300, 200, 3), dtype=np.uint8)
    before = _backend.get_num_threads()
    try:
        results = []
        for n in (1, 2, 3):
            _backend.set_num_threads(n)
            for x in (hwc.transpose(0, 3, 1, 2), np.ascontiguousarray(hwc.transpose(0, 3, 1, 2))):
                results.append(interpolate(x, size=size, **conventions[library][method]))
    finally:
        _backend.set_num_threads(before)
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


def _plan(kwargs: dict, shape: tuple[int, ...], size):
    spec = ResizeSpec.of(
        "interpolate",
        size,
        None,
        kwargs.get("mode", "nearest"),
        **{k: v for k, v in kwargs.items() if k != "mode"},
    )
    return plan_for(spec, shape, 1, False)


@pytest.mark.parametrize(
    ("dtype", "library", "method"),
    [
        (np.uint8, "pytorch", "linear"),  # PyTorch's convention keeps its own path
        (np.int16, "pillow", "linear"),  # no kernel for signed or wider integers
        (np.uint32, "opencv", "linear"),
        (np.uint16, "opencv", "linear"),  # OpenCV computes 16 bits in float32
        (np.uint8, "opencv", "nearest"),  # a copy: the float path's gather is exact
    ],
    ids=str,
)
def test_other_inputs_go_to_the_float_path(dtype, library, method):
    x = np.zeros((1, 1, 4, 5), dtype)
    kwargs = dict(conventions[library][method])
    assert _integer.interpolate(x, _plan(kwargs, x.shape, (7, 3))) is None
    out = interpolate(x, size=(7, 3), **kwargs)
    assert out.dtype == dtype and out.shape == (1, 1, 7, 3)


TORCH_CASES = [
    dict(mode="bilinear"),
    dict(mode="bilinear", align_corners=True),
    dict(mode="bicubic"),
    dict(mode="bicubic", align_corners=True),
    dict(mode="bilinear", antialias=True),
    dict(mode="bicubic", antialias=True, align_corners=True),
]


@pytest.mark.parametrize("kw", TORCH_CASES, ids=str)
def test_the_pytorch_convention_on_16_bits_is_the_float_path(kw, monkeypatch, rng):
    """Without a preset, 16-bit images run one fused float32 kernel with the float path's
    arithmetic (each pass rounded half up, the last axis first): the same values and layout,
    bit for bit, up and down, 1, 3 and 4 channels, NCHW and channels_last."""
    dtype = np.uint16
    top = np.iinfo(dtype).max
    cases = [((5, 7), (10, 29)), ((16, 13), (4, 4)), ((33, 20), (40, 17)), ((1, 1), (3, 2))]
    results, taken = [], 0
    for (h, w), size in cases:
        for c, last in [(1, False), (3, False), (3, True), (4, True)]:
            x = rng.integers(0, top + 1, (2, c, h, w)).astype(dtype)
            if last:
                x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
            taken += _integer.interpolate(x, _plan(kw, x.shape, size)) is not None
            results.append((x, size, interpolate(x, size=size, **kw)))
    assert taken >= 8  # (copies, e.g. from one pixel, stay with the float path's gather)
    monkeypatch.setattr(_integer, "_torch_rounding", lambda *a: None)  # the float path
    for x, size, fused in results:
        slow = interpolate(x, size=size, **kw)
        assert fused.dtype == slow.dtype and fused.strides == slow.strides
        np.testing.assert_array_equal(fused, slow)


UINT8_SHAPES = [((1, 5), (3, 8)), ((7, 9), (4, 4)), ((31, 44), (7, 9)), ((35, 12), (7, 12))]


@pytest.mark.parametrize("channels", [1, 3, 4, 6])
@pytest.mark.parametrize("kw", TORCH_CASES, ids=str)
def test_uint8_is_pytorchs_fixed_point_bit_for_bit(kw, channels, rng):
    """uint8 with PyTorch's convention is PyTorch's own uint8 arithmetic (int16 weights, each
    pass rounded to 8 bits, the horizontal first): the same bits as ``F.interpolate`` on
    uint8, by size and by scale factor, integer down-scales too (taps of weight zero in the
    middle of a window), NCHW and channels_last, and the same memory format."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    for (h, w), size in UINT8_SHAPES:
        x = torch.from_numpy(rng.integers(0, 256, (2, channels, h, w), dtype=np.uint8))
        for t in (x, x.contiguous(memory_format=torch.channels_last)):
            for args in (dict(size=size), dict(scale_factor=1.5), dict(scale_factor=0.4)):
                if min(int(h * 0.4), int(w * 0.4)) < 1 and args.get("scale_factor") == 0.4:
                    continue
                ours, theirs = interpolate(t, **args, **kw), F.interpolate(t, **args, **kw)
                assert ours.stride() == theirs.stride()
                assert torch.equal(ours, theirs), (h, w, args)


def test_pillow_integer_down_scales_are_pillows(rng):
    """Pillow's bicubic and Lanczos at integer down-scale factors (a tap of weight zero
    inside the window: the vertical ring must hold the whole span) are Pillow's bits."""
    image = pytest.importorskip("PIL.Image")
    flags = {"bicubic": image.Resampling.BICUBIC, "lanczos": image.Resampling.LANCZOS}
    for n_in, n_out in [(35, 7), (21, 7), (30, 10), (64, 16)]:
        img = rng.integers(0, 256, (n_in, 6), dtype=np.uint8)
        for method, flag in flags.items():
            ours = up_resize(img, (n_out, 6), method=method, convention="pillow")
            ref = np.asarray(image.fromarray(img).resize((6, n_out), flag))
            np.testing.assert_array_equal(ours, ref, err_msg=f"{n_in} -> {n_out} {method}")


def test_integer_kernels_leave_the_float_path_its_cases():
    """Nearest modes (copies), ONNX's rounding (once, half to even), signed integers and 1-D
    resizes keep the float path."""
    x = np.zeros((1, 1, 4, 5), np.uint8)
    assert _integer.interpolate(x, _plan({"mode": "nearest"}, x.shape, (7, 3))) is None
    onnx = {"mode": "linear", "coordinate_transformation_mode": "half_pixel"}
    assert _integer.interpolate(x, _plan(onnx, x.shape, (7, 3))) is None
    signed = x.astype(np.int16)
    assert _integer.interpolate(signed, _plan({"mode": "bilinear"}, x.shape, (7, 3))) is None
    line = x[0]
    assert _integer.interpolate(line, _plan({"mode": "linear"}, line.shape, (7,))) is None


def test_tensors_take_the_same_path(rng):
    torch = pytest.importorskip("torch")
    x = rng.integers(0, 256, (1, 3, 13, 17), dtype=np.uint8)
    t = torch.from_numpy(x).contiguous(memory_format=torch.channels_last)
    for library, method in EXACT:
        got = interpolate(t, size=(29, 9), **conventions[library][method])
        assert got.dtype == torch.uint8
        np.testing.assert_array_equal(
            got.numpy(), interpolate(x, size=(29, 9), **conventions[library][method])
        )


def test_bad_input_is_refused(rng):
    """An (H, W, C) array is not NCHW: refused, not resized along the wrong axes."""
    img = rng.integers(0, 256, (8, 9, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="interpolate"):
        interpolate(img, size=(4, 5), **conventions["pillow"]["linear"])
    with pytest.raises(ValueError, match="interpolate"):
        interpolate(img[None], size=(4, 5, 6), **conventions["opencv"]["linear"])
    with pytest.raises(ValueError, match="preset"):
        interpolate(img.transpose(2, 0, 1)[None], (4, 5), None, "bicubic", preset="pillow/linear")


def test_periodic_rows_equal_the_window_by_window_path(rng):
    """The horizontal pass's periodic run (phases over contiguous memory) stores the same row
    as the one-window-at-a-time path, for many scales (strides 1..5) and channel counts, in
    OpenCV's and Pillow's modes."""
    runs = sweeps = 0
    # RGB at x2, x1.5, x0.75 first (OpenCV's own sweeps of all phases), x4, then at random
    cases = [(64, 2, 1, 3), (64, 3, 2, 3), (40, 4, 1, 3), (64, 3, 4, 3)]
    for _ in range(60):
        n_in, num, den = (int(v) for v in (rng.integers(8, 90), *rng.integers(1, 6, 2)))
        cases.append((n_in, num, den, int(rng.integers(1, 6))))
    for n_in, num, den, c in cases:
        n_out = max(1, n_in * num // den)
        row = rng.integers(0, 256, n_in * c, dtype=np.uint8)
        for tx, cv in (  # cv: None in Pillow's arithmetic, an integer in OpenCV's
            (_integer._opencv_table(n_in, n_out, n_out / n_in, True), 1),
            (_integer._pillow_table("linear", n_in, n_out, False), None),
            (_integer._pillow_table("cubic", n_in, n_out, False), None),
        ):
            first, window = _integer._windows(tx)
            reg, wexp = _integer._periodic(tx, c)
            runs += int(reg[3] > 0)
            split = np.zeros((max(reg[2], 1), n_in * c + c), np.uint8)
            acc = np.zeros(max(reg[3] * c, 1), np.int32)
            periodic, windows = np.zeros((2, n_out * c), np.int16)
            m0, m1 = reg[0], reg[0] + reg[1] * reg[3]  # the run, and the windows around it
            _k._window_h(row, periodic, first, window, c, cv, 0, m0)
            _k._window_h(row, periodic, first, window, c, cv, m1, n_out)
            _k._regular_h(row, periodic, first, c, cv, reg, wexp, acc, split)
            _k._window_h(row, windows, first, window, c, cv, 0, n_out)
            np.testing.assert_array_equal(periodic, windows, err_msg=str((n_in, n_out, c)))
            if cv is not None and _ks.sweeps(window.shape[1], reg, wexp, c):
                sweeps += 1
                periodic[:] = 0
                triple = None if reg[1] == 2 else 1
                _ks._sweep_h(row, periodic, first, window, reg, wexp, split, triple)
                np.testing.assert_array_equal(periodic, windows, err_msg=str((n_in, n_out)))
    assert runs > 40 and sweeps >= 3


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_halving_by_blocks_is_the_table_path(channels, rng):
    """OpenCV's bilinear at exactly x0.5 runs as 2x2 block means: the same bits as its
    weight tables give."""
    x = np.ascontiguousarray(rng.integers(0, 256, (2, 26, 34, channels), dtype=np.uint8))
    x = x.transpose(0, 3, 1, 2)
    ty, tx = _integer._opencv_table(26, 13, 0.5, False), _integer._opencv_table(34, 17, 0.5, True)
    blocks = _integer._run(x, ty, tx, True, False, halves=True)
    np.testing.assert_array_equal(blocks, _integer._run(x, ty, tx, True, False))
