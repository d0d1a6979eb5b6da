"""``up.resize``: the image API equals ``interpolate`` on the NCHW view, for every convention,
method, dtype and layout; Pillow images keep their mode; Dask stays lazy; bad input is refused."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import upsampling as up
from upsampling.interpolate import interpolate
from upsampling.modes import MODES

LAYOUTS = {"HW": (9, 11), "HW1": (9, 11, 1), "HW3": (9, 11, 3), "HW4": (9, 11, 4)}
DTYPES = ("uint8", "uint16", "float32")


def image_methods(convention: str) -> list[str]:
    table = up.conventions[convention]
    out = []
    for name, mode in MODES.items():
        try:
            table[name]
        except KeyError:
            continue
        if mode.rank in (None, 2):
            out.append(name)
    return out


CASES = [(c, m) for c in up.conventions for m in image_methods(c)]


def random_image(rng, shape, dtype) -> np.ndarray:
    if dtype == "float32":
        return rng.random(shape, dtype=np.float32)
    top = np.iinfo(dtype).max
    return rng.integers(0, top + 1, shape, endpoint=False).astype(dtype)


def reference(img: np.ndarray, method: str, convention: str, **size) -> np.ndarray:
    """``interpolate`` on a contiguous NCHW copy, back to the image's layout."""
    preset = dict(up.conventions[convention][method])
    preset.setdefault("mode", up.conventions[convention].mode_of(method))
    planes = img[:, :, None] if img.ndim == 2 else img
    x = np.ascontiguousarray(planes.transpose(2, 0, 1)[None])
    y = interpolate(x, **size, **preset)[0].transpose(1, 2, 0)
    return y[:, :, 0] if img.ndim == 2 else y


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("convention", "method"), CASES, ids=[f"{c}-{m}" for c, m in CASES])
def test_resize_is_interpolate_on_the_nchw_view(rng, convention, method, dtype, layout):
    img = random_image(rng, LAYOUTS[layout], dtype)
    for given, asked in (({"size": (14, 5)}, {"size": (14, 5)}), ({"scale": 1.7}, None)):
        asked = asked or {"scale_factor": (1.7, 1.7)}
        got = up.resize(img, **given, method=method, convention=convention)
        want = reference(img, method, convention, **asked)
        assert got.dtype == img.dtype and got.shape == want.shape
        assert got.flags.c_contiguous
        np.testing.assert_array_equal(got, want)


def test_a_scale_pair_and_a_strided_image(rng):
    img = random_image(rng, (20, 24, 3), "uint8")[::2, ::-2]
    got = up.resize(img, scale=(0.5, 2.25), method="bicubic")
    want = reference(np.ascontiguousarray(img), "bicubic", "pytorch", scale_factor=(0.5, 2.25))
    assert got.shape == (5, 27, 3)
    np.testing.assert_array_equal(got, want)


def test_integers_saturate_and_float16_goes_through(rng):
    edge = np.zeros((6, 6), np.uint16)
    edge[:, 3:] = 65535
    out = up.resize(edge, scale=3, method="bicubic")  # cubic overshoots: clipped, not wrapped
    assert out.dtype == np.uint16 and out.max() == 65535 and out.min() == 0
    signed = np.where(edge > 0, 127, -128).astype(np.int8)
    assert up.resize(signed, scale=3, method="bicubic").min() == -128
    half = rng.random((5, 4, 2)).astype(np.float16)
    assert up.resize(half, (7, 3)).dtype == np.float16


def test_antialias_follows_the_convention_unless_given(rng):
    img = random_image(rng, (24, 30, 3), "float32")
    pillow = up.resize(img, (8, 10), convention="pillow")
    plain = up.resize(img, (8, 10), convention="pillow", antialias=False)
    assert not np.allclose(pillow, plain)  # Pillow widens its kernel when shrinking
    x = img.transpose(2, 0, 1)[None]
    torch_aa = interpolate(x, size=(8, 10), mode="bilinear", antialias=True)[0].transpose(1, 2, 0)
    np.testing.assert_array_equal(up.resize(img, (8, 10), antialias=True), torch_aa)
    torch_plain = interpolate(x, size=(8, 10), mode="bilinear")[0].transpose(1, 2, 0)
    np.testing.assert_array_equal(up.resize(img, (8, 10)), torch_plain)


# ------------------------------------------------------------------------------------- Pillow
PIL_MODES = {
    "L": "uint8",
    "LA": "uint8",
    "RGB": "uint8",
    "RGBA": "uint8",
    "CMYK": "uint8",
    "I;16": "uint16",
    "I;16B": ">u2",
    "I": "int32",
    "F": "float32",
}


@pytest.mark.parametrize("mode", PIL_MODES)
@pytest.mark.parametrize("method", ["nearest", "bilinear", "bicubic"])
def test_pillow_images_keep_their_mode(rng, mode, method):
    channels = len(Image.new(mode, (1, 1)).getbands())
    shape = (9, 13) if channels == 1 else (9, 13, channels)
    dtype = np.dtype(PIL_MODES[mode])
    if dtype.kind == "f":
        pixels = rng.random(shape, dtype=np.float32)
    else:
        top = 255 if dtype.itemsize == 1 else 65535
        pixels = rng.integers(0, top + 1, shape).astype(dtype)
    img = Image.frombytes(mode, (13, 9), pixels.tobytes())
    img.info["dpi"] = (300, 300)
    out = up.resize(img, (5, 20), method=method, convention="pillow")
    assert isinstance(out, Image.Image) and out.mode == mode and out.size == (20, 5)
    assert out.info["dpi"] == (300, 300)
    want = up.resize(
        pixels.astype(dtype.newbyteorder("=")), (5, 20), method=method, convention="pillow"
    )
    np.testing.assert_array_equal(np.asarray(out).astype(want.dtype), want)


