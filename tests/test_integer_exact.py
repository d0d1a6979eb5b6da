"""The OpenCV and Pillow presets on 8- and 16-bit images: bit for bit with the installed
libraries (``upsampling._integer`` lists what is reproduced and the measured exceptions).

Size grids are sampled from 1..40 in both directions with a fixed seed; photographs are random
crops of scikit-image's. Every case runs in both layouts: NCHW planes and the channels-last
view of an ``(H, W, C)`` image (``img.transpose(2, 0, 1)[None]``), whose layout comes back.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from upsampling.conventions import conventions
from upsampling.interpolate import interpolate

cv2 = pytest.importorskip("cv2")
Image = pytest.importorskip("PIL.Image")

CV_FLAGS = {"linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC}
PIL_FLAGS = {
    "linear": Image.Resampling.BILINEAR,
    "cubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}


def _shapes(seed: int, n: int) -> list[tuple[int, int, int, int]]:
    rng = np.random.default_rng(seed)
    return [tuple(int(v) for v in rng.integers(1, 41, 4)) for _ in range(n)]


def ours_hwc(img: np.ndarray, size, library: str, method: str) -> np.ndarray:
    """The preset on the channels-last view of ``img`` (H, W) or (H, W, C), back as HWC."""
    view = img.transpose(2, 0, 1)[None] if img.ndim == 3 else img[None, None]
    out = interpolate(view, size=size, **conventions[library][method])
    assert out.dtype == img.dtype
    if img.ndim == 2:
        return out[0, 0]
    assert out.transpose(0, 2, 3, 1).flags.c_contiguous  # the layout came back
    return out[0].transpose(1, 2, 0)


def ours_planes(img: np.ndarray, size, library: str, method: str) -> np.ndarray:
    """The same through contiguous NCHW planes."""
    planes = np.ascontiguousarray(
        img.transpose(2, 0, 1)[None] if img.ndim == 3 else img[None, None]
    )
    out = interpolate(planes, size=size, **conventions[library][method])
    return out[0].transpose(1, 2, 0) if img.ndim == 3 else out[0, 0]


def opencv(img, size, method):
    return cv2.resize(img, (size[1], size[0]), interpolation=CV_FLAGS[method]).reshape(
        size + img.shape[2:]
    )


def pillow(img, size, method):
    return np.asarray(Image.fromarray(img).resize((size[1], size[0]), PIL_FLAGS[method]))


def _differences(got: np.ndarray, ref: np.ndarray) -> tuple[int, float]:
    diff = np.abs(got.astype(np.int64) - ref.astype(np.int64))
    return int(diff.max(initial=0)), float(np.mean(diff > 0))


# ------------------------------------------------------------------------------------ OpenCV
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_opencv_linear_uint8_bit_for_bit(channels, rng):
    for h, w, oh, ow in _shapes(channels, 40):
        shape = (h, w) if channels == 1 else (h, w, channels)
        img = rng.integers(0, 256, shape, dtype=np.uint8)
        ref = opencv(img, (oh, ow), "linear")
        np.testing.assert_array_equal(ours_hwc(img, (oh, ow), "opencv", "linear"), ref)
    np.testing.assert_array_equal(ours_planes(img, (oh, ow), "opencv", "linear"), ref)


def test_opencv_linear_at_exactly_half_is_its_area_fast_path(rng):
    """cv2 computes x0.5 as INTER_AREA's 2x2 mean ``(a + b + c + d + 2) >> 2``; the linear
    weights give the same."""
    img = rng.integers(0, 256, (32, 18, 3), dtype=np.uint8)
    got = ours_hwc(img, (16, 9), "opencv", "linear")
    blocks = img.reshape(16, 2, 9, 2, 3).astype(np.int64).sum(axis=(1, 3))
    np.testing.assert_array_equal(got, (blocks + 2) >> 2)
    np.testing.assert_array_equal(got, opencv(img, (16, 9), "linear"))


def test_opencv_cubic_uint8_within_one(rng):
    """OpenCV's bicubic through its IPP back end, in float32 (see _integer): within 1 level,
    at near-ties only (under 0.1% of the pixels of any shape, mostly none)."""
    exact, share_sum = 0, 0.0
    for h, w, oh, ow in _shapes(7, 40):
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        got, ref = ours_hwc(img, (oh, ow), "opencv", "cubic"), opencv(img, (oh, ow), "cubic")
        worst, share = _differences(got, ref)
        assert worst <= 1 and share < 0.1, (h, w, oh, ow, worst, share)
        exact += worst == 0
        share_sum += share
    assert exact >= 25
    assert share_sum / 40 < 0.01


def test_opencv_saturates(rng):
    """Keys' cubic overshoots at edges: 0/255 steps clip, never wrap."""
    img = np.where(rng.random((12, 15, 3)) < 0.5, 0, 255).astype(np.uint8)
    for method in CV_FLAGS:
        got = ours_hwc(img, (37, 41), "opencv", method)
        assert _differences(got, opencv(img, (37, 41), method))[0] <= (method == "cubic")
        assert got.min() == 0 and got.max() == 255


