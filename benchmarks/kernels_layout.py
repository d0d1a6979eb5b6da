"""The NumPy-level kernels against PyTorch: channels_last, any scale, threads (issue 12).

Our side calls the workers of :mod:`upsampling.interpolate` and :mod:`upsampling.unpool`
directly on NumPy arrays (a channels_last tensor's zero-copy view for the channels_last rows),
so the numbers measure kernels, not the op layer. PyTorch's side is ``F.interpolate`` on the
same tensor (channels_last rows: a channels_last tensor; ``fwd+bwd``: forward then backward).
Each row is the median over interleaved rounds of PyTorch's time over ours (> 1: we are
faster). ``threads`` rows compare our own 1-thread time with our 2-thread time.

Run ``python benchmarks/kernels_layout.py [--quick] [--threads N] [--cpu]``. ``--cpu`` times
both sides by the CPU time of the calling thread at one thread each: on a machine shared with
other work (where wall times swing by 10x) it still compares the two kernels' own cost.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
import upsampling as up
import upsampling.unpool
from upsampling.interpolate import (
    interpolate_array,
    interpolate_backward_array,
    plan_for,
)
from upsampling.spec import ResizeSpec

from common import machine, markdown_table, set_threads, speedup

CLOCK = [time.perf_counter]  # ``--cpu``: time.thread_time


def rounds(fns: dict, repeat: int, warmup: int = 1, settle: float = 0.0) -> dict:
    """Interleaved rounds, as ``common.rounds``, timed by ``CLOCK[0]``."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = CLOCK[0]()
            fn()
            times[name].append(CLOCK[0]() - start)
    return times


def _ours(x: torch.Tensor, spec: ResizeSpec, backward: bool):
    a = x.detach().numpy()
    plan = plan_for(spec, a.shape, a.itemsize, a.dtype == np.float64)
    g = np.ones((*a.shape[:2], *plan.out_size), a.dtype)
    if a.strides[1] == a.itemsize and a.shape[1] > 1:
        g = np.moveaxis(np.ascontiguousarray(np.moveaxis(g, 1, -1)), -1, 1)

    def run():
        y = interpolate_array(a, plan)
        if backward:
            interpolate_backward_array(g, plan)
        return y

    return run


def _theirs(x: torch.Tensor, kwargs: dict, backward: bool):
    if not backward:
        return lambda: F.interpolate(x, **kwargs)
    leaf = x.detach().requires_grad_()

    def run():
        y = F.interpolate(leaf, **kwargs)
        y.backward(torch.ones_like(y))
        leaf.grad = None

    return run


def _case(shape, kwargs, memory, backward, repeat):
    x = torch.randn(shape).contiguous(memory_format=memory)
    spec = ResizeSpec.of("interpolate", **kwargs)
    times = rounds(
        {"torch": _theirs(x, kwargs, backward), "ours": _ours(x, spec, backward)},
        repeat=repeat,
        warmup=2,
        settle=0.0,
    )
    return speedup(times, "torch", "ours")


def _unpool_mod():
    return sys.modules["upsampling.unpool"]


def _unpool_case(shape, memory, backward, repeat):
    x = torch.randn(shape).contiguous(memory_format=memory)
    a = x.numpy()
    g = _unpool_mod().unpool_array(a, (2, 2), (0, 0), False)

    def ours():
        _unpool_mod().unpool_array(a, (2, 2), (0, 0), False)
        if backward:
            _unpool_mod().unpool_nearest_backward_array(g, (2, 2))

    kwargs = {"scale_factor": 2, "mode": "nearest"}
    times = rounds({"torch": _theirs(x, kwargs, backward), "ours": ours}, repeat=repeat, settle=0.0)
    return speedup(times, "torch", "ours")


def _thread_speedup(shape, kwargs, threads, repeat):
    x = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    spec = ResizeSpec.of("interpolate", **kwargs)
    plan = plan_for(spec, x.shape, x.itemsize, False)
    ratios = []
    for _ in range(repeat):
        t = {}
        for n in (1, threads):
            up.set_num_threads(n)
            t[n] = rounds({"f": lambda: interpolate_array(x, plan)}, repeat=1, warmup=1)["f"][0]
        ratios.append(t[1] / t[threads])
    return statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer shapes and rounds (< 60 s)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cpu", action="store_true", help="thread CPU time, one thread each")
    args = parser.parse_args()
    if args.cpu:
        CLOCK[0] = time.thread_time
        args.threads = 1
    repeat = 5 if args.quick else 15
    set_threads(args.threads)
    cl = torch.channels_last
    shapes = [(8, 64, 64, 64), (1, 64, 128, 128)]
    if args.quick:
        shapes = shapes[1:]
    rows = []
    for shape in shapes:
        for mode in ("nearest", "bilinear", "bicubic"):
            for backward in (False, True):
                kw = {"scale_factor": 2, "mode": mode}
                r = _case(shape, kw, cl, backward, repeat)
                rows.append(["channels_last", shape, f"{mode} x2", _pass(backward), r])
        for backward in (False, True):
            r = _unpool_case(shape, cl, backward, repeat)
            rows.append(["channels_last", shape, "unpool 2", _pass(backward), r])
    # a photo as the (1, 3, H, W) view of its (H, W, 3) array: channels_last with three channels
    photo = (1, 3, 512, 512) if args.quick else (1, 3, 1024, 1024)
    for mode in ("bilinear", "bicubic"):
        for backward in (False, True):
            r = _case(photo, {"scale_factor": 2, "mode": mode}, cl, backward, repeat)
            rows.append(["channels_last (HWC)", photo, f"{mode} x2", _pass(backward), r])
    scales = [
        ((4, 64, 96, 160), {"scale_factor": 1.5, "mode": "bilinear", "align_corners": True}),
        ((4, 64, 96, 160), {"scale_factor": 1.5, "mode": "bilinear"}),
        ((4, 64, 96, 160), {"scale_factor": 0.75, "mode": "bilinear"}),
        ((4, 64, 97, 97), {"size": (211, 211), "mode": "bilinear"}),
        ((4, 64, 97, 97), {"size": (211, 211), "mode": "bicubic"}),
    ]
    if args.quick:
        scales = scales[:1] + scales[3:4]
    for shape, kw in scales:
        for memory, name in ((torch.contiguous_format, "NCHW"), (cl, "channels_last")):
            label = ", ".join(f"{k}={v}" for k, v in kw.items())
            rows.append([name, shape, label, "fwd", _case(shape, kw, memory, False, repeat)])
    if args.threads > 1:
        r = _thread_speedup(
            (1, 1, 4096, 4096), {"scale_factor": 2, "mode": "bilinear"}, args.threads, repeat
        )
        rows.append(["threads", (1, 1, 4096, 4096), f"bilinear x2, 1 -> {args.threads}", "", r])
        set_threads(args.threads)
    print(machine())
    print(markdown_table(["layout", "shape", "case", "pass", "ratio"], rows))


def _pass(backward: bool) -> str:
    return "fwd+bwd" if backward else "fwd"


if __name__ == "__main__":
    main()
