"""One way to time things for every benchmark: thread settings, a median timer, a table.

Speeds are reported as ratios against PyTorch run in the same process (``speedup`` > 1 means
we are faster), never as absolute claims.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable


def set_threads(n: int = 2) -> None:
    """Give PyTorch and our kernels the same number of threads."""
    import torch

    import upsampling as up

    torch.set_num_threads(n)
    up.set_num_threads(n)


def median_time(fn: Callable[[], object], repeat: int = 7, warmup: int = 2) -> float:
    """Median wall time of ``fn()`` in seconds, after ``warmup`` calls (compilation, caches)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    def cell(v: object) -> str:
        return f"{v:.2f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    import numpy
    import torch

    return (
        f"{os.cpu_count()} CPUs visible, torch {torch.__version__}, numpy {numpy.__version__}, "
        f"threads {torch.get_num_threads()}"
    )
