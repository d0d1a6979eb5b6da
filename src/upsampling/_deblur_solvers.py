"""The solvers behind :func:`upsampling.deblur`, on ``(planes, *spatial)`` float arrays.

One function per family, all sharing :class:`Domain` (the FFT geometry): :func:`linear`
(Wiener and Tikhonov), :func:`tv` (ADMM; its pixel-wise steps in the numba kernels of
``_kernels/deblur.py`` for up to 3 dims, in NumPy beyond) and :func:`richardson_lucy` (with or
without Dey et al.'s total-variation term). Arguments are already checked by ``deblur``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.fft as sfft

from . import _backend

# iterative methods stop once ||x_k - x_{k-1}|| <= tol ||x_k - mean(x_k)||
_TOL = {"tv": 5e-3, "richardson_lucy_tv": 2e-3}
_FFT_PARALLEL_MIN = 1 << 20
_MAX_ITER = {"tv": 100, "richardson_lucy": 200, "richardson_lucy_tv": 100}
# tv's ADMM: the data penalty, the shrinkage threshold in units of sigma (the gradient penalty
# is lambda / threshold) and the over-relaxation.
_RHO_DATA, _SHRINK, _RELAX = 0.3, 2.0, 1.7


# --------------------------------------------------------------------------------- geometry
@dataclasses.dataclass
class Domain:
    """The grid the solvers work on: the image's trailing ``d`` axes, extended past the frame.

    ``size`` is the image's spatial size, ``ext`` the extended size (``size`` for a periodic
    boundary), ``frame`` the slices of the image inside the extension, ``otf`` the PSF's
    transfer function on ``ext`` (the PSF's centre, element ``(k - 1) // 2``, at the origin).
    """

    size: tuple[int, ...]
    ext: tuple[int, ...]
    frame: tuple[slice, ...]
    otf: np.ndarray
    axes: tuple[int, ...]

    @classmethod
    def build(cls, psf: np.ndarray, size, extend: bool, dtype) -> Domain:
        d = psf.ndim
        if extend:
            ext = tuple(
                sfft.next_fast_len(n + k - 1, real=True)
                for n, k in zip(size, psf.shape, strict=True)
            )
        else:
            ext = tuple(size)
        lo = tuple((e - n) // 2 for e, n in zip(ext, size, strict=True))
        frame = tuple(slice(a, a + n) for a, n in zip(lo, size, strict=True))
        axes = tuple(range(-d, 0))
        return cls(tuple(size), ext, frame, _otf(psf, ext, dtype), axes)

    def fft(self, a: np.ndarray) -> np.ndarray:
        return sfft.rfftn(a, axes=self.axes, workers=_workers(a.size))

    def ifft(self, a: np.ndarray) -> np.ndarray:
        return sfft.irfftn(a, s=self.ext, axes=self.axes, workers=_workers(2 * a.size))

    def blur(self, x: np.ndarray) -> np.ndarray:
        return self.ifft(self.otf * self.fft(x))

    def blur_adjoint(self, x: np.ndarray) -> np.ndarray:
        return self.ifft(np.conj(self.otf) * self.fft(x))

    def inner(self, a: np.ndarray) -> np.ndarray:
        """The frame of an extended array."""
        return a[(Ellipsis, *self.frame)]

    def extend(self, y: np.ndarray) -> np.ndarray:
        """``y`` extended to ``ext`` by symmetric reflection (the starting guess outside)."""
        pads = [(0, 0)] * (y.ndim - len(self.ext))
        pads += [(s.start, e - s.stop) for s, e in zip(self.frame, self.ext, strict=True)]
        return _reflect_pad(y, pads)

    def gradient_symbol(self) -> np.ndarray:
        """``|D(f)|^2`` of the periodic forward-difference gradient on ``ext``."""
        total = 0.0
        d = len(self.ext)
        for i, e in enumerate(self.ext):
            m = e // 2 + 1 if i == d - 1 else e
            shape = [1] * d
            shape[i] = m
            total = total + (4 * np.sin(np.pi * np.arange(m) / e) ** 2).reshape(shape)
        return np.asarray(total, dtype=self.otf.real.dtype)


def _otf(psf: np.ndarray, ext, dtype) -> np.ndarray:
    big = np.zeros(ext, dtype=dtype)
    big[tuple(slice(0, k) for k in psf.shape)] = psf
    centre = tuple(-((k - 1) // 2) for k in psf.shape)
    big = np.roll(big, centre, axis=tuple(range(psf.ndim)))
    return sfft.rfftn(big)


def _reflect_pad(y: np.ndarray, pads) -> np.ndarray:
    """Symmetric padding that also works when a pad is wider than the axis (it repeats)."""
    return np.pad(y, pads, mode="symmetric")


def _workers(size: int) -> int:
    """FFT threads: one below a million elements (threads there cost more than they save)."""
    return 1 if size < _FFT_PARALLEL_MIN else _backend.get_num_threads()


# ---------------------------------------------------------------------------------- solvers
def _per_plane(values: np.ndarray, d: int, dtype) -> np.ndarray:
    """A ``(P,)`` parameter shaped to broadcast against ``(P, *spatial)``."""
    return np.asarray(values, dtype=dtype).reshape(-1, *([1] * d))


def _mirror(y: np.ndarray, d: int) -> np.ndarray:
    """``y`` followed by its reflection along each of the trailing ``d`` axes: a periodic image
    whose period contains no jump (reflective boundary conditions)."""
    for axis in range(y.ndim - d, y.ndim):
        y = np.concatenate([y, np.flip(y, axis=axis)], axis=axis)
    return y


def linear(y, psf, boundary, balance, tikhonov: bool):
    """Wiener (gradient prior) or Tikhonov (identity prior): one division in Fourier space."""
    d = psf.ndim
    work = _mirror(y, d) if boundary == "reflect" else y
    dom = Domain.build(psf, work.shape[-d:], extend=False, dtype=y.dtype)
    spec = dom.fft(work)
    k2 = np.abs(dom.otf) ** 2
    if tikhonov:  # a flat prior on the zero-mean part: the mean is not penalised
        reg = np.ones_like(k2)
        reg[(0,) * d] = 0
    else:
        reg = dom.gradient_symbol()
    beta = _per_plane(balance, d, k2.dtype)
    out = dom.ifft(np.conj(dom.otf) * spec / (k2 + beta * reg))
    return out[(Ellipsis, *(slice(0, n) for n in y.shape[-d:]))]


def _gradient(x: np.ndarray, d: int) -> list[np.ndarray]:
    return [np.roll(x, -1, axis=a) - x for a in range(x.ndim - d, x.ndim)]


def _divergence_adjoint(g: list[np.ndarray], d: int) -> np.ndarray:
    """``D^T g``: the adjoint of :func:`_gradient` (minus the divergence)."""
    nd = g[0].ndim
    out = np.zeros_like(g[0])
    for a, gi in zip(range(nd - d, nd), g, strict=True):
        out += np.roll(gi, 1, axis=a)
        out -= gi
    return out


def tv(y, psf, boundary, lam, sigma, start, iterations, fused=None):
    r"""Total-variation deconvolution by ADMM (Almeida and Figueiredo's boundary-free splitting).

    Minimises :math:`\tfrac12\|M(k * x) - y\|^2 + \lambda \sum |\nabla x|` over ``x`` on the
    extended grid: split ``u0 = k * x`` (its data term is pixel-wise: ``M`` keeps the frame) and
    ``u1 = \nabla x`` (isotropic shrinkage); the ``x`` step is one division in Fourier space.
    The gradient penalty is ``lambda / (2 sigma)``: the shrinkage threshold is twice the noise.
    ``start``: the balance of the Wiener solution it starts from.
    ``fused``: numba kernels for the pixel-wise steps (default for up to 3 PSF dims) or NumPy.
    """
    d = psf.ndim
    dt = y.dtype
    dom = Domain.build(psf, y.shape[-d:], extend=boundary == "reflect", dtype=dt)
    lam = _per_plane(lam, d, dt)
    k = dom.otf
    k2 = (np.abs(k) ** 2).astype(dt)
    dd = dom.gradient_symbol()
    threshold = _SHRINK * _per_plane(sigma, d, dt)
    rho1 = lam / threshold
    a = _RHO_DATA * k2 + rho1 * dd
    c0 = (_RHO_DATA * np.conj(k)) / a
    c1 = (rho1 / a).astype(dt)
    # Start from the Wiener solution of the reflected image.
    xh = np.conj(k) * dom.fft(dom.extend(y)) / (k2 + _per_plane(start, d, dt) * dd)
    x, kx = dom.ifft(xh), dom.ifft(k * xh)
    fused = d <= 3 if fused is None else fused
    stepper = (_TVFused if fused else _TVNumpy)(dom, y, x, kx, c0, c1, threshold)
    steps = iterations or _MAX_ITER["tv"]
    for step in range(steps):
        old = dom.inner(x).copy()
        x = stepper.step()
        # (the first step reproduces the starting point: u and b start consistent with it)
        if iterations is None and step > 0 and _converged(old, dom.inner(x), _TOL["tv"]):
            break
    return dom.inner(x)


class _TVNumpy:
    """One ADMM iteration of :func:`tv` in NumPy (any number of dims)."""

    def __init__(self, dom, y, x, kx, c0, c1, threshold):
        self.dom, self.y, self.c0, self.c1, self.threshold = dom, y, c0, c1, threshold
        self.d = len(dom.ext)
        self.u0, self.b0 = kx, np.zeros_like(kx)
        self.u1 = _gradient(x, self.d)
        self.b1 = [np.zeros_like(x) for _ in self.u1]
        self.r0, self.r1 = self.u0, _divergence_adjoint(self.u1, self.d)

    def step(self) -> np.ndarray:
        dom, d, inner, relax = self.dom, self.d, self.dom.inner, _RELAX
        xh = self.c0 * dom.fft(self.r0)
        xh += self.c1 * dom.fft(self.r1)
        x = dom.ifft(xh)
        # u0 and b0: the relaxed k*x plus the scaled dual; the data term acts on the frame only.
        v = dom.ifft(dom.otf * xh)
        v *= relax
        v += (1 - relax) * self.u0 + self.b0
        self.u0 = v.copy()
        inner(self.u0)[...] = (self.y + _RHO_DATA * inner(v)) / (1 + _RHO_DATA)
        self.b0 = v - self.u0
        self.r0 = self.u0 - self.b0
        # u1 and b1: isotropic shrinkage of the relaxed gradient plus its dual.
        w = _gradient(x, d)
        mag = np.zeros_like(x)
        for wi, ui, bi in zip(w, self.u1, self.b1, strict=True):
            wi *= relax
            wi += (1 - relax) * ui + bi
            mag += wi * wi
        np.sqrt(mag, out=mag)
        shrink = np.maximum(1 - self.threshold / np.maximum(mag, np.finfo(x.dtype).tiny), 0)
        self.u1 = [wi * shrink for wi in w]
        self.b1 = [wi - ui for wi, ui in zip(w, self.u1, strict=True)]
        t = [ui - bi for ui, bi in zip(self.u1, self.b1, strict=True)]
        self.r1 = _divergence_adjoint(t, d)
        return x


class _TVFused:
    """One ADMM iteration of :func:`tv` with the numba kernels of ``_kernels.deblur``
    (``(planes, D, H, W)`` views: up to 3 dims)."""

    def __init__(self, dom, y, x, kx, c0, c1, threshold):
        from ._kernels import deblur as kernels

        self.threshold = np.ascontiguousarray(threshold.reshape(-1), dtype=np.float64)
        self.k, self.dom = kernels, dom
        self.planes = len(y)
        self.d = d = len(dom.ext)
        self.c0 = np.ascontiguousarray(c0.reshape(len(y), -1))
        self.c1 = np.ascontiguousarray(np.broadcast_to(c1, c0.shape).reshape(len(y), -1))
        self.otf = np.ascontiguousarray(dom.otf.reshape(-1))
        self.y = self._view(np.ascontiguousarray(y))
        self.lo = np.array([0] * (3 - d) + [s.start for s in dom.frame], dtype=np.int64)
        self.u0 = np.ascontiguousarray(kx)
        self.b0 = np.zeros_like(self.u0)
        self.r0 = self.u0.copy()
        self.u1 = np.stack(_gradient(x, d))
        self.b1 = np.zeros_like(self.u1)
        self.t = self.u1.copy()
        self.r1 = np.empty_like(self.u0)
        self._run(self.k.tv_adjoint, self._views(self.t), self._view(self.r1))

    def _view(self, a: np.ndarray) -> np.ndarray:
        return a.reshape(self.planes, *([1] * (3 - self.d)), *a.shape[1:])

    def _views(self, a: np.ndarray) -> np.ndarray:
        return a.reshape(len(a), self.planes, *([1] * (3 - self.d)), *a.shape[2:])

    def _run(self, kernel, *args) -> None:
        _backend.run_planes(kernel, self.planes, self.u0.size * (2 + self.d), *args)

    def step(self) -> np.ndarray:
        dom = self.dom
        f0, f1 = dom.fft(self.r0), dom.fft(self.r1)
        flat0, flat1 = f0.reshape(self.planes, -1), f1.reshape(self.planes, -1)
        self._run(self.k.tv_solve, flat0, flat1, self.c0, self.c1, self.otf)
        x, kx = dom.ifft(f0), dom.ifft(f1)
        v = self._view
        self._run(
            self.k.tv_split, v(x), v(kx), self.y, self.lo, v(self.u0), v(self.b0), v(self.r0),
            self._views(self.u1), self._views(self.b1), self._views(self.t),
            _RHO_DATA, _RELAX, self.threshold,
        )  # fmt: skip
        self._run(self.k.tv_adjoint, self._views(self.t), v(self.r1))
        return x


def _converged(old: np.ndarray, new: np.ndarray, tol: float) -> bool:
    """``||x_k - x_{k-1}|| <= tol ||x_k - mean(x_k)||`` in every plane (the contrast, not the
    mean, sets the scale)."""
    flat_new = new.reshape(len(new), -1)
    step = flat_new - old.reshape(len(old), -1)
    change = np.einsum("pi,pi->p", step, step)
    total = np.einsum("pi,pi->p", flat_new, flat_new)
    spread = total - flat_new.sum(axis=1) ** 2 / flat_new.shape[1]
    return bool(np.all(change <= tol**2 * spread))


def richardson_lucy(y, psf, boundary, lam, iterations, sigma, low, method):
    r"""Richardson-Lucy, with Dey et al.'s total-variation term when ``lam`` is given.

    On the extended grid the data enter only on the frame (Bertero and Boccacci):
    :math:`x \leftarrow x \, k^T(M y / (k * x)) / (k^T M 1 - \lambda \operatorname{div}
    (\nabla x / |\nabla x|))`. Values must be positive: a plane whose minimum ``low`` (of the
    whole plane, which ``y`` may be a chunk of) is negative is shifted up by ``sigma - low``
    for the iteration and back afterwards.
    """
    d = psf.ndim
    dt = y.dtype
    axes = tuple(range(-d, 0))
    dom = Domain.build(psf, y.shape[-d:], extend=boundary == "reflect", dtype=dt)
    tiny = np.finfo(dt).tiny
    low = _per_plane(low, d, np.float64)
    shift = np.where(low < 0, sigma.reshape(low.shape) - low, 0).astype(dt)
    yp = y + shift
    mask = np.zeros(dom.ext, dtype=dt)
    mask[dom.frame] = 1
    weight = dom.blur_adjoint(mask)
    seen = weight > 1e-6
    weight = np.where(seen, weight, 1).astype(dt)
    x = np.maximum(dom.extend(yp), yp.mean(axis=axes, keepdims=True) * 1e-3 + tiny)
    if lam is not None:
        lam = _per_plane(lam, d, dt)
        eps = _per_plane(sigma, d, dt)
    target = sigma.reshape(low.shape) ** 2
    inner = dom.inner
    steps = iterations or _MAX_ITER[method]
    for _ in range(steps):
        kx = inner(dom.blur(x))
        residual = kx - yp
        if iterations is None and lam is None:
            # Discrepancy principle: stop once the residual is down to the noise.
            if np.all((residual**2).mean(axis=axes, keepdims=True) <= target):
                break
        ratio = np.zeros_like(x)
        inner(ratio)[...] = yp / np.maximum(kx, tiny)
        correction = dom.blur_adjoint(ratio)
        denominator = weight
        if lam is not None:
            g = _gradient(x, d)
            norm = np.sqrt(sum(gi * gi for gi in g) + eps * eps)
            denominator = weight + lam * _divergence_adjoint([gi / norm for gi in g], d)
            denominator = np.maximum(denominator, 0.5 * weight)
        old = inner(x).copy()
        x = np.where(seen, x * np.maximum(correction, 0) / denominator, x)
        if iterations is None and lam is not None and _converged(old, inner(x), _TOL[method]):
            break
    return inner(x) - shift
