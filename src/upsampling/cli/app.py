"""The typer application: argument parsing and error reporting only; the work is elsewhere."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ._notice import compile_notice
from .explain import TOPICS
from .io import CliError, os_error_line
from .methods import METHODS

app = typer.Typer(
    name="upsampling",
    help="Up-sampling methods side by side, and image resizing: demo, compare, explain, "
    "resize, bench.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

Topic = StrEnum("Topic", {name.replace("-", "_"): name for name in TOPICS})


class ImageFormat(StrEnum):
    png = "png"
    tif = "tif"
    jpg = "jpg"
    webp = "webp"
    zarr = "zarr"


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _error(command: str):
    def write(line: str) -> None:
        typer.echo(f"upsampling {command}: {line}", err=True)

    return write


def _run(command: str, body) -> None:
    """Run ``body()``; user errors become one line on stderr and a non-zero exit status. While
    it runs, the first compilation of a numba kernel (an empty cache) says so on stderr."""
    try:
        with compile_notice(lambda line: typer.echo(line, err=True)):
            status = body()
    except CliError as exc:
        _error(command)(str(exc))
        raise typer.Exit(1) from None
    except (ValueError, TypeError) as exc:
        # the library's own messages name the function, the parameter and what is allowed
        if not _from_library(exc):
            raise
        _error(command)(str(exc))
        raise typer.Exit(2) from None
    except OSError as exc:
        # a file the command could not write (or read) that io.py did not already explain
        _error(command)(os_error_line(exc))
        raise typer.Exit(1) from None
    if status:
        raise typer.Exit(status)


def _from_library(exc: BaseException) -> bool:
    """Whether ``exc`` was raised by the library's operators (not by the command line itself):
    their messages name the function, the parameter and what is allowed, so one line is enough."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return False
    where = Path(tb.tb_frame.f_code.co_filename).resolve()
    package = Path(__file__).resolve().parents[1]
    return where.is_relative_to(package) and not where.is_relative_to(package / "cli")


def _echo(text: str) -> None:
    typer.echo(text, nl=not text.endswith("\n"))


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"upsampling {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    # the options of `upsampling` itself (the help text is the app's)
    return None


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Directory for the figures and tables.")] = Path(
        "upsampling-demo"
    ),
    size: Annotated[
        int | None,
        typer.Option(help="Use a centre crop of this many pixels (quicker; default: all 512)."),
    ] = None,
    explain: Annotated[
        bool, typer.Option(help="Also write the figures of every `explain` topic.")
    ] = True,
    force: Annotated[bool, typer.Option(help="Overwrite existing output files.")] = False,
) -> None:
    """Every up-sampling method on the bundled photograph: a table and figures in OUT."""
    from .demo import run_demo

    _run(
        "demo",
        lambda: run_demo(
            out, size=size, explain=explain, force=force, echo=_echo, error=_error("demo")
        ),
    )


@app.command()
def compare(
    images: Annotated[
        list[Path], typer.Argument(help="PNG, JPEG or TIFF files (grayscale or RGB, 8/16-bit).")
    ],
    scale: Annotated[int, typer.Option("--scale", "-s", help="Down-sampling factor.")] = 2,
    methods: Annotated[
        list[str] | None,
        typer.Option(
            "--methods",
            "-m",
            help="Methods to run, comma-separated or repeated (default: all). "
            f"Known: {', '.join(METHODS)}.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write results.json, results.csv and a figure per image here."),
    ] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output on stdout.")] = (
        Format.table
    ),
    force: Annotated[bool, typer.Option(help="Overwrite existing output files.")] = False,
    save_images: Annotated[
        bool, typer.Option(help="With --out, also write every up-sampled image as PNG.")
    ] = False,
) -> None:
    """Down-sample each IMAGE by SCALE, bring it back with every method, and score them."""
    from .compare import run_compare

    _run(
        "compare",
        lambda: run_compare(
            images,
            scale=scale,
            methods=methods,
            out=out,
            fmt=format.value,
            force=force,
            save_images=save_images,
            echo=_echo,
            error=_error("compare"),
        ),
    )


