"""NumPy arrays and torch tensors through one code path.

* A tensor is recognised without importing torch: if torch is not in ``sys.modules`` nothing can
  be a tensor, so ``import upsampling`` never pays for torch.
* A Dask array is recognised the same way (``dask.array`` in ``sys.modules``) and goes to
  :mod:`upsampling._dask`, which runs the NumPy path chunk by chunk.
* Tensors go through a torch backend (:class:`TorchBackend`): the custom ops of
  ``upsampling.nn._<family>_ops``, which run our numba kernels on zero-copy NumPy views of CPU
  tensors and a pure-PyTorch version of the same algorithm elsewhere (CUDA, float16/bfloat16),
  with autograd formulas that gather; while ``torch.onnx.export`` traces, plain PyTorch that
  exports (``upsampling.nn._export_ops``).
* Kernels work on independent ``(n, c)`` planes (or ``n`` images of a channels_last array);
  :func:`run_planes` splits the planes over a pool of threads (the kernels release the GIL) and
  :func:`run_blocks` also cuts planes into blocks of output rows when there are fewer planes
  than threads. One thread computes each output element, whole, so every result is the same bit
  for bit whatever the thread count.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import itertools
import os
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal, Protocol, overload, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from torch import Tensor

    from .spec import ResizeSpec

# Below this many elements of work a single thread is faster than handing out chunks (a split
# call costs ~100 us more on this 2-core VM: its blocks' Python and the pool's wake-ups; 1 << 16
# made (1, 64, 32, 32) interpolations 1.4-4x slower at 2 threads than at 1).
_PARALLEL_MIN_WORK = 1 << 19

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_num_threads: int | None = None
_serial = threading.local()  # .active: this thread runs kernels alone (inside a Dask task)


def is_tensor(x: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def is_symbolic(x: Any, kind: str = "SymInt") -> bool:
    """A symbolic value of ``torch.compile`` (``kind`` "SymInt" or "SymFloat": a size or a
    factor in a graph over dynamic values), recognised without importing torch."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, getattr(torch, kind))


def is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray) or is_tensor(x)


def is_dask(x: Any) -> bool:
    """A ``dask.array.Array``, recognised without importing dask: only code that already made
    one can pass one, and then ``dask.array`` is in ``sys.modules``."""
    da = sys.modules.get("dask.array")
    return da is not None and isinstance(x, getattr(da, "Array", ()))


def dask_ops():
    """The Dask paths of the operators, :mod:`upsampling._dask` (imported on first use: only
    Dask arrays need it, and it imports dask)."""
    from . import _dask

    return _dask


def dtype_name(x: Any) -> str:
    """``x``'s dtype by name (``"float32"``): a NumPy array's ``dtype.name``, else the dtype's
    ``str`` without ``torch.``."""
    if isinstance(x, np.ndarray):
        name = _NUMPY_NAMES.get(x.dtype)  # (NumPy computes ``dtype.name`` in Python: ~2 us)
        if name is None:
            name = x.dtype.name
            if len(_NUMPY_NAMES) < 256:
                _NUMPY_NAMES[x.dtype] = name
        return name
    return str(x.dtype).removeprefix("torch.")


_NUMPY_NAMES: dict[np.dtype, str] = {}  # the names of the NumPy dtypes seen


def itemsize(x: Any) -> int:
    return x.itemsize if isinstance(x, np.ndarray) else x.element_size()


def shape(x: Any) -> tuple[int, ...]:
    """The shape as Python ints (``torch.onnx.export``'s tracer hands out sizes as tensors);
    symbolic sizes (``torch.export`` or ``torch.compile`` over dynamic shapes) stay symbolic."""
    return tuple(a if is_symbolic(a) else int(a) for a in x.shape)


def channels_last(a: np.ndarray) -> bool:
    """Whether ``a`` ``(N, C, *spatial)`` keeps its channels innermost: the zero-copy view of a
    ``channels_last`` (``channels_last_3d``) tensor, ``np.moveaxis(a, 1, -1)`` C-contiguous.
    The kernels read and write such arrays in place and give outputs of the same layout; an
    array that is C-contiguous as well (one channel, or one pixel) counts as NCHW."""
    return (
        a.ndim >= 3
        and a.shape[1] > 1
        and not a.flags.c_contiguous
        and a.transpose(_CHANNELS_LAST[a.ndim]).flags.c_contiguous
    )


