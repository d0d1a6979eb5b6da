"""Numba kernels of the total-variation deblurring ADMM (:func:`upsampling.deblur`).

The real-space arrays are ``(planes, D, H, W)`` views of the extended grid whose last ``nd``
axes carry the gradient (``nd`` = the PSF's dims; a 2-D image has ``D == 1``); gradient arrays
are ``(nd, planes, D, H, W)``. Forward differences wrap around (the extended grid is periodic).
Each kernel runs over planes ``start:stop`` (see ``_backend.run_planes``).
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
def tv_split(start, stop, x, kx, y, lo, u0, b0, r0, u1, b1, t, rho0, relax, thr):
    """The ``u`` and dual steps of one ADMM iteration, and the right-hand side ``r0``.

    ``kx`` holds ``k * x``; ``y`` the frame (its origin at ``lo`` in the grid); ``thr`` the
    shrinkage threshold of each plane. Writes ``u0``,
    ``b0``, ``r0 = u0 - b0``, ``u1``, ``b1`` and ``t = u1 - b1`` (for :func:`tv_adjoint`).
    """
    nd = u1.shape[0]
    cw, ch = nd - 1, nd - 2  # gradient components: the last along W, then H, then D (0)
    d, h, w = x.shape[1], x.shape[2], x.shape[3]
    fd, fh, fw = y.shape[1], y.shape[2], y.shape[3]
    keep = 1.0 - relax
    scale = 1.0 / (1.0 + rho0)
    for p in range(start, stop):
        for i in range(d):
            inext = i + 1 if i + 1 < d else 0
            fi = i - lo[0]
            for j in range(h):
                jnext = j + 1 if j + 1 < h else 0
                fj = j - lo[1]
                row = 0 <= fi < fd and 0 <= fj < fh
                for k in range(w):
                    knext = k + 1 if k + 1 < w else 0
                    v = relax * kx[p, i, j, k] + keep * u0[p, i, j, k] + b0[p, i, j, k]
                    u = v
                    fk = k - lo[2]
                    if row and 0 <= fk < fw:
                        u = (y[p, fi, fj, fk] + rho0 * v) * scale
                    u0[p, i, j, k] = u
                    r0[p, i, j, k] = 2.0 * u - v
                    b0[p, i, j, k] = v - u
                    here = x[p, i, j, k]
                    aw = relax * (x[p, i, j, knext] - here)
                    aw += keep * u1[cw, p, i, j, k] + b1[cw, p, i, j, k]
                    mag = aw * aw
                    ah = 0.0
                    ad = 0.0
                    if nd >= 2:
                        ah = relax * (x[p, i, jnext, k] - here)
                        ah += keep * u1[ch, p, i, j, k] + b1[ch, p, i, j, k]
                        mag += ah * ah
                    if nd >= 3:
                        ad = relax * (x[p, inext, j, k] - here)
                        ad += keep * u1[0, p, i, j, k] + b1[0, p, i, j, k]
                        mag += ad * ad
                    mag = np.sqrt(mag)
                    s = 1.0 - thr[p] / mag if mag > thr[p] else 0.0
                    uw = s * aw
                    u1[cw, p, i, j, k] = uw
                    b1[cw, p, i, j, k] = aw - uw
                    t[cw, p, i, j, k] = 2.0 * uw - aw
                    if nd >= 2:
                        uh = s * ah
                        u1[ch, p, i, j, k] = uh
                        b1[ch, p, i, j, k] = ah - uh
                        t[ch, p, i, j, k] = 2.0 * uh - ah
                    if nd >= 3:
                        ud = s * ad
                        u1[0, p, i, j, k] = ud
                        b1[0, p, i, j, k] = ad - ud
                        t[0, p, i, j, k] = 2.0 * ud - ad


@nb.njit(cache=True, nogil=True)
def tv_adjoint(start, stop, t, r1):
    """``r1 = D^T t``: the adjoint of the forward-difference gradient, summed over components."""
    nd = t.shape[0]
    d, h, w = r1.shape[1], r1.shape[2], r1.shape[3]
    for p in range(start, stop):
        for i in range(d):
            iprev = i - 1 if i > 0 else d - 1
            for j in range(h):
                jprev = j - 1 if j > 0 else h - 1
                for k in range(w):
                    kprev = k - 1 if k > 0 else w - 1
                    acc = t[nd - 1, p, i, j, kprev] - t[nd - 1, p, i, j, k]
                    if nd >= 2:
                        acc += t[nd - 2, p, i, jprev, k] - t[nd - 2, p, i, j, k]
                    if nd >= 3:
                        acc += t[0, p, iprev, j, k] - t[0, p, i, j, k]
                    r1[p, i, j, k] = acc


@nb.njit(cache=True, nogil=True)
def tv_solve(start, stop, f0, f1, c0, c1, otf):
    """The ``x`` step in Fourier space: ``f0 <- c0 f0 + c1 f1`` (the new ``x``), ``f1 <- otf f0``
    (the new ``k * x``). Arrays are ``(planes, m)`` views of the half spectrum."""
    m = f0.shape[1]
    for p in range(start, stop):
        for q in range(m):
            xh = c0[p, q] * f0[p, q] + c1[p, q] * f1[p, q]
            f0[p, q] = xh
            f1[p, q] = otf[q] * xh
