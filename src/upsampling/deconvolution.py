"""Deconvolution: the true inverse of :func:`upsampling.conv`.

:func:`deconvolve` finds the input of a convolution from its output, matrix-free: the
convolution is a :class:`scipy.sparse.linalg.LinearOperator` whose adjoint is
:func:`upsampling.conv_transpose` (the transposed convolution is the
transpose of the convolution matrix, not its inverse), solved by LSQR or by conjugate gradients
on the normal equations; ``method="direct"`` factorises :func:`upsampling.conv_matrix` instead.
Image deblurring with a point-spread function lives in :mod:`upsampling.deblur` (re-exported
here).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from . import _backend, _checks, shapes
from ._typing import AnyArray, Array, ConvPadding, DeconvolveMethod, IntOrInts
from .conv import conv, conv_matrix, conv_transpose
from .deblur import deblur, estimate_noise

__all__ = ["deblur", "deconvolve", "estimate_noise"]

METHODS = ("lsqr", "cg", "direct")
# "direct" falls back to a dense SVD when its normal matrix is singular; pivots below this
# fraction of the largest count as zero.
_SINGULAR = 1e-11
# Beyond this many unknowns that dense SVD takes minutes (64x64 on two cores: about two): warn.
_DENSE_WARN = 2048


class _Problem:
    """The convolution of one batch item as a linear map ``R^(C_in prod(n)) -> R^(C_out prod(o))``.

    ``pads`` are (before, after) per dim; the input is padded explicitly, so the map and its
    adjoint (a transposed convolution, cropped) also cover the asymmetric ``padding="same"``.
    """

    def __init__(self, weight, in_size, out_size, stride, dilation, pads, groups, padding):
        self.weight, self.stride, self.dilation, self.groups = weight, stride, dilation, groups
        self.padding = padding  # as the user gave it (for conv_matrix)
        self.in_shape = (weight.shape[1] * groups, *in_size)
        self.out_shape = (weight.shape[0], *out_size)
        self.pads = pads
        self.padded = tuple(n + b + a for n, (b, a) in zip(in_size, pads, strict=True))
        self.crop = tuple(slice(b, b + n) for n, (b, _) in zip(in_size, pads, strict=True))
        self.shape = (math.prod(self.out_shape), math.prod(self.in_shape))

    def forward(self, v: np.ndarray) -> np.ndarray:
        x = np.pad(v.reshape(1, *self.in_shape), ((0, 0), (0, 0), *self.pads))
        y = conv(x, self.weight, None, self.stride, 0, self.dilation, self.groups)
        return y.ravel()

    def adjoint(self, u: np.ndarray) -> np.ndarray:
        y = np.ascontiguousarray(u.reshape(1, *self.out_shape))
        x = conv_transpose(
            y, self.weight, None, self.stride, 0, 0, self.groups, self.dilation,
            output_size=self.padded,
        )  # fmt: skip
        return np.ascontiguousarray(x[(0, slice(None), *self.crop)]).ravel()

    def operator(self, transposed: bool = False):
        import scipy.sparse.linalg as sla

        if transposed:
            return sla.LinearOperator(
                self.shape[::-1], matvec=self.adjoint, rmatvec=self.forward, dtype=np.float64
            )
        return sla.LinearOperator(
            self.shape, matvec=self.forward, rmatvec=self.adjoint, dtype=np.float64
        )

    def matrix(self):
        size = self.in_shape[1:]
        return conv_matrix(
            self.weight, size, self.stride, self.padding, self.dilation, self.groups
        ).astype(np.float64)


# --------------------------------------------------------------------------------- solvers
def _solve(problem: _Problem, rhs: np.ndarray, method, damp, iterations, tol, transposed=False):
    """Solve for each column of ``rhs`` (``(rows, N)``): ``min ||A x - b||^2 + damp^2 ||x||^2``
    with ``A`` the convolution (its adjoint when ``transposed``), minimum norm among ties."""
    import scipy.sparse.linalg as sla

    if method == "direct":
        matrix = problem.matrix()
        return _direct(matrix.T.tocsr() if transposed else matrix, rhs, damp)
    op = problem.operator(transposed)
    out = np.empty((op.shape[1], rhs.shape[1]))
    for i in range(rhs.shape[1]):
        b = rhs[:, i]
        if method == "lsqr":
            x, istop, itn, *_ = sla.lsqr(
                op, b, damp=damp, atol=tol, btol=tol, conlim=0, iter_lim=iterations
            )
            stalled = istop == 7
        else:
            normal = sla.LinearOperator(
                (op.shape[1],) * 2,
                matvec=lambda v: op.rmatvec(op.matvec(v)) + damp**2 * v,
                dtype=np.float64,
            )
            x, info = sla.cg(normal, op.rmatvec(b), rtol=tol, atol=0.0, maxiter=iterations)
            stalled, itn = info > 0, info
        if stalled:
            warnings.warn(
                f"deconvolve: method {method!r} stopped after {itn} iterations before reaching "
                f"tol {tol:g}; pass more iterations or a larger tol",
                RuntimeWarning,
                stacklevel=4,
            )
        out[:, i] = x
    return out


def _direct(matrix, rhs: np.ndarray, damp: float) -> np.ndarray:
    """Sparse LU of the smaller normal matrix (``C^T C`` or ``C C^T``, plus ``damp^2 I``); a
    dense SVD (minimum-norm least squares) where that matrix is singular."""
    import scipy.sparse
    import scipy.sparse.linalg as sla

    m, n = matrix.shape
    tall = m >= n
    gram = (matrix.T @ matrix if tall else matrix @ matrix.T).tocsc()
    gram = gram + damp**2 * scipy.sparse.identity(gram.shape[0], format="csc")
    try:
        lu = sla.splu(gram)
        pivots = np.abs(lu.U.diagonal())
        singular = not pivots.size or pivots.min() <= _SINGULAR * pivots.max()
    except RuntimeError:  # exactly singular
        singular = True
    if not singular:
        return lu.solve(matrix.T @ rhs) if tall else matrix.T @ lu.solve(rhs)
    _checks.fits_in_ram(
        8 * m * n * 3, "deconvolve", f"method 'direct' (a dense SVD of a {m}x{n} matrix)"
    )
    if n > _DENSE_WARN:
        warnings.warn(
            f"deconvolve: method 'direct' found the normal matrix singular (damp 0) and falls "
            f"back to a dense SVD of a {m}x{n} matrix, which is slow at this size; damp > 0 "
            f"keeps it sparse, method 'lsqr' gives the same minimum-norm solution matrix-free",
            RuntimeWarning,
            stacklevel=5,  # the caller of deconvolve (through _numpy_solve and _solve)
        )
    dense = matrix.toarray()
    if damp > 0:  # min ||C x - b||^2 + damp^2 ||x||^2 as one least-squares problem
        dense = np.vstack([dense, damp * np.eye(n)])
        rhs = np.vstack([rhs, np.zeros((n, rhs.shape[1]))])
    return np.linalg.lstsq(dense, rhs, rcond=None)[0]


# ----------------------------------------------------------------------------------- checks
def _arguments(y, weight, input_size, stride, padding, dilation, groups, method, damp, it, tol):
    fn = "deconvolve"
    nd = _checks.array(y, fn, "y", dtypes=_checks.FLOAT_DTYPES)
    groups, shape = _checks.conv_weight(fn, weight, groups, y, name="y", output=True)
    kernel = shape[2:]
    _, stride, dilation = shapes.conv_arguments(nd, kernel, stride, dilation, fn)
    pads = shapes.conv_padding(padding, kernel, stride, dilation, fn)
    out = tuple(y.shape[2:])
    low, high = shapes.size_range(
        shapes.conv_transpose_sizes(out, kernel, stride, pads, dilation), stride
    )
    if input_size is None:
        size = low
    else:
        size = _checks.positive(_checks.ntuple(input_size, nd, fn, "input_size"), fn, "input_size")
    if shapes.conv_sizes(size, kernel, stride, pads, dilation, fn) != out:
        raise _checks.fail(
            fn,
            f"input_size {size} does not give y's spatial size {out} with kernel {kernel}, "
            f"stride {stride}, padding {padding!r} and dilation {dilation}: each size must lie "
            f"between {low} and {high}",
        )
    method = _checks.choice(method, METHODS, fn, "method")
    damp = _checks.finite_float(damp, fn, "damp")
    if damp < 0:
        raise _checks.fail(fn, f"damp {damp!r} must be non-negative")
    if it is not None:
        it = _checks.iterations(it, fn)
    tol = _checks.finite_float(tol, fn, "tol")
    if not 0 < tol < 1:
        raise _checks.fail(fn, f"tol {tol!r} must lie strictly between 0 and 1")
    _checks.fits_in_memory((y.shape[0], shape[1] * groups, *size), 8, fn)
    return size, stride, dilation, pads, groups, method, damp, it, tol


def _host(a) -> np.ndarray:
    """A float64 NumPy copy of an array or tensor (tensors detached, on the CPU)."""
    if _backend.is_tensor(a):
        a = a.detach().cpu()
        a = a.double().numpy()
    return np.asarray(a, dtype=np.float64)


# ------------------------------------------------------------------------------ public API
def deconvolve(
    y: Array,
    weight: AnyArray,
    input_size: IntOrInts | None = None,
    *,
    stride: IntOrInts = 1,
    padding: ConvPadding = 0,
    dilation: IntOrInts = 1,
    groups: int = 1,
    method: DeconvolveMethod = "lsqr",
    damp: float = 0.0,
    iterations: int | None = None,
    tol: float = 1e-6,
) -> Array:
    r"""The input of a convolution, from its output: the true inverse of :func:`upsampling.conv`.

    Returns the ``x`` minimising :math:`\|\mathrm{conv}(x) - y\|^2 + \mathrm{damp}^2\|x\|^2`
    for each batch item, the one of least norm among ties.

    Parameters
    ----------
    y : numpy.ndarray or torch.Tensor, shape ``(N, C_out, *out)``
        The convolution's output (no bias: subtract it first); 1 to 3 spatial dims; float16
        (torch only), bfloat16 (torch only), float32 or float64.
    weight : same kind, float, shape ``(C_out, C_in / groups, *kernel_size)``
        The convolution's weight, as for :func:`upsampling.conv`.
    input_size : int or tuple of int, optional
        The spatial size of ``x``. Default: the smallest size whose convolution has ``y``'s
        size, ``(o - 1) * stride - pad_before - pad_after + dilation * (k - 1) + 1`` per dim;
        any size up to ``stride - 1`` larger also gives ``y``'s size (the extra entries are
        read by no output: they come back as zero, the least-norm choice).
    stride, padding, dilation, groups
        As :func:`upsampling.conv` (``padding`` may be "same" or "valid").
    method : {"lsqr", "cg", "direct"}
        ``"lsqr"``: LSQR (Paige and Saunders) on the matrix-free operator, ``conv`` forward and
        ``conv_transpose`` as its adjoint. ``"cg"``: conjugate gradients on the normal
        equations :math:`(A^T A + \mathrm{damp}^2 I)\,x = A^T y` with the same operator.
        ``"direct"``: sparse LU of the smaller of :math:`C^T C + \mathrm{damp}^2 I` and
        :math:`C C^T + \mathrm{damp}^2 I` (:math:`C` from :func:`upsampling.conv_matrix`),
        factorised once for the whole batch; a dense SVD where that matrix is singular. For
        small problems: it squares the condition number and builds the matrix.
    damp : float, non-negative
        Tikhonov damping; 0 gives the least-squares solution.
    iterations : int, optional
        Iteration limit of ``"lsqr"`` (default ``2 * C_in * prod(input_size)``) and ``"cg"``
        (default 10 times that); a ``RuntimeWarning`` says when it is reached before ``tol``.
        At most 100,000 (``upsampling._checks.MAX_ITERATIONS``: 100,000 iterations take
        minutes on a 256x256 problem).
    tol : float in (0, 1)
        ``"lsqr"``: its ``atol`` and ``btol`` (relative residual and normal-equation residual);
        ``"cg"``: the relative residual of the normal equations.

    Returns
    -------
    Same kind, dtype and device as ``y``, shape ``(N, C_in, *input_size)``. The solution is
    computed in float64 on the CPU (tensors through NumPy) and cast back. Tensors are
    differentiable with respect to ``y``: the gradient is the same solve with the adjoint
    operator (``weight`` gets no gradient).

    Raises
    ------
    TypeError
        Not arrays, mixed kinds, integer dtypes, non-int sizes, non-real ``damp`` or ``tol``.
    ValueError
        Mismatched channels or groups, an ``input_size`` that does not give ``y``'s size,
        non-finite values, negative ``damp``, ``tol`` outside (0, 1), ``iterations`` not
        between 1 and 100,000, an unknown method.

    Notes
    -----
    Which answer comes back:

    * ``conv`` injective (no two inputs give the same output; for generic weights e.g. stride
      1 with padding of at least ``dilation * (k - 1)``, "same" padding of a diagonally
      dominant kernel, or windows that tile the input with at least ``C_in * prod(k)`` output
      channels) and ``damp = 0``: exactly the input, :math:`x = (A^T A)^{-1} A^T y`, to the
      solver's tolerance.
    * Not injective (fewer outputs than inputs, as a "valid" convolution with no more output
      than input channels; a stride larger than the kernel, which skips inputs): only
      approximately. Of all inputs with this output, the one of least norm,
      :math:`x = A^+ y`: it has no component that ``conv`` cannot see.
    * ``damp > 0``: :math:`x = (A^T A + \mathrm{damp}^2 I)^{-1} A^T y`, always unique.

    Conventions: layout ``(N, C, *spatial)``, the convolution as :func:`upsampling.conv`
    (cross-correlation, zero padding), its adjoint as :func:`upsampling.conv_transpose`.

    References
    ----------
    C. C. Paige and M. A. Saunders, "LSQR: an algorithm for sparse linear equations and sparse
    least squares", ACM TOMS 8(1), 1982.

    Examples
    --------
    A 3x3 convolution with padding 2 is injective: the input comes back.

    >>> import numpy as np, upsampling as up
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> w = np.array([[[[1.0, 2.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]]]])
    >>> y = up.conv(x, w, padding=2)
    >>> bool(np.allclose(deconvolve(y, w, padding=2, tol=1e-12), x))
    True

    A 3x3 kernel on a 4x4 input (no padding) keeps 4 of 16 numbers: the least-norm input that
    gives the same 2x2 output.

    >>> y = up.conv(x, w)
    >>> x_hat = deconvolve(y, w, method="direct")
    >>> x_hat.shape, bool(np.allclose(up.conv(x_hat, w), y))
    ((1, 1, 4, 4), True)
    """
    fn = "deconvolve"
    y, weight = _checks.native(y, fn, "y"), _checks.native(weight, fn, "weight")
    size, stride, dilation, pads, groups, method, damp, iterations, tol = _arguments(
        y, weight, input_size, stride, padding, dilation, groups, method, damp, iterations, tol
    )
    w = _host(weight)
    if not np.isfinite(w).all():
        raise _checks.fail(fn, "weight contains NaN or inf; all values must be finite")
    problem = _Problem(w, size, tuple(y.shape[2:]), stride, dilation, pads, groups, padding)
    args = (method, damp, iterations, tol)
    if _backend.is_tensor(y):
        return _autograd().apply(y, problem, args)
    return _numpy_solve(y, problem, args, fn).astype(y.dtype, copy=False)


def _numpy_solve(y, problem: _Problem, args, fn: str, transposed: bool = False) -> np.ndarray:
    rhs = _host(y)
    if not np.isfinite(rhs).all():
        name = "the gradient" if transposed else "y"
        raise _checks.fail(fn, f"{name} contains NaN or inf; all values must be finite")
    n = rhs.shape[0]
    shape = problem.out_shape if transposed else problem.in_shape
    if n == 0:
        return np.zeros((0, *shape))
    x = _solve(problem, rhs.reshape(n, -1).T, *args, transposed=transposed)
    return np.ascontiguousarray(x.T).reshape(n, *shape)


_FUNCTION = None


def _autograd():
    r"""The ``torch.autograd.Function`` of :func:`deconvolve` (built on first use: only tensors
    need torch). Its backward is the least-squares solve with the adjoint operator: for
    :math:`x = B y` with :math:`B = (A^T A + \delta^2 I)^{-1} A^T` (or :math:`A^+`),
    :math:`B^T g` minimises :math:`\|A^T z - g\|^2 + \delta^2 \|z\|^2` (least norm)."""
    global _FUNCTION
    if _FUNCTION is None:
        import torch

        class Deconvolve(torch.autograd.Function):
            @staticmethod
            def forward(ctx, y, problem, args):
                ctx.problem, ctx.args = problem, args
                x = _numpy_solve(y, problem, args, "deconvolve")
                return torch.from_numpy(x).to(device=y.device, dtype=y.dtype)

            @staticmethod
            def backward(ctx, grad):
                g = _numpy_solve(grad, ctx.problem, ctx.args, "deconvolve", transposed=True)
                return torch.from_numpy(g).to(device=grad.device, dtype=grad.dtype), None, None

        _FUNCTION = Deconvolve
    return _FUNCTION
