"""Unpooling, max pooling and max unpooling against PyTorch, in one process.

    python benchmarks/unpool.py [--repeat 15] [--warmup 3] [--threads 2]

float32 ``(8, 64, 128, 128)``: ``unpool(x, 2)`` against ``F.interpolate(scale_factor=2,
mode="nearest")``, ``max_pool(x, 2, return_indices=True)`` against ``F.max_pool2d``, and
``max_unpool`` against ``F.max_unpool2d`` (on the pooled ``(8, 64, 64, 64)`` values), each with
NumPy and with torch input, forward and (torch) forward+backward.

Three untimed warm-up rounds: on a virtual machine the first few calls that touch fresh memory
(new huge pages for NumPy's large arrays) run several times slower, whichever library makes them.
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
import torch
import torch.nn.functional as F

import upsampling as up

from common import machine, markdown_table, rounds, set_threads, speedup

SHAPE = (8, 64, 128, 128)


def cases(x: torch.Tensor):
    xn = x.numpy()
    values, indices = F.max_pool2d(x, 2, return_indices=True)
    vn, inn = values.numpy(), indices.numpy()
    xg = x.clone().requires_grad_()
    vg = values.clone().requires_grad_()

    def backward(make):
        def run():
            out = make()
            out = out[0] if isinstance(out, tuple) else out
            out.backward(torch.ones_like(out))

        return run

    return [
        (
            "unpool nearest x2",
            lambda: F.interpolate(x, scale_factor=2, mode="nearest"),
            lambda: up.unpool(xn, 2),
            lambda: up.unpool(x, 2),
        ),
        (
            "unpool nearest x2, fwd+bwd",
            backward(lambda: F.interpolate(xg, scale_factor=2, mode="nearest")),
            None,
            backward(lambda: up.unpool(xg, 2)),
        ),
        (
            "max_pool 2 with indices",
            lambda: F.max_pool2d(x, 2, return_indices=True),
            lambda: up.max_pool(xn, 2, return_indices=True),
            lambda: up.max_pool(x, 2, return_indices=True),
        ),
        (
            "max_pool 2, fwd+bwd",
            backward(lambda: F.max_pool2d(xg, 2, return_indices=True)),
            None,
            backward(lambda: up.max_pool(xg, 2, return_indices=True)),
        ),
        (
            "max_unpool 2",
            lambda: F.max_unpool2d(values, indices, 2),
            lambda: up.max_unpool(vn, inn, 2),
            lambda: up.max_unpool(values, indices, 2),
        ),
        (
            "max_unpool 2, fwd+bwd",
            backward(lambda: F.max_unpool2d(vg, indices, 2)),
            None,
            backward(lambda: up.max_unpool(vg, indices, 2)),
        ),
    ]


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    set_threads(args.threads)
    x = torch.from_numpy(np.random.default_rng(0).standard_normal(SHAPE, dtype=np.float32))
    rows = []
    for name, ref, ours_np, ours_t in cases(x):
        fns = {"torch": ref, "tensor": ours_t, **({"numpy": ours_np} if ours_np else {})}
        times = rounds(fns, args.repeat, args.warmup)
        rows.append(
            [
                name,
                f"{statistics.median(times['torch']) * 1e3:.1f}",
                f"{speedup(times, 'torch', 'numpy'):.2f}x" if ours_np else "-",
                f"{speedup(times, 'torch', 'tensor'):.2f}x",
            ]
        )
    table = markdown_table(
        ["float32 (8, 64, 128, 128)", "PyTorch ms", "speedup, NumPy input", "speedup, torch input"],
        rows,
    )
    print(f"{machine()}\n\n{table}")
    return table


if __name__ == "__main__":
    main()
