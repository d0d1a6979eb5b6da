"""``upsampling resize`` beyond memory: lazy reading, Dask, and Zarr written chunk by chunk.

The input is read lazily (a Zarr array, a TIFF through tifffile's Zarr store; the formats that
Pillow decodes whole are decoded, then chunked), resized by :func:`upsampling.resize` on the
Dask array (exact at every chunk seam: the in-memory result bit for bit) and rechunked to
``--chunks`` squares. ``--format tif`` writes a tiled BigTIFF, tile after tile, through a
temporary file (no resume: a rerun writes it again). ``--format zarr``: each chunk is written by
its own task into a Zarr array under a temporary name
(``.NAME.part`` beside the target). A task marks its chunk done (an empty file in the store's
``.done/`` folder) after writing it; a rerun with the same job finds the temporary store and
computes only the chunks without a mark; the complete store is renamed to the target (chunks
compressed by :func:`compressors`). The tasks read their input by path, so any scheduler can
run them: ``threads``, ``processes`` or a ``dask.distributed`` scheduler's address (a worker
that dies has its tasks rerun elsewhere). Each chunk finished advances the caller's progress
bar (``chunks``, see :class:`.resize._Bars`), from the scheduler's results as they come back.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .io import CliError

__all__ = ["compressors", "open_lazy", "peek", "resize_big"]

DONE = ".done"
# ``chunks(total, done)``: a progress bar over ``total`` chunks of which ``done`` are written
# already; it returns the function called once per chunk finished (see :mod:`.resize`)
Chunks = Callable[[int, int], Callable[[], None]]


def _is_tiff(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def peek(path: Path) -> tuple[int, tuple[int, int], int, int]:
    """``(pages, (H, W), channels, bytes per sample)`` from the file's header, not its pixels."""
    try:
        if _is_tiff(path):
            import tifffile

            with tifffile.TiffFile(path) as tif:
                s = tif.series[0]
                hw = (s.shape[s.axes.index("Y")], s.shape[s.axes.index("X")])
                c = s.shape[s.axes.index("S")] if "S" in s.axes else 1
                return math.prod(s.shape) // (hw[0] * hw[1] * c), hw, c, s.dtype.itemsize
        from PIL import Image

        with Image.open(path) as img:
            w, h = img.size
            if img.getexif().get(0x0112) in (5, 6, 7, 8):  # turned a quarter when read
                h, w = w, h
            bands = len(img.getbands())
            size = 2 if img.mode.startswith("I;16") else 4 if img.mode in ("I", "F") else 1
            if img.format == "PNG" and img.info.get("bits") == 16:  # pragma: no cover
                size = 2
            return 1, (h, w), bands, size
    except Exception as exc:  # any reader's refusal: one line
        text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CliError(f"{path}: cannot read the image ({text})") from None


class _TiffPlane:
    """A TIFF's first image as an array-like Dask reads by region; pickles as its path."""

    def __init__(self, path: str) -> None:
        import tifffile

        self.path = path
        with tifffile.TiffFile(path) as tif:
            s = tif.series[0]
            self.axes, self.dtype = s.axes, s.dtype
            self.order = [s.axes.index(a) for a in "YXS" if a in s.axes]
            self.shape = tuple(s.shape[i] for i in self.order)
            if math.prod(s.shape) != math.prod(self.shape):
                raise CliError(f"{path}: a multi-page TIFF this large is not supported")
        self.ndim = len(self.shape)

    def __getitem__(self, region):
        import tifffile
        import zarr

        region = tuple(region) + (slice(None),) * (self.ndim - len(region))
        full: list = [0] * len(self.axes)
        for axis, r in zip(self.order, region, strict=True):
            full[axis] = r
        with tifffile.imread(self.path, aszarr=True) as store:
            z = zarr.open(store, mode="r")
            block = np.asarray((z if hasattr(z, "shape") else z["0"])[tuple(full)])
        present = sorted(self.order)  # the axes left, in the file's order
        return np.transpose(block, [present.index(a) for a in self.order])


def open_lazy(path: Path, chunks: int):
    """The input as a Dask array ``(H, W)`` / ``(H, W, C)`` of ``chunks``-pixel squares."""
    import dask.array as da

    if path.is_dir():  # Zarr: an array, or a group (OME-Zarr) whose level "0" is the image
        import zarr

        try:
            z = zarr.open(str(path), mode="r")
        except Exception as exc:
            raise CliError(f"{path}: cannot open it as Zarr ({exc})") from None
        component = None
        if not hasattr(z, "shape"):
            component = "0" if "0" in z else next(iter(sorted(z.array_keys())), None)
            if component is None:
                raise CliError(f"{path}: the Zarr group holds no array")
            axes = _ome_axes(z)
            z = z[component]
        else:
            axes = None
        x = da.from_zarr(str(path), component=component)
        if axes is not None:
            x = _yxc(x, axes, path)
        if x.ndim not in (2, 3):
            raise CliError(f"{path}: a Zarr image must be (H, W) or (H, W, C), not {x.shape}")
        return x.rechunk((chunks, chunks, *x.shape[2:]))
    if _is_tiff(path):
        plane = _TiffPlane(os.fspath(path))
        return da.from_array(
            plane,
            chunks=(chunks, chunks, *plane.shape[2:]),
            lock=False,
            asarray=True,
            inline_array=True,
        )
    from ._resize_io import read_picture

    picture = read_picture(path)
    if picture.pages:
        raise CliError(f"{path}: a multi-page image this large is not supported")
    return da.from_array(picture.pixels, chunks=(chunks, chunks, *picture.pixels.shape[2:]))


