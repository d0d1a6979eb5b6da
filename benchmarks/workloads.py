"""The workloads people run (issue 12): small and large tensors, NCHW and channels_last, float32
and float64, integer and non-integer scales, forward and forward+backward, for every operator,
plus two decoders; each as a speed-up against the same PyTorch call in the same process
(``> 1``: we are faster).

    python benchmarks/workloads.py                 # the whole matrix, 1 and 2 threads
    python benchmarks/workloads.py --quick         # small and medium, float32, ~1 minute
    python benchmarks/workloads.py --threads 2 --only interpolate

Each row is measured after a warm-up of both sides, in interleaved rounds; a sample is a loop of
calls lasting a few milliseconds (``rounds(..., min_time=)``), and the speed-up is the median of
the per-round ratios (``common.speedup``), which cancels the slow swings of a shared machine.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

import upsampling as up

from common import machine, markdown_table, rounds, set_threads, speedup

SHAPES = {"small": (1, 16, 8, 8), "medium": (1, 64, 32, 32), "large": (8, 64, 64, 64)}
MODES = ("nearest", "bilinear", "bicubic", "area")
# (name, integer-scale only): the operators of the matrix
OPERATORS = (
    *((f"interpolate {m}", False) for m in MODES),
    ("unpool", True),
    ("max_pool", True),
    ("max_unpool", True),
    ("conv_transpose", True),
    ("pixel_shuffle", True),
)
Pair = tuple[Callable[[], object], Callable[[], object]]


def _data(shape, layout: str, dtype: torch.dtype, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g, dtype=dtype)
    return x.contiguous(memory_format=torch.channels_last) if layout == "channels_last" else x


def _forward(op: str, x: torch.Tensor, scale: float) -> Pair:
    """Our call and PyTorch's on ``x`` (new tensors for the operators that need them)."""
    if op.startswith("interpolate"):
        mode = op.split()[1]
        kw = {"scale_factor": scale, "mode": mode}
        return (lambda t: up.interpolate(t, **kw)), (lambda t: F.interpolate(t, **kw))
    if op == "unpool":
        return (lambda t: up.unpool(t, 2)), (lambda t: F.interpolate(t, scale_factor=2))
    if op == "max_pool":
        return (lambda t: up.max_pool(t, 2, return_indices=True)[0]), (
            lambda t: F.max_pool2d(t, 2, return_indices=True)[0]
        )
    if op == "max_unpool":
        n, c, h, w = x.shape
        _, indices = F.max_pool2d(torch.randn(n, c, 2 * h, 2 * w), 2, return_indices=True)
        indices = indices.contiguous(memory_format=_format(x))
        return (lambda t: up.max_unpool(t, indices, 2)), (lambda t: F.max_unpool2d(t, indices, 2))
    if op == "conv_transpose":
        c = x.shape[1]
        w = torch.randn(c, max(1, c // 2), 4, 4, dtype=x.dtype) / (4 * c)
        return (lambda t: up.conv_transpose(t, w, stride=2, padding=1)), (
            lambda t: F.conv_transpose2d(t, w, stride=2, padding=1)
        )
    if op == "pixel_shuffle":
        return (lambda t: up.pixel_shuffle(t, 2)), (lambda t: F.pixel_shuffle(t, 2))
    raise ValueError(op)


def _format(x: torch.Tensor) -> torch.memory_format:
    cl = (
        x.dim() == 4
        and not x.is_contiguous()
        and x.is_contiguous(memory_format=torch.channels_last)
    )
    return torch.channels_last if cl else torch.contiguous_format


def _case(op: str, x: torch.Tensor, scale: float, backward: bool) -> Pair:
    ours, theirs = _forward(op, x, scale)
    if not backward:
        return (lambda: ours(x)), (lambda: theirs(x))
    xg = x.detach().clone(memory_format=torch.preserve_format).requires_grad_()

    def step(fn):
        def run():
            xg.grad = None
            fn(xg).sum().backward()

        return run

    return step(ours), step(theirs)


class _Decoder(torch.nn.Module):
    """4 up-sampling stages 8x8 -> 128x128, 64 -> 32 -> 16 -> 8 -> 3 channels: transposed
    convolutions k4 s2 p1, or ``Upsample(x2, bilinear)`` then a 3x3 convolution."""

    def __init__(self, kind: str, ours: bool) -> None:
        super().__init__()
        chans = (64, 32, 16, 8, 3)
        layers: list[torch.nn.Module] = []
        for a, b in itertools.pairwise(chans):
            if kind == "conv_transpose":
                cls = up.nn.ConvTranspose2d if ours else torch.nn.ConvTranspose2d
                layers.append(cls(a, b, 4, stride=2, padding=1))
            else:
                cls = up.nn.Upsample if ours else torch.nn.Upsample
                layers += [cls(scale_factor=2, mode="bilinear"), torch.nn.Conv2d(a, b, 3, 1, 1)]
            layers.append(torch.nn.ReLU())
        self.body = torch.nn.Sequential(*layers[:-1])

    def forward(self, x):
        return self.body(x)


def _decoder_pair(kind: str, batch: int) -> Pair:
    torch.manual_seed(0)
    ours = _Decoder(kind, True).eval()
    torch.manual_seed(0)
    theirs = _Decoder(kind, False).eval()
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(batch, 64, 8, 8)

    def infer(m):
        def run():
            with torch.inference_mode():
                m(x)

        return run

    return infer(ours), infer(theirs)


def _measure(pair: Pair, min_time: float, repeat: int) -> tuple[float, float, float]:
    times = rounds({"ours": pair[0], "torch": pair[1]}, repeat, 2, settle=0.0, min_time=min_time)
    return (
        statistics.median(times["ours"]) * 1e6,
        statistics.median(times["torch"]) * 1e6,
        speedup(times, "torch", "ours"),
    )


def matrix(quick: bool, only: str | None):
    """The rows of the table: (operator, shape, layout, dtype, scale, pass)."""
    shapes = ("small", "medium") if quick else tuple(SHAPES)
    dtypes = (torch.float32,) if quick else (torch.float32, torch.float64)
    for (op, integer_only), size, layout, dtype, scale, backward in itertools.product(
        OPERATORS, shapes, ("NCHW", "channels_last"), dtypes, (2, 1.5), (False, True)
    ):
        if (integer_only and scale != 2) or (only and not op.startswith(only)):
            continue
        yield op, size, layout, dtype, scale, backward


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--quick", action="store_true", help="small and medium, float32")
    parser.add_argument("--only", help="operators whose name starts with this")
    args = parser.parse_args(argv)
    min_time, repeat = (0.002, 3) if args.quick else (0.02, 7)
    header = [
        "operator",
        "input",
        "layout",
        "dtype",
        "scale",
        "pass",
        "threads",
        "ours us",
        "torch us",
        "speed-up",
    ]
    rows = []
    start = time.perf_counter()
    for threads in args.threads:
        set_threads(threads)
        for op, size, layout, dtype, scale, backward in matrix(args.quick, args.only):
            x = _data(SHAPES[size], layout, dtype)
            ours, theirs, ratio = _measure(_case(op, x, scale, backward), min_time, repeat)
            rows.append(
                [
                    op,
                    "x".join(map(str, SHAPES[size])),
                    layout,
                    str(dtype)[6:],
                    f"x{scale}",
                    "fwd+bwd" if backward else "fwd",
                    threads,
                    ours,
                    theirs,
                    ratio,
                ]
            )
        if not args.only or args.only.startswith("decoder"):
            for kind, batch in itertools.product(("conv_transpose", "upsample+conv"), (1, 8)):
                if args.quick and batch == 8:
                    continue
                ours, theirs, ratio = _measure(_decoder_pair(kind, batch), min_time * 5, repeat)
                rows.append(
                    [
                        f"decoder {kind}",
                        f"{batch}x64x8x8 -> 128",
                        "NCHW",
                        "float32",
                        "x16",
                        "inference",
                        threads,
                        ours,
                        theirs,
                        ratio,
                    ]
                )
    table = markdown_table(header, rows)
    took = time.perf_counter() - start
    print(f"{machine()}; {took:.0f} s; speed-up = median of per-round torch/ours (> 1: faster)")
    print(table)
    return table


if __name__ == "__main__":
    main(sys.argv[1:])
