"""Image files at their own bit depth, with the metadata a resize keeps (``upsampling resize``).

Readers: Pillow for PNG, JPEG, WebP and the other formats it knows; tifffile for TIFF (8, 16,
32-bit, float, multi-page, planar); OpenCV (``IMREAD_UNCHANGED``) for 16-bit colour PNG, which
Pillow reduces to 8 bits. No codec is written here.

Kept: bit depth and dtype, channels (gray, gray+alpha, RGB, RGBA, CMYK for JPEG/TIFF), pages of
a multi-page TIFF, the ICC profile, the resolution (scaled with the pixels, so that the physical
size stays) and, for JPEG, PNG and WebP, the EXIF block. The EXIF orientation is applied when
reading (the pixels are stored upright) and the tag removed, so that ``--size HxW`` means the
size as displayed.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .io import CliError, file_kind, reason, write_atomic

__all__ = ["FORMATS", "Picture", "format_of", "read_picture", "write_picture"]

# --format name -> (file suffix, what it holds)
FORMATS = {"png": ".png", "tif": ".tif", "jpg": ".jpg", "webp": ".webp", "zarr": ".zarr"}
_SUFFIXES = {
    ".png": "png",
    ".jpg": "jpg",
    ".jpeg": "jpg",
    ".tif": "tif",
    ".tiff": "tif",
    ".webp": "webp",
    ".zarr": "zarr",
}
IMAGE_SUFFIXES = tuple(s for s in _SUFFIXES if s != ".zarr")
_PILLOW_FORMATS = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP"}


@dataclass(frozen=True)
class Picture:
    """Pixels ``(H, W)`` / ``(H, W, C)`` (``pages``: ``(P, H, W[, C])``) and their metadata."""

    pixels: np.ndarray
    pages: bool = False
    mode: str | None = None  # the Pillow mode it was read in, where Pillow read it
    icc: bytes | None = None
    exif: bytes | None = None
    dpi: tuple[float, float] | None = None  # pixels per inch (x, y)

    @property
    def height_width(self) -> tuple[int, int]:
        return tuple(self.pixels.shape[1:3] if self.pages else self.pixels.shape[:2])

    @property
    def channels(self) -> int:
        spatial = 3 if self.pages else 2
        return 1 if self.pixels.ndim == spatial else self.pixels.shape[-1]

    def images(self) -> list[np.ndarray]:
        return list(self.pixels) if self.pages else [self.pixels]

    def with_images(self, images: list[np.ndarray]) -> Picture:
        """The same picture with new pixels (resized pages); the resolution scales with them."""
        pixels = np.stack(images) if self.pages else images[0]
        new = replace(self, pixels=pixels)
        if self.dpi is not None:
            (h0, w0), (h1, w1) = self.height_width, new.height_width
            new = replace(new, dpi=(self.dpi[0] * w1 / w0, self.dpi[1] * h1 / h0))
        return new


def format_of(path: Path) -> str | None:
    """The format name of a file suffix (``"jpg"`` for ``.jpeg``), None if not an image's."""
    return _SUFFIXES.get(path.suffix.lower())


def read_picture(path: Path) -> Picture:
    """Read an image file at its own bit depth (see the module notes)."""
    name = os.fspath(path)
    if not path.exists():
        raise CliError(f"{name}: no such file")
    if path.is_dir():
        raise CliError(f"{name}: is a directory, not an image")
    try:
        with open(path, "rb") as f:
            head = f.read(32)
        kind = file_kind(head)
        if kind == "tiff":
            return _read_tiff(path)
        if kind == "png16":
            return _read_png16(path)
        return _read_pillow(path)
    except CliError:
        raise
    except (OSError, ValueError, SyntaxError, IndexError, KeyError) as exc:
        raise CliError(f"{name}: cannot read the image ({reason(exc)})") from None
    except Exception as exc:  # the readers' own errors (Pillow's decompression bomb, ...)
        raise CliError(f"{name}: cannot read the image ({reason(exc)})") from None