def _ome_axes(group) -> list[str] | None:
    scales = group.attrs.get("multiscales") or group.attrs.get("ome", {}).get("multiscales")
    if not scales:
        return None
    axes = scales[0].get("axes")
    return [a["name"] if isinstance(a, dict) else a for a in axes] if axes else None


def _yxc(x, axes: list[str], path: Path):
    if "y" not in axes or "x" not in axes or len(axes) != x.ndim:
        raise CliError(f"{path}: OME-Zarr axes {axes} have no y and x")
    for i, a in reversed(list(enumerate(axes))):
        if a not in "yxc":
            if x.shape[i] != 1:
                raise CliError(f"{path}: OME-Zarr axis {a!r} of size {x.shape[i]} is not an image")
            x = x[(slice(None),) * i + (0,)]
            axes = axes[:i] + axes[i + 1 :]
    return x.transpose([axes.index(a) for a in "yxc" if a in axes])


def compressors() -> tuple:
    """The Zarr output's codec: zstd at level 1. Zarr's default (level 3) compresses resized
    photographs ~8% smaller at ~2.3x the time (then more than the resize itself)."""
    from zarr.codecs import ZstdCodec

    return (ZstdCodec(level=1),)


def _write_block(block, path: str, block_info=None):
    """Write one output chunk into the Zarr array at ``path``, then mark it done."""
    import zarr

    info = block_info[0]
    region = tuple(slice(a, b) for a, b in info["array-location"])
    # (the result's channels are planes in memory: Zarr writes such a strided view at about
    # half the speed of a copy in its own order)
    zarr.open_array(path, mode="r+")[region] = np.ascontiguousarray(block)
    Path(path, DONE, ".".join(map(str, info["chunk-location"]))).touch()
    return np.zeros((1,) * block.ndim, np.uint8)


def _signature(job, options, shape, dtype) -> dict:
    return {
        "source": os.path.abspath(job.source),
        "shape": list(shape),
        "dtype": str(dtype),
        "method": options.method,
        "convention": options.convention,
        "antialias": options.antialias,
        "scale": options.scale,
        "chunks": options.chunks,
    }


def resize_big(job, options, force: bool, chunks: Chunks | None = None) -> dict:
    """Resize ``job`` through Dask; the report's row (see the module notes). ``chunks``
    shows the progress over the output chunks."""
    from ..resize import resize
    from .resize import _row

    x = open_lazy(job.source, _input_chunk(job.source, options))
    hw = tuple(int(s) for s in x.shape[:2])
    y = resize(x, **options.arguments(hw))
    out_hw = tuple(int(s) for s in y.shape[:2])
    c = options.chunks
    y = y.rechunk((c, c, *y.shape[2:]))
    if job.fmt == "tif" and y.nbytes > options.max_memory:
        _write_bigtiff(job, options, y, force, chunks)
        return _row(job, hw, out_hw, 1, "dask")
    if job.fmt != "zarr":
        if y.nbytes > options.max_memory:
            raise CliError(
                f"{job.source}: the {_gb(y.nbytes)} output exceeds --max-memory; write it with "
                "--format zarr or tif (chunk by chunk)"
            )
        from ._resize_io import Picture, write_picture

        pixels = _compute(y, options.scheduler, chunks)
        write_picture(job.target, Picture(pixels), job.fmt, force=force)
        return _row(job, hw, out_hw, 1, "dask")
    _write_zarr(job, options, y, force, chunks)
    return _row(job, hw, out_hw, 1, "dask")


def _input_chunk(path: Path, options) -> int:
    """Input chunks that give output chunks of about ``--chunks`` pixels."""
    if options.scale is not None:
        return max(16, round(options.chunks / options.scale))
    return options.chunks


