"""Reading and writing files for the command line: images through Pillow, atomic writes.

Every file the command line writes goes through :func:`write_atomic`: the bytes go to a
temporary file in the same directory, which is flushed, synced and then renamed over the target
with :func:`os.replace`, so an interrupt leaves either the old file or the new one, never half of
one. Existing files are refused unless ``force`` is given. What the operating system refuses (an
output directory that is a file or lies below one, a directory without write permission, a full
disk) becomes a :class:`CliError` naming the path, so the user gets one line, not a traceback.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

__all__ = [
    "CliError",
    "LoadedImage",
    "check_directory",
    "check_file",
    "check_writable",
    "directory_problem",
    "encode_png",
    "file_kind",
    "os_error_line",
    "os_reason",
    "read_image",
    "reason",
    "write_atomic",
]


class CliError(Exception):
    """A problem with the user's input, reported as one line (no traceback)."""


@dataclass(frozen=True)
class LoadedImage:
    """An image as ``(1, C, H, W)`` float32 in [0, 1], with the bit depth it was stored in."""

    pixels: np.ndarray
    bits: int
    mode: str


# Pillow modes -> (mode to convert to, bit depth). Alpha is dropped: quality is measured on colour.
_CONVERT = {
    "1": ("L", 8),
    "L": ("L", 8),
    "LA": ("L", 8),
    "La": ("L", 8),
    "P": ("RGB", 8),
    "PA": ("RGB", 8),
    "RGB": ("RGB", 8),
    "RGBA": ("RGB", 8),
    "RGBa": ("RGB", 8),
    "RGBX": ("RGB", 8),
    "CMYK": ("RGB", 8),
    "YCbCr": ("RGB", 8),
    "LAB": ("RGB", 8),
    "HSV": ("RGB", 8),
    "I;16": (None, 16),
    "I;16L": (None, 16),
    "I;16B": (None, 16),
    "I;16N": (None, 16),
    "I": (None, 16),
    "F": (None, 32),
}


def read_image(path: str | os.PathLike) -> LoadedImage:
    """Read a PNG, JPEG or TIFF (grayscale, RGB, 8 or 16 bits) as float32 ``(1, C, H, W)``.

    16-bit colour files, which Pillow reduces to 8 bits, are read at 16 bits by tifffile
    (TIFF) or OpenCV (PNG; without OpenCV they are refused rather than reduced)."""
    try:
        from PIL import Image, ImageOps
    except ImportError as exc:  # pragma: no cover - the cli extra installs Pillow
        raise CliError("reading images needs Pillow: pip install 'upsampling[cli]'") from exc
    name = os.fspath(path)
    if _deep_colour(name):
        return _read_deep_colour(Path(name))
    try:
        with Image.open(name) as img:
            img.seek(0)
            img = ImageOps.exif_transpose(img)
            img.load()
    except FileNotFoundError:
        raise CliError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise CliError(f"{name}: is a directory, not an image") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise CliError(f"{name}: cannot read the image ({reason(exc)})") from None
    mode = img.mode
    if mode not in _CONVERT:
        raise CliError(f"{name}: Pillow image mode {mode!r} is not supported")
    target, bits = _CONVERT[mode]
    if target is not None and target != mode:
        if mode in ("P", "PA") and "transparency" in img.info:
            img = img.convert("RGBA")
        img = img.convert(target)
    data = np.asarray(img)
    if bits == 8:
        pixels = data.astype(np.float32) / np.float32(255)
    elif bits == 16:
        if data.min() < 0 or data.max() > 65535:
            raise CliError(f"{name}: 32-bit integer pixels outside [0, 65535] are not supported")
        pixels = data.astype(np.float32) / np.float32(65535)
    else:
        pixels = data.astype(np.float32)
        if not np.isfinite(pixels).all() or pixels.min() < 0 or pixels.max() > 1:
            raise CliError(f"{name}: floating-point pixels must be finite and in [0, 1]")
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    return LoadedImage(np.ascontiguousarray(pixels.transpose(2, 0, 1)[None]), bits, mode)


def file_kind(head: bytes) -> str | None:
    """What the first 32 bytes of an image file say: ``"tiff"`` (classic or BigTIFF, either
    byte order), ``"png16"`` (a 16-bit RGB or RGBA PNG, which Pillow reduces to 8 bits) or
    ``None`` (anything else: Pillow's)."""
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) > 25 and head[24] == 16:
        return "png16" if head[25] in (2, 6) else None
    return None


def _deep_colour(name: str) -> bool:
    """Whether ``name`` is a PNG or TIFF of more than 8 bits per colour sample."""
    try:
        with open(name, "rb") as f:
            head = f.read(32)
    except OSError:
        return False  # (reported by the reader)
    kind = file_kind(head)
    if kind == "png16":
        return True
    if kind == "tiff":
        try:
            import tifffile

            with tifffile.TiffFile(name) as tif:
                page = tif.pages[0]
                return page.samplesperpixel >= 3 and page.bitspersample > 8
        except Exception:
            return False  # (Pillow then reports what is wrong with the file)
    return False


