"""Speed of ``upsampling.conv_transpose`` against ``torch.nn.functional.conv_transpose2d``.

Run ``python benchmarks/conv_transpose.py [--repeat N] [--threads T]``. All calls run in one
process with the same thread count (``torch.set_num_threads`` and ``upsampling.set_num_threads``;
NumPy's BLAS keeps its own default, the CPUs available), float32, forward only, no autograd.
The calls of one case are interleaved (PyTorch's, then each method, ``N`` rounds after a
warm-up) and each ratio is the median over the rounds of the method's time over PyTorch's in
the same round, so load from other processes falls on both sides alike. Between the torch
calls and the NumPy calls the script pauses, so that one library's idle threads, which
busy-wait for a while after each call, do not slow the other's, then makes one untimed call
to wake the next library's threads. Prints a markdown
table (ratios below 1: faster than PyTorch; the PyTorch column is its best time).
The "matrix" method is left out: it is meant for small problems, and refuses these sizes.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F

import upsampling as up
from upsampling.conv import conv_transpose

# (input shape, output channels, kernel, stride, padding, output_padding): decoder layers.
CASES = [
    ((8, 64, 64, 64), 64, 4, 2, 1, 0),
    ((8, 64, 64, 64), 64, 3, 2, 1, 1),
    ((8, 128, 32, 32), 64, 2, 2, 0, 0),
]
METHODS = ("auto", "subpixel", "zero_insertion", "scatter")
_SETTLE = 0.15  # seconds: longer than OpenBLAS threads spin (2**28 cycles)


def _case_name(case) -> str:
    shape, c_out, k, s, p, op = case
    name = f"{shape} -> {c_out}, k{k} s{s} p{p}"
    return name + (f" op{op}" if op else "")


def run(repeat: int, threads: int) -> list[dict]:
    torch.set_num_threads(threads)
    up.set_num_threads(threads)
    rng = np.random.default_rng(0)
    rows = []
    for case in CASES:
        shape, c_out, k, s, p, op = case
        x = rng.standard_normal(shape, dtype=np.float32)
        w = rng.standard_normal((shape[1], c_out, k, k), dtype=np.float32) * 0.05
        b = rng.standard_normal(c_out, dtype=np.float32)
        xt, wt, bt = (torch.from_numpy(v) for v in (x, w, b))
        calls = {"torch": partial(F.conv_transpose2d, xt, wt, bt, s, p, op)}
        for kind, operands in (("torch", (xt, wt, bt)), ("numpy", (x, w, b))):
            for method in METHODS:
                calls[f"{kind}/{method}"] = partial(
                    conv_transpose, *operands, s, p, op, method=method
                )
        times: dict[str, list[float]] = {name: [] for name in calls}
        with torch.inference_mode():
            reference = calls["torch"]().numpy()
            for call in calls.values():  # warm-up, and a check that all agree
                np.testing.assert_allclose(np.asarray(call()), reference, rtol=1e-3, atol=1e-3)
            for _ in range(repeat):
                for name, call in calls.items():
                    if name in ("torch", "numpy/auto"):
                        # Let the other library's worker threads stop spinning (OpenBLAS and
                        # OpenMP busy-wait after each call), then wake this one's (untimed).
                        time.sleep(_SETTLE)
                        call()
                    start = time.perf_counter()
                    call()
                    times[name].append(time.perf_counter() - start)
        torch_times = np.array(times["torch"])
        for kind in ("torch", "numpy"):
            rows.append(
                {
                    "case": _case_name(case),
                    "input": kind,
                    "torch_ms": torch_times.min() * 1e3,
                    **{
                        m: float(np.median(np.array(times[f"{kind}/{m}"]) / torch_times))
                        for m in METHODS
                    },
                }
            )
    return rows


def table(rows: list[dict], threads: int) -> str:
    lines = [
        f"conv_transpose vs `F.conv_transpose2d`: median time ratio (below 1 is faster), float32, "
        f"{threads} threads, torch {torch.__version__}, numpy {np.__version__}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs",
        "",
        "| case | input | F.conv_transpose2d | " + " | ".join(f"`{m}`" for m in METHODS) + " |",
        "| --- | --- | ---: | " + " | ".join("---:" for _ in METHODS) + " |",
    ]
    for r in rows:
        ratios = " | ".join(f"{r[m]:.2f}x" for m in METHODS)
        lines.append(f"| {r['case']} | {r['input']} | {r['torch_ms']:.1f} ms | {ratios} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds per case")
    parser.add_argument("--threads", type=int, default=2, help="torch and upsampling threads")
    args = parser.parse_args()
    print(table(run(args.repeat, args.threads), args.threads))


if __name__ == "__main__":
    main()
