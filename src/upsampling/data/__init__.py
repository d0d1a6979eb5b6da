"""The bundled sample photograph.

``astronaut.png`` is NASA's portrait of astronaut Eileen Collins (public domain), as shipped by
scikit-image (``skimage.data.astronaut``), 512x512 RGB. It is read here with the standard
library and NumPy, so no image library is needed.
"""

from __future__ import annotations

import struct
import zlib
from importlib import resources

import numpy as np

__all__ = ["read_png", "sample"]

_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # PNG colour type -> channels (8-bit, no palette)


def read_png(path) -> np.ndarray:
    """Read an 8-bit, non-interlaced grayscale/RGB(A) PNG as a ``(H, W, C)`` uint8 array."""
    with open(path, "rb") as f:
        blob = f.read()
    if blob[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"read_png: {path} is not a PNG file")
    pos, header, idat = 8, None, []
    while pos < len(blob):
        if pos + 12 > len(blob):
            raise ValueError(f"read_png: {path} ends inside a chunk header (byte {pos})")
        (length,) = struct.unpack(">I", blob[pos : pos + 4])
        kind = blob[pos + 4 : pos + 8]
        body = blob[pos + 8 : pos + 8 + length]
        if len(body) != length:
            raise ValueError(f"read_png: {path} is truncated inside its {kind!r} chunk")
        pos += 12 + length
        if kind == b"IHDR":
            if length != 13:
                raise ValueError(f"read_png: {path} has an IHDR chunk of {length} bytes, not 13")
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError(f"read_png: {path} has no IHDR chunk")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in _CHANNELS or interlace:
        raise ValueError(
            f"read_png: {path} is {depth}-bit, colour type {colour}, interlace {interlace}; "
            "only 8-bit non-interlaced grayscale/RGB(A) PNGs are read"
        )
    channels = _CHANNELS[colour]
    expected = height * (width * channels + 1)
    try:  # at most one byte more than the header implies: no decompression bomb
        data = zlib.decompressobj().decompress(b"".join(idat), expected + 1)
    except zlib.error as exc:
        raise ValueError(f"read_png: {path} holds damaged pixel data ({exc})") from None
    raw = np.frombuffer(data, dtype=np.uint8)
    if raw.size != expected:
        raise ValueError(
            f"read_png: {path} holds {raw.size} bytes of pixel data, not the "
            f"{expected} its header implies"
        )
    from .._kernels.png import unfilter

    out = np.empty((height, width * channels), dtype=np.uint8)
    bad_row = unfilter(raw.astype(np.int32), out, channels)
    if bad_row >= 0:
        raise ValueError(f"read_png: {path} row {bad_row} has an unknown filter type")
    return out.reshape(height, width, channels)


def sample() -> np.ndarray:
    """The bundled photograph as a float32 array ``(1, 3, 512, 512)`` in [0, 1].

    >>> import upsampling as up
    >>> img = up.data.sample()
    >>> img.shape, img.dtype, float(img.min()) >= 0.0, float(img.max()) <= 1.0
    ((1, 3, 512, 512), dtype('float32'), True, True)
    """
    path = resources.files(__name__) / "astronaut.png"
    with resources.as_file(path) as p:
        pixels = read_png(p)
    return (pixels.transpose(2, 0, 1)[None] / np.float32(255)).astype(np.float32)
