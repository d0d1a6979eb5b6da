"""``up.resize``: one image resized as image libraries do (see ``../shared/API.md``).

An image is ``(H, W)`` or ``(H, W, C)`` (channels last, as photographs come); :func:`resize`
hands :func:`upsampling.interpolate` the zero-copy ``(1, C, H, W)`` view of it with the
arguments of ``conventions[convention][method]`` and turns the result back into the image's own
kind, layout and dtype. Nothing else is computed here: every formula is interpolate's.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _backend, _checks, shapes
from ._typing import Convention, FloatOrFloats, ImageOrArray, ResizeMethod
from .conventions import conventions
from .modes import MODES

__all__ = ["resize"]

FN = "resize"
# Pillow modes that hold palette indices or bits: only moved (nearest methods), never weighed
_INDEXED_MODES = ("P", "PA", "1")


def resize(
    image: ImageOrArray,
    size: Sequence[int] | None = None,
    *,
    scale: FloatOrFloats | None = None,
    method: ResizeMethod = "bilinear",
    convention: Convention = "pytorch",
    antialias: bool | None = None,
) -> ImageOrArray:
    """Resize one image ``(H, W)`` or ``(H, W, C)`` as the library ``convention`` does.

    Parameters
    ----------
    image : numpy.ndarray, dask.array.Array, PIL.Image.Image or torch.Tensor
        ``(H, W)`` or ``(H, W, C)`` with any number of channels (alpha is one more channel,
        resized like the others), of a real dtype (integers, float16/32/64); or a Pillow image
        of any mode but ``"P"``, ``"PA"`` and ``"1"``, which hold palette indices or bits and
        are taken by the nearest methods only. A torch tensor (CPU or CUDA, same layouts) is
        accepted too.
    size : tuple of int, optional
        ``(height, width)`` of the result. Exactly one of ``size`` and ``scale``.
    scale : float or tuple of float, optional, keyword-only
        One factor, or ``(sy, sx)``: the result has ``floor(H * sy)`` rows and ``floor(W * sx)``
        columns, and the coordinate rule uses the factor as given (``interpolate``'s
        ``scale_factor``). Libraries that take only a size (Pillow, TensorFlow) use the ratio
        of the sizes: pass ``size`` to reproduce them where ``H * sy`` is not an integer.
    method : str, keyword-only
        A mode of :func:`upsampling.interpolate` that ``conventions[convention]`` has:
        ``"nearest"``, ``"nearest-exact"``, ``"bilinear"`` (or ``"linear"``), ``"bicubic"``
        (or ``"cubic"``), ``"area"``, ``"lanczos"``, where the library has them.
    convention : str, keyword-only
        A key of :data:`upsampling.conventions`: ``"pytorch"``, ``"onnx"``, ``"tensorflow"``,
        ``"opencv"``, ``"pillow"``.
    antialias : bool, optional, keyword-only
        Widen the kernel when shrinking. None follows the convention: Pillow antialiases,
        OpenCV, ONNX, TensorFlow and PyTorch (its default) do not.

    Returns
    -------
    The same kind as ``image`` (a Dask array stays lazy; a Pillow image has the same mode, its
    ``info`` copied as Pillow's own ``resize`` does), layout ``(h, w)`` or ``(h, w, C)`` and
    dtype; integers rounded and saturated, never wrapped. A NumPy result is C-contiguous.

    Raises
    ------
    TypeError
        ``image`` of another kind or of a dtype that is not real (bool, complex, object).
    ValueError
        ``image`` not 2-D or 3-D (a batch ``(N, H, W, C)`` is refused), an empty image, both or
        neither of ``size`` and ``scale``, a size or factor that is not positive or gives an
        empty image, an unknown ``method`` or ``convention``, ``antialias`` where the method
        has none, a palette or bilevel Pillow image with a weighing method.

    Notes
    -----
    Conventions: ``image[i, j]`` is the pixel of row ``i`` and column ``j``; channels are
    resized independently (Pillow premultiplies RGBA by its alpha for its own non-nearest
    filters; this function does not). The result is exactly

    ``interpolate(image.transpose(2, 0, 1)[None], size, scale, mode=method,
    **conventions[convention][method])[0].transpose(1, 2, 0)``

    (``image[None, None]`` and ``[0, 0]`` for ``(H, W)``), with ``antialias`` passed when
    given. With uint8/uint16 images and ``convention="opencv"`` or ``"pillow"`` the presets
    run that library's own integer arithmetic where :mod:`upsampling.conventions` says so.

    Examples
    --------
    >>> import numpy as np, upsampling as up
    >>> img = np.array([[0, 100], [200, 255]], np.uint8)
    >>> up.resize(img, scale=2)  # torch.nn.functional.interpolate's uint8 result
    array([[  0,  25,  75, 100],
           [ 50,  72, 117, 139],
           [150, 167, 200, 216],
           [200, 214, 241, 255]], dtype=uint8)
    >>> rgb = np.zeros((4, 6, 3), np.float32)
    >>> up.resize(rgb, (2, 3), method="bicubic", convention="pillow").shape
    (2, 3, 3)
    >>> from PIL import Image
    >>> small = up.resize(Image.new("RGBA", (6, 4)), scale=0.5, method="nearest")
    >>> small.mode, small.size
    ('RGBA', (3, 2))
    """
    if _is_pil(image):
        return _resize_pil(image, size, scale, method, convention, antialias)
    return _resize_array(image, size, scale, method, convention, antialias)


def _is_pil(image: Any) -> bool:
    """Whether ``image`` is a Pillow image (without importing Pillow)."""
    pil = sys.modules.get("PIL.Image")
    return pil is not None and isinstance(image, pil.Image)


def _resize_pil(img, size, scale, method, convention, antialias):
    from PIL import Image

    if img.mode in _INDEXED_MODES and not _is_nearest(method, convention):
        raise _checks.fail(
            FN,
            f"image is a Pillow image of mode {img.mode!r} (palette indices or bits), which "
            f"method {method!r} cannot weigh; use a nearest method or convert it first: "
            f"image.convert({'L' if img.mode == '1' else 'RGBA'!r})",
        )
    a = np.asarray(img)
    pixels = a.view(np.uint8) if a.dtype == np.bool_ else a
    out = _resize_array(pixels, size, scale, method, convention, antialias)
    h, w = out.shape[:2]
    if a.dtype == np.bool_:
        result = Image.fromarray(out.view(np.bool_))
    else:
        result = Image.frombytes(img.mode, (w, h), out.astype(a.dtype, copy=False).tobytes())
    if img.mode in ("P", "PA"):
        result.putpalette(img.getpalette(img.palette.mode if img.palette else "RGB"))
    result.info = dict(img.info)
    return result


def _resize_array(image, size, scale, method, convention, antialias):
    torch = _backend.is_tensor(image)
    if not (isinstance(image, np.ndarray) or _backend.is_dask(image) or torch):
        raise _checks.fail(
            FN,
            f"image must be a NumPy or Dask array (H, W) or (H, W, C), a PIL.Image.Image or a "
            f"torch tensor, not {type(image).__name__}",
            TypeError,
        )
    image = _checks.native(image, FN, "image")
    _checks.dtype_in(image, _checks.REAL_DTYPES, FN, "image")
    if image.ndim not in (2, 3):
        raise _checks.fail(
            FN,
            f"image has shape {tuple(image.shape)} ({image.ndim} dims); expected (H, W) or "
            f"(H, W, C) (for a batch (N, C, H, W), call upsampling.interpolate)",
        )
    if any(int(s) < 1 for s in image.shape):
        raise _checks.fail(FN, f"image has shape {tuple(image.shape)}; it must not be empty")
    kwargs = _arguments(tuple(int(s) for s in image.shape[:2]), size, scale)
    kwargs.update(_preset(method, convention, antialias))
    from .interpolate import interpolate

    if image.ndim == 2:
        return _contiguous(interpolate(image[None, None], **kwargs)[0, 0], torch)
    planes = image.permute(2, 0, 1) if torch else image.transpose(2, 0, 1)
    out = interpolate(planes[None], **kwargs)[0]
    return _contiguous(out.permute(1, 2, 0) if torch else out.transpose(1, 2, 0), torch)


def _contiguous(out, torch: bool):
    if torch:
        return out.contiguous()
    return np.ascontiguousarray(out) if isinstance(out, np.ndarray) else out


def _arguments(hw: tuple[int, int], size, scale) -> dict[str, Any]:
    """``size`` or ``scale_factor`` for ``interpolate``, checked against the image's size."""
    if (size is None) == (scale is None):
        given = "both" if size is not None else "neither"
        raise _checks.fail(FN, f"give exactly one of size and scale, got {given}")
    if size is not None:
        if isinstance(size, int | np.integer) and not isinstance(size, bool):
            raise _checks.fail(
                FN, f"size {size!r} must be a pair (height, width); for one factor use scale"
            )
        return {"size": shapes.interpolate_sizes(hw, size, None, FN)}
    if (_checks.ndim_of(scale) or 0) > 0 or isinstance(scale, list | tuple):
        scale = tuple(scale)
        if len(scale) != 2:
            raise _checks.fail(FN, f"scale {scale!r} must be a number or a pair (sy, sx)")
        factors = tuple(_checks.finite_float(s, FN, "scale") for s in scale)
    else:
        factors = (_checks.finite_float(scale, FN, "scale"),) * 2
    if any(f <= 0 for f in factors):
        raise _checks.fail(FN, f"scale {scale!r} must be positive")
    try:
        shapes.interpolate_sizes(hw, None, factors, FN)
    except ValueError as exc:  # an empty or absurd output: name our parameter
        raise ValueError(str(exc).replace("scale_factor", "scale")) from None
    return {"scale_factor": factors}


def _table(convention):
    return conventions[_checks.choice(convention, tuple(conventions), FN, "convention")]


def _methods(table) -> tuple[str, ...]:
    """The methods of a convention that work on images (2 spatial dims)."""
    return tuple(n for n, m in MODES.items() if m.rank in (None, 2) and n in table)


def _is_nearest(method: str, convention: str) -> bool:
    table = _table(convention)
    _checks.choice(method, _methods(table), FN, "method")
    return MODES[table.mode_of(method)].nearest


def _preset(method: str, convention: str, antialias: bool | None) -> dict[str, Any]:
    """The keyword arguments of ``interpolate``: the preset, its mode and ``antialias``."""
    table = _table(convention)
    method = _checks.choice(method, _methods(table), FN, "method")
    kwargs = dict(table[method])
    kwargs.setdefault("mode", table.mode_of(method))
    if antialias is not None:
        antialias = _checks.boolean(antialias, FN, "antialias")
        takes = MODES[kwargs["mode"]].antialias
        if (takes == "no" and antialias) or (takes == "required" and not antialias):
            need = "cannot be" if takes == "no" else "must be"
            raise _checks.fail(
                FN, f"antialias {antialias!r}: with method {method!r} antialiasing {need} used"
            )
        kwargs["antialias"] = antialias
    return kwargs