# ``np.moveaxis(a, 1, -1)`` and back as ``transpose`` axes by rank (moveaxis normalises its
# arguments on every call: some microseconds, three or four times in a small channels_last call)
_CHANNELS_LAST = {n: (0, *range(2, n), 1) for n in range(3, 65)}
_CHANNELS_FIRST = {n: (0, n - 1, *range(1, n - 1)) for n in range(3, 65)}


def volumes(a: np.ndarray, last: bool) -> np.ndarray:
    """``(N, C, *spatial)`` as the kernels' ``(P, D, H, W, C')``: ``(N * C, ..., 1)`` planes of
    a C-contiguous array (a copy when ``a`` is not), or, with ``last`` (:func:`channels_last`),
    the view ``(N, ..., C)`` of its images. Missing spatial axes are padded in front with 1s."""
    n, c, *spatial = a.shape
    pad = (1,) * (3 - len(spatial))
    if last:
        return a.transpose(_CHANNELS_LAST[a.ndim]).reshape(n, *pad, *spatial, c)
    return np.ascontiguousarray(a).reshape(n * c, *pad, *spatial, 1)


def as_channels_last(a: np.ndarray) -> np.ndarray:
    """A copy of ``a`` ``(N, C, *spatial)`` with its channels innermost (:func:`channels_last`
    where ``C > 1`` and there is more than one pixel)."""
    return np.ascontiguousarray(a.transpose(_CHANNELS_LAST[a.ndim])).transpose(
        _CHANNELS_FIRST[a.ndim]
    )


def empty_in_layout(shape: tuple[int, ...], dtype, last: bool, fill=np.empty) -> np.ndarray:
    """A new ``(N, C, *spatial)`` array of ``shape`` made by ``fill`` (``np.empty`` or
    ``np.zeros``), channels innermost if ``last``."""
    if not last:
        return fill(shape, dtype)
    return fill((shape[0], *shape[2:], shape[1]), dtype).transpose(_CHANNELS_FIRST[len(shape)])


_MISSING = object()


def remember(store: dict, key: Any, make, limit: int) -> Any:
    """``make()``, kept in ``store`` under ``key``: at most ``limit`` entries, the oldest dropped
    first; ``key`` None or ``limit <= 0`` keeps nothing. A ``make`` that raises keeps nothing,
    so a refusal is raised every time. Safe to call from several threads (an entry may be made
    twice, never lost or mixed up)."""
    if key is None or limit <= 0:
        return make()
    found = store.get(key, _MISSING)
    if found is _MISSING:
        found = make()
        while len(store) >= limit:
            try:
                store.pop(next(iter(store)), None)
            except (StopIteration, RuntimeError):  # emptied or changed by another thread
                break
        store[key] = found
    return found


# ---------------------------------------------------------------------------- torch backends
@runtime_checkable
class UnpoolBackend(Protocol):
    """The pooling family of a :class:`TorchBackend` (``upsampling.nn._unpool_ops``)."""

    def unpool(
        self, x: Tensor, scale: Sequence[int], offset: Sequence[int], bed_of_nails: bool
    ) -> Tensor:
        """:func:`upsampling.unpool`: ``scale`` and ``offset`` one int per spatial dim;
        nearest (every value fills its block) or bed of nails (the value at ``offset`` of its
        block, zeros elsewhere)."""
        ...

    def max_pool(
        self,
        x: Tensor,
        kernel: Sequence[int],
        stride: Sequence[int],
        padding: Sequence[int],
        dilation: Sequence[int],
        ceil_mode: bool,
    ) -> tuple[Tensor, Tensor]:
        """:func:`upsampling.max_pool`: the values and the int64 indices (flat positions in
        each ``(n, c)`` input plane); the windows are checked to be non-empty."""
        ...

    def max_unpool(self, x: Tensor, indices: Tensor, out_size: Sequence[int]) -> Tensor:
        """:func:`upsampling.max_unpool` to spatial size ``out_size``: the later input (in
        row-major order) wins where two name one element; an index outside the output plane
        is a ``ValueError`` (eager) or a run-time failure (exported graph)."""
        ...


@runtime_checkable
class InterpolateBackend(Protocol):
    """The interpolation family of a :class:`TorchBackend`
    (``upsampling.nn._interpolate_ops``)."""

    def interpolate(self, x: Tensor, spec: ResizeSpec) -> Tensor:
        """:func:`upsampling.interpolate` with its arguments after ``x`` normalised into
        ``spec``."""
        ...


