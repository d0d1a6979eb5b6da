"""What every benchmark shares: thread settings, the median timer, a markdown table.

Speeds are reported as ratios against PyTorch run in the same process (``speedup`` > 1 means
we are faster), never as absolute claims.
"""

from __future__ import annotations

import os

# The one timing method, shared with `upsampling bench` (which cannot import this folder).
from upsampling.cli.bench import median_time, rounds, set_threads, speedup

__all__ = ["machine", "markdown_table", "median_time", "rounds", "set_threads", "speedup"]


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
