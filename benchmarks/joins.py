"""The calls that go through the joins (argument normalisation, plan cache, custom-op dispatch):
small and larger tensors, NCHW and channels_last, float32, float16 and uint8, forward and
forward+backward, NumPy and tensor input; each as a ratio against the same PyTorch call in the
same process (``speedup`` > 1: we are faster).

    python benchmarks/joins.py            # 2 threads
    python benchmarks/joins.py --threads 1

To compare two revisions, run it in each checkout (``PYTHONPATH=<checkout>/src``): the ratios,
not the times, are comparable across runs on a shared machine.
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F

import upsampling as up

from common import machine, markdown_table, rounds, set_threads, speedup


def _cases() -> list[tuple[str, object, object]]:
    g = torch.Generator().manual_seed(0)
    small = torch.randn(1, 16, 8, 8, generator=g)
    mid = torch.randn(1, 64, 32, 32, generator=g)
    big = torch.randn(4, 64, 64, 64, generator=g)
    last = big.to(memory_format=torch.channels_last)
    half = torch.randn(2, 16, 32, 32, generator=g).half()
    u8 = torch.randint(0, 256, (1, 3, 256, 256), dtype=torch.uint8, generator=g)
    mid_g = mid.clone().requires_grad_()
    v, i = F.max_pool2d(mid, 2, return_indices=True)
    vh, ih = v.half(), i
    w = torch.randn(16, 8, 4, 4, generator=g)
    layer = up.nn.Upsample(scale_factor=2, mode="bilinear")
    bil = dict(scale_factor=2, mode="bilinear")

    def fwd_bwd(fn, x):
        def run():
            x.grad = None
            fn(x).sum().backward()

        return run

    return [
        (
            "interpolate bilinear (1,16,8,8)",
            lambda: up.interpolate(small, **bil),
            lambda: F.interpolate(small, **bil),
        ),
        (
            "interpolate bilinear NumPy (1,16,8,8)",
            lambda: up.interpolate(small.numpy(), **bil),
            lambda: F.interpolate(small, **bil),
        ),
        ("Upsample bilinear (1,16,8,8)", lambda: layer(small), lambda: F.interpolate(small, **bil)),
        (
            "interpolate bilinear (4,64,64,64)",
            lambda: up.interpolate(big, **bil),
            lambda: F.interpolate(big, **bil),
        ),
        (
            "interpolate bilinear channels_last",
            lambda: up.interpolate(last, **bil),
            lambda: F.interpolate(last, **bil),
        ),
        (
            "interpolate bicubic float16 (2,16,32,32)",
            lambda: up.interpolate(half, scale_factor=2, mode="bicubic"),
            lambda: F.interpolate(half, scale_factor=2, mode="bicubic"),
        ),
        (
            "interpolate bilinear uint8 (1,3,256,256)",
            lambda: up.interpolate(u8, **bil),
            lambda: F.interpolate(u8, **bil),
        ),
        (
            "interpolate fwd+bwd (1,64,32,32)",
            fwd_bwd(lambda t: up.interpolate(t, **bil), mid_g),
            fwd_bwd(lambda t: F.interpolate(t, **bil), mid_g),
        ),
        (
            "unpool x2 (1,16,8,8)",
            lambda: up.unpool(small, 2),
            lambda: F.interpolate(small, scale_factor=2),
        ),
        (
            "unpool fwd+bwd (1,64,32,32)",
            fwd_bwd(lambda t: up.unpool(t, 2), mid_g),
            fwd_bwd(lambda t: F.interpolate(t, scale_factor=2), mid_g),
        ),
        (
            "max_pool 2 (1,64,32,32)",
            lambda: up.max_pool(mid, 2, return_indices=True),
            lambda: F.max_pool2d(mid, 2, return_indices=True),
        ),
        (
            "max_unpool 2 (1,64,16,16)",
            lambda: up.max_unpool(v, i, 2),
            lambda: F.max_unpool2d(v, i, 2),
        ),
        (
            "max_unpool 2 float16 (torch path)",
            lambda: up.max_unpool(vh, ih, 2),
            lambda: F.max_unpool2d(vh.float(), ih, 2),
        ),
        (
            "conv_transpose k4 s2 (1,16,8,8)",
            lambda: up.conv_transpose(small, w, stride=2, padding=1),
            lambda: F.conv_transpose2d(small, w, stride=2, padding=1),
        ),
    ]


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    set_threads(args.threads)
    rows = []
    for name, ours, theirs in _cases():
        fns = {
            "ours": lambda f=ours: [f() for _ in range(20)],
            "torch": lambda f=theirs: [f() for _ in range(20)],
        }
        times = rounds(fns, repeat=args.repeat, warmup=3, settle=0.0)
        ms = sorted(times["ours"])[len(times["ours"]) // 2] / 20 * 1e3
        rows.append([name, round(ms, 3), speedup(times, "torch", "ours")])
    table = markdown_table(["workload", "ours ms", "speedup vs torch"], rows)
    print(machine())
    print(table)
    return table


if __name__ == "__main__":
    main()
