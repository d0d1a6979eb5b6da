"""``upsampling resize``: the user's own files and folders resized by :func:`upsampling.resize`.

Each input file gives one output file (a folder gives one per image file in it, ``--recursive``
for its sub-folders, their layout mirrored under ``--out``; default ``./resized``). An output is
written to a temporary name beside its target and renamed once complete; one that exists is
skipped (so a rerun after an interrupt does only what is missing) unless ``--force`` is given.
The output folder is never read as input, even when it lies inside an input folder. A file that
cannot be read or written is reported in one line and the others go on; the exit status is 1
if any failed.

Images whose pixels (in or out) need more than ``--max-memory`` bytes, and Zarr inputs, go
through Dask chunk by chunk (:mod:`._resize_dask`), with the in-memory result bit for bit.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .io import CliError

__all__ = ["Job", "Options", "parse_bytes", "plan_jobs", "run_resize"]

_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
_UNITS.update({f"{u}b": v for u, v in list(_UNITS.items()) if u not in ("", "b")})
_UNITS.update({f"{u}ib": 2 ** (10 * i) for i, u in enumerate("kmgt", 1)})


def parse_bytes(text: str) -> int:
    """``"16MB"``, ``"2GiB"``, ``"1.5g"`` or ``"123"`` as a number of bytes (at least 1).

    >>> parse_bytes("16MB"), parse_bytes("2GiB"), parse_bytes("512")
    (16000000, 2147483648, 512)
    """
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", str(text))
    unit = m.group(2).lower() if m else None
    if m is None or unit not in _UNITS:
        raise CliError(
            f"--max-memory {text!r} must be a number of bytes, optionally with a unit: "
            "16MB, 2GiB, 500k"
        )
    value = int(float(m.group(1)) * _UNITS[unit])
    if value < 1:
        raise CliError(f"--max-memory {text!r} must be at least one byte")
    return value


def default_max_memory() -> int:
    """A quarter of this machine's memory."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 2 * 2**30


