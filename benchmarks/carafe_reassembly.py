"""CARAFE's reassembly: our tap loop against the textbook unfold + sum, time and memory.

    python benchmarks/carafe_reassembly.py [--repeat 5] [--threads 1]

The textbook form (``F.unfold`` the input into ``k_up^2`` copies, nearest-up-sample them,
multiply by the kernels and reduce) is what pure-PyTorch CARAFE ports do; ours loops over the
taps with phase-major kernels (``upsampling.nn.carafe``). Both give the same numbers (tested in
``tests/test_carafe.py``). Peak memory is the growth of the peak resident set (VmHWM) while one
forward (+ backward) runs, each case in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import torch
import torch.nn.functional as F

from upsampling.nn.carafe import carafe_reassemble

from common import machine, markdown_table, median_time, set_threads

CASES = [  # (N, C, H, W, scale, k_up)
    (1, 64, 64, 64, 2, 5),
    (4, 32, 32, 32, 2, 5),
    (2, 16, 24, 24, 4, 5),
]


def unfold_sum(x, kernels, scale, k):
    n, c, h, w = x.shape
    cols = F.unfold(x, k, padding=k // 2).reshape(n, c, k * k, h, w)
    cols = cols.repeat_interleave(scale, 3).repeat_interleave(scale, 4)
    return (cols * kernels).sum(2)  # kernels (N, 1, k*k, H*s, W*s) broadcast over channels


def taps(x, kernels, scale, k):
    return carafe_reassemble(x, kernels, scale, k)


IMPLEMENTATIONS = {"unfold+sum": unfold_sum, "taps (ours)": taps}


def inputs(case, grad: bool):
    n, c, h, w, s, k = case
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n, c, h, w, generator=gen, requires_grad=grad)
    logits = torch.randn(n, 1, k * k, h * s, w * s, generator=gen)
    kernels = torch.softmax(logits, 2).requires_grad_(grad)
    return x, kernels, s, k


def run_once(name: str, data, backward: bool) -> None:
    y = IMPLEMENTATIONS[name](*data)
    if backward:
        y.backward(torch.ones_like(y))


def peak_rss() -> int:
    """This process's peak resident set in KiB (Linux)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def peak_memory(name: str, case, backward: bool) -> float:
    """MiB the peak resident set grows by, measured in a fresh interpreter."""
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent through fork and exec.
    code = (
        "import sys, torch; sys.path.insert(0, 'benchmarks');"
        "import carafe_reassembly as b;"
        f"data = b.inputs({case!r}, {backward});"
        "base = b.peak_rss();"
        f"b.run_once({name!r}, data, {backward});"
        "print(b.peak_rss() - base)"
    )
    # Blocks of 64 KiB and more straight from mmap, back to the system when freed: the resident
    # set then follows the live tensors, and its high-water mark is the peak.
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return int(out.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    set_threads(args.threads)
    rows, records = [], []
    for case in CASES:
        for backward in (False, True):
            times, memory = {}, {}
            for name in IMPLEMENTATIONS:
                data = inputs(case, backward)
                times[name] = median_time(
                    lambda name=name, data=data, backward=backward: run_once(name, data, backward),
                    repeat=args.repeat,
                    warmup=1,
                )
                memory[name] = peak_memory(name, case, backward)
            base, ours = "unfold+sum", "taps (ours)"
            label = f"{case[:4]} x{case[4]} k{case[5]}" + (" fwd+bwd" if backward else " fwd")
            rows.append(
                [
                    label,
                    times[base] * 1e3,
                    times[ours] * 1e3,
                    times[base] / times[ours],
                    memory[base],
                    memory[ours],
                ]
            )
            records.append({"case": list(case), "backward": backward, "ms": times, "MiB": memory})
    if args.json:
        print(json.dumps(records, indent=1))
        return
    print(machine())
    header = [
        "(N, C, H, W) scale k_up",
        "unfold+sum ms",
        "taps ms",
        "speed-up",
        "unfold+sum MiB",
        "taps MiB",
    ]
    print(markdown_table(header, rows))


if __name__ == "__main__":
    main()
