"""Run the methods on images and report PSNR, SSIM, time and learnable parameters.

``upsampling compare`` and ``upsampling demo`` share everything here: :func:`evaluate` runs the
methods on one :class:`~upsampling.cli.methods.Problem`; the ``format_*`` functions turn results
into a rich table, JSON or CSV.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .methods import Method, Problem, degrade
from .metrics import psnr, ssim

__all__ = [
    "Result",
    "evaluate",
    "format_csv",
    "format_json",
    "mean_results",
    "rich_table",
    "stdout_console",
]


@dataclass
class Result:
    """One method on one image. Metrics are computed on the output clipped to [0, 1]."""

    method: str
    label: str
    psnr: float
    ssim: float
    seconds: float
    params: int
    image: np.ndarray | None = None

    def row(self) -> dict:
        return {
            "method": self.method,
            "psnr_db": _finite(self.psnr),
            "ssim": self.ssim,
            "seconds": self.seconds,
            "learnable_params": self.params,
        }


def _finite(v: float) -> float | None:
    return None if math.isinf(v) else v


def warm_up(methods: Sequence[Method], scale: int, channels: int) -> None:
    """Run every method once on a tiny image so that numba compiles before anything is timed."""
    tiny = np.random.default_rng(0).random((1, channels, 8 * scale, 8 * scale), dtype=np.float32)
    problem = degrade(tiny, scale)
    for m in methods:
        m.run(problem)


def evaluate(
    problem: Problem,
    methods: Sequence[Method],
    step: Callable[[str], None] | None = None,
    keep_images: bool = False,
) -> list[Result]:
    """Run each method on ``problem`` once (timed) and score it against the original."""
    results = []
    for m in methods:
        if step is not None:
            step(m.label)
        start = time.perf_counter()
        out = m.run(problem)
        seconds = time.perf_counter() - start
        if out.shape != problem.original.shape:
            raise RuntimeError(
                f"method {m.name} returned shape {out.shape}, expected {problem.original.shape}"
            )
        out = np.clip(np.asarray(out, dtype=np.float32), 0.0, 1.0)
        results.append(
            Result(
                m.name,
                m.label,
                psnr(problem.original, out),
                ssim(problem.original, out),
                seconds,
                m.params(problem.scale),
                out if keep_images else None,
            )
        )
    return results


def mean_results(per_image: Sequence[Sequence[Result]]) -> list[Result]:
    """Average each method's scores over the images (PSNR averaged in dB, time summed)."""
    by_name: dict[str, list[Result]] = {}
    for results in per_image:
        for r in results:
            by_name.setdefault(r.method, []).append(r)
    return [
        Result(
            name,
            rs[0].label,
            float(np.mean([r.psnr for r in rs])),
            float(np.mean([r.ssim for r in rs])),
            float(np.sum([r.seconds for r in rs])),
            rs[0].params,
        )
        for name, rs in by_name.items()
    ]


def rich_table(results: Sequence[Result], title: str):
    """A :class:`rich.table.Table` of the results, best PSNR and SSIM in bold."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("method")
    table.add_column("PSNR dB", justify="right")
    table.add_column("SSIM", justify="right")
    table.add_column("time ms", justify="right")
    table.add_column("learnable params", justify="right")
    best_psnr = max((r.psnr for r in results), default=None)
    best_ssim = max((r.ssim for r in results), default=None)
    for r in results:
        p = f"{r.psnr:.2f}"
        s = f"{r.ssim:.4f}"
        table.add_row(
            r.label,
            f"[bold]{p}[/bold]" if r.psnr == best_psnr else p,
            f"[bold]{s}[/bold]" if r.ssim == best_ssim else s,
            f"{r.seconds * 1e3:.1f}",
            f"{r.params:,}",
        )
    return table


def stdout_console():
    """A rich console on stdout; wide enough for the tables when output goes to a file or pipe."""
    from rich.console import Console

    console = Console(soft_wrap=True)
    return console if console.is_terminal else Console(soft_wrap=True, width=120)


def format_json(report: dict) -> str:
    return json.dumps(report, indent=2, allow_nan=False) + "\n"


def format_csv(images: Sequence[tuple[str, Sequence[Result]]]) -> str:
    """One row per (image, method); ``image`` is ``mean`` for the averages."""
    buf = io.StringIO()
    fields = ["image", "method", "psnr_db", "ssim", "seconds", "learnable_params"]
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for name, results in images:
        for r in results:
            row = r.row()
            writer.writerow({"image": name, **{k: _csv(v) for k, v in row.items()}})
    return buf.getvalue()


def _csv(v):
    if isinstance(v, float):
        return f"{v:.6g}"
    return "inf" if v is None else v


@contextlib.contextmanager
def progress_steps(total: int, console=None, enabled: bool = True) -> Iterator[Callable]:
    """A rich progress bar on stderr; yields ``step(description)`` that advances it by one."""
    if not enabled:
        yield lambda description: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = console or Console(stderr=True)
    with Progress(
        TextColumn("{task.description:<40}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("starting", total=total)
        started = [False]

        def step(description: str) -> None:
            if started[0]:
                bar.advance(task)
            started[0] = True
            bar.update(task, description=description)

        yield step
        bar.update(task, completed=total)