def _gb(n: int) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def _write_zarr(job, options, y, force: bool, chunks: Chunks | None) -> None:
    import zarr

    target = Path(job.target)
    part = target.parent / f".{target.name}.part"
    signature = _signature(job, options, y.shape, y.dtype)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if part.exists():
            try:
                same = dict(zarr.open_array(str(part), mode="r").attrs.get("job", {}))
            except Exception:
                same = None
            if same != json.loads(json.dumps(signature)):
                shutil.rmtree(part)  # another job's leftovers: start again
        if not part.exists():
            z = zarr.create_array(
                str(part),
                shape=y.shape,
                chunks=tuple(c[0] for c in y.chunks),
                dtype=y.dtype,
                compressors=compressors(),
            )
            z.attrs["job"] = signature
        (part / DONE).mkdir(exist_ok=True)
    except OSError as exc:
        raise CliError(f"{target}: cannot write the Zarr store ({exc.strerror or exc})") from None
    done = {p.name for p in (part / DONE).iterdir()}
    w = y.map_blocks(
        _write_block,
        str(part),
        dtype=np.uint8,
        meta=np.empty((0,) * y.ndim, np.uint8),  # (no call to find it out: it would write)
        chunks=(1,) * y.ndim,
        name=f"upsampling-write-{os.getpid()}-{time.monotonic_ns()}",
    )
    keys = [
        (w.name, *index)
        for index in np.ndindex(*w.numblocks)
        if ".".join(map(str, index)) not in done
    ]
    tick = chunks(math.prod(w.numblocks), len(done)) if chunks else None
    if keys:
        _get(w.__dask_graph__(), keys, options.scheduler, tick)
    shutil.rmtree(part / DONE)
    if os.path.lexists(target):
        if not force:
            raise CliError(f"{target}: already exists (use --force to overwrite it)")
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    os.replace(part, target)


def _write_bigtiff(job, options, y, force: bool, chunks: Chunks | None) -> None:
    """A tiled BigTIFF, its tiles computed a batch at a time (a few in memory) and written in
    order; through a temporary file, as every output (no resume: a rerun writes it again)."""
    import tifffile

    from .io import write_atomic

    t = options.chunks // 16 * 16  # TIFF tiles are multiples of 16
    y = y.rechunk((t, t, *y.shape[2:]))
    graph, c = y.__dask_graph__(), (y.shape[2] if y.ndim == 3 else 1)

    keys = [(y.name, *index) for index in np.ndindex(*y.numblocks)]
    tick = chunks(len(keys), 0) if chunks else None
    # tiles computed a batch at a time, in parallel, then written in order: a few in memory
    per = max(1, min(64, options.max_memory // (4 * t * t * c * y.dtype.itemsize)))

    def tiles():
        for start in range(0, len(keys), per):
            for block in _get(graph, keys[start : start + per], options.scheduler, tick):
                pad = [(0, t - block.shape[0]), (0, t - block.shape[1])]
                yield np.pad(block, pad + [(0, 0)] * (y.ndim - 2))

    extra = {"photometric": "rgb" if c in (3, 4) else "minisblack"}
    if c == 4:
        extra["extrasamples"] = ("unassalpha",)

    def write(f) -> None:
        handle = tifffile.FileHandle(f, mode="wb", name=Path(job.target).name)  # (f has no name)
        tifffile.imwrite(
            handle,
            tiles(),
            shape=y.shape,
            dtype=y.dtype,
            tile=(t, t),
            bigtiff=True,
            compression="zlib",
            metadata=None,
            **extra,
        )

    write_atomic(job.target, write, force=force)


def _get(graph, keys, scheduler: str, tick: Callable[[], None] | None = None):
    """Compute ``keys`` of ``graph`` (only what they need) on the chosen scheduler; ``tick()``
    once per key computed."""
    local = {}
    if tick is not None:  # (the local schedulers call it in this thread)
        wanted = set(keys)

        def done(key, result, dsk, state, worker) -> None:
            if key in wanted:
                tick()

        local["callbacks"] = [(None, None, None, done, None)]
    if scheduler == "threads":
        import dask.threaded

        return dask.threaded.get(graph, keys, **local)
    if scheduler == "synchronous":  # one task after another, in this thread (debugging)
        import dask.local

        return dask.local.get_sync(graph, keys, **local)
    if scheduler == "processes":
        import dask.multiprocessing

        return dask.multiprocessing.get(graph, keys, **local)
    try:
        import distributed
    except ImportError:
        raise CliError(
            "--scheduler ADDRESS needs dask.distributed: pip install distributed"
        ) from None
    try:
        client = distributed.Client(scheduler, timeout=10, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise CliError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
    with client:
        futures = client.get(graph, keys, sync=False)
        if tick is not None:
            for _ in distributed.as_completed(futures, loop=client.loop):
                tick()
        return client.gather(futures)


def _compute(y, scheduler: str, chunks: Chunks | None) -> np.ndarray:
    keys = [(y.name, *i) for i in np.ndindex(*y.numblocks)]
    parts = _get(y.__dask_graph__(), keys, scheduler, chunks(len(keys), 0) if chunks else None)
    blocks = np.empty(y.numblocks, dtype=object)
    for index, part in zip(np.ndindex(*y.numblocks), parts, strict=True):
        blocks[index] = part
    return np.block(blocks.tolist())
