"""OpenCV's bicubic on 8-bit images in float32 (``upsampling._integer``,
``upsampling._kernels.integer_float``): within one level of ``cv2.resize`` at near-ties only,
the periodic horizontal pass the same sums as tap by tap, chunks and layouts the same bits."""

from __future__ import annotations

import numpy as np
import pytest

from upsampling import _integer
from upsampling._kernels import integer_float as _kf
from upsampling.conventions import conventions
from upsampling.interpolate import interpolate, plan_for
from upsampling.spec import ResizeSpec

cv2 = pytest.importorskip("cv2")
CUBIC = conventions["opencv"]["cubic"]


def _hwc(img: np.ndarray, size) -> np.ndarray:
    return interpolate(img.transpose(2, 0, 1)[None], size=size, **CUBIC)[0].transpose(1, 2, 0)


def _cv(img: np.ndarray, size) -> np.ndarray:
    return cv2.resize(img, (size[1], size[0]), interpolation=cv2.INTER_CUBIC)


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_near_ties_only(channels, rng):
    """Random noise, shapes 4..60 both ways: at most 1 level, in under 0.05% of the pixels
    in all (the float path of this preset differs in about 0.4%)."""
    differing = total = 0
    for _ in range(25):
        h, w, oh, ow = (int(v) for v in rng.integers(4, 61, 4))
        img = rng.integers(0, 256, (h, w, channels), dtype=np.uint8)
        got, ref = _hwc(img, (oh, ow)), _cv(img, (oh, ow)).reshape(oh, ow, channels)
        diff = np.abs(got.astype(np.int64) - ref)
        assert diff.max() <= 1, (h, w, oh, ow)
        differing += int(np.count_nonzero(diff))
        total += diff.size
    assert differing / total < 5e-4


@pytest.mark.parametrize("factor", [0.5, 0.75, 1.5, 2.0, 4.0])
def test_photo(factor):
    """A photograph at the benchmark's scales: at most 1 level, in under 0.01% of the pixels."""
    data = pytest.importorskip("skimage.data")
    img = data.astronaut()[100:260, 50:250]
    size = (int(img.shape[0] * factor), int(img.shape[1] * factor))
    diff = np.abs(_hwc(img, size).astype(np.int64) - _cv(img, size))
    assert diff.max() <= 1 and np.mean(diff > 0) < 1e-4


@pytest.mark.parametrize(("n_in", "n_out"), [(40, 20), (40, 30), (40, 60), (40, 80), (23, 92)])
@pytest.mark.parametrize("channels", [1, 3])
def test_periodic_run_is_the_tap_by_tap_sum(n_in, n_out, channels, rng):
    """The phase-by-phase horizontal pass gives the tap-by-tap float32 sums bit for bit."""
    t = _integer._opencv_cubic_table(n_in, n_out, n_out / n_in)
    reg, wexp = _integer._periodic(t, channels)
    assert reg[3] >= 4  # the run is taken
    row = rng.integers(0, 256, n_in * channels).astype(np.float32)
    ref = np.empty(n_out * channels, np.float32)
    _kf._taps_across(row, ref, t.index, t.weight, channels, 0, n_out)
    got = np.empty_like(ref)
    acc = np.empty(reg[3] * channels, np.float32)
    split = np.empty((max(reg[2], 1), (n_in // max(reg[2], 1) + 1) * channels), np.float32)
    first = _integer._windows(t)[0]
    args = (t.index, t.weight, channels, first, reg, wexp, acc, split)
    _kf._across(row, got, *args)
    np.testing.assert_array_equal(got.view(np.int32), ref.view(np.int32))


def test_layouts_and_chunks_agree(rng):
    """NCHW planes, the channels-last view and Dask chunks: the same bits."""
    da = pytest.importorskip("dask.array")
    img = rng.integers(0, 256, (1, 3, 45, 52), dtype=np.uint8)
    hwc = img[0].transpose(1, 2, 0).copy()
    for size in ((97, 33), (20, 104), (30, 30)):
        whole = interpolate(img, size=size, **CUBIC)
        view = interpolate(hwc.transpose(2, 0, 1)[None], size=size, **CUBIC)
        np.testing.assert_array_equal(view, whole)
        chunks = interpolate(da.from_array(img, chunks=(1, 3, 11, 17)), size=size, **CUBIC)
        np.testing.assert_array_equal(chunks.compute(), whole)


def test_tiny_inputs_go_to_the_float_path():
    """OpenCV resamples images under 4 pixels high or wide with its own fixed point, not IPP:
    no float32 kernel there (the float path answers)."""
    spec = ResizeSpec.of("interpolate", (7, 5), None, "cubic", **_named(CUBIC))
    for shape in ((1, 3, 3, 9), (1, 3, 9, 2)):
        x = np.zeros(shape, np.uint8)
        assert _integer.interpolate(x, plan_for(spec, x.shape, 1, False)) is None
    x = np.zeros((1, 3, 4, 4), np.uint8)
    assert _integer.interpolate(x, plan_for(spec, x.shape, 1, False)) is not None


def _named(preset) -> dict:
    return {k: v for k, v in preset.items() if k != "mode"}
