"""Interpolation speed against ``torch.nn.functional.interpolate`` in the same process.

float32 ``(8, 64, 128, 128)`` NCHW, both libraries on the same number of threads (2 by default):
nearest, bilinear (``align_corners`` False and True) and bicubic at scale 2 and 3, forward, with
NumPy and torch input, and bilinear forward + backward. Each row also gives our time as a
multiple of the write-bandwidth floor (the time of ``np.empty(out_shape).fill(0)``; forward +
backward adds that of the input's shape), and the
script ends with the first-call latency of a fresh process with a warm numba cache.

    python benchmarks/interpolate.py [--threads 2] [--repeat 5] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from upsampling.interpolate import interpolate

from common import machine, markdown_table, rounds, set_threads, speedup

SHAPE = (8, 64, 128, 128)
CASES = [
    ("nearest", dict(mode="nearest")),
    ("bilinear", dict(mode="bilinear", align_corners=False)),
    ("bilinear ac", dict(mode="bilinear", align_corners=True)),
    ("bicubic", dict(mode="bicubic", align_corners=False)),
]

FIRST_CALL = """
import time
t0 = time.perf_counter()
import numpy as np
from upsampling.interpolate import interpolate
x = np.random.default_rng(0).random((1, 3, 32, 32), dtype=np.float32)
interpolate(x, scale_factor=2, mode="bilinear")
t1 = time.perf_counter()
import torch
t2 = time.perf_counter()
xt = torch.from_numpy(x).requires_grad_()
interpolate(xt, scale_factor=2, mode="bicubic").sum().backward()
t3 = time.perf_counter()
print(f"{t1 - t0:.3f} {t3 - t2:.3f}")
"""


def first_call_latency() -> tuple[float, float]:
    """Seconds from a fresh interpreter to the first NumPy result (import included), and from
    torch imported to a first tensor forward + backward; run twice, the first run filling
    numba's on-disk cache."""
    for _ in range(2):
        out = subprocess.run(
            [sys.executable, "-c", FIRST_CALL], capture_output=True, text=True, check=True
        )
    numpy_s, torch_s = (float(v) for v in out.stdout.split())
    return numpy_s, torch_s


def measure(fns: dict, repeat: int) -> tuple[dict[str, float], dict[str, float]]:
    """Median time of each call, and its median per-round speedup against the first (torch)."""
    times = rounds(fns, repeat)
    first = next(iter(fns))
    return (
        {k: statistics.median(v) for k, v in times.items()},
        {k: speedup(times, first, k) for k in times},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="scale 2 only, fewer rounds")
    args = parser.parse_args()
    set_threads(args.threads)
    repeat = 3 if args.quick else args.repeat
    x = torch.from_numpy(np.random.default_rng(0).random(SHAPE, dtype=np.float32))
    xn = x.numpy()
    rows = []
    for scale in (2,) if args.quick else (2, 3):
        out_shape = (*SHAPE[:2], *(s * scale for s in SHAPE[2:]))
        for name, kw in CASES:
            kw = dict(kw, scale_factor=scale)
            t, r = measure(
                {
                    "torch": lambda kw=kw: F.interpolate(x, **kw),
                    "numpy": lambda kw=kw: interpolate(xn, **kw),
                    "tensor": lambda kw=kw: interpolate(x, **kw),
                    "floor": lambda shape=out_shape: np.empty(shape, np.float32).fill(0),
                },
                repeat,
            )
            rows.append(_row(f"{name} x{scale}", t, r, t["floor"]))
        for ac in (False, True):
            kw = dict(mode="bilinear", align_corners=ac, scale_factor=scale)
            xg = x.clone().requires_grad_()
            g = torch.ones(out_shape)
            t, r = measure(
                {
                    "torch": lambda kw=kw, xg=xg, g=g: F.interpolate(xg, **kw).backward(g),
                    "tensor": lambda kw=kw, xg=xg, g=g: interpolate(xg, **kw).backward(g),
                    "floor": lambda shape=out_shape: np.empty(shape, np.float32).fill(0),
                    "floor_in": lambda: np.empty(SHAPE, np.float32).fill(0),
                },
                repeat,
            )
            name = f"bilinear{' ac' if ac else ''} x{scale} fwd+bwd"
            rows.append(_row(name, t, r, t["floor"] + t["floor_in"]))
    header = [
        "case",
        "torch ms",
        "ours NumPy ms",
        "ours torch ms",
        "speedup NumPy",
        "speedup torch",
        "floor ms",
        "ours / floor",
    ]
    print(f"interpolate, float32 {SHAPE} NCHW, {machine()}")
    print(
        "(the machine's cores may be shared with other work: medians of interleaved rounds, "
        "speedups are medians of per-round ratios)\n"
    )
    print(markdown_table(header, rows))
    numpy_s, torch_s = first_call_latency()
    print(
        f"\nfirst call with a warm numba cache: {numpy_s:.2f} s from a fresh interpreter to a "
        f"NumPy bilinear result (import included); {torch_s:.2f} s for a first tensor bicubic "
        "forward + backward (torch already imported)"
    )


def _row(name, t, r, floor):
    def ms(key):
        return t[key] * 1e3 if key in t else "-"

    def ratio(key):
        return r[key] if key in r else "-"

    best = min(t[k] for k in ("numpy", "tensor") if k in t)
    return [
        name,
        ms("torch"),
        ms("numpy"),
        ms("tensor"),
        ratio("numpy"),
        ratio("tensor"),
        floor * 1e3,
        best / floor,
    ]


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"\n(benchmark took {time.perf_counter() - start:.0f} s)")
