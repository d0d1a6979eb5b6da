"""The one module that raises on user input.

Every public function normalises its options here before it does anything else, so that every
message has one shape: ``function: parameter <value> must be <what is allowed>``.
"""

from __future__ import annotations

import math
import numbers
import operator
import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from . import _backend

# Dtypes our CPU kernels compute in natively (NumPy names; torch dtypes map onto them).
HALF_DTYPES = ("float16", "bfloat16")  # the 16-bit floats (numba types neither)
FLOAT_DTYPES = (*HALF_DTYPES, "float32", "float64")
INT_DTYPES = ("uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64")
REAL_DTYPES = FLOAT_DTYPES + INT_DTYPES
INDEX_DTYPES = ("int64", "int32", "int16", "int8", "uint8", "uint16", "uint32")


def fail(fn: str, message: str, exc: type[Exception] = ValueError) -> Exception:
    """Build the exception for ``fn`` (raise it at the call site: ``raise fail(...)``)."""
    return exc(f"{fn}: {message}")


def _show(value: Any) -> str:
    if isinstance(value, tuple | list) and len(value) == 1:
        return f"({value[0]!r},)"
    return repr(value)


def _item(value: Any) -> Any:
    """A 0-d NumPy array or tensor as its Python value (PyTorch accepts ``torch.tensor(2)``
    where it takes an int or a float); anything else unchanged."""
    return value.item() if ndim_of(value) == 0 else value


def ndim_of(value: Any) -> int | None:
    """The rank of a NumPy array or tensor given as an argument value; None for anything else."""
    return value.ndim if isinstance(value, np.ndarray) or _backend.is_tensor(value) else None


def integer(value: Any, fn: str, name: str) -> int:
    """``value`` as a Python int; bools, floats and strings are refused even when integral. A
    0-d integer array or tensor counts as its value. A ``torch.SymInt`` (a size in a graph over
    dynamic shapes) stays as it is."""
    if type(value) is int:  # the usual argument: nothing to look into
        return value
    shown, value = value, _item(value)
    if _backend.is_symbolic(value):
        return value
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise fail(fn, f"{name} {_show(shown)} must be an int", TypeError)
    return operator.index(value)


def ntuple(value: Any, n: int, fn: str, name: str) -> tuple[int, ...]:
    """An int broadcast to ``n`` spatial dims, or a sequence of exactly ``n`` ints, each of
    magnitude at most ``MAX_SIZE`` (no size or step is larger, and the kernels use int64)."""
    if type(value) is int and -MAX_SIZE <= value <= MAX_SIZE:  # the usual argument
        return (value,) * n
    values = _ntuple(value, n, fn, name)
    if any(abs(v) > MAX_SIZE for v in values):
        raise fail(fn, f"{name} {_show(value)} is out of range: each entry must be at most 2**62")
    return values


# The largest magnitude of a per-dimension size, step or offset: sums and products of a few of
# them stay inside int64, which the numba kernels and torch's int[] arguments use.
MAX_SIZE = 1 << 62


def _ntuple(value: Any, n: int, fn: str, name: str) -> tuple[int, ...]:
    # a 0-d array or tensor broadcasts (``integer`` takes its value); a 1-d one is a sequence
    if isinstance(value, Iterable) and not isinstance(value, str | bytes) and ndim_of(value) != 0:
        items = tuple(value)
        if len(items) != n:
            raise fail(
                fn,
                f"{name} {_show(value)} must be an int or a tuple of {n} ints "
                f"(one per spatial dimension)",
            )
        try:
            return tuple(integer(v, fn, name) for v in items)
        except TypeError:
            raise fail(
                fn, f"{name} {_show(value)} must be an int or a tuple of {n} ints", TypeError
            ) from None
    try:
        return (integer(value, fn, name),) * n
    except TypeError:
        raise fail(
            fn, f"{name} {_show(value)} must be an int or a tuple of {n} ints", TypeError
        ) from None