@runtime_checkable
class ConvBackend(Protocol):
    """The convolution family of a :class:`TorchBackend` (``upsampling.nn._conv_ops``)."""

    def conv(
        self,
        x: Tensor,
        w: Tensor,
        bias: Tensor | None,
        stride: Sequence[int],
        padding: Sequence[int] | str,
        dilation: Sequence[int],
        groups: int,
    ) -> Tensor:
        """:func:`upsampling.conv`; ``padding`` as PyTorch takes it (one int per spatial dim,
        or "same" / "valid")."""
        ...

    def conv_transpose(
        self,
        x: Tensor,
        w: Tensor,
        bias: Tensor | None,
        stride: Sequence[int],
        dilation: Sequence[int],
        groups: int,
        offset: Sequence[int],
        out_size: Sequence[int],
        method: str,
    ) -> Tensor:
        """:func:`upsampling.conv_transpose` as the window of the full transposed convolution
        that starts at ``offset`` (negative: zeros before it) and has spatial size
        ``out_size``; ``method`` one of :data:`upsampling.conv.METHODS`."""
        ...


@runtime_checkable
class TorchBackend(UnpoolBackend, InterpolateBackend, ConvBackend, Protocol):
    """What a torch backend provides: the tensor paths of the public operators.

    A backend is a module (or any object) with these six functions. The public functions call
    them with tensors and with arguments already normalised and checked (one tuple of ints per
    option, sizes from :mod:`upsampling.shapes`), so a backend validates nothing but what only it
    can see (the values of ``indices``). It returns tensors on the input's device and of its
    dtype, differentiable where the operator is, the same numbers as the NumPy path; results
    must not depend on the order of parallel writes. The custom ops (one module per family:
    :class:`UnpoolBackend`, :class:`InterpolateBackend`, :class:`ConvBackend`) and the export
    path ``upsampling.nn._export_ops`` (all six) implement it. A Triton backend for CUDA
    tensors (not written yet: issue 14) is to implement the same functions under the same
    names; :func:`torch_ops` will then have to look at the tensor to hand it out.
    """


# The functions of each family, as :func:`torch_ops` hands them out.
FAMILIES: dict[str, type] = {
    "unpool": UnpoolBackend,
    "interpolate": InterpolateBackend,
    "conv": ConvBackend,
}


@overload
def torch_ops(family: Literal["unpool"]) -> UnpoolBackend: ...
@overload
def torch_ops(family: Literal["interpolate"]) -> InterpolateBackend: ...
@overload
def torch_ops(family: Literal["conv"]) -> ConvBackend: ...
def torch_ops(family: str):
    """The torch backend of one operator family (a :class:`TorchBackend`'s functions for it):
    the custom ops ``upsampling.nn._<family>_ops`` (imported on first use: only tensors need
    them).

    ``torch.compile`` traces an ``import`` statement and an attribute lookup, but refuses
    ``importlib.import_module``: that is only the last resort, for an ops module that
    ``upsampling.nn`` does not import itself. While ``torch.onnx.export`` traces, the family's
    functions of ``upsampling.nn._export_ops`` (plain PyTorch the exporters know) instead."""
    nn = sys.modules.get("upsampling.nn")  # (imported: the usual call, no import machinery)
    if nn is None:
        from . import nn

    if nn._export_ops.exporting():
        return nn._export_ops
    module = getattr(nn, f"_{family}_ops", None)
    if module is None:
        module = importlib.import_module(f"upsampling.nn._{family}_ops")
    return module


def get_num_threads() -> int:
    """Threads our CPU kernels use (default: the CPUs this process may run on; one inside a
    Dask task, see :func:`serial`)."""
    if getattr(_serial, "active", False):
        return 1
    if _num_threads is not None:
        return _num_threads
    return _cpus()


