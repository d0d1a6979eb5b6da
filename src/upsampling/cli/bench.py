"""``upsampling bench``: each operator against PyTorch (OpenCV, Pillow where installed).

:func:`rounds`, :func:`speedup` and :func:`set_threads` are the one timing method of the
project: the scripts in ``benchmarks/`` use the same (``benchmarks/common.py``). Speeds are
ratios against the other library in the same process, with the same thread count: ``> 1`` means
we are faster.
"""

from __future__ import annotations

import importlib.util
import json as _json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Case", "cases", "median_time", "rounds", "run_bench", "set_threads", "speedup"]


def set_threads(n: int) -> None:
    """Give our kernels, PyTorch and OpenCV the same number of threads."""
    from .. import set_num_threads

    set_num_threads(n)
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.set_num_threads(n)
    if importlib.util.find_spec("cv2") is not None:
        import cv2

        cv2.setNumThreads(n)


def median_time(fn: Callable[[], object], repeat: int = 7, warmup: int = 2) -> float:
    """Median wall time of ``fn()`` in seconds, after ``warmup`` calls (compilation, caches)."""
    return statistics.median(rounds({"fn": fn}, repeat, warmup, settle=0.0)["fn"])


def rounds(
    fns: dict[str, Callable[[], object]],
    repeat: int = 7,
    warmup: int = 1,
    settle: float = 0.05,
    min_time: float = 0.0,
) -> dict[str, list[float]]:
    """Wall times per call of each function, called in turn once per round for ``repeat`` rounds
    after ``warmup`` untimed rounds. Before each timed sample the machine rests ``settle``
    seconds, so the worker threads of the previous call (OpenMP and BLAS busy-wait after each
    call) are idle and do not slow the next library's.

    ``min_time`` > 0: each sample is a loop of as many calls as take about ``min_time``
    seconds (counted per function after its first call, and at least one), and its time is the
    mean per call; the warm-up rounds run the same loops. A call of a few microseconds is then
    timed over thousands of calls rather than once, and the first-call costs of either library
    (allocator, oneDNN primitive caches, numba dispatch) stay in the warm-up."""
    calls = dict.fromkeys(fns, 1)
    if min_time > 0:
        for name, fn in fns.items():
            fn()  # the first call (compilation, caches) is not a measure of the rest
            start = time.perf_counter()
            fn()
            once = max(time.perf_counter() - start, 1e-7)
            calls[name] = max(1, min(100_000, round(min_time / once)))
    for _ in range(warmup):
        for name, fn in fns.items():
            for _ in range(calls[name]):
                fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            if settle:
                time.sleep(settle)
            n = calls[name]
            start = time.perf_counter()
            for _ in range(n):
                fn()
            times[name].append((time.perf_counter() - start) / n)
    return times


def speedup(times: dict[str, list[float]], theirs: str, ours: str) -> float:
    """Median over rounds of ``theirs / ours``: ratios taken within a round cancel the slow
    swings of a shared machine. ``> 1`` means ours is faster."""
    return statistics.median(t / o for t, o in zip(times[theirs], times[ours], strict=True))


@dataclass
class Case:
    """One operator on one input: our call and the same computation in other libraries."""

    name: str
    shape: tuple[int, ...]
    ours: Callable[[], object]
    others: dict[str, Callable[[], object]] = field(default_factory=dict)