def positive(values: tuple[int, ...], fn: str, name: str) -> tuple[int, ...]:
    if any(v <= 0 for v in values):
        raise fail(fn, f"{name} {_show(values)} must be positive")
    return values


def nonnegative(values: tuple[int, ...], fn: str, name: str) -> tuple[int, ...]:
    if any(v < 0 for v in values):
        raise fail(fn, f"{name} {_show(values)} must be non-negative")
    return values


def boolean(value: Any, fn: str, name: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise fail(fn, f"{name} {value!r} must be True or False", TypeError)
    return bool(value)


def choice(value: Any, allowed: Sequence[str], fn: str, name: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        exc = ValueError if isinstance(value, str) else TypeError
        raise fail(fn, f"{name} {value!r} must be one of {options}", exc)
    return value


def finite_float(value: Any, fn: str, name: str) -> float:
    """``value`` as a Python float, finite (a 0-d array or tensor counts as its value); a
    ``torch.SymFloat`` stays as it is."""
    shown, value = value, _item(value)
    if _backend.is_symbolic(value, "SymFloat"):
        return value
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise fail(fn, f"{name} {shown!r} must be a real number", TypeError)
    if not math.isfinite(float(value)):
        raise fail(fn, f"{name} {shown!r} must be finite")
    return float(value)


def array(
    x: Any,
    fn: str,
    name: str = "x",
    *,
    dtypes: Sequence[str] = REAL_DTYPES,
    min_spatial: int = 1,
    max_spatial: int = 3,
) -> int:
    """Check an ``(N, C, *spatial)`` array or tensor; return its number of spatial dims."""
    not_masked(x, fn, name)
    array_or_tensor(x, fn, name)
    dtype_in(x, dtypes, fn, name)
    spatial = x.ndim - 2
    if not min_spatial <= spatial <= max_spatial:
        dims = ", ".join(str(d + 2) for d in range(min_spatial, max_spatial + 1))
        raise fail(
            fn,
            f"{name} has shape {tuple(x.shape)} ({x.ndim} dims); expected (N, C, *spatial) "
            f"with {dims} dims in all",
        )
    return spatial


def not_masked(x: Any, fn: str, name: str = "x") -> None:
    """Refuse a ``numpy.ma.MaskedArray`` (``TypeError``): its mask would be lost silently."""
    if isinstance(x, np.ma.MaskedArray):
        raise fail(
            fn,
            f"{name} is a numpy.ma.MaskedArray, whose mask would be ignored; pass "
            f"np.ma.filled({name}, value) or {name}.data",
            TypeError,
        )


def native(x: Any, fn: str, name: str = "x") -> Any:
    """``x`` as the operators compute on it: a NumPy array of non-native byte order (``">f8"``
    on a little-endian machine) as the same values in native order, anything else unchanged.
    A ``numpy.ma.MaskedArray`` is refused (``TypeError``): its mask would be lost silently.

    Every public operator calls this first on each array argument, so that the compute dtype,
    the kernels and the result see one byte order.

    Notes
    -----
    The output dtype of an operator is the native-order equivalent of the input's: ``">f4"``
    in, ``"float32"`` out, with the values (bit for bit) of the native-order input's result.
    """
    not_masked(x, fn, name)
    if (isinstance(x, np.ndarray) or _backend.is_dask(x)) and not x.dtype.isnative:
        return x.astype(x.dtype.newbyteorder("="))  # (lazy for a Dask array)
    return x


def dtype_in(x: Any, dtypes: Sequence[str], fn: str, name: str) -> None:
    """Refuse an array or tensor whose dtype is not one of ``dtypes`` (``TypeError``)."""
    try:  # the answer for a (dtype, allowed) pair seen before: no name to build
        key = (x.dtype, dtypes)
        if key in _ALLOWED:
            return
    except TypeError:  # an unhashable list of dtypes
        key = None
    got = _backend.dtype_name(x)
    if got not in dtypes:
        allowed = ", ".join(d for d in REAL_DTYPES if d in dtypes)
        raise fail(fn, f"{name} has dtype {got}; allowed dtypes: {allowed}", TypeError)
    if key is not None and len(_ALLOWED) < 256:
        _ALLOWED.add(key)


# (dtype, allowed dtypes) pairs that dtype_in accepted
_ALLOWED: set = set()


def array_or_tensor(value: Any, fn: str, name: str) -> None:
    """Refuse anything but a NumPy array or a torch tensor (``TypeError``)."""
    if not _backend.is_array(value):
        raise fail(
            fn,
            f"{name} must be a numpy.ndarray or a torch.Tensor, got {type(value).__name__}",
            TypeError,
        )


def length(value: Any, fn: str, name: str) -> int:
    """``len(value)``; a value without one (an int, None) is a ``TypeError``."""
    try:
        return len(value)
    except TypeError:
        raise fail(fn, f"{name} {value!r} must be a tuple of ints", TypeError) from None


def same_device(a: Any, b: Any, fn: str, name_a: str, name_b: str) -> None:
    if _backend.is_tensor(a) != _backend.is_tensor(b):
        raise fail(
            fn,
            f"{name_a} is a {type(a).__name__} but {name_b} is a {type(b).__name__}; "
            f"pass both as NumPy arrays or both as torch tensors",
            TypeError,
        )
    if _backend.is_tensor(a) and a.device != b.device:
        raise fail(fn, f"{name_a} is on {a.device} but {name_b} is on {b.device}")


def same_dtype(a: Any, b: Any, fn: str, name_a: str, name_b: str) -> None:
    dtype_a, dtype_b = _backend.dtype_name(a), _backend.dtype_name(b)
    if dtype_a != dtype_b:
        message = f"{name_a} has dtype {dtype_a} but {name_b} has dtype {dtype_b}; they must match"
        raise fail(fn, message, TypeError)


def fits_in_memory(
    shape: Sequence[int],
    itemsize: int,
    fn: str,
    what: str = "output",
    *,
    temporaries: int = 0,
    host: bool = True,
    cause: str = "",
) -> None:
    """Refuse, before allocating it, an array of ``shape`` (elements of ``itemsize`` bytes) that
    this machine cannot hold: :func:`fits_in_ram` on its bytes plus ``temporaries`` (the bytes of
    scratch the computation holds at the same time). The one memory check of every operator's
    output; ``host=False`` for a tensor on an accelerator (whose memory is not the host's);
    ``cause`` names the argument that sets the size (``"size (10, 10)"``), for the message."""
    nbytes = math.prod(shape) * itemsize + temporaries
    if nbytes <= (_RAM_LIMIT if host else _MAX_BYTES):  # the usual call: no message to build
        return
    extra = " with its temporaries" if temporaries else ""
    given = f" (from {cause})" if cause else ""
    fits_in_ram(nbytes, fn, f"the {what} of shape {tuple(shape)}{given}{extra}", host=host)


# Larger than any machine this library targets; a guard against overflowing size arithmetic.
_MAX_BYTES = 1 << 40


def fits_in_ram(nbytes: int, fn: str, what: str, *, host: bool = True) -> None:
    """Refuse to build ``what`` if its ``nbytes`` exceed half of this machine's physical memory
    (sparse matrices, parameters and other structures whose size is not one array's shape;
    :func:`fits_in_memory` for an array). ``host=False``: data on an accelerator, held to the
    absolute guard of 1 TiB only (its own memory is not known here)."""
    limit = _RAM_LIMIT if host else _MAX_BYTES
    if nbytes > limit:
        if host:
            allowed = f"half of this machine's memory ({limit / 2**30:.1f} GiB may be used)"
        else:
            allowed = f"the limit of {limit / 2**30:.0f} GiB"
        raise fail(fn, f"{what} would take {_bytes(nbytes)}, more than {allowed}")


def _bytes(nbytes: int) -> str:
    """``nbytes`` for a message; above a PiB (an absurd request, perhaps too large for a float)
    as a power of two."""
    if nbytes < 1 << 50:
        return f"{nbytes:,} bytes ({nbytes / 2**30:.1f} GiB)"
    return f"about 2**{nbytes.bit_length() - 1} bytes"


def _ram_limit() -> int:
    try:
        return min(_MAX_BYTES, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2)
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return _MAX_BYTES


# Read once at import: torch.compile cannot trace os.sysconf inside an operator.
_RAM_LIMIT = _ram_limit()


# ---------------------------------------------------------------------------- convolutions
CONV_LAYOUT = "(C_out, C_in / groups, *kernel_size)"
TRANSPOSED_LAYOUT = "(C_in, C_out / groups, *kernel_size)"


def conv_operands(fn: str, x, weight, bias, groups, transposed: bool) -> tuple[int, int, int]:
    """Check ``x``, ``weight`` and ``bias`` of :func:`upsampling.conv` (``transposed``:
    :func:`upsampling.conv_transpose`) together; return (spatial dims, groups, C_out).

    The integer dtypes are those PyTorch 2.13's CPU convolutions take (``conv{1,2,3}d``: uint8,
    int8, int16, int32, int64; ``conv_transpose{1,2,3}d``: int64), for arrays and CPU tensors."""
    ints = ("int64",) if transposed else ("uint8", "int8", "int16", "int32", "int64")
    nd = array(x, fn, dtypes=FLOAT_DTYPES + ints)
    if _backend.dtype_name(x) in ints and not on_host(x):
        raise fail(
            fn,
            f"x has dtype {_backend.dtype_name(x)} on {x.device}; integer convolutions run on "
            f"the CPU only (as PyTorch's); allowed dtypes there: {', '.join(FLOAT_DTYPES)}",
            TypeError,
        )
    groups, shape = conv_weight(fn, weight, groups, x, transposed=transposed)
    c_out = shape[1] * groups if transposed else shape[0]
    if bias is not None:
        if not _backend.is_array(bias):
            raise fail(fn, f"bias must be None or an array, got {type(bias).__name__}", TypeError)
        same_device(x, bias, fn, "x", "bias")
        if tuple(bias.shape) != (c_out,):
            raise fail(fn, f"bias has shape {tuple(bias.shape)}; it must be ({c_out},)")
        same_dtype(bias, x, fn, "bias", "x")
    # what PyTorch 2.13 refuses: a weight without output channels and, transposed, an input
    # without channels (conv takes one: PyTorch returns an empty result)
    positive_channels(weight, fn, "weight", axis=1 if transposed else 0, what="output")
    if transposed:
        positive_channels(x, fn)
    return nd, groups, c_out


def conv_weight(
    fn: str, weight, groups, x=None, *, name: str = "x", transposed=False, output=False
) -> tuple[int, tuple[int, ...]]:
    """Check a convolution's ``weight`` and ``groups``; return (groups, the weight's shape).

    ``weight`` is :data:`CONV_LAYOUT`, or :data:`TRANSPOSED_LAYOUT` with ``transposed``. Given
    ``x`` (``name`` in messages), it has ``x``'s kind, device, rank and dtype, and meets ``x``'s
    channels: ``x`` is the convolution's input (axis 1 times ``groups``), with ``transposed``
    the transposed convolution's input (axis 0), with ``output`` the convolution's output
    (:func:`upsampling.deconvolve`'s ``y``, axis 0; any float dtype). Without ``x``: any float
    dtype and 1 to 3 kernel dims.
    """
    layout = TRANSPOSED_LAYOUT if transposed else CONV_LAYOUT
    array_or_tensor(weight, fn, "weight")
    shape = tuple(weight.shape)
    if x is None:
        if not 1 <= len(shape) - 2 <= 3:
            raise fail(fn, f"weight has shape {shape}; expected {layout} with 1 to 3 kernel dims")
    else:
        same_device(x, weight, fn, name, "weight")
        if len(shape) != x.ndim:
            raise fail(
                fn,
                f"weight has shape {shape} ({len(shape)} dims); for {name} of shape "
                f"{tuple(x.shape)} it must have {x.ndim} dims, {layout}",
            )
    if x is None or output:
        dtype_in(weight, FLOAT_DTYPES, fn, "weight")
    else:
        same_dtype(weight, x, fn, "weight", name)
    groups = conv_groups(groups, fn)
    at_axis0 = transposed or output  # x's channels are the weight's axis 0
    channels = None if x is None else x.shape[1]
    if channels is not None and at_axis0 and shape[0] != channels:
        raise fail(
            fn,
            f"weight has shape {shape}, {layout}: its {'C_in' if transposed else 'C_out'} "
            f"{shape[0]} must equal {name}'s {channels} channels",
        )
    if channels is not None and not at_axis0 and channels % groups:
        raise fail(fn, f"groups {groups} must divide the input channels {channels}")
    if shape[0] % groups:
        side = "input" if transposed else "output"
        raise fail(
            fn, f"groups {groups} must divide the {side} channels {shape[0]} (weight shape {shape})"
        )
    if channels is not None and not at_axis0 and shape[1] * groups != channels:
        raise fail(
            fn,
            f"weight has shape {shape}, {layout}: for {name}'s {channels} channels and groups "
            f"{groups} its axis 1 must be {channels // groups}",
        )
    if any(k < 1 for k in shape[2:]):
        raise fail(fn, f"weight has shape {shape}: the kernel size must be positive")
    return groups, shape


def conv_groups(groups: Any, fn: str) -> int:
    groups = integer(groups, fn, "groups")
    if groups < 1:
        raise fail(fn, f"groups {groups} must be positive")
    return groups


def transpose_output_padding(
    output_padding: tuple[int, ...], padding: Any, stride, dilation, fn: str
) -> None:
    """A transposed convolution's (normalised) ``output_padding``: 0 with ``padding="same"``,
    else smaller than the stride or the dilation (PyTorch's rule)."""
    if isinstance(padding, str):
        if any(output_padding):
            raise fail(
                fn, f"output_padding {output_padding} cannot be combined with padding 'same'"
            )
        return
    for p, s, d in zip(output_padding, stride, dilation, strict=True):
        if p >= max(s, d):
            raise fail(
                fn,
                f"output_padding {output_padding} must be smaller than stride {stride} or "
                f"dilation {dilation}",
            )


# ---------------------------------------------------------------------------------- counts
# The most iterations an iterative solver may be asked for (deblur, deconvolve). The solvers
# converge in tens to a few thousand; an iteration takes about 0.1-0.5 ms on an 8x8 image and
# 2-4 ms on 256x256 (one core), so the longest run allowed is seconds to minutes, not years.
MAX_ITERATIONS = 100_000


def iterations(value: Any, fn: str, name: str = "iterations") -> int:
    """A number of solver iterations: an int from 1 to :data:`MAX_ITERATIONS`."""
    (n,) = positive((integer(value, fn, name),), fn, name)
    return at_most(n, MAX_ITERATIONS, fn, name, "the most a run may take: minutes, not years")


def at_most(value: int, maximum: int, fn: str, name: str, why: str) -> int:
    """A positive ``value`` (already checked) refused above ``maximum``; ``why`` says why the
    bound is there."""
    if value > maximum:
        raise fail(fn, f"{name} {value!r} must be between 1 and {maximum:,} ({why})")
    return value


def on_host(x: Any) -> bool:
    """Whether ``x`` lives in this machine's memory: a NumPy array or a CPU tensor (for the
    ``host`` of :func:`fits_in_memory`)."""
    return not _backend.is_tensor(x) or x.is_cpu


def positive_channels(x: Any, fn: str, name: str = "x", axis: int = 1, what: str = "") -> None:
    """Refuse an array whose axis ``axis`` (its channels) is empty, as PyTorch's operators do
    where they require non-empty non-batch dims (max_pool, max_unpool, nearest interpolation,
    conv_transpose); an empty batch stays allowed."""
    shape = x.shape
    if len(shape) > axis and shape[axis] == 0:
        shape = tuple(shape)
        channels = f"{what} channels" if what else "channels"
        raise fail(fn, f"{name} has shape {shape}; its {channels} (axis {axis}) must be positive")
