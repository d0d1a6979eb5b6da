"""``upsampling demo``: every method of the seed on the bundled photograph, with figures.

Down-samples the sample by 2 (see :mod:`.methods`), brings it back with every method, prints the
table and writes into the output directory (``./upsampling-demo/`` by default):
``methods.png`` (zoomed crops of every result), ``results.csv``, ``results.json`` and
``explain-<topic>.png`` for every topic of ``upsampling explain``. Existing files there are
refused before any work, as ``compare`` and ``explain`` refuse them, unless ``force`` is given.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .compare import describe
from .io import CliError, check_directory, check_writable, write_atomic
from .methods import METHODS, degrade
from .report import (
    evaluate,
    format_csv,
    format_json,
    progress_steps,
    rich_table,
    stdout_console,
    warm_up,
)

SCALE = 2
# The crew patch on the suit: lettering and fine edges, where the methods differ most.
SAMPLE_BOX = (336, 120, 112, 112)
# A smaller centre crop for quick runs (tests): ``UPSAMPLING_DEMO_SIZE=64 upsampling demo``.
SIZE_ENV = "UPSAMPLING_DEMO_SIZE"


def sample_image(size: int | None) -> np.ndarray:
    from ..data import sample

    image = sample()
    if size is None:
        return image
    h, w = image.shape[2:]
    size = max(16, min(size, h, w))
    top, left = (h - size) // 2, (w - size) // 2
    return image[:, :, top : top + size, left : left + size]


def run_demo(
    out: Path,
    *,
    size: int | None,
    explain: bool,
    force: bool,
    echo: Callable[[str], None],
    error: Callable[[str], None],
    console=None,
) -> int:
    """The body of ``upsampling demo``; returns the exit status."""
    from .explain import TOPICS
    from .figures import crops_figure, detail_box, save_figure

    check_directory(out)
    if size is None and os.environ.get(SIZE_ENV):
        size = int(os.environ[SIZE_ENV])
    problem = degrade(sample_image(size), SCALE)
    methods, topics, skipped = [], [], []
    for m in METHODS.values():
        if m.supports(SCALE):
            missing = m.missing()
            if missing:
                skipped.append((f"method {m.name}", missing))
            else:
                methods.append(m)
    for name, topic in TOPICS.items() if explain else ():
        missing = topic.missing()
        if missing:
            skipped.append((f"explain {name}", missing))
        else:
            topics.append(name)
    planned = [out / "methods.png", *(out / f"explain-{name}.png" for name in topics)]
    refused = check_writable([*planned, out / "results.json", out / "results.csv"], force)
    if refused:
        others = len(refused) - 1
        more = f" (and {others} other output{'s' if others > 1 else ''})" if others else ""
        raise CliError(refused[0] + more)
    written = []
    with progress_steps(len(methods) + len(topics) + 3, console) as step:
        step("compiling kernels (first run only)")
        warm_up(methods, SCALE, problem.channels)
        results = evaluate(problem, methods, step, keep_images=True)
        step("figure: zoomed crops of every method")
        full = problem.original.shape[2:] == (512, 512)
        box = SAMPLE_BOX if full else detail_box(problem.original, SCALE)
        fig = crops_figure(
            problem.original,
            problem.low,
            results,
            box,
            SCALE,
            f"The sample down-sampled x{SCALE} and brought back by every method",
        )
        save_figure(fig, out / "methods.png", force=force)
        written.append(out / "methods.png")
        for name in topics:
            step(f"figure: explain {name}")
            written.append(write_topic(name, out / f"explain-{name}.png", force=force))
    rows = [r.row() for r in results]
    report = {
        **describe(SCALE),
        "images": [
            {
                "image": "upsampling.data.sample()",
                "size": list(problem.original.shape[2:]),
                "channels": problem.channels,
                "results": rows,
            }
        ],
        "mean": rows,
    }
    for path, text in (
        (out / "results.json", format_json(report)),
        (out / "results.csv", format_csv([("sample", results)])),
    ):
        write_atomic(path, text.encode(), force=force)
        written.append(path)
    con = stdout_console() if console is None else console
    h, w = problem.original.shape[2:]
    con.print(
        rich_table(
            results, f"The sample photograph ({w}x{h}) down-sampled x{SCALE} and brought back"
        )
    )
    for m in results:
        note = METHODS[m.method].note
        if note:
            con.print(f"  [dim]{m.label}: {note}[/dim]")
    for what, missing in skipped:
        error(f"skipped {what}: {', '.join(missing)} cannot be imported")
    echo(f"wrote {len(written)} files into {out}/: " + ", ".join(p.name for p in written))
    return 0


def write_topic(name: str, path: Path, *, force: bool, **options) -> Path:
    from .explain import topic_data
    from .explain_draw import DRAW
    from .figures import save_figure

    fig = DRAW[name](topic_data(name, **options))
    save_figure(fig, path, force=force)
    return path
