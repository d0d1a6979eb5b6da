"""Deblurring benchmark: ``upsampling.deblur`` with its defaults against scikit-image.

Three of scikit-image's bundled photographs (coffee, chelsea, moon) as grayscale floats in
[0, 1]; three PSFs (Gaussian sigma 1.6, disk radius 3, motion 15 px at 30 degrees); the blur is
computed on the reflect-padded image and cropped, so the frame carries no boundary assumption;
white Gaussian noise of sigma 0.01 and 0.02 (fixed seeds, not clipped). Methods:

* ``up.deblur(noisy, psf)``: default arguments (method "auto", every parameter automatic);
* ``skimage.restoration.wiener`` at its best ``balance``, searched per case on the true image
  (an oracle no real use has);
* ``skimage.restoration.unsupervised_wiener`` (default arguments, fixed rng);
* ``skimage.restoration.richardson_lucy(num_iter=30)``.

PSNR and SSIM (``skimage.metrics``, data range 1) against the sharp image; time is the best of
``--repeat`` rounds in which every method runs once in turn (so all see the same load of a
shared machine; the oracle's time is one ``wiener`` call, not its search). scikit-image's
functions run with their defaults (``clip=True``: results clipped to [-1, 1]) except the
oracle Wiener (``clip=False``); ``deblur`` never clips. ``--methods`` adds a table of every
``deblur`` method (how "auto" was chosen).

Run: ``python benchmarks/deblur.py`` (``--quick`` for a subset).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import scipy.signal
from skimage import color, data, img_as_float, restoration
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

import upsampling as up

IMAGES = ("coffee", "chelsea", "moon")
SIGMAS = (0.01, 0.02)
OUR_METHODS = ("tv", "wiener", "tikhonov", "richardson_lucy", "richardson_lucy_tv")


# -------------------------------------------------------------------------------- the cases
def gray(name: str) -> np.ndarray:
    image = getattr(data, name)()
    if image.ndim == 3:
        image = color.rgb2gray(image[..., :3])
    return img_as_float(image).astype(np.float64)


def gaussian_psf(sigma: float = 1.6) -> np.ndarray:
    t = np.arange(-int(np.ceil(4 * sigma)), int(np.ceil(4 * sigma)) + 1)
    g = np.exp(-(t**2) / (2 * sigma**2))
    k = np.outer(g, g)
    return k / k.sum()


def disk_psf(radius: int = 3) -> np.ndarray:
    t = np.arange(-radius, radius + 1)
    k = (t[:, None] ** 2 + t[None, :] ** 2 <= radius**2).astype(np.float64)
    return k / k.sum()


def motion_psf(length: int = 15, angle: float = 30.0) -> np.ndarray:
    """A segment of ``length`` pixels through the centre at ``angle`` degrees (counter-clockwise
    from the x axis), drawn by bilinear splatting of closely spaced points."""
    size = length | 1
    k = np.zeros((size, size))
    c = size // 2
    a = np.deg2rad(angle)
    for s in np.linspace(-(length - 1) / 2, (length - 1) / 2, 8 * length):
        r, q = c - s * np.sin(a), c + s * np.cos(a)
        r0, q0 = int(np.floor(r)), int(np.floor(q))
        fr, fq = r - r0, q - q0
        for dr, wr in ((0, 1 - fr), (1, fr)):
            for dq, wq in ((0, 1 - fq), (1, fq)):
                if 0 <= r0 + dr < size and 0 <= q0 + dq < size:
                    k[r0 + dr, q0 + dq] += wr * wq
    return k / k.sum()


PSFS = {"gaussian": gaussian_psf, "disk": disk_psf, "motion": motion_psf}


def blur(image: np.ndarray, psf: np.ndarray) -> np.ndarray:
    """``image * psf`` of a scene that continues past the frame by reflection."""
    pads = [(k // 2, k - 1 - k // 2) for k in psf.shape]
    return scipy.signal.fftconvolve(np.pad(image, pads, mode="reflect"), psf, mode="valid")


def cases(quick: bool):
    images = ("chelsea",) if quick else IMAGES
    psfs = ("gaussian", "motion") if quick else tuple(PSFS)
    sigmas = (0.01,) if quick else SIGMAS
    seed = 0
    for name in images:
        sharp = gray(name)
        for psf_name in psfs:
            psf = PSFS[psf_name]()
            blurred = blur(sharp, psf)
            for sigma in sigmas:
                seed += 1
                rng = np.random.default_rng(seed)
                noisy = blurred + sigma * rng.standard_normal(sharp.shape)
                yield name, psf_name, sigma, sharp, psf, noisy


# ------------------------------------------------------------------------------ the methods
def timed(fns: dict, repeat: int) -> dict:
    """``{name: (output, best time)}``, the functions called in turn in each of ``repeat``
    rounds, so that each sees the same load of a shared machine."""
    best = dict.fromkeys(fns, np.inf)
    outs = {}
    for _ in range(repeat):
        for name, fn in fns.items():
            t = time.perf_counter()
            outs[name] = fn()
            best[name] = min(best[name], time.perf_counter() - t)
    return {name: (outs[name], best[name]) for name in fns}


def scores(sharp, estimate):
    return (
        peak_signal_noise_ratio(sharp, estimate, data_range=1.0),
        structural_similarity(sharp, estimate, data_range=1.0),
    )


def oracle_wiener(noisy, psf, sharp):
    """scikit-image's Wiener at the balance that maximises PSNR (coarse grid, then finer)."""

    def psnr_at(b):
        return peak_signal_noise_ratio(
            sharp, restoration.wiener(noisy, psf, b, clip=False), data_range=1.0
        )

    coarse = np.logspace(-5, 2, 29)
    best = coarse[int(np.argmax([psnr_at(b) for b in coarse]))]
    fine = best * np.logspace(-0.25, 0.25, 11)
    return fine[int(np.argmax([psnr_at(b) for b in fine]))]