def _read_pillow(path: Path) -> Picture:
    from PIL import Image, ImageOps

    with Image.open(path) as img:
        img.seek(0)
        img = ImageOps.exif_transpose(img)
        img.load()
    mode = img.mode
    if mode in ("P", "PA"):  # palette indices are not values: resize the colours
        alpha = mode == "PA" or "transparency" in img.info
        img, mode = img.convert("RGBA" if alpha else "RGB"), "RGBA" if alpha else "RGB"
    elif mode == "1":
        img, mode = img.convert("L"), "L"
    pixels = np.asarray(img)
    if mode == "I" and pixels.size and pixels.min() >= 0 and pixels.max() <= 65535:
        pixels, mode = pixels.astype(np.uint16), "I;16"  # a 16-bit gray PNG, as Pillow opens it
    pixels = pixels.astype(pixels.dtype.newbyteorder("="), copy=False)
    dpi = img.info.get("dpi")
    return Picture(
        np.ascontiguousarray(pixels),
        mode=mode,
        icc=img.info.get("icc_profile") or None,
        exif=_exif_bytes(img),
        dpi=(float(dpi[0]), float(dpi[1])) if dpi and dpi[0] and dpi[1] else None,
    )


def _exif_bytes(img) -> bytes | None:
    exif = img.getexif()
    return exif.tobytes() if len(exif) else None


def _read_png16(path: Path) -> Picture:
    try:
        import cv2
    except ImportError:
        raise CliError(
            f"{path}: a 16-bit colour PNG needs OpenCV to be read at 16 bits (Pillow reduces it "
            "to 8): pip install opencv-python-headless, or convert it to TIFF"
        ) from None
    from PIL import Image

    data = cv2.imread(os.fspath(path), cv2.IMREAD_UNCHANGED)
    if data is None:
        raise CliError(f"{path}: cannot read the image (OpenCV could not decode it)")
    pixels = data[:, :, [2, 1, 0, 3][: data.shape[2]]]  # BGR(A) -> RGB(A)
    with Image.open(path) as img:
        info = dict(img.info)
        exif = _exif_bytes(img)
    dpi = info.get("dpi")
    return Picture(
        np.ascontiguousarray(pixels),
        icc=info.get("icc_profile") or None,
        exif=exif,
        dpi=(float(dpi[0]), float(dpi[1])) if dpi and dpi[0] and dpi[1] else None,
    )


def _read_tiff(path: Path) -> Picture:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        data = series.asarray()
        axes = series.axes
        page = tif.pages[0]
        icc = page.tags.get(34675)
        icc = bytes(icc.value) if icc is not None else None
        dpi = _tiff_dpi(page)
    if "S" in axes and axes.index("S") < axes.index("Y"):  # planar: samples before the plane
        data = np.moveaxis(data, axes.index("S"), -1)
        axes = axes.replace("S", "") + "S"
    spatial = 3 if axes.endswith("S") else 2
    if data.ndim < spatial:
        raise CliError(f"{path}: TIFF axes {series.axes!r} hold no image plane")
    pages = data.ndim > spatial
    if pages:
        data = data.reshape(-1, *data.shape[-spatial:])
    if data.dtype == np.bool_:
        data = data.astype(np.uint8) * 255
    data = data.astype(data.dtype.newbyteorder("="), copy=False)
    return Picture(np.ascontiguousarray(data), pages=pages, icc=icc, dpi=dpi)


def _tiff_dpi(page) -> tuple[float, float] | None:
    x, y = page.tags.get(282), page.tags.get(283)
    if x is None or y is None:
        return None
    unit = page.tags.get(296)
    per_inch = 2.54 if unit is not None and int(unit.value) == 3 else 1.0  # 3: centimetres
    rx, ry = (v.value[0] / v.value[1] if v.value[1] else 0.0 for v in (x, y))
    return (rx * per_inch, ry * per_inch) if rx and ry else None


# ----------------------------------------------------------------------------------- writing
def write_picture(path: Path, picture: Picture, fmt: str, *, force: bool) -> Path:
    """Write ``picture`` as ``fmt`` (``png``, ``tif``, ``jpg``, ``webp``) atomically."""
    check_writable_as(picture, fmt, path)
    if fmt == "tif":
        return write_atomic(path, lambda f: _write_tiff(f, picture), force=force)
    if fmt == "png" and picture.pixels.dtype == np.uint16 and picture.channels >= 3:
        return write_atomic(path, _png16_bytes(picture), force=force)
    return write_atomic(path, lambda f: _write_pillow(f, picture, fmt), force=force)


