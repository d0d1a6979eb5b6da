"""Pixel shuffle (depth to space) and its inverse, for 1 to 3 spatial dims."""

from __future__ import annotations

import math

import numpy as np

from . import _backend, _checks, shapes
from ._typing import Array, IntOrInts

__all__ = ["pixel_shuffle", "pixel_unshuffle"]


def _factors(x, factor, fn: str, name: str) -> tuple[int, tuple[int, ...]]:
    nd = _checks.array(x, fn, dtypes=(*_checks.REAL_DTYPES, "bool"))
    return nd, _checks.positive(_checks.ntuple(factor, nd, fn, name), fn, name)


def _rearrange(x, shape, perm, out_shape):
    if _backend.is_tensor(x):
        return _same_format(x, x.reshape(shape).permute(perm).reshape(out_shape))
    return np.ascontiguousarray(x.reshape(shape).transpose(perm)).reshape(out_shape)


def _same_format(x, y):
    """``y`` in ``x``'s memory format: ``channels_last`` (``channels_last_3d``) where ``x`` is
    laid out so and not also contiguous, as PyTorch's ``pixel_shuffle`` keeps it."""
    if x.is_contiguous() or x.dim() not in (4, 5):
        return y
    import torch

    fmt = torch.channels_last if x.dim() == 4 else torch.channels_last_3d
    return y.contiguous(memory_format=fmt) if x.is_contiguous(memory_format=fmt) else y


def _square_2d(x, r: tuple[int, ...]) -> bool:
    """Where PyTorch's own kernel applies (a tensor, 2-D, one factor): the same order, a fast
    kernel, and ``DepthToSpace`` / ``SpaceToDepth`` in ONNX exports."""
    return _backend.is_tensor(x) and len(r) == 2 and r[0] == r[1]


def depth_to_space(x, r: tuple[int, ...]):
    """:func:`pixel_shuffle` for checked arguments (the layers call it directly): reshapes and
    one permutation, so symbolic sizes stay symbolic."""
    if _square_2d(x, r):
        import torch.nn.functional as F

        return F.pixel_shuffle(x, r[0])
    nd = len(r)
    n, c, *size = x.shape
    block = math.prod(r)
    shape = (n, c // block, *r, *size)
    perm = (0, 1, *(i for a in range(nd) for i in (2 + nd + a, 2 + a)))
    return _rearrange(x, shape, perm, (n, c // block, *shapes.unpool_sizes(tuple(size), r)))


def space_to_depth(x, r: tuple[int, ...]):
    """:func:`pixel_unshuffle` for checked arguments, the inverse of :func:`depth_to_space`."""
    if _square_2d(x, r):
        import torch.nn.functional as F

        return F.pixel_unshuffle(x, r[0])
    nd = len(r)
    n, c, *size = x.shape
    small = tuple(a // f for a, f in zip(size, r, strict=True))
    shape = (n, c, *(v for a in range(nd) for v in (small[a], r[a])))
    perm = (0, 1, *(3 + 2 * a for a in range(nd)), *(2 + 2 * a for a in range(nd)))
    return _rearrange(x, shape, perm, (n, c * math.prod(r), *small))


def pixel_shuffle(x: Array, upscale_factor: IntOrInts) -> Array:
    r"""Move channel blocks into space: ``(N, C r^d, *S) -> (N, C, *(S r))``.

    ``torch.nn.functional.pixel_shuffle`` generalised to 1-3 spatial dims (and to one factor
    per dim), in ONNX ``DepthToSpace``'s "CRD" order: input channel ``c * prod(r) + k`` holds
    the output offsets ``(k_1, ..., k_d)`` (row-major in ``k``) of output channel ``c``.

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor, shape ``(N, C * prod(r), *spatial)``
        Any dtype (values are only moved).
    upscale_factor : int or tuple of int, positive

    Returns
    -------
    Same kind, dtype and device, shape ``(N, C, *(spatial * r))``.

    Raises
    ------
    TypeError, ValueError
        Not an array, wrong rank, a non-positive factor, or channels not divisible by
        ``prod(r)``.

    Notes
    -----
    .. math:: y[n, c, h r + a, w r + b] = x[n, c r^2 + a r + b, h, w]

    It is the interleaving step of the sub-pixel convolution (Shi et al., 2016): a stride-1
    convolution to ``C r^d`` channels followed by this equals a transposed convolution with
    stride ``r``.

    Examples
    --------
    >>> import numpy as np, upsampling as up
    >>> x = np.arange(8).reshape(1, 4, 1, 2)
    >>> up.pixel_shuffle(x, 2)[0, 0]
    array([[0, 2, 1, 3],
           [4, 6, 5, 7]])
    """
    fn = "pixel_shuffle"
    x = _checks.native(x, fn)
    _, r = _factors(x, upscale_factor, fn, "upscale_factor")
    c, block = x.shape[1], math.prod(r)
    if c % block:
        raise _checks.fail(
            fn, f"x has {c} channels, not divisible by the block size {block} (upscale_factor {r})"
        )
    return depth_to_space(x, r)


def pixel_unshuffle(x: Array, downscale_factor: IntOrInts) -> Array:
    r"""Move space into channel blocks, the inverse of :func:`pixel_shuffle`:
    ``(N, C, *(S r)) -> (N, C r^d, *S)`` (``torch.nn.functional.pixel_unshuffle``, ONNX
    ``SpaceToDepth`` order generalised the same way).

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor, shape ``(N, C, *spatial)``
    downscale_factor : int or tuple of int, positive, dividing each spatial size

    Returns
    -------
    Same kind, dtype and device, shape ``(N, C * prod(r), *(spatial / r))``.

    Raises
    ------
    TypeError, ValueError
        Not an array, wrong rank, a non-positive factor, or a spatial size not divisible by it.

    Examples
    --------
    >>> import numpy as np, upsampling as up
    >>> x = np.arange(8).reshape(1, 1, 2, 4)
    >>> y = up.pixel_unshuffle(x, 2)
    >>> y.shape
    (1, 4, 1, 2)
    >>> bool((up.pixel_shuffle(y, 2) == x).all())
    True
    """
    fn = "pixel_unshuffle"
    x = _checks.native(x, fn)
    _, r = _factors(x, downscale_factor, fn, "downscale_factor")
    size = x.shape[2:]
    if any(a % f for a, f in zip(size, r, strict=True)):
        raise _checks.fail(
            fn, f"x has spatial size {tuple(size)}, not divisible by downscale_factor {r}"
        )
    return space_to_depth(x, r)
