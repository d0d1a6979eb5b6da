"""``conventions``: the presets reproduce OpenCV, Pillow, TensorFlow, ONNX and PyTorch.

OpenCV and Pillow are run themselves. TensorFlow is not installed: its preset is checked
against ``tf.image.resize``'s documented kernels (``resize_nearest_neighbor``,
``resize_bilinear`` and ``resize_bicubic`` with half-pixel centres), written out below.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from upsampling.conventions import conventions
from upsampling.interpolate import interpolate

cv2 = pytest.importorskip("cv2")
Image = pytest.importorskip("PIL.Image")

PAIRS_2D = [
    ((5, 7), (9, 13)),
    ((16, 16), (5, 7)),
    ((9, 8), (9, 3)),
    ((12, 10), (24, 20)),
    ((12, 10), (6, 5)),
    ((7, 7), (21, 21)),
    ((30, 40), (7, 9)),
    ((3, 4), (1, 1)),
    ((1, 5), (3, 2)),
    ((33, 17), (32, 18)),
]
OPENCV_FLAGS = {
    "nearest": "INTER_NEAREST",
    "nearest-exact": "INTER_NEAREST_EXACT",
    "linear": "INTER_LINEAR",
    "cubic": "INTER_CUBIC",
}
PILLOW_FLAGS = {
    "nearest": "NEAREST",
    "linear": "BILINEAR",
    "cubic": "BICUBIC",
    "lanczos": "LANCZOS",
}


def opencv(x: np.ndarray, size, method: str) -> np.ndarray:
    flag = getattr(cv2, OPENCV_FLAGS[method])
    return cv2.resize(x, (size[1], size[0]), interpolation=flag)


def pillow(x: np.ndarray, size, method: str) -> np.ndarray:
    flag = getattr(Image.Resampling, PILLOW_FLAGS[method])
    return np.asarray(Image.fromarray(x, mode="F").resize((size[1], size[0]), flag))


def ours(x: np.ndarray, size, library: str, method: str) -> np.ndarray:
    return interpolate(x[None, None], size=size, **conventions[library][method])[0, 0]


def test_every_library_names_its_methods():
    assert set(conventions) >= {"pytorch", "onnx", "tensorflow", "opencv", "pillow"}
    for library, methods in conventions.items():
        assert {"nearest", "linear", "cubic"} <= set(methods), library
        assert set(methods) <= {"nearest", "nearest-exact", "linear", "cubic", "area", "lanczos"}
        for kwargs in methods.values():
            interpolate(np.zeros((1, 1, 3, 3)), size=(2, 5), **kwargs)  # all valid keywords
    assert "lanczos" in conventions["pillow"] and "lanczos" not in conventions["opencv"]
    with pytest.raises(TypeError):
        conventions["pillow"]["linear"]["mode"] = "cubic"  # read-only: shared presets


def test_the_api_example_names_the_mode_itself(rng):
    """``up.interpolate(x, scale_factor=2, mode="bicubic", **up.conventions["pillow"]["bicubic"])``:
    under PyTorch's method names a preset leaves ``mode`` to the call."""
    x = rng.random((5, 6), dtype=np.float32)
    for method, name in (("cubic", "bicubic"), ("linear", "bilinear")):
        preset = conventions["pillow"][name]
        assert "mode" not in preset and "mode" in conventions["pillow"][method]
        got = interpolate(x[None, None], scale_factor=2, mode=name, **preset)[0, 0]
        np.testing.assert_allclose(got, pillow(x, (10, 12), method), atol=1e-6)
    got = interpolate(
        x[None, None], size=(9, 4), mode="nearest", **conventions["pillow"]["nearest"]
    )
    np.testing.assert_array_equal(got[0, 0], pillow(x, (9, 4), "nearest"))
    assert "trilinear" in conventions["opencv"] and "bicubic" not in list(conventions["pillow"])
    with pytest.raises(KeyError):
        conventions["opencv"]["lanczos"]  # INTER_LANCZOS4 has no preset (no mode computes it)


# ---------------------------------------------------------------- nearest pixels, bit for bit
@pytest.mark.parametrize(
    ("library", "method"),
    [("opencv", "nearest"), ("opencv", "nearest-exact"), ("pillow", "nearest")],
    ids=["opencv-INTER_NEAREST", "opencv-INTER_NEAREST_EXACT", "pillow-NEAREST"],
)
@pytest.mark.parametrize("axis", ["width", "height"])
def test_nearest_pixel_choice_for_every_size_pair(library, method, axis):
    """Their own arithmetic (OpenCV: ``floor(o * (1 / (out / in)))``; Pillow, and OpenCV's
    exact mode in this build: ``in / out / 2`` plus ``in / out`` added ``o`` times) differs
    from exact rounding at ties; the choice is reproduced for every pair 1..64."""
    run = opencv if library == "opencv" else pillow
    for n_in, n_out in itertools.product(range(1, 65), repeat=2):
        line = np.arange(n_in, dtype=np.float32)
        x = np.stack([line, line]) if axis == "width" else np.stack([line, line], axis=1)
        size = (2, n_out) if axis == "width" else (n_out, 2)
        ref = run(x, size, method)
        np.testing.assert_array_equal(ours(x, size, library, method), ref, (n_in, n_out))


