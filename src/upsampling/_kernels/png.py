"""PNG row un-filtering (the five filter types of the PNG spec), for the bundled sample image."""

from __future__ import annotations

import numba as nb


@nb.njit(cache=True, nogil=True)
def unfilter(raw, out, bpp):
    """``raw`` holds each scanline as a filter byte and ``out.shape[1]`` filtered bytes."""
    rows, width = out.shape
    for r in range(rows):
        kind = raw[r * (width + 1)]
        line = raw[r * (width + 1) + 1 : (r + 1) * (width + 1)]
        for i in range(width):
            left = out[r, i - bpp] if i >= bpp else 0
            up = out[r - 1, i] if r > 0 else 0
            corner = out[r - 1, i - bpp] if r > 0 and i >= bpp else 0
            if kind == 0:
                pred = 0
            elif kind == 1:
                pred = left
            elif kind == 2:
                pred = up
            elif kind == 3:
                pred = (left + up) // 2
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
            else:
                return r  # an unknown filter type: the caller reports the row
            out[r, i] = (line[i] + pred) & 0xFF
    return -1