def run_case(sharp, psf, noisy, repeat: int, all_methods: bool) -> dict:
    balance = oracle_wiener(noisy, psf, sharp)
    fns = {
        "ours": lambda: up.deblur(noisy, psf),
        "wiener*": lambda: restoration.wiener(noisy, psf, balance, clip=False),
        "unsupervised_wiener": lambda: restoration.unsupervised_wiener(
            noisy, psf, rng=np.random.default_rng(0)
        )[0],
        "richardson_lucy(30)": lambda: restoration.richardson_lucy(noisy, psf, num_iter=30),
    }
    if all_methods:
        for method in OUR_METHODS:
            fns[method] = lambda m=method: up.deblur(noisy, psf, method=m)
    return {name: (*scores(sharp, out), t) for name, (out, t) in timed(fns, repeat).items()}


# ---------------------------------------------------------------------------------- reports
def table(rows, columns, title):
    head = "| image | psf | noise | " + " | ".join(columns) + " |"
    lines = [f"### {title}", "", head, "|" + " --- |" * (3 + len(columns))]
    for (name, psf_name, sigma), row in rows:
        cells = [f"{row[c][0]:.2f} / {row[c][1]:.3f} / {row[c][2]:.2f}s" for c in columns]
        lines.append(f"| {name} | {psf_name} | {sigma} | " + " | ".join(cells) + " |")
    means = [np.mean([row[c][i] for _, row in rows], axis=0) for c in columns for i in range(3)]
    cells = [f"**{means[3 * j]:.2f} / {means[3 * j + 1]:.3f} / {means[3 * j + 2]:.2f}s**"
             for j in range(len(columns))]  # fmt: skip
    lines.append("| **average** | | | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Each cell: PSNR (dB) / SSIM / time.")
    return "\n".join(lines)


def verdict(rows) -> str:
    gain = np.array([row["ours"][0] - row["wiener*"][0] for _, row in rows])
    ratio = np.array([row["ours"][2] / row["richardson_lucy(30)"][2] for _, row in rows])
    ok = gain.mean() >= 1 and gain.min() >= 0 and ratio.max() <= 2
    return "\n".join(
        [
            f"- PSNR gain over the oracle Wiener: mean {gain.mean():+.2f} dB, "
            f"min {gain.min():+.2f} dB (target: mean >= +1, min >= 0)",
            f"- time / richardson_lucy(30) on the same image: max {ratio.max():.2f}x, "
            f"mean {ratio.mean():.2f}x (target: <= 2x)",
            f"- targets {'met' if ok else 'NOT met'}",
        ]
    )


def machine() -> str:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count()
    load = " ".join(f"{v:.1f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (
        f"{platform.processor() or platform.machine()}, {cpus} CPUs available to this process "
        f"(load average {load}; the machine may be shared, so absolute times vary: compare "
        f"the ratios), numpy {np.__version__}, scipy {scipy.__version__}"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="chelsea, 2 PSFs, sigma 0.01")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs per method (best)")
    parser.add_argument("--methods", action="store_true", help="also every deblur method")
    args = parser.parse_args(argv)
    rows = []
    for name, psf_name, sigma, sharp, psf, noisy in cases(args.quick):
        rows.append(
            ((name, psf_name, sigma), run_case(sharp, psf, noisy, args.repeat, args.methods))
        )
        print(f"done: {name} {psf_name} {sigma}", flush=True)
    print()
    print(
        table(
            rows,
            ["ours", "wiener*", "unsupervised_wiener", "richardson_lucy(30)"],
            "up.deblur(noisy, psf) (defaults) against scikit-image (wiener*: oracle balance)",
        )
    )
    print()
    print(verdict(rows))
    if args.methods:
        print()
        print(table(rows, list(OUR_METHODS), "every up.deblur method (automatic parameters)"))
    print()
    print(f"Machine: {machine()}.")


if __name__ == "__main__":
    main()