@pytest.mark.parametrize("mode", ["P", "1"])
def test_palette_and_bilevel_images_move_with_nearest_only(rng, mode):
    pixels = rng.integers(0, 2 if mode == "1" else 7, (6, 8)).astype(np.uint8)
    img = Image.fromarray(pixels.astype(bool)) if mode == "1" else Image.fromarray(pixels, "L")
    if mode == "P":
        img = img.convert("P")
        img.putpalette(list(range(7 * 3)))
    out = up.resize(img, scale=2, method="nearest")
    assert out.mode == mode and out.size == (16, 12)
    np.testing.assert_array_equal(
        np.asarray(out).astype(np.uint8),
        up.resize(np.asarray(img).astype(np.uint8), scale=2, method="nearest"),
    )
    if mode == "P":
        assert out.getpalette() == img.getpalette()
    with pytest.raises(ValueError, match=rf"resize: image is a Pillow image of mode '{mode}'"):
        up.resize(img, scale=2)


# --------------------------------------------------------------------------------- Dask, torch
def test_dask_in_dask_out(rng):
    da = pytest.importorskip("dask.array")
    img = random_image(rng, (30, 26, 3), "uint8")
    lazy = da.from_array(img, chunks=(7, 9, 2))
    for kwargs in ({"scale": 2.5, "method": "bicubic"}, {"size": (11, 40), "convention": "pillow"}):
        out = up.resize(lazy, **kwargs)
        assert isinstance(out, da.Array) and out.dtype == img.dtype
        np.testing.assert_array_equal(out.compute(), up.resize(img, **kwargs))
    gray = da.from_array(img[:, :, 0], chunks=8)
    np.testing.assert_array_equal(
        up.resize(gray, scale=0.5, method="area").compute(),
        up.resize(img[:, :, 0], scale=0.5, method="area"),
    )


def test_torch_tensors_in_tensors_out(rng):
    torch = pytest.importorskip("torch")
    img = random_image(rng, (10, 12, 3), "uint8")
    out = up.resize(torch.from_numpy(img), scale=2, method="bicubic")
    assert isinstance(out, torch.Tensor) and out.dtype == torch.uint8 and out.is_contiguous()
    np.testing.assert_array_equal(out.numpy(), up.resize(img, scale=2, method="bicubic"))
    want = torch.nn.functional.interpolate(
        torch.from_numpy(img).permute(2, 0, 1)[None], scale_factor=2, mode="bicubic"
    )[0].permute(1, 2, 0)
    np.testing.assert_array_equal(out.numpy(), want.numpy())


# ---------------------------------------------------------------------------------- bad input
BAD = {
    "4-D": (np.zeros((1, 4, 4, 3)), {"scale": 2}, ValueError, r"image has shape \(1, 4, 4, 3\)"),
    "1-D": (np.zeros(4), {"scale": 2}, ValueError, r"expected \(H, W\) or \(H, W, C\)"),
    "empty": (np.zeros((0, 4)), {"scale": 2}, ValueError, "must not be empty"),
    "both": (np.zeros((4, 4)), {"size": (2, 2), "scale": 2}, ValueError, "got both"),
    "neither": (np.zeros((4, 4)), {}, ValueError, "got neither"),
    "zero size": (np.zeros((4, 4)), {"size": (0, 3)}, ValueError, "resize: size"),
    "int size": (np.zeros((4, 4)), {"size": 3}, ValueError, "size 3 must be a pair"),
    "size triple": (np.zeros((4, 4)), {"size": (2, 2, 2)}, ValueError, "resize: size"),
    "negative scale": (np.zeros((4, 4)), {"scale": -1}, ValueError, "scale -1 must be positive"),
    "empty output": (np.zeros((4, 4)), {"scale": 0.1}, ValueError, "resize: scale"),
    "nan scale": (np.zeros((4, 4)), {"scale": float("nan")}, ValueError, "resize: scale"),
    "scale triple": (np.zeros((4, 4)), {"scale": (1, 2, 3)}, ValueError, "a pair"),
    "method": (np.zeros((4, 4)), {"scale": 2, "method": "sinc"}, ValueError, "method 'sinc'"),
    "trilinear": (np.zeros((4, 4)), {"scale": 2, "method": "trilinear"}, ValueError, "method"),
    "no area in opencv": (
        np.zeros((4, 4)),
        {"scale": 2, "method": "area", "convention": "opencv"},
        ValueError,
        "resize: method 'area' must be one of",
    ),
    "convention": (np.zeros((4, 4)), {"scale": 2, "convention": "matlab"}, ValueError, "matlab"),
    "antialias nearest": (
        np.zeros((4, 4)),
        {"scale": 2, "method": "nearest", "antialias": True},
        ValueError,
        "resize: antialias True",
    ),
    "antialias type": (np.zeros((4, 4)), {"scale": 2, "antialias": "yes"}, TypeError, "antialias"),
    "bool": (np.zeros((4, 4), bool), {"scale": 2}, TypeError, "resize: image"),
    "complex": (np.zeros((4, 4), complex), {"scale": 2}, TypeError, "resize: image"),
    "list": ([[0, 1], [2, 3]], {"scale": 2}, TypeError, "resize: image must be"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_names_resize_and_the_parameter(case):
    image, kwargs, exc, message = BAD[case]
    with pytest.raises(exc, match=message):
        up.resize(image, **kwargs)
