"""What the learnable up-sampling layers share: argument normalisation (through ``_checks``) and
pure-PyTorch building blocks that trace into ONNX and ``torch.compile`` graphs as plain reshapes.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import _checks
from ..pixel_shuffle import depth_to_space, space_to_depth
from ._unpool_ops import unpool_torch

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_MODULE = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}


def count(value: Any, fn: str, name: str) -> int:
    """A positive Python int (channels, groups)."""
    return _checks.positive((_checks.integer(value, fn, name),), fn, name)[0]


def dims(value: Any, fn: str, allowed: tuple[int, ...] = (1, 2, 3)) -> int:
    d = _checks.integer(value, fn, "dims")
    if d not in allowed:
        raise _checks.fail(fn, f"dims {d} must be one of {', '.join(map(str, allowed))}")
    return d


def per_dim(value: Any, n: int, fn: str, name: str, *, zero: bool = False) -> tuple[int, ...]:
    t = _checks.ntuple(value, n, fn, name)
    return (_checks.nonnegative if zero else _checks.positive)(t, fn, name)


def odd(values: tuple[int, ...], fn: str, name: str) -> tuple[int, ...]:
    if any(v % 2 == 0 for v in values):
        raise _checks.fail(fn, f"{name} {values} must be odd (a window centred on its pixel)")
    return values


def same_size_conv(
    layer: Any, fn: str, in_channels: Any, out_channels: Any, kernel_size: Any, rank: Any
) -> int:
    """Check and set ``dims``, ``in_channels``, ``out_channels`` and an odd ``kernel_size``
    (a convolution that keeps the size) on ``layer``; return ``dims`` (given as ``rank``)."""
    d = layer.dims = dims(rank, fn)
    layer.in_channels = count(in_channels, fn, "in_channels")
    layer.out_channels = count(out_channels, fn, "out_channels")
    layer.kernel_size = odd(per_dim(kernel_size, d, fn, "kernel_size"), fn, "kernel_size")
    return d


def divides(total: int, part: int, fn: str, what: str) -> None:
    if total % part:
        raise _checks.fail(fn, f"{what}: {total} is not divisible by {part}")


def factory(fn: str, device: Any, dtype: Any) -> dict[str, Any]:
    """The ``device``/``dtype`` keywords for a module's parameters, checked: a floating dtype."""
    check_factory(fn, device, dtype)
    if dtype is not None and not dtype.is_floating_point:
        raise _checks.fail(
            fn, f"dtype {dtype} must be a floating dtype for the parameters", TypeError
        )
    return {"device": device, "dtype": dtype}


def parameters_fit(fn: str, factory: dict[str, Any], **shapes: tuple[int, ...] | None) -> None:
    """Refuse, before torch allocates them, a module's parameters (and buffers) of these
    ``shapes`` (None: absent) whose bytes exceed the memory check
    (:func:`upsampling._checks.fits_in_ram`: half the host's memory; on an accelerator, the
    1 TiB guard) in the dtype and on the device of ``factory`` (:func:`factory`'s keywords)."""
    given = {name: shape for name, shape in shapes.items() if shape is not None}
    dtype = factory.get("dtype") or torch.get_default_dtype()
    device = factory.get("device")
    device = torch.get_default_device() if device is None else torch.device(device)
    nbytes = sum(math.prod(shape) for shape in given.values()) * dtype.itemsize
    listed = ", ".join(f"{name} of shape {shape}" for name, shape in given.items())
    _checks.fits_in_ram(nbytes, fn, f"the parameters ({listed})", host=device.type == "cpu")


def conv_module(d: int):
    return _CONV_MODULE[d]


def check_input(
    x: Any, fn: str, channels: int | None, d: int | tuple[int, ...], *, floating: bool = True
) -> None:
    """``x`` is a (floating) tensor ``(N, channels, *spatial)`` with ``d`` spatial dims."""
    if not isinstance(x, Tensor):
        raise _checks.fail(fn, f"x must be a torch.Tensor, got {type(x).__name__}", TypeError)
    allowed = (d,) if isinstance(d, int) else d
    if x.ndim - 2 not in allowed:
        raise _checks.fail(
            fn,
            f"x has shape {tuple(x.shape)}; expected (N, C, *spatial) with "
            f"{' or '.join(str(a) for a in allowed)} spatial dims",
        )
    if channels is not None and x.shape[1] != channels:
        raise _checks.fail(
            fn, f"x has {x.shape[1]} channels (shape {tuple(x.shape)}); expected {channels}"
        )
    if floating and not x.is_floating_point():
        raise _checks.fail(fn, f"x has dtype {x.dtype}; expected a floating dtype", TypeError)


def check_factory(fn: str, device: Any, dtype: Any) -> None:
    """``device`` and ``dtype`` as every module takes them, checked (for modules without tensors,
    which accept them for a uniform constructor)."""
    if device is not None:
        try:
            torch.device(device)
        except (RuntimeError, TypeError):
            raise _checks.fail(fn, f"device {device!r} is not a torch device", TypeError) from None
    if dtype is not None and not isinstance(dtype, torch.dtype):
        raise _checks.fail(fn, f"dtype {dtype!r} must be a torch.dtype or None", TypeError)


class Parameterless(torch.nn.Module):
    """A module without parameters or buffers (it still takes ``device`` and ``dtype``)."""

    def reset_parameters(self) -> None:
        """Nothing to reset: the layer has no parameters."""


# ------------------------------------------------------------- shuffles and nearest up-sampling
# Depth to space in ONNX's "CRD" order for any number of spatial dims, and its inverse
# (:func:`upsampling.pixel_shuffle` without the checks): ``(N, C * prod(scale), *s)`` ->
# ``(N, C, *(s * scale))``, channel ``c * prod(scale) + p`` going to phase ``p`` (row-major over
# ``scale``) of the block of output channel ``c``.
shuffle = depth_to_space
unshuffle = space_to_depth


def nearest(x: Tensor, scale: tuple[int, ...]) -> Tensor:
    """Nearest up-sampling by integer factors, :func:`upsampling.nn._unpool_ops.unpool_torch`
    (expand + reshape; backward: a sum, exact)."""
    return unpool_torch(x, scale, (0,) * len(scale), False)