@dataclass(frozen=True)
class Options:
    """The resize of every file: exactly one of ``scale``, ``size``, ``width``, ``height``."""

    scale: float | None = None
    size: tuple[int, int] | None = None
    width: int | None = None
    height: int | None = None
    method: str = "bilinear"
    convention: str = "pytorch"
    antialias: bool | None = None
    chunks: int = 1024
    scheduler: str = "threads"
    max_memory: int = field(default_factory=default_max_memory)

    def check(self) -> Options:
        given = [n for n in ("scale", "size", "width", "height") if getattr(self, n) is not None]
        if len(given) != 1:
            what = ", ".join(f"--{n}" for n in given) if given else "none"
            raise CliError(f"give exactly one of --scale, --size, --width, --height (got {what})")
        if self.scale is not None and not (math.isfinite(self.scale) and self.scale > 0):
            raise CliError(f"--scale {self.scale} must be a positive number")
        for name in ("width", "height"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise CliError(f"--{name} {getattr(self, name)} must be a positive integer")
        if self.chunks < 16:
            raise CliError(f"--chunks {self.chunks} must be at least 16 (pixels on a side)")
        from ..resize import _preset

        try:  # the method, convention and antialias, before any file is read
            _preset(self.method, self.convention, self.antialias)
        except (ValueError, TypeError) as exc:
            raise CliError(str(exc).removeprefix("resize: ")) from None
        return self

    def arguments(self, hw: tuple[int, int]) -> dict:
        """The keyword arguments of :func:`upsampling.resize` for an image of size ``hw``."""
        kw = {"method": self.method, "convention": self.convention, "antialias": self.antialias}
        if self.scale is not None:
            return {**kw, "scale": self.scale}
        return {**kw, "size": self.out_size(hw)}

    def out_size(self, hw: tuple[int, int]) -> tuple[int, int]:
        h, w = hw
        if self.scale is not None:
            from ..shapes import interpolate_sizes

            try:
                return interpolate_sizes(hw, None, (self.scale, self.scale), "resize")
            except ValueError:
                raise CliError(f"--scale {self.scale} gives an empty image from {w}x{h}") from None
        if self.size is not None:
            return self.size
        if self.width is not None:
            return max(1, round(h * self.width / w)), self.width
        return self.height, max(1, round(w * self.height / h))


def parse_size(text: str | None) -> tuple[int, int] | None:
    """``--size HxW`` as ``(H, W)``."""
    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*[xX*,]\s*(\d+)\s*", text)
    if m is None or int(m.group(1)) < 1 or int(m.group(2)) < 1:
        raise CliError(f"--size {text!r} must be HEIGHTxWIDTH in pixels, e.g. 600x800")
    return int(m.group(1)), int(m.group(2))


# ---------------------------------------------------------------------------------- the plan
@dataclass(frozen=True)
class Job:
    """One input file (or Zarr folder) and the output it gives."""

    source: Path
    target: Path
    fmt: str


def _is_zarr(path: Path) -> bool:
    return path.suffix.lower() == ".zarr" and path.is_dir()


def plan_jobs(
    inputs: Sequence[Path], out: Path | None, fmt: str | None, recursive: bool
) -> tuple[list[Job], list[str]]:
    """The jobs of the command line and one error line per input that gives none."""
    from ._resize_io import FORMATS, format_of

    errors: list[str] = []
    one = len(inputs) == 1 and (not inputs[0].is_dir() or _is_zarr(inputs[0]))
    if out is not None and one and format_of(out) is not None:  # --out names the file
        if fmt is not None and format_of(out) != fmt:
            raise CliError(f"--out {out}: its suffix is not that of --format {fmt}")
        if out.resolve() == inputs[0].resolve():
            raise CliError(f"--out {out}: the output would overwrite its input")
        return [Job(inputs[0], out, format_of(out))], errors
    root = Path("resized") if out is None else out
    if root.exists() and not root.is_dir():
        raise CliError(f"--out {root}: is a file; give a folder for several outputs")
    skip = root.resolve()
    found: list[tuple[Path, Path]] = []  # (source, path relative to the output folder)
    for given in inputs:
        if given.is_dir() and not _is_zarr(given):
            if given.resolve() == skip:
                raise CliError(
                    f"--out {root} is the input folder {given}: its outputs would be read as "
                    "inputs; choose another folder"
                )
            found += [(p, p.relative_to(given)) for p in _scan(given, recursive, skip)]
        elif given.exists():
            found.append((given, Path(given.name)))
        else:
            errors.append(f"{given}: no such file or folder")
    jobs, seen = [], {}
    for source, rel in found:
        own = "zarr" if _is_zarr(source) else format_of(source)
        chosen = fmt or own
        target = root / rel.with_suffix(FORMATS[chosen] if fmt else source.suffix)
        if target.resolve() == source.resolve():
            errors.append(f"{source}: the output would overwrite its input")
        elif target in seen:
            errors.append(f"{source}: gives the same output {target} as {seen[target]}; skipped")
        else:
            seen[target] = source
            jobs.append(Job(source, target, chosen))
    return jobs, errors


def _scan(folder: Path, recursive: bool, skip: Path) -> list[Path]:
    """The image files (and ``.zarr`` folders) of ``folder``, sorted; not under ``skip``."""
    from ._resize_io import format_of

    out = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):  # hidden files, our own temporary files
            continue
        if entry.is_dir():
            if _is_zarr(entry):
                out.append(entry)
            elif recursive and entry.resolve() != skip:
                out += _scan(entry, recursive, skip)
        elif format_of(entry) not in (None, "zarr"):
            out.append(entry)
    return out


# --------------------------------------------------------------------------------- running
def resize_file(job: Job, options: Options, force: bool, chunks=None) -> dict:
    """Resize one file; the row of the report (raises :class:`CliError` for a failure).
    ``chunks`` shows the progress over the chunks of the Dask path (see :class:`_Bars`)."""
    from . import _resize_dask
    from ._resize_io import read_picture, write_picture

    if job.fmt == "zarr" or _is_zarr(job.source):
        return _resize_dask.resize_big(job, options, force, chunks)
    pages, hw, channels, itemsize = _resize_dask.peek(job.source)
    oh, ow = options.out_size(hw)
    if pages * channels * itemsize * max(hw[0] * hw[1], oh * ow) > options.max_memory:
        return _resize_dask.resize_big(job, options, force, chunks)
    from ..resize import resize

    picture = read_picture(job.source)
    hw = picture.height_width
    kwargs = options.arguments(hw)
    result = picture.with_images([resize(page, **kwargs) for page in picture.images()])
    write_picture(job.target, result, job.fmt, force=force)
    return _row(job, hw, result.height_width, len(picture.images()), "memory")


def _row(job: Job, hw, out_hw, pages: int, path: str) -> dict:
    return {
        "input": str(job.source),
        "output": str(job.target),
        "status": "written",
        "size_in": list(hw),
        "size_out": list(out_hw),
        "pages": pages,
        "pixels_in": pages * hw[0] * hw[1],
        "pixels_out": pages * out_hw[0] * out_hw[1],
        "path": path,
    }


