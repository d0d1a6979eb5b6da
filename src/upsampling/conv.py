"""Convolution and transposed convolution: the seed's "Transposed Convolution", computed every
way the seed explains it (direct scatter, zero insertion, sub-pixel phases, the transposed
convolution matrix), plus the convolution matrix itself and the checkerboard count.

The public functions normalise their arguments (sizes through :mod:`upsampling.shapes`), then
hand NumPy arrays to the workers of :mod:`upsampling._kernels.conv` (im2col + BLAS) and tensors
to :mod:`upsampling.nn._conv_ops` (the same algorithms in differentiable PyTorch operations).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from . import _backend, _checks, shapes
from ._kernels import conv as _k
from ._typing import (
    AnyArray,
    ArrayOrDask,
    ConvPadding,
    ConvTransposeMethod,
    ConvTransposePadding,
    IntOrInts,
)
from .pixel_shuffle import pixel_shuffle, pixel_unshuffle
from .spec import _compiling

if TYPE_CHECKING:
    import numpy.typing as npt
    import scipy.sparse

__all__ = [
    "checkerboard",
    "conv",
    "conv_matrix",
    "conv_transpose",
    "pixel_shuffle",
    "pixel_unshuffle",
]

# conv_transpose's methods, each with its NumPy worker (they share one signature; the tensor
# versions are in upsampling.nn._conv_ops): the one list of the method names.
_NUMPY_WORKERS = {
    "auto": _k.transpose_subpixel,
    "scatter": _k.transpose_scatter,
    "zero_insertion": _k.transpose_zero_insertion,
    "subpixel": _k.transpose_subpixel,
    "matrix": _k.transpose_matrix,
}
METHODS = tuple(_NUMPY_WORKERS)


def _gemm_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype of NumPy's GEMMs for ``dtype``: float32 for float16 (which BLAS lacks), int64
    for an integer dtype (its sums wrap modulo 2**64; cast back, they wrap modulo the dtype's
    range: exactly PyTorch's integer convolution, whose arithmetic wraps in the dtype)."""
    if dtype.kind in "iu":
        return np.dtype(np.int64)
    return np.dtype(np.float32) if dtype == np.float16 else dtype


