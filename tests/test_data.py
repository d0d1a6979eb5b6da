"""upsampling.data: the bundled photograph, bit for bit scikit-image's astronaut decoded by
Pillow, loaded by NumPy alone (no decoder, no numba)."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

import upsampling as up


def test_sample_shape_dtype_range():
    img = up.data.sample()
    assert img.shape == (1, 3, 512, 512) and img.dtype == np.float32
    assert img.min() >= 0.0 and img.max() <= 1.0
    assert img.std() > 0.1  # a photograph, not a blank


def test_sample_is_the_png_decoded_by_pillow():
    """The .npz replaced a PNG read by our own decoder: the values are the PNG's, bit for bit,
    divided by 255 in float32 (the file is scikit-image's, decoded by Pillow)."""
    image = pytest.importorskip("PIL.Image")
    skimage_data = pytest.importorskip("skimage.data")
    png = Path(skimage_data.__file__).parent / "astronaut.png"
    if not png.is_file():
        pytest.skip("scikit-image without its bundled astronaut.png")
    with image.open(png) as f:
        pixels = np.asarray(f.convert("RGB"))
    expected = (pixels.transpose(2, 0, 1)[None] / np.float32(255)).astype(np.float32)
    got = up.data.sample()
    assert np.array_equal(got.view(np.uint32), expected.view(np.uint32))
    # and the same as scikit-image's own array
    assert np.array_equal(got, skimage_data.astronaut().transpose(2, 0, 1)[None] / np.float32(255))


def test_sample_values_are_multiples_of_one_255th():
    img = up.data.sample()
    levels = np.round(img * 255)
    assert np.array_equal((levels / np.float32(255)).astype(np.float32), img)
    assert levels.min() == 0 and levels.max() == 255


def test_bundled_file_is_plain_uint8_without_pickles():
    with (
        resources.as_file(resources.files("upsampling.data") / "astronaut.npz") as path,
        np.load(path, allow_pickle=False) as f,
    ):
        assert f.files == ["image"]
        assert f["image"].dtype == np.uint8 and f["image"].shape == (3, 512, 512)


def test_each_call_returns_a_fresh_array():
    a = up.data.sample()
    a[...] = 0
    assert up.data.sample().std() > 0.1


def test_sample_needs_no_numba_kernel():
    """Loading the sample compiles nothing: no kernel module beyond what ``import upsampling``
    loads is imported for it (the PNG decoder was a numba kernel)."""
    code = (
        "import sys, upsampling\n"
        "kernels = lambda: sorted(m for m in sys.modules if m.startswith('upsampling._kernels.'))\n"
        "before = kernels()\n"
        "upsampling.data.sample()\n"
        "print(before == kernels(), kernels())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("True "), out.stdout
