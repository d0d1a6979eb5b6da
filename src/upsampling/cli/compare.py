"""``upsampling compare``: every method on the user's own images, per image and averaged."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .io import (
    CliError,
    check_directory,
    check_writable,
    encode_png,
    read_image,
    write_atomic,
)
from .methods import MAX_SCALE, Method, degrade, resolve_methods, tent_taps
from .report import (
    Result,
    evaluate,
    format_csv,
    format_json,
    mean_results,
    progress_steps,
    rich_table,
    stdout_console,
    warm_up,
)

MIN_SIDE = 11  # the SSIM window


def describe(scale: int) -> dict:
    taps, pad = tent_taps(scale)
    return {
        "scale": scale,
        "downsampling": (
            f"separable tent filter {np.round(taps, 6).tolist()} with stride {scale} on the "
            f"image padded by {pad} (edge values); images are first cropped to a multiple of "
            f"{scale}"
        ),
        "metrics": (
            "PSNR (dB) and SSIM (Gaussian window, sigma 1.5) against the original, outputs "
            "clipped to [0, 1]; seconds: one timed run after a warm-up"
        ),
    }


def usable_methods(
    names: Sequence[str] | None, scale: int, error: Callable[[str], None]
) -> list[Method]:
    """Resolve ``--methods``; report unknown names, wrong scales and missing operators."""
    if not 2 <= scale <= MAX_SCALE:
        raise CliError(f"--scale {scale} is not supported; use an integer from 2 to {MAX_SCALE}")
    methods, errors = resolve_methods(list(names) if names else None, scale)
    for line in errors:
        error(line)
    ready = []
    for m in methods:
        missing = m.missing()
        if missing:
            error(f"method {m.name!r} is not available: {', '.join(missing)} cannot be imported")
        else:
            ready.append(m)
    if not ready:
        raise CliError("no method to run")
    return ready


def output_names(paths: Sequence[Path]) -> list[str]:
    """A unique file stem per input image (``photo``, ``photo-2``, ... for repeated names)."""
    seen: dict[str, int] = {}
    out = []
    for p in paths:
        stem = p.stem or "image"
        seen[stem] = seen.get(stem, 0) + 1
        out.append(stem if seen[stem] == 1 else f"{stem}-{seen[stem]}")
    return out


def run_compare(
    images: Sequence[Path],
    *,
    scale: int,
    methods: Sequence[str] | None,
    out: Path | None,
    fmt: str,
    force: bool,
    save_images: bool,
    echo: Callable[[str], None],
    error: Callable[[str], None],
    console=None,
) -> int:
    """The body of ``upsampling compare``; returns the exit status (0, or 1 after errors)."""
    failed = False

    def fail(line: str) -> None:
        nonlocal failed
        failed = True
        error(line)

    chosen = usable_methods(methods, scale, fail)
    stems = output_names(images)
    planned: list[Path] = []
    if out is not None:
        check_directory(out)
        planned = [out / "results.json", out / "results.csv"]
        planned += [out / f"{s}-compare.png" for s in stems]
        if save_images:
            planned += [out / f"{s}.{m.name}.png" for s in stems for m in chosen]
        refused = check_writable(planned, force)
        if refused:
            for line in refused:
                error(line)
            return 1

    per_image: list[tuple[str, Sequence[Result]]] = []
    report_images = []
    with progress_steps(len(images) * (len(chosen) + 1) + 1, console) as step:
        step("compiling kernels (first run only)")
        warmed = False
        for path, stem in zip(images, stems, strict=True):
            step(f"{path.name}: reading")
            try:
                loaded = read_image(path)
                h, w = loaded.pixels.shape[2:]
                need = max(MIN_SIDE, 2 * scale)
                if min(h, w) < need:
                    raise CliError(
                        f"{path}: {w}x{h} pixels is too small for --scale {scale}; "
                        f"each side needs at least {need} pixels"
                    )
            except CliError as exc:
                fail(str(exc))
                continue
            problem = degrade(loaded.pixels, scale)
            if not warmed:
                warm_up(chosen, scale, problem.channels)
                warmed = True
            keep = out is not None
            results = evaluate(
                problem, chosen, lambda name, p=path: step(f"{p.name}: {name}"), keep
            )
            per_image.append((str(path), results))
            report_images.append(
                {
                    "image": str(path),
                    "size": list(problem.original.shape[2:]),
                    "channels": problem.channels,
                    "bits": loaded.bits,
                    "results": [r.row() for r in results],
                }
            )
            if out is not None:
                _write_image_outputs(out, stem, problem, results, loaded.bits, force, save_images)
                for r in results:
                    r.image = None
    means = mean_results([r for _, r in per_image])
    report = {**describe(scale), "images": report_images, "mean": [r.row() for r in means]}
    tables = [*per_image, ("mean", means)] if len(per_image) > 1 else per_image
    if fmt == "json":
        echo(format_json(report))
    elif fmt == "csv":
        echo(format_csv(tables))
    else:
        con = stdout_console() if console is None else console
        for name, results in tables:
            title = f"mean over {len(per_image)} images" if name == "mean" else name
            con.print(rich_table(results, f"{title} (x{scale})"))
    if out is not None and per_image:
        write_atomic(out / "results.json", format_json(report).encode(), force=force)
        write_atomic(out / "results.csv", format_csv(tables).encode(), force=force)
    return 1 if failed or not per_image else 0


def _write_image_outputs(out, stem, problem, results, bits, force, save_images) -> None:
    from .figures import crops_figure, detail_box, save_figure

    box = detail_box(problem.original, problem.scale)
    fig = crops_figure(problem.original, problem.low, results, box, problem.scale, stem)
    save_figure(fig, out / f"{stem}-compare.png", force=force)
    if save_images:
        for r in results:
            write_atomic(out / f"{stem}.{r.method}.png", encode_png(r.image, bits), force=force)