@functools.cache
def _cpus() -> int:
    """The CPUs this process may run on, asked once (a system call: every call reads it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def set_num_threads(n: int) -> None:
    """Set the threads our CPU kernels use (PyTorch's follow ``torch.set_num_threads``): from 1
    to 1024, or to the CPU count where that is larger. Each is an OS thread of the pool, and
    more threads than CPUs only take turns on them; 1024 is above the CPUs of today's largest
    machines (10**9 would ask the OS for a billion threads)."""
    from . import _checks

    fn = "set_num_threads"
    n = _checks.integer(n, fn, "n")
    if n < 1:
        raise _checks.fail(fn, f"n {n} must be a positive number of threads")
    limit = max(1024, os.cpu_count() or 1)
    _checks.at_most(n, limit, fn, "n", "more threads than CPUs only take turns")
    global _num_threads, _pool
    with _lock:
        _num_threads = n
        if _pool is not None:
            _pool.shutdown(wait=False)
            _pool = None


def _executor(threads: int) -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None or _pool._max_workers != threads:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(threads, thread_name_prefix="upsampling")
        return _pool


@contextlib.contextmanager
def serial():
    """Kernels called by this thread inside the block run on it alone: a Dask task, whose
    scheduler already runs one task per core (the pool would only oversubscribe them)."""
    before = getattr(_serial, "active", False)
    _serial.active = True
    try:
        yield
    finally:
        _serial.active = before


def threads_for(work: int, items: int) -> int:
    """How many threads a call that touches ``work`` elements in ``items`` independent pieces
    uses: one below :data:`_PARALLEL_MIN_WORK` elements per thread (the hand-off to the pool
    costs more than it saves; the call runs on the calling thread), else up to
    :func:`get_num_threads`."""
    if work < 2 * _PARALLEL_MIN_WORK:  # one thread whatever the setting: no need to ask it
        return 1
    return max(1, min(get_num_threads(), items, work // _PARALLEL_MIN_WORK))


def _submit_all(jobs: list) -> None:
    """Run the zero-argument callables ``jobs``, the last on this thread and the others on the
    pool (one hand-off fewer), and wait for all of them; the first error in job order is
    raised once every job has finished (none is left writing)."""
    pool = _executor(get_num_threads())
    futures = [pool.submit(job) for job in jobs[:-1]]
    own = None
    try:
        jobs[-1]()
    except BaseException as e:  # (KeyboardInterrupt too: the others are waited for first)
        own = e
    errors = [f.exception() for f in futures] + [own]
    for e in errors:
        if e is not None:
            raise e


def run_planes(kernel, planes: int, work: int, *args) -> None:
    """Call ``kernel(start, stop, *args)`` over ``range(planes)``, split across threads.

    ``work`` is the number of elements the whole call touches; small calls stay on this thread.
    """
    threads = threads_for(work, planes)
    if threads <= 1:
        kernel(0, planes, *args)
        return
    bounds = np.linspace(0, planes, threads + 1).round().astype(np.int64)
    _submit_all(
        [
            functools.partial(kernel, int(a), int(b), *args)
            for a, b in itertools.pairwise(bounds)
            if b > a
        ]
    )


def run_blocks(call, planes: int, rows: int, work: int, block_rows: int = 0) -> None:
    """Call ``call(p0, p1, r0, r1)`` (planes ``p0 <= p < p1``, rows ``r0 <= r < r1`` of each)
    so that every (plane, row) pair is covered once, split across threads.

    Planes go to threads whole while there are at least as many planes as threads; with fewer,
    each plane is also cut into blocks of rows (about four blocks per thread when the planes
    do not divide evenly, so that no thread waits long on another). ``block_rows`` (if > 0)
    caps the rows of one call whatever the threads, so that a call's temporaries stay in
    cache. The caller's results must not depend on the split (each element computed whole by
    one call): then they are the same bit for bit for every thread count. Small calls
    (``work`` elements) stay on this thread.
    """
    threads = threads_for(work, planes * rows)
    if threads <= 1 and block_rows <= 0:  # small work: on this thread, in one call
        call(0, planes, 0, rows)
        return
    blocks = -(-rows // block_rows) if block_rows > 0 and rows > block_rows else 1
    if 1 < threads and planes < threads:
        wanted = -(-threads // planes)
        if (planes * wanted) % threads:
            wanted = -(-4 * threads // planes)
        blocks = max(blocks, wanted)
    blocks = min(blocks, rows)
    if blocks <= 1 or planes == 0:
        if threads <= 1 or planes == 0 or rows == 0:
            call(0, planes, 0, rows)
            return
        bounds = np.linspace(0, planes, threads + 1).round().astype(np.int64)
        jobs = [
            functools.partial(call, int(a), int(b), 0, rows)
            for a, b in itertools.pairwise(bounds)
            if b > a
        ]
        _submit_all(jobs)
        return
    cuts = np.linspace(0, rows, blocks + 1).round().astype(np.int64).tolist()
    items = [(p, a, b) for p in range(planes) for a, b in itertools.pairwise(cuts) if b > a]

    def job(lo: int, hi: int) -> None:
        for p, a, b in items[lo:hi]:
            call(p, p + 1, a, b)

    if threads <= 1:
        job(0, len(items))
        return
    bounds = np.linspace(0, len(items), threads + 1).round().astype(np.int64)
    _submit_all(
        [functools.partial(job, int(a), int(b)) for a, b in itertools.pairwise(bounds) if b > a]
    )
