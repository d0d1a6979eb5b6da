"""upsampling.data: the bundled photograph, and the PNG reader against our own encoder (every
filter type), Pillow, and damaged files."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

import upsampling as up
from upsampling.data import read_png

_COLOUR = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def _encode(pixels: np.ndarray, filters=None, *, depth=8, colour=None, interlace=0) -> bytes:
    """A PNG of ``pixels`` (H, W, C) uint8 whose row ``r`` uses filter ``filters[r]``."""
    h, w, c = pixels.shape
    rows = pixels.reshape(h, w * c).astype(np.int64)
    filters = [r % 5 for r in range(h)] if filters is None else filters
    raw = bytearray()
    for r in range(h):
        kind = filters[r]
        raw.append(kind)
        for i in range(w * c):
            left = int(rows[r, i - c]) if i >= c else 0
            up_ = int(rows[r - 1, i]) if r > 0 else 0
            corner = int(rows[r - 1, i - c]) if r > 0 and i >= c else 0
            pred = [0, left, up_, (left + up_) // 2, _paeth(left, up_, corner)][kind % 5]
            raw.append((int(rows[r, i]) - pred) & 0xFF)
    colour = _COLOUR[c] if colour is None else colour
    header = struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, interlace)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(raw)))
        + _chunk(b"IEND", b"")
    )


def test_sample_shape_dtype_range():
    img = up.data.sample()
    assert img.shape == (1, 3, 512, 512) and img.dtype == np.float32
    assert img.min() >= 0.0 and img.max() <= 1.0
    assert img.std() > 0.1  # a photograph, not a blank


def test_sample_is_scikit_image_astronaut():
    skimage_data = pytest.importorskip("skimage.data")
    expected = skimage_data.astronaut().transpose(2, 0, 1)[None] / np.float32(255)
    assert np.array_equal(up.data.sample(), expected.astype(np.float32))


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_every_filter_type_round_trips(channels, tmp_path, rng):
    pixels = rng.integers(0, 256, size=(11, 7, channels), dtype=np.uint8)
    pixels[3:6] = 255  # saturated runs: the modulo-256 arithmetic of every filter
    path = tmp_path / "x.png"
    path.write_bytes(_encode(pixels))
    out = read_png(path)
    assert out.dtype == np.uint8 and np.array_equal(out, pixels)


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
def test_matches_pillow(mode, tmp_path, rng):
    image = pytest.importorskip("PIL.Image")
    channels = len(mode)
    pixels = rng.integers(0, 256, size=(9, 13, channels), dtype=np.uint8)
    path = tmp_path / "p.png"
    image.fromarray(pixels[..., 0] if channels == 1 else pixels, mode=mode).save(path)
    assert np.array_equal(read_png(path), pixels)


DAMAGED = [
    ("not-png", lambda: b"GIF89a" + b"\0" * 40, "is not a PNG file"),
    ("16-bit", lambda: _encode(np.zeros((2, 2, 1), np.uint8), depth=16), "16-bit"),
    ("palette", lambda: _encode(np.zeros((2, 2, 1), np.uint8), colour=3), "colour type 3"),
    ("interlaced", lambda: _encode(np.zeros((2, 2, 3), np.uint8), interlace=1), "interlace 1"),
    ("no-IHDR", lambda: b"\x89PNG\r\n\x1a\n" + _chunk(b"IEND", b""), "no IHDR"),
    ("bad-filter", lambda: _encode(np.zeros((3, 2, 1), np.uint8), [0, 7, 0]), "row 1"),
    ("cut-in-chunk", lambda: _encode(np.zeros((4, 4, 3), np.uint8))[:-40], "ends inside"),
    ("cut-in-body", lambda: _encode(np.zeros((9, 9, 3), np.uint8))[:45], "truncated inside"),
    ("too-few-rows", lambda: _taller_header(), "bytes of pixel data, not the"),
    ("corrupt-zlib", lambda: _corrupt_idat(), "damaged pixel data"),
    ("truncated-header", lambda: b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", b"\0" * 5), "IHDR"),
]


def _taller_header() -> bytes:
    """A header that claims one row more than the pixel data holds."""
    blob = _encode(np.zeros((4, 4, 3), np.uint8))
    header = struct.pack(">IIBBBBB", 4, 5, 8, 2, 0, 0, 0)
    return blob[:8] + _chunk(b"IHDR", header) + blob[33:]


def _corrupt_idat() -> bytes:
    blob = bytearray(_encode(np.zeros((4, 4, 3), np.uint8)))
    start = blob.index(b"IDAT") + 4
    blob[start : start + 6] = b"\xff" * 6
    return bytes(blob)


@pytest.mark.parametrize("name,make,words", DAMAGED, ids=[d[0] for d in DAMAGED])
def test_damaged_files_raise_value_error(name, make, words, tmp_path):
    path = tmp_path / "bad.png"
    path.write_bytes(make())
    with pytest.raises(ValueError, match=r"^read_png: ") as info:
        read_png(path)
    assert words in str(info.value)