@pytest.mark.parametrize(
    ("library", "method"),
    [("opencv", m) for m in OPENCV_FLAGS] + [("pillow", m) for m in PILLOW_FLAGS],
    ids=lambda v: str(v),
)
def test_two_dimensional_resizes_match(library, method, rng):
    run = opencv if library == "opencv" else pillow
    exact = "nearest" in method
    for in_size, out_size in PAIRS_2D:
        x = rng.random(in_size, dtype=np.float32)
        ref = run(x, out_size, method)
        got = ours(x, out_size, library, method)
        assert got.dtype == np.float32 and got.shape == ref.shape
        if exact:
            np.testing.assert_array_equal(got, ref)
        else:  # float32 sums in another order: a few units in the last place
            np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6)


# ------------------------------------------------------------------------------- TensorFlow
def _tf_nearest(x: np.ndarray, n_out: int) -> np.ndarray:
    """``resize_nearest_neighbor(half_pixel_centers=True)``: ``floor((o + 0.5f) * scale)``
    in float32, ``scale = in / out``."""
    n_in = x.shape[-1]
    scale = np.float32(n_in) / np.float32(n_out)
    src = np.floor((np.arange(n_out, dtype=np.float32) + np.float32(0.5)) * scale)
    return x[..., np.minimum(src.astype(np.int64), n_in - 1)]


def _tf_bilinear(x: np.ndarray, n_out: int) -> np.ndarray:
    """``resize_bilinear(half_pixel_centers=True)``: lower and upper neighbours clamped into the
    image, ``top + (bottom - top) * lerp``."""
    n_in = x.shape[-1]
    src = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    low = np.floor(src)
    lerp = src - low
    lo = np.maximum(low, 0).astype(np.int64)
    hi = np.minimum(np.ceil(src), n_in - 1).astype(np.int64)
    return x[..., lo] + (x[..., hi] - x[..., lo]) * lerp


def _tf_bicubic(x: np.ndarray, n_out: int) -> np.ndarray:
    """``resize_bicubic(half_pixel_centers=True)``: Keys with a = -0.5 on the four neighbours;
    neighbours outside the image get weight 0 and the rest are renormalised."""
    a = -0.5
    n_in = x.shape[-1]

    def keys(t):
        t = abs(t)
        if t <= 1:
            return ((a + 2) * t - (a + 3)) * t * t + 1
        return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a if t < 2 else 0.0

    out = np.zeros((*x.shape[:-1], n_out))
    for o in range(n_out):
        src = (o + 0.5) * (n_in / n_out) - 0.5
        base = int(np.floor(src))
        taps = [(j, keys(src - j)) for j in range(base - 1, base + 3) if 0 <= j < n_in]
        total = sum(w for _, w in taps)
        out[..., o] = sum(w / total * x[..., j] for j, w in taps)
    return out


TF_KERNELS = {"nearest": _tf_nearest, "linear": _tf_bilinear, "cubic": _tf_bicubic}


@pytest.mark.parametrize("method", list(TF_KERNELS))
def test_tensorflow_preset_matches_its_documented_kernels(method, rng):
    kernel = TF_KERNELS[method]
    for in_size, out_size in PAIRS_2D:
        x = rng.random(in_size)
        ref = kernel(np.swapaxes(kernel(x, out_size[1]), 0, 1), out_size[0]).T
        got = ours(x, out_size, "tensorflow", method)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
    if method == "nearest":  # float32 ties, bit for bit, for every size pair
        for n_in, n_out in itertools.product(range(1, 65), repeat=2):
            x = np.arange(float(n_in)).reshape(1, 1, n_in)
            got = interpolate(x, size=n_out, **conventions["tensorflow"]["nearest"])
            np.testing.assert_array_equal(got, _tf_nearest(x, n_out))


# -------------------------------------------------------------------------- PyTorch and ONNX
def test_pytorch_preset_is_plain_interpolate(rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = torch.from_numpy(rng.standard_normal((1, 2, 6, 5)))
    torch_modes = {"linear": "bilinear", "cubic": "bicubic"}
    for method, kwargs in conventions["pytorch"].items():
        mode = torch_modes.get(method, kwargs.get("mode", "nearest"))
        extra = {"align_corners": False} if method in torch_modes else {}
        ref = F.interpolate(x, size=(9, 4), mode=mode, **extra)
        torch.testing.assert_close(interpolate(x, size=(9, 4), **kwargs), ref)


def test_onnx_preset_is_the_operator_default(rng):
    from test_interpolate_onnx import onnx_reference

    x = rng.standard_normal((1, 2, 6, 5))
    for method, kwargs in conventions["onnx"].items():
        ref = onnx_reference(x, sizes=(9, 4), mode=method)
        atol = 3e-5 if method == "cubic" else 1e-12
        np.testing.assert_allclose(interpolate(x, size=(9, 4), **kwargs), ref, atol=atol)