# ------------------------------------------------------------------------------ argument checks
def _check_matrix_method(x, weight, groups, stride, dilation, out_size, fn) -> None:
    """The matrix method stores, per output element, its products with every input it reads;
    on tensors its entries three ways (by output, by input, by weight tap: an index pair each,
    for the gathering backward) with three such buffers at once in the backward."""
    n, c_in = x.shape[:2]
    c_og, *kernel = weight.shape[1:]
    m = c_og * groups * math.prod(out_size)
    width = (
        c_in
        // groups
        * math.prod(
            -(-k * math.gcd(s, d) // s) for k, s, d in zip(kernel, stride, dilation, strict=True)
        )
    )
    ways = 3 if _backend.is_tensor(x) else 1
    _checks.fits_in_ram(
        m * width * ways * (2 * _k.INDEX_BYTES + (n + 1) * _backend.itemsize(x)),
        fn,
        f"method 'matrix' for an output of shape {(n, c_og * groups, *out_size)}",
    )


# ---------------------------------------------------------------------------- public functions
def conv(
    x: ArrayOrDask,
    weight: AnyArray,
    bias: AnyArray | None = None,
    stride: IntOrInts = 1,
    padding: ConvPadding = 0,
    dilation: IntOrInts = 1,
    groups: int = 1,
) -> ArrayOrDask:
    r"""Convolution (cross-correlation), exactly as ``torch.nn.functional.conv{1,2,3}d``.

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor, shape ``(N, C_in, *spatial)``
        One to three spatial dims; float32 or float64 (float16 and bfloat16 on torch; a NumPy
        float16 array is computed in float32); or, as PyTorch's CPU convolution, uint8, int8,
        int16, int32 or int64 (arrays and CPU tensors), computed in integer arithmetic that
        wraps around on overflow as PyTorch's does (not saturated: parity with PyTorch). With
        a dilation, where PyTorch 2.13 takes int64 only, the narrower ones are computed in
        int64 and wrapped back: the same rule.
    weight : same kind and dtype, shape ``(C_out, C_in / groups, *kernel_size)``
    bias : same kind and dtype, shape ``(C_out,)``, optional
    stride, dilation : int or tuple of int, positive
    padding : int, tuple of int, "same" or "valid"
        Zeros added on both sides; "same" (stride 1 only) keeps the size, the odd remainder of
        ``dilation * (k - 1)`` going after.
    groups : int
        Splits the channels into independent convolutions; divides ``C_in`` and ``C_out``.

    Returns
    -------
    Same kind, dtype and device as ``x``, shape ``(N, C_out, *out)`` with ``out`` from
    :func:`upsampling.shapes.conv_output_size`.

    Raises
    ------
    TypeError
        Not arrays, mixed kinds, mismatched or unsupported dtypes (the message names the
        allowed ones), an integer tensor off the CPU, non-int sizes.
    ValueError
        Wrong weight rank, channels that do not match ``groups``, a weight without output
        channels (as PyTorch; an ``x`` without channels is taken, as PyTorch takes it),
        non-positive stride or dilation, negative padding, "same" with a stride, or an empty
        output.

    Notes
    -----
    Conventions: layout ``(N, C, *spatial)``; no kernel flip.

    .. math:: y[n, o, p] = b[o] + \sum_{c, j} w[o, c, j]\, x[n, g(o) + c, p s - \text{pad} + j d]

    NumPy arrays: im2col and one BLAS GEMM per image. Tensors: PyTorch's own convolution.

    Examples
    --------
    >>> import numpy as np, upsampling as up
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> up.conv(x, np.ones((1, 1, 3, 3)))[0, 0]
    array([[45., 54.],
           [81., 90.]])
    """
    x, weight = _checks.native(x, "conv"), _checks.native(weight, "conv", "weight")
    bias = _checks.native(bias, "conv", "bias")
    if _backend.is_dask(x):
        return _backend.dask_ops().conv(**locals())
    fn = "conv"
    nd, groups, c_out = _checks.conv_operands(fn, x, weight, bias, groups, transposed=False)
    kernel = _backend.shape(weight)[2:]
    _, stride, dilation = shapes.conv_arguments(nd, kernel, stride, dilation, fn)
    pads = shapes.conv_padding(padding, kernel, stride, dilation, fn)
    out = shapes.conv_sizes(_backend.shape(x)[2:], kernel, stride, pads, dilation, fn)
    host = _checks.on_host(x)
    _checks.fits_in_memory((x.shape[0], c_out, *out), _backend.itemsize(x), fn, host=host)
    if _backend.is_tensor(x):
        torch_padding = padding if isinstance(padding, str) else tuple(b for b, _ in pads)
        return _backend.torch_ops("conv").conv(
            x, weight, bias, stride, torch_padding, dilation, groups
        )
    dtype = _gemm_dtype(x.dtype)
    y = _k.correlate(
        _k.pad(x.astype(dtype, copy=False), pads),
        weight.astype(dtype, copy=False),
        stride,
        dilation,
        groups,
        bias,
    )
    return y.astype(x.dtype, copy=False)


def conv_transpose(
    x: ArrayOrDask,
    weight: AnyArray,
    bias: AnyArray | None = None,
    stride: IntOrInts = 1,
    padding: ConvTransposePadding = 0,
    output_padding: IntOrInts = 0,
    groups: int = 1,
    dilation: IntOrInts = 1,
    *,
    output_size: Sequence[int] | None = None,
    method: ConvTransposeMethod = "auto",
) -> ArrayOrDask:
    r"""Transposed convolution, exactly as ``torch.nn.functional.conv_transpose{1,2,3}d``.

    Parameters
    ----------
    x, bias, stride, dilation
        As :func:`conv`, except that the only integer dtype is int64 (the only one PyTorch's
        CPU ``conv_transpose{1,2,3}d`` takes), with every method; its sums wrap around on
        overflow, as PyTorch's.
    weight : same kind and dtype as ``x``, shape ``(C_in, C_out / groups, *kernel_size)``
    padding : int, tuple of int, or "same"
        Entries cut from both ends of the full result. "same" gives ``spatial * stride``,
        the total padding ``dilation * (k - 1) + 1 - stride`` split as ONNX ``SAME_UPPER``
        (its reference implementation: the odd remainder at the end, floor division for a
        negative total, which then adds zeros at the start).
    output_padding : int or tuple of int
        Entries added at the end, each smaller than ``max(stride, dilation)``.
    groups : int
        Divides ``C_in``; the output has ``C_out = weight.shape[1] * groups`` channels.
    output_size : tuple of int, keyword-only
        The output's spatial size (or full shape), as ``torch.nn.ConvTranspose{1,2,3}d``'s
        ``forward`` takes it: any size from the default (``output_padding`` 0) to
        ``stride - 1`` more; it overrides ``output_padding``.
    method : {"auto", "scatter", "zero_insertion", "subpixel", "matrix"}, keyword-only
        How to compute it; all give the same result within float tolerance:

        - ``"scatter"``, the direct method: each input value times the kernel, added into the
          output at stride steps (one GEMM, then one strided add per kernel tap);
        - ``"zero_insertion"``: ``stride - 1`` zeros between the inputs, padding of
          ``dilation * (k - 1) - padding``, then an ordinary convolution with the flipped
          kernel (most of its products are with inserted zeros);
        - ``"subpixel"``: one small stride-1 convolution per output phase (the output
          positions ``o`` with the same ``(o + padding) % stride``), using only the taps that
          reach that phase, interleaved; phases that read the same input windows share one
          GEMM;
        - ``"matrix"``: the transpose of :func:`conv_matrix`'s matrix times the input (small
          problems; refused, naming the bytes, when it would not fit in memory);
        - ``"auto"``: ``"subpixel"`` for NumPy arrays; for tensors PyTorch's own kernel
          (``torch.nn.functional.conv_transpose{1,2,3}d``: oneDNN on CPU, cuDNN on CUDA),
          except 2-D CPU inference on one or two threads (``torch.get_num_threads() <= 2``,
          no gradient wanted, float32/float64, stride above 1, a kernel longer than the stride
          along some axis, at least 32x32 input pixels), where ``"subpixel"`` is faster.

    Returns
    -------
    As :func:`conv`, with ``out`` from :func:`upsampling.shapes.conv_transpose_output_size`.

    Raises
    ------
    TypeError
        As :func:`conv`.
    ValueError
        As :func:`conv` (here ``C_in`` must match ``x`` and be divisible by ``groups``); also
        ``output_padding`` not smaller than stride or dilation, ``output_size`` out of range,
        an unknown method, an ``x`` without channels (as PyTorch).

    Notes
    -----
    Conventions: layout ``(N, C, *spatial)``; the adjoint of :func:`conv` with the same weight
    and arguments (``<conv(x), y> = <x, conv_transpose(y)>``).

    .. math:: y[n, g(c) + o, i s + j d - \text{pad}] \mathrel{+}= w[c, o, j]\, x[n, c, i]

    Output size per dim: ``(n - 1) * stride - 2 * padding + dilation * (k - 1)
    + output_padding + 1``. Tensors are differentiable in ``x``, ``weight`` and ``bias`` with
    every method (autograd through PyTorch operations).

    Examples
    --------
    The seed's example: kernel 3, stride 2 on a 2x2 input gives 5x5.

    >>> import numpy as np, upsampling as up
    >>> y = up.conv_transpose(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3)), stride=2)
    >>> y.shape
    (1, 1, 5, 5)
    >>> y[0, 0]
    array([[1., 1., 2., 1., 1.],
           [1., 1., 2., 1., 1.],
           [2., 2., 4., 2., 2.],
           [1., 1., 2., 1., 1.],
           [1., 1., 2., 1., 1.]])
    >>> bool(np.allclose(y, up.conv_transpose(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3)),
    ...                                       stride=2, method="zero_insertion")))
    True
    """
    x = _checks.native(x, "conv_transpose")
    weight = _checks.native(weight, "conv_transpose", "weight")
    bias = _checks.native(bias, "conv_transpose", "bias")
    if _backend.is_dask(x):
        return _backend.dask_ops().conv_transpose(**locals())
    options = (stride, padding, output_padding, groups, dilation, output_size, method)
    key = _call_key(x, weight, bias, options)
    try:
        found = _TRANSPOSE_CALLS.get(key) if key is not None else None
    except TypeError:  # a symbolic size (make_fx's symbolic tracing): not a key
        key = found = None
    if found is None:
        method, args = _transpose_arguments(x, weight, bias, *options)
        ops = _backend.torch_ops("conv") if key is not None else None
        # eager tensor calls that PyTorch's own kernel computes: that call, prepared
        prepared = getattr(ops, "torch_kernel_call", None)
        fast = None if prepared is None else prepared(x, weight, bias, *args, method)
        found = method, args, fast
        if key is not None:
            if len(_TRANSPOSE_CALLS) >= 256:
                _TRANSPOSE_CALLS.clear()
            _TRANSPOSE_CALLS[key] = found
    method, args, fast = found
    if _backend.is_tensor(x):
        if fast is not None:  # (never inside a trace: no key there)
            return fast(x, weight, bias)
        return _backend.torch_ops("conv").conv_transpose(x, weight, bias, *args, method)
    dtype = _gemm_dtype(x.dtype)
    xc, wc = x.astype(dtype, copy=False), weight.astype(dtype, copy=False)
    return _NUMPY_WORKERS[method](xc, wc, bias, *args).astype(x.dtype, copy=False)


def _transpose_arguments(
    x, weight, bias, stride, padding, output_padding, groups, dilation, output_size, method
) -> tuple[str, tuple]:
    """:func:`conv_transpose`'s checks and geometry: the method and the workers' arguments."""
    fn = "conv_transpose"
    nd, groups, _ = _checks.conv_operands(fn, x, weight, bias, groups, transposed=True)
    method = _checks.choice(method, METHODS, fn, "method")
    kernel = _backend.shape(weight)[2:]
    _, stride, dilation = shapes.conv_arguments(nd, kernel, stride, dilation, fn)
    size = _backend.shape(x)[2:]
    offset, out = shapes.conv_transpose_geometry(
        size, kernel, stride, padding, output_padding, dilation, output_size, fn
    )
    out_shape, host = (x.shape[0], weight.shape[1] * groups, *out), _checks.on_host(x)
    _checks.fits_in_memory(out_shape, _backend.itemsize(x), fn, host=host)
    if method == "matrix":
        _check_matrix_method(x, weight, groups, stride, dilation, out, fn)
    return method, (stride, dilation, groups, offset, out)


# the checked arguments of recent calls, by what they depend on (kind, shape, dtype and device
# of each operand, the options with their types): a small call would spend most of its time
# checking the same arguments again
_TRANSPOSE_CALLS: dict[tuple, tuple] = {}
_PLAIN_OPTIONS = frozenset({type(None), bool, int, str})


def _tracing() -> bool:
    """Inside a ``torch.jit`` trace (an ONNX export among them), whose path is the ops'."""
    return sys.modules["torch"].jit.is_tracing()


def _operand(a) -> tuple:
    """What a call's checks depend on of a tensor or array operand."""
    return type(a), tuple(a.shape), a.dtype, a.device


def _call_key(x, weight, bias, options: tuple) -> tuple | None:
    """The cache key of a tensor call, or None (NumPy or Dask input, an option that is not a
    plain int, str or tuple of ints, inside a ``torch.compile`` or ``torch.jit`` trace, whose
    sizes may be traced values)."""
    if not _backend.is_tensor(x) or _compiling() or _tracing():
        return None
    kinds = tuple(map(type, options))
    for o, kind in zip(options, kinds, strict=True):  # (a loop: cheaper than generators)
        if kind not in _PLAIN_OPTIONS and not (
            kind is tuple and _PLAIN_OPTIONS.issuperset(map(type, o))
        ):
            return None
    operands = (_operand(x), _operand(weight), None if bias is None else _operand(bias))
    return operands, options, kinds  # (unhashable with a symbolic size: the lookup says so)


def conv_matrix(
    weight: AnyArray,
    input_size: IntOrInts,
    stride: IntOrInts = 1,
    padding: ConvPadding = 0,
    dilation: IntOrInts = 1,
    groups: int = 1,
) -> scipy.sparse.csr_matrix:
    r"""The convolution as a sparse matrix: ``conv(x)[n].ravel() == C @ x[n].ravel()``.

    Parameters
    ----------
    weight : numpy.ndarray or torch.Tensor, shape ``(C_out, C_in / groups, *kernel_size)``
        A tensor is detached and copied to the CPU.
    input_size : int or tuple of int
        The spatial size of the convolution's input (one entry per kernel dim).
    stride, padding, dilation, groups
        As :func:`conv` (``padding`` may be "same" or "valid").

    Returns
    -------
    scipy.sparse.csr_matrix, shape ``(C_out * prod(out), C_in * prod(input_size))``
        In ``weight``'s dtype (float32 for float16 and bfloat16). Rows index the flattened
        ``(C_out, *out)`` output, columns the flattened ``(C_in, *input_size)`` input.

    Raises
    ------
    TypeError, ValueError
        As :func:`conv`; also a matrix that would not fit in memory (the message names its
        bytes).

    Notes
    -----
    ``C.T`` is the transposed convolution: ``C.T @ y[n].ravel()`` equals
    ``conv_transpose(y, weight, stride=stride, padding=padding, dilation=dilation,
    groups=groups)[n].ravel()`` when ``input_size`` is that transposed convolution's output
    size. Row ``(o, p)`` holds ``w[o, c, j]`` at column ``(g(o) + c, p s - pad + j d)``.

    Examples
    --------
    The seed's 4x16 matrix: a 3x3 kernel on a 4x4 input (stride 1, no padding).

    >>> import numpy as np, upsampling as up
    >>> w = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    >>> c = up.conv_matrix(w, (4, 4))
    >>> c.shape
    (4, 16)
    >>> c.toarray().astype(int)
    array([[1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0, 0],
           [0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0],
           [0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0],
           [0, 0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9]])
    >>> c.T.shape  # the transposed convolution: 2x2 in, 4x4 out
    (16, 4)
    """
    fn = "conv_matrix"
    weight = _checks.native(weight, fn, "weight")
    groups, shape = _checks.conv_weight(fn, weight, groups)
    nd, kernel = len(shape) - 2, shape[2:]
    if _backend.is_tensor(weight):
        weight = weight.detach().cpu()
        if _backend.dtype_name(weight) in _checks.HALF_DTYPES:
            weight = weight.float()
        weight = weight.numpy()
    weight = weight.astype(_gemm_dtype(weight.dtype), copy=False)
    size = shapes.spatial_size(input_size, fn)
    if len(size) == 1 and nd > 1:
        size = size * nd
    if len(size) != nd:
        raise _checks.fail(fn, f"input_size {size} must have {nd} entries, one per kernel dim")
    _, stride, dilation = shapes.conv_arguments(nd, kernel, stride, dilation, fn)
    pads = shapes.conv_padding(padding, kernel, stride, dilation, fn)
    out = shapes.conv_sizes(size, kernel, stride, pads, dilation, fn)
    return _k.sparse_matrix(
        weight, size, out, stride, dilation, tuple(b for b, _ in pads), groups, fn
    )


def checkerboard(
    kernel_size: IntOrInts, stride: IntOrInts, dilation: IntOrInts = 1, *, dims: int | None = None
) -> npt.NDArray[np.int64]:
    r"""How many kernel taps reach each output phase of a transposed convolution.

    In the steady state (away from the borders) output position ``o`` of a transposed
    convolution receives one product per tap ``j`` with ``j * dilation % stride ==
    o % stride``; this returns those counts for every phase. Uneven counts are the
    checkerboard artifact (Odena et al., 2016); uniform counts mean none.

    Parameters
    ----------
    kernel_size, stride, dilation : int or tuple of int, positive
    dims : int, optional, keyword-only
        Number of spatial dims; default the length of the tuples given, or 1 if all are ints.

    Returns
    -------
    numpy.ndarray of int64, shape ``stride``
        ``counts[r_1, ..., r_d]``, the product of the per-dim counts.

    Examples
    --------
    >>> import upsampling as up
    >>> up.checkerboard((3, 3), (2, 2))
    array([[4, 2],
           [2, 1]])
    >>> up.checkerboard((4, 4), (2, 2))
    array([[4, 4],
           [4, 4]])
    >>> up.checkerboard(3, 2, dilation=2)  # dilation 2, stride 2: only even phases get taps
    array([3, 0])
    """
    fn = "checkerboard"
    if dims is None:
        lengths = [
            len(a)
            for a in (kernel_size, stride, dilation)
            if isinstance(a, tuple | list) or (_checks.ndim_of(a) or 0) > 0
        ]
        dims = max(lengths, default=1)
    (dims,) = _checks.positive(_checks.ntuple(dims, 1, fn, "dims"), fn, "dims")
    kernel, stride, dilation = shapes.conv_arguments(dims, kernel_size, stride, dilation, fn)
    _checks.fits_in_memory(stride, 8, fn)
    result = np.ones((), dtype=np.int64)
    for k, s, d in zip(kernel, stride, dilation, strict=True):
        g = math.gcd(d, s)
        period = s // g
        inverse = pow(d // g, -1, period) if period > 1 else 0
        counts = np.zeros(s, dtype=np.int64)
        reached = np.arange(0, s, g, dtype=np.int64)  # phases that some tap can reach
        first = (reached // g) * inverse % period  # the first tap j with j * d = r (mod s)
        counts[reached] = np.where(first < k, (k - 1 - first) // period + 1, 0)
        result = np.multiply.outer(result, counts)
    return result
