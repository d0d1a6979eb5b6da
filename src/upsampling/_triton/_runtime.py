"""What every Triton kernel module shares: the JIT cache, launch sizes and the 5-D view.

Kernels are written as plain functions and made JIT functions here, on first use, once per
mode: Triton reads ``TRITON_INTERPRET`` when a JIT function is created (compiled kernels for
CUDA tensors, the NumPy interpreter for CPU tensors), so one process can create them after the
variable is set (a test fixture) without any import-order rule. For the same reason kernels
call only Triton's builtins (``tl.full``, ``tl.where``, ...), never ``@triton.jit`` helpers
(``tl.zeros`` is one), which exist in the mode of the moment Triton was imported.

Every kernel sees its tensors as ``(N, C, D, H, W)`` with arbitrary element strides: 1-D and 2-D
problems get leading spatial dims of size one (stride 0), and a ``channels_last`` input is read
through its own strides, with no copy. Outputs are contiguous, as the ops' fake
implementations say.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import torch
import triton
import triton.language as tl

BLOCK = 1024  # elements per program (on a GPU; the interpreter takes bigger tiles)
_INTERPRETED_BLOCK = 1 << 14  # the interpreter runs programs one by one: fewer, bigger ones
FLOATS = (torch.float32, torch.float16, torch.bfloat16, torch.float64)
INTEGERS = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def interpreting() -> bool:
    """Whether JIT functions created now run in Triton's interpreter (``TRITON_INTERPRET=1``)."""
    return bool(triton.knobs.runtime.interpret)


@functools.cache
def _jit(fn: Callable, interpret: bool):
    return triton.jit(fn)


def jit(fn: Callable):
    """The JIT function of the plain kernel ``fn`` in the current mode (cached per mode)."""
    return _jit(fn, interpreting())


def runs_on(*tensors: torch.Tensor) -> bool:
    """Whether the kernels can run on these tensors: CUDA, or CPU under the interpreter."""
    devices = {t.device.type for t in tensors}
    if devices == {"cuda"}:
        return True
    return devices == {"cpu"} and interpreting()


def block() -> int:
    """Elements per program."""
    return _INTERPRETED_BLOCK if interpreting() else BLOCK


def grid(total: int) -> tuple[int]:
    return (max(1, triton.cdiv(total, block())),)


def strides5(t: torch.Tensor) -> tuple[int, ...]:
    """The element strides of ``t`` as ``(N, C, D, H, W)``; missing spatial dims stride 0."""
    n_spatial = t.ndim - 2
    return (*t.stride()[:2], *((0,) * (3 - n_spatial)), *t.stride()[2:])


def sizes3(shape) -> tuple[int, int, int]:
    """A spatial size as ``(D, H, W)``, missing dims of length one."""
    shape = tuple(int(s) for s in shape)
    return (1,) * (3 - len(shape)) + shape


def numel(shape) -> int:
    return math.prod(int(s) for s in shape)


def compare_type(dtype: torch.dtype):
    """The Triton type values of ``dtype`` are compared in: float32 for 16-bit floats (exact;
    the interpreter holds bfloat16 as raw bits, which it would compare as integers), else the
    dtype's own."""
    if dtype in (torch.float16, torch.bfloat16, torch.float32):
        return tl.float32
    return {
        torch.float64: tl.float64,
        torch.uint8: tl.uint8,
        torch.int8: tl.int8,
        torch.int16: tl.int16,
        torch.int32: tl.int32,
        torch.int64: tl.int64,
    }[dtype]


def compute_type(dtype: torch.dtype):
    """The Triton type sums of ``dtype`` run in (float64 for float64 and wide integers, else
    float32: PyTorch's choice, and the numba path's)."""
    wide = dtype == torch.float64 or (not dtype.is_floating_point and dtype.itemsize >= 4)
    return tl.float64 if wide else tl.float32


def torch_compute(dtype: torch.dtype) -> torch.dtype:
    return torch.float64 if compute_type(dtype) is tl.float64 else torch.float32


def stored(dtype: torch.dtype) -> torch.dtype:
    """The dtype a kernel that computes in float32 writes a result of ``dtype`` in: ``dtype``
    itself, except bfloat16 under the interpreter, whose float32 to bfloat16 conversion truncates
    (a GPU's rounds to nearest even, as PyTorch's): there the kernel writes float32 and PyTorch
    rounds (:func:`finish`)."""
    return torch.float32 if dtype == torch.bfloat16 and interpreting() else dtype


def finish(out: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """A kernel's result (of :func:`stored` ``dtype``) as ``dtype``."""
    return out if out.dtype == dtype else out.to(dtype)


def _reach(t: torch.Tensor) -> int:
    """One past the largest element offset ``t`` addresses."""
    if t.numel() == 0:
        return 0
    return 1 + sum((n - 1) * abs(s) for n, s in zip(t.shape, t.stride(), strict=True))


def _wide(total: int, args: tuple) -> bool:
    """Whether offsets need 64 bits: ``total`` or some tensor argument reaches ``2**31``."""
    limit = 2**31 - 1
    return total >= limit or any(_reach(a) >= limit for a in args if isinstance(a, torch.Tensor))


def launch(fn: Callable, total: int, *args, **meta) -> None:
    """Run the flat kernel ``fn`` over ``total`` elements, one program per ``BLOCK``."""
    jit(fn)[grid(total)](*args, **meta, WIDE=_wide(total, args), BLOCK=block())


def launch_rows(fn: Callable, rows: int, width: int, *args, **meta) -> None:
    """Run the tile kernel ``fn`` over ``rows`` rows of ``width`` elements: program ``(a, b)``
    covers rows ``a * ROWS`` to ``(a + 1) * ROWS - 1``, elements ``b * BLOCK`` to
    ``(b + 1) * BLOCK - 1`` (``BLOCK`` the power of two that covers a row, at least 16, at most
    :func:`block`; ``ROWS`` fills the tile to :func:`block` elements)."""
    cols = min(block(), max(16, triton.next_power_of_2(width)))
    tall = min(block() // cols, triton.next_power_of_2(max(rows, 1)))
    launch_grid = (triton.cdiv(rows, tall), triton.cdiv(width, cols))
    jit(fn)[launch_grid](*args, **meta, WIDE=_wide(rows * width, args), ROWS=tall, BLOCK=cols)


def as5(x: torch.Tensor) -> torch.Tensor:
    """``(N, C, *spatial)`` as a 5-D view (leading spatial dims of length one), no copy."""
    while x.ndim < 5:
        x = x.unsqueeze(2)
    return x