# ------------------------------------------------------------------------------------ Pillow
@pytest.mark.parametrize("method", list(PIL_FLAGS))
@pytest.mark.parametrize("mode", ["L", "RGB", "I;16"])
def test_pillow_bit_for_bit_unless_the_height_shrinks(method, mode, rng):
    """Exact whenever Pillow resamples horizontally first (the height does not shrink, or only
    one axis changes); when Pillow 13 may go vertically first, a bound (see _integer)."""
    hi = 65536 if mode == "I;16" else 256
    dtype = np.uint16 if mode == "I;16" else np.uint8
    exact = 0
    for h, w, oh, ow in _shapes(zlib.crc32(f"{method}/{mode}".encode()), 40):
        shape = (h, w, 3) if mode == "RGB" else (h, w)
        img = rng.integers(0, hi, shape, dtype=dtype)
        got, ref = ours_hwc(img, (oh, ow), "pillow", method), pillow(img, (oh, ow), method)
        if oh >= h or ow == w:
            np.testing.assert_array_equal(got, ref, str((h, w, oh, ow)))
            exact += 1
        else:
            worst, _ = _differences(got, ref)
            assert worst <= (hi // 256) * 32, (h, w, oh, ow, worst)  # on noise; photos: few
    assert exact >= 10


def test_pillow_uint16_saturates(rng):
    """Bicubic and Lanczos overshoot: Pillow's I;16 passes round half away from zero and
    saturate to [0, 65535] (after each pass)."""
    img = np.where(rng.random((9, 13)) < 0.5, 0, 65535).astype(np.uint16)
    for method in ("cubic", "lanczos"):
        got = ours_hwc(img, (23, 31), "pillow", method)
        np.testing.assert_array_equal(got, pillow(img, (23, 31), method))
        assert got.min() == 0 and got.max() == 65535


def test_pillow_layouts_agree(rng):
    img = rng.integers(0, 256, (17, 23, 3), dtype=np.uint8)
    for method in PIL_FLAGS:
        for size in ((40, 9), (17, 50), (8, 23)):
            np.testing.assert_array_equal(
                ours_hwc(img, size, "pillow", method), ours_planes(img, size, "pillow", method)
            )


# -------------------------------------------------------------------------------- photographs
def _photo_crops(rng, n: int):
    data = pytest.importorskip("skimage.data")
    for photo in (data.astronaut(), data.coffee(), data.chelsea()):
        for _ in range(n):
            h, w = (int(v) for v in rng.integers(20, 160, 2))
            y, x = (
                int(rng.integers(0, photo.shape[0] - h)),
                int(rng.integers(0, photo.shape[1] - w)),
            )
            yield photo[y : y + h, x : x + w]


@pytest.mark.parametrize("factor", [2.0, 1.7, 3.0, 0.5])
def test_photo_crops(factor, rng):
    """Real photographs, up-sampled (bit for bit for OpenCV's linear and Pillow's presets) and
    halved (OpenCV's linear bit for bit; Pillow shrinks both axes, where only the bound holds)."""
    for crop in _photo_crops(rng, 2):
        size = (max(1, int(crop.shape[0] * factor)), max(1, int(crop.shape[1] * factor)))
        if factor == 0.5:
            crop = crop[: 2 * size[0], : 2 * size[1]]
        got = ours_hwc(crop, size, "opencv", "linear")
        np.testing.assert_array_equal(got, opencv(crop, size, "linear"))
        for method in PIL_FLAGS:
            got, ref = ours_hwc(crop, size, "pillow", method), pillow(crop, size, method)
            if factor > 1:
                np.testing.assert_array_equal(got, ref)
            else:
                assert _differences(got, ref)[0] <= 24


def test_photo_uint16(rng):
    """A 16-bit grey photograph (the astronaut's luminance times 257): Pillow's I;16."""
    data = pytest.importorskip("skimage.data")
    grey = (data.camera().astype(np.uint16) * 257)[100:190, 200:307]
    for method in PIL_FLAGS:
        for size in ((180, 250), (90, 50)):
            np.testing.assert_array_equal(
                ours_hwc(grey, size, "pillow", method), pillow(grey, size, method)
            )


# ------------------------------------------------------------------------------------- Dask
def test_dask_chunks_are_the_exact_result(rng):
    da = pytest.importorskip("dask.array")
    img = rng.integers(0, 256, (1, 3, 45, 52), dtype=np.uint8)
    hwc = np.ascontiguousarray(img[0].transpose(1, 2, 0))
    for library, method, size in (
        ("opencv", "linear", (97, 33)),
        ("opencv", "linear", (20, 104)),
        ("pillow", "cubic", (101, 20)),
        ("pillow", "lanczos", (13, 77)),
    ):
        kwargs = conventions[library][method]
        got = interpolate(da.from_array(img, chunks=(1, 3, 11, 17)), size=size, **kwargs)
        got = got.compute()
        np.testing.assert_array_equal(got, interpolate(img, size=size, **kwargs))
        ref = opencv(hwc, size, method) if library == "opencv" else pillow(hwc, size, method)
        np.testing.assert_array_equal(got[0].transpose(1, 2, 0), ref)