def check_writable_as(picture: Picture, fmt: str, path: Path) -> None:
    """Refuse what ``fmt`` cannot hold (one line naming the file and what to do instead)."""
    dtype, c = picture.pixels.dtype, picture.channels
    if fmt == "tif":
        return
    why = None
    if picture.pages:
        why = f"{picture.pixels.shape[0]} pages need a multi-page format"
    elif fmt == "jpg" and (dtype != np.uint8 or (c not in (1, 3) and picture.mode != "CMYK")):
        why = f"JPEG holds 8-bit gray, RGB or CMYK, not {_describe(picture)}"
    elif fmt == "webp" and (dtype != np.uint8 or c not in (3, 4)):
        why = f"WebP holds 8-bit RGB or RGBA, not {_describe(picture)}"
    elif fmt == "png" and (
        dtype not in (np.uint8, np.uint16)
        or c not in (1, 2, 3, 4)
        or (dtype == np.uint16 and c == 2)
    ):
        why = f"PNG holds 8/16-bit gray, RGB or RGBA, not {_describe(picture)}"
    if why is not None:
        raise CliError(f"{path}: cannot write it ({why}); use --format tif")


def _describe(picture: Picture) -> str:
    return f"{picture.channels}-channel {picture.pixels.dtype}"


def _write_pillow(f: BinaryIO, picture: Picture, fmt: str) -> None:
    from PIL import Image

    pixels = picture.pixels
    mode = picture.mode
    if mode is None or len(Image.new(mode, (1, 1)).getbands()) != picture.channels:
        mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[picture.channels]
        if pixels.dtype == np.uint16:
            mode = "I;16"
    h, w = pixels.shape[:2]
    img = Image.frombytes(mode, (w, h), np.ascontiguousarray(pixels).tobytes())
    options = {}
    if picture.icc is not None:
        options["icc_profile"] = picture.icc
    if picture.exif is not None:
        options["exif"] = picture.exif
    if picture.dpi is not None and fmt != "webp":
        options["dpi"] = tuple(round(d, 4) for d in picture.dpi)
    if fmt in ("jpg", "webp"):
        options["quality"] = 95
    if fmt == "jpg":
        options["subsampling"] = 0  # 4:4:4: no colour detail lost beyond the resize
    img.save(f, format=_PILLOW_FORMATS[fmt], **options)


def _png16_bytes(picture: Picture) -> bytes:
    try:
        import cv2
    except ImportError:
        raise CliError(
            "writing a 16-bit colour PNG needs OpenCV (Pillow has no 16-bit colour mode): "
            "pip install opencv-python-headless, or use --format tif"
        ) from None
    pixels = picture.pixels[:, :, [2, 1, 0, 3][: picture.channels]]  # RGB(A) -> BGR(A)
    ok, data = cv2.imencode(".png", np.ascontiguousarray(pixels))
    if not ok:
        raise CliError("OpenCV could not encode the 16-bit PNG")
    return data.tobytes()  # (OpenCV writes no ICC profile or resolution into a PNG)


def _write_tiff(f: BinaryIO, picture: Picture) -> None:
    import tifffile

    c = picture.channels
    options: dict = {"compression": "zlib", "metadata": None}
    if c in (3, 4):
        options["photometric"] = "rgb"
        if c == 4:
            options["extrasamples"] = ("unassalpha",)
    elif c == 1:
        options["photometric"] = "minisblack"
    else:
        options["photometric"] = "minisblack"
        options["planarconfig"] = "contig"
    if picture.mode == "CMYK":
        options["photometric"] = "separated"
        options.pop("extrasamples", None)
    if picture.icc is not None:
        options["iccprofile"] = picture.icc
    if picture.dpi is not None:
        options["resolution"] = picture.dpi
        options["resolutionunit"] = "INCH"
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, picture.pixels, **options)
    f.write(buffer.getvalue())