def run_resize(
    inputs: Sequence[Path],
    options: Options,
    *,
    out: Path | None,
    fmt: str | None,
    recursive: bool,
    force: bool,
    json: bool,
    echo: Callable[[str], None],
    error: Callable[[str], None],
    console=None,
) -> int:
    """The body of ``upsampling resize``; returns the exit status (0, or 1 after failures).
    The progress bars go to ``console`` (default: stderr), only when it is a terminal."""
    options = options.check()
    jobs, problems = plan_jobs(list(inputs), out, fmt, recursive)
    for line in problems:
        error(line)
    rows: list[dict] = []
    started = time.perf_counter()
    with _progress(len(jobs), console) as bars:
        for job in jobs:
            bars.file(job.source.name)
            t0 = time.perf_counter()
            if not force and os.path.lexists(job.target):
                rows.append(_skipped(job, "exists (use --force to overwrite it)"))
                continue
            try:
                row = resize_file(job, options, force, bars.chunks)
            except (CliError, OSError, ValueError, TypeError) as exc:
                # (the library's and the readers' messages name what is wrong: one line)
                line = str(exc) if isinstance(exc, CliError) else f"{job.source}: {exc}"
                error(line)
                rows.append({**_skipped(job, line), "status": "failed"})
                continue
            row["seconds"] = round(time.perf_counter() - t0, 4)
            rows.append(row)
    report = _summary(rows, time.perf_counter() - started, problems)
    if json:
        from .report import format_json

        echo(format_json(report))
    else:
        _print_table(report, console)
    return 1 if report["failed"] or problems else 0


class _Bars:
    """Two bars: the files, and the chunks of the one going through Dask (shown while it is)."""

    def __init__(self, bar, total: int) -> None:
        self.bar, self.name = bar, ""
        self.files = bar.add_task("files", total=total)
        self.chunk_bar = bar.add_task("chunks", total=1, visible=False)
        self.started = False

    def file(self, name: str) -> None:
        if self.started:
            self.bar.advance(self.files)
        self.started, self.name = True, name
        self.bar.update(self.files, description=name)
        self.bar.update(self.chunk_bar, visible=False)

    def chunks(self, total: int, done: int) -> Callable[[], None]:
        """Show the bar over ``total`` chunks, ``done`` of them written already (a resumed
        run); returns the function that advances it by one chunk."""
        bar, task = self.bar, self.chunk_bar
        bar.reset(task, total=total, completed=done, visible=True)
        bar.update(task, description=f"  {self.name}: chunks")
        return lambda: bar.advance(task)


@contextlib.contextmanager
def _progress(total: int, console) -> Iterator[_Bars]:
    """The bars of :class:`_Bars` on stderr, erased at the end; none unless it is a terminal."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = console or Console(stderr=True)
    with Progress(
        TextColumn("{task.description:<40}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not (total and console.is_terminal),
    ) as bar:
        bars = _Bars(bar, total)
        yield bars
        bar.update(bars.files, completed=total)


def _skipped(job: Job, reason: str) -> dict:
    return {
        "input": str(job.source),
        "output": str(job.target),
        "status": "skipped",
        "reason": reason,
    }


def _summary(rows: list[dict], seconds: float, problems: list[str]) -> dict:
    count = {s: sum(r["status"] == s for r in rows) for s in ("written", "skipped", "failed")}
    return {
        "files": rows,
        **count,
        "failed": count["failed"] + len(problems),
        "errors": problems,
        "pixels_in": sum(r.get("pixels_in", 0) for r in rows),
        "pixels_out": sum(r.get("pixels_out", 0) for r in rows),
        "seconds": round(seconds, 4),
    }


def _print_table(report: dict, console) -> None:
    from rich.table import Table

    from .report import stdout_console

    table = Table(title="upsampling resize", title_justify="left")
    for name, justify in (
        ("input", "left"),
        ("output", "left"),
        ("size", "right"),
        ("seconds", "right"),
        ("status", "left"),
    ):
        table.add_column(name, justify=justify)
    for r in report["files"]:
        if r["status"] == "written":
            (h0, w0), (h1, w1) = r["size_in"], r["size_out"]
            size = f"{w0}x{h0} -> {w1}x{h1}"
            status = "written" + (" (dask)" if r["path"] == "dask" else "")
            table.add_row(r["input"], r["output"], size, f"{r['seconds']:.3f}", status)
        else:
            table.add_row(r["input"], r["output"], "", "", f"{r['status']}: {r['reason']}")
    con = stdout_console() if console is None else console
    con.print(table)
    con.print(
        f"{report['written']} written, {report['skipped']} skipped, {report['failed']} failed; "
        f"{report['pixels_in']:,} pixels in, {report['pixels_out']:,} out, "
        f"{report['seconds']:.2f} s"
    )