def _have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def cases(quick: bool = False) -> list[Case]:
    """The benchmark cases: image-sized inputs for resizing, feature maps for the rest."""
    import torch
    import torch.nn.functional as F

    import upsampling as up

    rng = np.random.default_rng(0)
    img_shape = (1, 3, 128, 128) if quick else (1, 3, 512, 512)
    feat_shape = (2, 16, 32, 32) if quick else (8, 64, 64, 64)
    img = rng.random(img_shape, dtype=np.float32)
    feat = rng.standard_normal(feat_shape, dtype=np.float32)
    img_t, feat_t = torch.from_numpy(img), torch.from_numpy(feat)
    hwc = np.ascontiguousarray(img[0].transpose(1, 2, 0))
    h, w = img_shape[2:]
    out = []

    values, indices = F.max_pool2d(feat_t, 2, return_indices=True)
    vn, inn = values.numpy(), indices.numpy()
    out += [
        Case(
            "unpool nearest x2",
            feat_shape,
            lambda: up.unpool(feat, 2),
            {"torch": lambda: F.interpolate(feat_t, scale_factor=2, mode="nearest")},
        ),
        Case(
            "max_pool 2, indices",
            feat_shape,
            lambda: up.max_pool(feat, 2, return_indices=True),
            {"torch": lambda: F.max_pool2d(feat_t, 2, return_indices=True)},
        ),
        Case(
            "max_unpool 2",
            tuple(values.shape),
            lambda: up.max_unpool(vn, inn, 2),
            {"torch": lambda: F.max_unpool2d(values, indices, 2)},
        ),
    ]
    try:
        from ..interpolate import interpolate
    except ImportError:
        interpolate = None
    if interpolate is not None:
        for mode, cv_flag, pil_flag in (
            ("bilinear", "INTER_LINEAR", "BILINEAR"),
            ("bicubic", "INTER_CUBIC", "BICUBIC"),
        ):
            others = {"torch": lambda m=mode: F.interpolate(img_t, scale_factor=2, mode=m)}
            if _have("cv2"):
                import cv2

                flag = getattr(cv2, cv_flag)
                others["opencv"] = lambda f=flag: cv2.resize(hwc, (2 * w, 2 * h), interpolation=f)
            if _have("PIL"):
                from PIL import Image

                planes = [Image.fromarray(p) for p in img[0]]
                flag = getattr(Image.Resampling, pil_flag)
                others["pillow"] = lambda f=flag, ps=planes: [
                    p.resize((2 * w, 2 * h), f) for p in ps
                ]
            out.append(
                Case(
                    f"interpolate {mode} x2",
                    img_shape,
                    lambda m=mode: interpolate(img, scale_factor=2, mode=m),
                    others,
                )
            )
    try:
        from ..conv import conv, conv_transpose
        from ..pixel_shuffle import pixel_shuffle
    except ImportError:
        conv = None
    if conv is not None:
        c = feat_shape[1]
        w3 = rng.standard_normal((c, c, 3, 3), dtype=np.float32) / (3 * c)
        w4 = rng.standard_normal((c, c, 4, 4), dtype=np.float32) / (4 * c)
        w3t, w4t = torch.from_numpy(w3), torch.from_numpy(w4)
        out += [
            Case(
                "conv 3x3",
                feat_shape,
                lambda: conv(feat, w3, padding=1),
                {"torch": lambda: F.conv2d(feat_t, w3t, padding=1)},
            ),
            Case(
                "conv_transpose 4x4 stride 2",
                feat_shape,
                lambda: conv_transpose(feat, w4, stride=2, padding=1),
                {"torch": lambda: F.conv_transpose2d(feat_t, w4t, stride=2, padding=1)},
            ),
            Case(
                "pixel_shuffle 2",
                feat_shape,
                lambda: pixel_shuffle(feat, 2),
                {"torch": lambda: F.pixel_shuffle(feat_t, 2)},
            ),
        ]
    return out


def run_bench(*, json: bool, quick: bool, threads: int, echo: Callable[[str], None]) -> int:
    from .io import CliError

    if not _have("torch"):
        raise CliError("bench compares against PyTorch: pip install 'upsampling[torch]'")
    import torch

    set_threads(threads)
    # fresh memory is slow to fault in on some VMs (huge pages returned to the host): the
    # warm-up rounds let both libraries reach their steady state first
    # each sample a loop of calls lasting min_time (small calls are microseconds: one call
    # timed alone is mostly the timer and the first-call costs of either side)
    repeat, warmup, min_time = (5, 2, 0.02) if quick else (7, 5, 0.05)
    all_cases = cases(quick)
    libraries = sorted({lib for c in all_cases for lib in c.others}, key=_order)
    rows = []
    from .report import progress_steps, stdout_console

    with progress_steps(len(all_cases)) as step:
        for case in all_cases:
            step(case.name)
            times = rounds({"ours": case.ours, **case.others}, repeat, warmup, min_time=min_time)
            ms = {name: statistics.median(t) * 1e3 for name, t in times.items()}
            rows.append(
                {
                    "operator": case.name,
                    "shape": list(case.shape),
                    "ours_ms": ms["ours"],
                    **{f"{lib}_ms": ms[lib] for lib in case.others},
                    "speedup": {lib: speedup(times, lib, "ours") for lib in case.others},
                }
            )
    machine = {
        "cpus": os.cpu_count(),
        "threads": threads,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "dtype": "float32",
        "timing": f"{repeat} interleaved rounds of >= {min_time * 1e3:.0f} ms of calls after "
        f"{warmup} warm-up; median ratio",
    }
    if json:
        echo(_json.dumps({"machine": machine, "results": rows}, indent=2))
        return 0
    from rich.table import Table

    table = Table(
        title=f"float32, {threads} threads, {repeat} interleaved rounds after warm-up; speed-up "
        "= median of their time / ours (> 1: we are faster)",
        title_justify="left",
    )
    for col in ["operator", "input", "ours ms", *[f"vs {lib}" for lib in libraries]]:
        table.add_column(col, justify="left" if col in ("operator", "input") else "right")
    for r in rows:
        cells = [f"{r['speedup'][lib]:.2f}x" if lib in r["speedup"] else "-" for lib in libraries]
        table.add_row(r["operator"], "x".join(map(str, r["shape"])), f"{r['ours_ms']:.2f}", *cells)
    stdout_console().print(table)
    return 0


def _order(lib: str) -> int:
    return ["torch", "opencv", "pillow"].index(lib) if lib in ("torch", "opencv", "pillow") else 9