def _read_deep_colour(path: Path) -> LoadedImage:
    from ._resize_io import read_picture

    picture = read_picture(path)
    data = picture.images()[0]
    data = data[:, :, :3] if data.ndim == 3 else data[:, :, None]
    if data.dtype.kind == "f":
        pixels = data.astype(np.float32)
        if not np.isfinite(pixels).all() or pixels.min() < 0 or pixels.max() > 1:
            raise CliError(f"{path}: floating-point pixels must be finite and in [0, 1]")
        bits = 32
    elif data.dtype.kind in "iu" and data.dtype.itemsize <= 2:
        top = np.iinfo(data.dtype).max
        pixels, bits = data.astype(np.float32) / np.float32(top), 8 * data.dtype.itemsize
    else:
        raise CliError(f"{path}: {data.dtype} colour pixels are not supported")
    mode = "RGB" if pixels.shape[2] == 3 else "L"
    return LoadedImage(np.ascontiguousarray(pixels.transpose(2, 0, 1)[None]), bits, mode)


def reason(exc: BaseException) -> str:
    """The first line of an exception's message (its type if it has none)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def encode_png(image: np.ndarray, bits: int = 8) -> bytes:
    """``(C, H, W)`` or ``(1, C, H, W)`` values in [0, 1] as PNG bytes (clipped, rounded).

    Written with ``bits`` 8 or 16; 16-bit colour through OpenCV (Pillow has no 16-bit colour
    mode), or with 8 bits where OpenCV is not installed.
    """
    from PIL import Image

    a = np.asarray(image, dtype=np.float64)
    if a.ndim == 4:
        a = a[0]
    a = np.clip(a, 0.0, 1.0).transpose(1, 2, 0)
    if a.shape[2] >= 3 and bits == 16:
        try:
            import cv2
        except ImportError:
            cv2 = None
        if cv2 is not None:
            ok, data = cv2.imencode(".png", np.rint(a[:, :, 2::-1] * 65535).astype(np.uint16))
            if ok:
                return data.tobytes()
    if a.shape[2] == 1 and bits == 16:
        img = Image.fromarray(np.rint(a[:, :, 0] * 65535).astype(np.uint16))
    else:
        u8 = np.rint(a * 255).astype(np.uint8)
        img = Image.fromarray(u8[:, :, 0] if u8.shape[2] == 1 else u8[:, :, :3])
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def check_writable(paths: Iterable[str | os.PathLike], force: bool) -> list[str]:
    """One message per path that may not be written: it exists and ``force`` is false, or it
    is a directory (which no file replaces, ``force`` or not). Empty: all clear."""
    refused = []
    for p in paths:
        if os.path.isdir(p):
            refused.append(f"{os.fspath(p)}: is a directory, cannot write a file there")
        elif not force and os.path.lexists(p):
            refused.append(f"{os.fspath(p)}: already exists (use --force to overwrite it)")
    return refused


def directory_problem(directory: str | os.PathLike) -> str | None:
    """Why files cannot be written into ``directory`` (created if missing), or None.

    Checked before any work, so that a long run does not fail at its last step: the directory
    (or the nearest of its parents that exists) must be a directory that we may write into.
    """
    d = Path(directory)
    if os.path.lexists(d) and not d.is_dir():
        return f"{d} is {_kind(d)}, not a directory"
    existing = d
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is {_kind(existing)}, not a directory"
    if not os.access(existing, os.W_OK | os.X_OK):
        what = "write into" if existing == d else "create a directory in"
        return f"permission denied: cannot {what} {existing}"
    return None


def check_directory(directory: str | os.PathLike) -> None:
    """Raise :class:`CliError` if ``directory`` cannot hold the output files (see above)."""
    problem = directory_problem(directory)
    if problem is not None:
        raise CliError(f"{os.fspath(directory)}: cannot write the output there ({problem})")


def check_file(path: str | os.PathLike, force: bool) -> None:
    """Raise :class:`CliError` if a file cannot be written at ``path``: it exists (without
    ``force``), it is a directory, or its directory cannot be written (see above)."""
    refused = check_writable([path], force)
    if refused:
        raise CliError(refused[0])
    problem = directory_problem(Path(path).parent)
    if problem is not None:
        raise CliError(f"{os.fspath(path)}: cannot write the file ({problem})")


def _kind(path: Path) -> str:
    if path.is_symlink() and not path.exists():
        return "a broken symbolic link"
    return "a file" if path.is_file() else "not a directory"


def os_error_line(exc: OSError) -> str:
    """``exc`` as one line naming the file it names."""
    name = exc.filename
    return f"{name}: {os_reason(exc)}" if name is not None else os_reason(exc)


def write_atomic(
    path: str | os.PathLike, content: bytes | Callable[[BinaryIO], None], *, force: bool
) -> Path:
    """Write ``content`` (bytes, or a function that writes to a binary file) to ``path``.

    The data goes to a temporary file next to ``path`` and is renamed over it only once complete.
    Raises :class:`CliError` if ``path`` exists and ``force`` is false, if it is a directory,
    and for every :class:`OSError` of the writing (the message names ``path`` and the reason).
    """
    target = Path(path)
    check_file(target, force)
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        with os.fdopen(fd, "wb") as f:
            if isinstance(content, bytes | bytearray):
                f.write(content)
            else:
                content(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError):
            raise CliError(f"{target}: cannot write the file ({os_reason(exc)})") from None
        raise
    return target


def os_reason(exc: OSError) -> str:
    """What the operating system says went wrong, in lower case (``permission denied``)."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return reason[:1].lower() + reason[1:]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
