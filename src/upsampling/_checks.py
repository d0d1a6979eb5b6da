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
FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")
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


def integer(value: Any, fn: str, name: str) -> int:
    """``value`` as a Python int; bools, floats and strings are refused even when integral. A
    ``torch.SymInt`` (a size in a graph over dynamic shapes) stays as it is."""
    if _backend.is_symbolic(value):
        return value
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise fail(fn, f"{name} {_show(value)} must be an int", TypeError)
    return operator.index(value)


def ntuple(value: Any, n: int, fn: str, name: str) -> tuple[int, ...]:
    """An int broadcast to ``n`` spatial dims, or a sequence of exactly ``n`` ints, each of
    magnitude at most ``MAX_SIZE`` (no size or step is larger, and the kernels use int64)."""
    values = _ntuple(value, n, fn, name)
    if any(abs(v) > MAX_SIZE for v in values):
        raise fail(fn, f"{name} {_show(value)} is out of range: each entry must be at most 2**62")
    return values


# The largest magnitude of a per-dimension size, step or offset: sums and products of a few of
# them stay inside int64, which the numba kernels and torch's int[] arguments use.
MAX_SIZE = 1 << 62


def _ntuple(value: Any, n: int, fn: str, name: str) -> tuple[int, ...]:
    if isinstance(value, Iterable) and not isinstance(value, str | bytes):
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
    """``value`` as a Python float, finite; a ``torch.SymFloat`` stays as it is."""
    if _backend.is_symbolic(value, "SymFloat"):
        return value
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise fail(fn, f"{name} {value!r} must be a real number", TypeError)
    if not math.isfinite(float(value)):
        raise fail(fn, f"{name} {value!r} must be finite")
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
    if not _backend.is_array(x):
        raise fail(
            fn,
            f"{name} must be a numpy.ndarray or a torch.Tensor, got {type(x).__name__}",
            TypeError,
        )
    dtype = _backend.dtype_name(x)
    if dtype not in dtypes:
        allowed = ", ".join(d for d in REAL_DTYPES if d in dtypes)
        raise fail(fn, f"{name} has dtype {dtype}; allowed dtypes: {allowed}", TypeError)
    spatial = x.ndim - 2
    if not min_spatial <= spatial <= max_spatial:
        dims = ", ".join(str(d + 2) for d in range(min_spatial, max_spatial + 1))
        raise fail(
            fn,
            f"{name} has shape {tuple(x.shape)} ({x.ndim} dims); expected (N, C, *spatial) "
            f"with {dims} dims in all",
        )
    return spatial


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


def fits_in_memory(shape: Sequence[int], itemsize: int, fn: str, what: str = "output") -> None:
    """Refuse before allocating anything absurd, naming the bytes it would take."""
    count = math.prod(shape)
    nbytes = count * itemsize
    if nbytes > _MAX_BYTES:
        raise fail(
            fn,
            f"the {what} of shape {tuple(shape)} would take {nbytes:,} bytes "
            f"({nbytes / 2**30:.1f} GiB), more than the limit of {_MAX_BYTES / 2**30:.0f} GiB",
        )


# Larger than any machine this library targets; a guard against overflowing size arithmetic.
_MAX_BYTES = 1 << 40


def fits_in_ram(nbytes: int, fn: str, what: str) -> None:
    """Refuse to build ``what`` if its ``nbytes`` exceed half of this machine's physical memory
    (sparse matrices and other structures whose size is not one array's shape)."""
    limit = _RAM_LIMIT
    if nbytes > limit:
        raise fail(
            fn,
            f"{what} would take {nbytes:,} bytes ({nbytes / 2**30:.1f} GiB), more than half of "
            f"this machine's memory ({limit / 2**30:.1f} GiB may be used)",
        )


def _ram_limit() -> int:
    try:
        return min(_MAX_BYTES, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2)
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return _MAX_BYTES


# Read once at import: torch.compile cannot trace os.sysconf inside an operator.
_RAM_LIMIT = _ram_limit()


def conv_operands(fn: str, x, weight, bias, groups, transposed: bool) -> tuple[int, int, int]:
    """Check ``x``, ``weight`` and ``bias`` together; return (spatial dims, groups, C_out)."""
    nd = array(x, fn, dtypes=FLOAT_DTYPES)
    layout = (
        "(C_in, C_out / groups, *kernel_size)"
        if transposed
        else "(C_out, C_in / groups, *kernel_size)"
    )
    if not _backend.is_array(weight):
        raise fail(
            fn,
            f"weight must be a numpy.ndarray or a torch.Tensor, got {type(weight).__name__}",
            TypeError,
        )
    same_device(x, weight, fn, "x", "weight")
    if weight.ndim != x.ndim:
        raise fail(
            fn,
            f"weight has shape {tuple(weight.shape)} ({weight.ndim} dims); for x of shape "
            f"{tuple(x.shape)} it must have {x.ndim} dims, {layout}",
        )
    if _backend.dtype_name(weight) != _backend.dtype_name(x):
        raise fail(
            fn,
            f"weight has dtype {_backend.dtype_name(weight)} but x has dtype "
            f"{_backend.dtype_name(x)}; they must match",
            TypeError,
        )
    groups = conv_groups(groups, fn)
    c_in, shape = x.shape[1], tuple(weight.shape)
    if c_in % groups:
        raise fail(fn, f"groups {groups} must divide the input channels {c_in}")
    if transposed:
        if shape[0] != c_in:
            raise fail(
                fn,
                f"weight has shape {shape}, {layout}: its C_in {shape[0]} must equal x's "
                f"{c_in} channels",
            )
        c_out = shape[1] * groups
    else:
        if shape[0] % groups:
            raise fail(
                fn,
                f"groups {groups} must divide the output channels {shape[0]} "
                f"(weight shape {shape})",
            )
        if shape[1] * groups != c_in:
            raise fail(
                fn,
                f"weight has shape {shape}, {layout}: for x's {c_in} channels and groups "
                f"{groups} its axis 1 must be {c_in // groups}",
            )
        c_out = shape[0]
    if any(k < 1 for k in shape[2:]):
        raise fail(fn, f"weight has shape {shape}: the kernel size must be positive")
    if bias is not None:
        if not _backend.is_array(bias):
            raise fail(fn, f"bias must be None or an array, got {type(bias).__name__}", TypeError)
        same_device(x, bias, fn, "x", "bias")
        if tuple(bias.shape) != (c_out,):
            raise fail(fn, f"bias has shape {tuple(bias.shape)}; it must be ({c_out},)")
        if _backend.dtype_name(bias) != _backend.dtype_name(x):
            raise fail(
                fn,
                f"bias has dtype {_backend.dtype_name(bias)} but x has dtype "
                f"{_backend.dtype_name(x)}; they must match",
                TypeError,
            )
    return nd, groups, c_out


def conv_groups(groups: Any, fn: str) -> int:
    groups = integer(groups, fn, "groups")
    if groups < 1:
        raise fail(fn, f"groups {groups} must be positive")
    return groups