@app.command()
def explain(
    topic: Annotated[
        Topic,
        typer.Argument(
            metavar="TOPIC",
            show_choices=False,  # listed in the help, where rich wraps between names
            help=f"Which figure: {', '.join(TOPICS)}.",
        ),
    ],
    out: Annotated[
        Path | None, typer.Option(help="Output file, .png (default) or .svg or .pdf.")
    ] = None,
    kernel: Annotated[
        int | None, typer.Option(min=1, max=8, help="Kernel size, where the topic has one.")
    ] = None,
    stride: Annotated[
        int | None, typer.Option(min=1, max=8, help="Stride (or scale), where it has one.")
    ] = None,
    padding: Annotated[
        int | None, typer.Option(min=0, max=8, help="Padding, where it has one.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Draw one figure that explains a method, computed by the library's operators."""
    name = topic.value

    def body() -> int:
        from .demo import write_topic
        from .figures import figure_format
        from .io import check_file

        given = {"kernel": kernel, "stride": stride, "padding": padding}
        allowed = TOPICS[name].options
        for option, value in given.items():
            if value is not None and option not in allowed:
                takes = ", ".join(f"--{o}" for o in allowed) or "no options"
                raise CliError(f"topic {name!r} takes {takes}, not --{option}")
        path = out if out is not None else Path(f"{name}.png")
        if figure_format(path) is None:
            raise CliError(f"{path}: the file name must end in .png, .svg or .pdf")
        check_file(path, force)  # before drawing the figure
        write_topic(name, path, force=force, **given)
        _echo(f"wrote {path}")
        return 0

    _run("explain", body)


@app.command()
def bench(
    json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    quick: Annotated[bool, typer.Option(help="Smaller inputs and fewer repeats.")] = False,
    threads: Annotated[int, typer.Option(help="Threads for every library.")] = 2,
) -> None:
    """Time each operator against PyTorch (and OpenCV, Pillow where installed) on this machine."""
    from .bench import run_bench

    _run("bench", lambda: run_bench(json=json, quick=quick, threads=threads, echo=_echo))


@app.command()
def resize(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            metavar="INPUT...",
            help="Image files (PNG, JPEG, TIFF incl. 16-bit and multi-page, WebP), folders of "
            "them, or Zarr arrays.",
        ),
    ],
    scale: Annotated[
        float | None, typer.Option("--scale", "-s", help="Factor on both sides (0.5, 2, 1.5).")
    ] = None,
    size: Annotated[
        str | None, typer.Option(help="Output size HEIGHTxWIDTH in pixels, e.g. 600x800.")
    ] = None,
    width: Annotated[int | None, typer.Option(help="Output width; height keeps the aspect.")] = (
        None
    ),
    height: Annotated[
        int | None, typer.Option(help="Output height; width keeps the aspect.")
    ] = None,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            "-m",
            help="nearest, nearest-exact, bilinear, bicubic, area, lanczos (where the "
            "convention has it).",
        ),
    ] = "bilinear",
    convention: Annotated[
        str,
        typer.Option(help="Whose resize to reproduce: pytorch, opencv, pillow, tensorflow, onnx."),
    ] = "pytorch",
    antialias: Annotated[
        bool | None,
        typer.Option(
            "--antialias/--no-antialias",
            help="Widen the kernel when shrinking (default: as the convention does; Pillow "
            "does, the others do not).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Output file (one input) or folder (default: ./resized)."),
    ] = None,
    format: Annotated[
        ImageFormat | None,
        typer.Option("--format", "-f", help="Output format (default: the input's)."),
    ] = None,
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="Also the images in sub-folders.")
    ] = False,
    force: Annotated[bool, typer.Option(help="Overwrite existing outputs.")] = False,
    json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    max_memory: Annotated[
        str | None,
        typer.Option(
            help="Larger images (in or out) go through Dask chunk by chunk: bytes or 16MB, "
            "2GiB (default: a quarter of this machine's memory)."
        ),
    ] = None,
    chunks: Annotated[int, typer.Option(help="Chunk edge in pixels for the Dask path.")] = 1024,
    scheduler: Annotated[
        str,
        typer.Option(help="Dask scheduler: threads, processes, or a dask.distributed address."),
    ] = "threads",
) -> None:
    """Resize images with up.resize: files, folders, 16-bit, and images beyond memory."""
    from .resize import Options, parse_bytes, parse_size, run_resize

    def body() -> int:
        options = Options(
            scale=scale,
            size=parse_size(size),
            width=width,
            height=height,
            method=method,
            convention=convention,
            antialias=antialias,
            chunks=chunks,
            scheduler=scheduler,
            **({} if max_memory is None else {"max_memory": parse_bytes(max_memory)}),
        )
        return run_resize(
            inputs,
            options,
            out=out,
            fmt=None if format is None else format.value,
            recursive=recursive,
            force=force,
            json=json,
            echo=_echo,
            error=_error("resize"),
        )

    _run("resize", body)
