"""``upsampling resize`` on files: a folder of photos, and one image beyond memory.

1. Photos. 50 JPEGs made from scikit-image's photographs (astronaut, coffee, chelsea, rocket,
   immunohistochemistry, hubble_deep_field: crops, flips and their halves, 150 to 1000 pixels a
   side) in a temporary folder. The same job three ways, each reading the JPEG, resizing and
   writing a JPEG at quality 95 (4:4:4): ``upsampling resize`` in this process (its
   ``run_resize``), a Pillow loop (``Image.resize``) and an OpenCV loop (``cv2.resize``), with
   our convention matching each library (``--convention pillow`` against Pillow, ``opencv``
   against OpenCV), at x0.5 and x2, bilinear. Each round runs the three back to back (order
   rotated); the table gives images per second (median over rounds) and the median of the
   per-round ratios.
2. Beyond memory (``--big``; minutes at the default ``--edge 32768``: 3 GiB in, 12 GiB out;
   ``--edge 8192`` for a quick check). An edge x edge uint8 RGB image, a 1024-pixel mosaic of
   four of those photographs repeated, stored as Zarr (1024-pixel chunks, Zarr's default codec)
   and as a tiled uncompressed BigTIFF, resized x2 (bilinear, PyTorch's convention) by
   ``upsampling resize`` in a subprocess, against
   - a baseline subprocess that reads the same Zarr and writes, through Dask's threads as ours
     does, an output of the same size, chunks, codec and contents (the image repeats, so the
     interior of the true output repeats too: the in-memory resize of 3 x 3 tiles gives the
     period), i.e. reading plus writing the same data once with no arithmetic; the run checks
     that an interior chunk of ours equals that period (the in-memory result);
   - ``vips resize --kernel linear`` (libvips, if the ``vips`` command is installed:
     ``apt-get install libvips-tools``) from the BigTIFF to a BigTIFF of 1024-pixel deflate
     tiles, against ``upsampling resize --format tif`` doing the same (``--no-tiff``: neither;
     ``--no-zarr``: only these two).
   Wall time and peak RSS of each subprocess (``resource.getrusage(RUSAGE_CHILDREN)``); the
   outputs are deleted one after the other (one on disk at a time), and the inputs at the end.

Numbers are for this machine at the time of the run (say how many cores and whether shared).

    python benchmarks/resize_files.py [--quick] [--rounds 3] [--no-photos]
        [--big [--edge 32768] [--big-rounds 1] [--chunks 1024] [--no-tiff | --no-zarr]
         [--tmp DIR]]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import markdown_table, set_threads

THREADS = 2


def make_photos(folder: Path, count: int) -> list[Path]:
    import skimage.data
    from PIL import Image

    names = [
        "astronaut",
        "coffee",
        "chelsea",
        "rocket",
        "immunohistochemistry",
        "hubble_deep_field",
    ]
    sources = [getattr(skimage.data, n)()[:, :, :3] for n in names]
    paths = []
    for i in range(count):
        img = sources[i % len(sources)]
        variant = i // len(sources)
        if variant % 2:
            img = img[:, ::-1]
        if variant % 3 == 1:
            img = img[: img.shape[0] // 2 + 75]
        elif variant % 3 == 2:
            img = img[:, : img.shape[1] // 2 + 75]
        path = folder / f"photo{i:02d}.jpg"
        Image.fromarray(np.ascontiguousarray(img)).save(path, quality=95, subsampling=0)
        paths.append(path)
    return paths


def ours(folder: Path, out: Path, scale: float, convention: str) -> None:
    from upsampling.cli.resize import Options, run_resize

    options = Options(scale=scale, method="bilinear", convention=convention)
    status = run_resize(
        [folder],
        options,
        out=out,
        fmt=None,
        recursive=False,
        force=True,
        json=True,
        echo=lambda s: None,
        error=print,
    )
    assert status == 0


def pillow_loop(paths: list[Path], out: Path, scale: float) -> None:
    from PIL import Image

    out.mkdir(exist_ok=True)
    for p in paths:
        with Image.open(p) as img:
            w, h = img.size
            small = img.resize((int(w * scale), int(h * scale)), Image.Resampling.BILINEAR)
            small.save(out / p.name, quality=95, subsampling=0)


def opencv_loop(paths: list[Path], out: Path, scale: float) -> None:
    import cv2

    out.mkdir(exist_ok=True)
    for p in paths:
        img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
        h, w = img.shape[:2]
        small = cv2.resize(img, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_LINEAR)
        cv2.imwrite(str(out / p.name), small, [cv2.IMWRITE_JPEG_QUALITY, 95])


def photos(tmp: Path, count: int, rounds: int) -> str:
    import cv2

    cv2.setNumThreads(THREADS)
    folder = tmp / "photos"
    folder.mkdir()
    paths = make_photos(folder, count)
    rows = []
    for scale in (0.5, 2.0):
        runs = {
            "ours (pillow)": lambda s=scale: ours(folder, tmp / "o1", s, "pillow"),
            "Pillow": lambda s=scale: pillow_loop(paths, tmp / "o2", s),
            "ours (opencv)": lambda s=scale: ours(folder, tmp / "o3", s, "opencv"),
            "OpenCV": lambda s=scale: opencv_loop(paths, tmp / "o4", s),
        }
        for run in runs.values():  # warm-up: kernels compiled, files cached
            run()
        times: dict[str, list[float]] = {k: [] for k in runs}
        for r in range(rounds):
            names = list(runs)
            for name in names[r % len(names) :] + names[: r % len(names)]:
                t0 = time.perf_counter()
                runs[name]()
                times[name].append(time.perf_counter() - t0)
        for ref, mine in (("Pillow", "ours (pillow)"), ("OpenCV", "ours (opencv)")):
            ratio = statistics.median(a / b for a, b in zip(times[ref], times[mine], strict=True))
            rows.append(
                [
                    f"x{scale:g}",
                    mine,
                    count / statistics.median(times[mine]),
                    ref,
                    count / statistics.median(times[ref]),
                    ratio,
                ]
            )
    header = ["scale", "ours", "images/s", "library loop", "images/s", "speed ratio (>1: ours)"]
    return markdown_table(header, rows)


# ------------------------------------------------------------------------- beyond memory
TILE = 1024  # the period of the generated image, its Zarr chunks and the TIFF tiles


def photo_tile() -> np.ndarray:
    """A 1024 x 1024 RGB mosaic of four of scikit-image's photographs (each 512 x 512)."""
    import skimage.data

    import upsampling as up

    quarters = []
    for name in ("astronaut", "coffee", "chelsea", "rocket"):
        img = np.ascontiguousarray(getattr(skimage.data, name)()[:, :, :3])
        quarters.append(up.resize(img, size=(TILE // 2, TILE // 2), convention="pillow"))
    rows = [np.concatenate(quarters[k : k + 2], axis=1) for k in (0, 2)]
    return np.concatenate(rows, axis=0)


def periodic_output(tile: np.ndarray) -> np.ndarray:
    """The 2048 x 2048 period of the x2 output of the image made of ``tile`` repeated: the
    in-memory resize of 3 x 3 tiles, its middle (every interior output chunk is a quarter)."""
    import upsampling as up

    y = up.resize(np.tile(tile, (3, 3, 1)), scale=2)
    return np.ascontiguousarray(y[2 * TILE : 4 * TILE, 2 * TILE : 4 * TILE])


def make_inputs(tmp: Path, edge: int, kinds: set[str]) -> tuple[Path, Path]:
    """The edge x edge image as Zarr (1024-pixel chunks, Zarr's default codec) and as a tiled
    uncompressed BigTIFF (each if in ``kinds``): the tile repeated, one tile at a time."""
    import tifffile
    import zarr

    tile = photo_tile()
    src, tif = tmp / "big.zarr", tmp / "big.tif"
    if "zarr" in kinds:
        z = zarr.create_array(str(src), shape=(edge, edge, 3), chunks=(TILE, TILE, 3), dtype="u1")
        for i in range(0, edge, TILE):
            for j in range(0, edge, TILE):
                z[i : i + TILE, j : j + TILE] = tile[: edge - i, : edge - j]
    if "tiff" not in kinds:
        return src, tif
    n = -(-edge // TILE)
    tiles = (
        np.pad(tile[: edge - i * TILE, : edge - j * TILE], _pad(tile, edge, i, j))
        for i in range(n)
        for j in range(n)
    )
    tifffile.imwrite(
        tif,
        tiles,
        shape=(edge, edge, 3),
        dtype="u1",
        tile=(TILE, TILE),
        bigtiff=True,
        photometric="rgb",
        metadata=None,
    )
    return src, tif


def _pad(tile, edge, i, j):
    h, w = min(TILE, edge - i * TILE), min(TILE, edge - j * TILE)
    return [(0, TILE - h), (0, TILE - w), (0, 0)]


# reads the input Zarr and writes an output of the same size, chunks, codec (ours) and contents
# (the period of the true output, so that it compresses alike), through Dask's threads as ours
# does: the cost of reading plus writing the data once, with no arithmetic
BASELINE = """
import sys, numpy as np, dask.array as da, zarr
from zarr.codecs import ZstdCodec
src, dst, period, level = sys.argv[1], sys.argv[2], np.load(sys.argv[3]), int(sys.argv[4])
x = da.from_zarr(src)
def out(block):
    h, w = 2 * block.shape[0], 2 * block.shape[1]
    return period[:h, :w].copy()
y = x.map_blocks(out, chunks=tuple(tuple(2 * c for c in cs) if i < 2 else cs
                                   for i, cs in enumerate(x.chunks)))
z = zarr.create_array(dst, shape=y.shape, chunks=(1024, 1024, 3), dtype=y.dtype,
                      compressors=ZstdCodec(level=level))
y.rechunk((1024, 1024, 3)).to_zarr(z)
"""

# runs one command and prints its peak RSS (KiB on Linux), so that each child is measured alone
_MEASURE = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
    "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def child(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one subprocess."""
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *argv], check=True, capture_output=True, text=True
    )
    seconds = time.perf_counter() - t0
    return seconds, int(done.stdout.split()[-1]) / 1024


def ours_argv(src: Path, out: Path, fmt: str, chunks: int) -> list[str]:
    # --max-memory: through Dask whatever this machine's memory (a Zarr input always is)
    flags = f"--scale 2 --format {fmt} --chunks {chunks} --force --max-memory 64MB --json"
    return [
        sys.executable,
        "-m",
        "upsampling",
        "resize",
        str(src),
        "--out",
        str(out),
        *flags.split(),
    ]


def vips_argv(src: Path, out: Path) -> list[str]:
    # the same job as ours with --format tif: bilinear x2, 1024-pixel deflate tiles, BigTIFF
    target = f"{out}[tile,tile-width={TILE},tile-height={TILE},compression=deflate,bigtiff]"
    return ["vips", "resize", str(src), target, "2", "--kernel", "linear"]


def big(tmp: Path, edge: int, rounds: int, kinds: set[str], chunks: int) -> str:
    """The jobs of ``kinds`` (``"zarr"``: ours and the baseline; ``"tiff"``: ours and vips)."""
    vips = shutil.which("vips") if "tiff" in kinds else None
    t0 = time.perf_counter()
    src, tif = make_inputs(tmp, edge, kinds if vips else kinds - {"tiff"})
    period = periodic_output(photo_tile())
    np.save(tmp / "period.npy", period)
    made = time.perf_counter() - t0
    from zarr.codecs import ZstdCodec

    from upsampling.cli._resize_dask import compressors

    (codec,) = compressors()  # the baseline's too (passed on: it need not import upsampling)
    assert isinstance(codec, ZstdCodec), codec
    baseline = [sys.executable, "-c", BASELINE, str(src), str(tmp / "copy.zarr")]
    baseline += [str(tmp / "period.npy"), str(codec.level)]
    jobs = {}
    if "zarr" in kinds:
        jobs["ours"] = (ours_argv(src, tmp / "out", "zarr", chunks), tmp / "out" / "big.zarr")
        jobs["baseline"] = (baseline, tmp / "copy.zarr")
    if vips:
        jobs["ours tif"] = (ours_argv(tif, tmp / "out", "tif", chunks), tmp / "out" / "big.tif")
        jobs["vips"] = (vips_argv(tif, tmp / "vips.tif"), tmp / "vips.tif")
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in jobs}
    for r in range(rounds):
        names = list(jobs)
        for name in names[r % len(names) :] + names[: r % len(names)]:
            argv, output = jobs[name]
            times[name].append(child(argv))
            if name.startswith("ours") and edge >= 4 * TILE:  # an interior period of the
                got = _region(output, 2 * TILE, 4 * TILE)  # output: the in-memory result
                assert np.array_equal(got, period), f"{name}: differs from the in-memory result"
            _remove(output)  # (the outputs are large: one on disk at a time)
    ratio = {
        name: statistics.median(a[0] / b[0] for a, b in zip(times[name], times[ref], strict=True))
        for name, ref in (("ours", "baseline"), ("ours tif", "vips"))
        if name in times
    }
    labels = {
        "ours": f"upsampling resize x2, Zarr to Zarr ({chunks}-pixel chunks)",
        "baseline": "read + write the same data once (Dask, Zarr)",
        "ours tif": f"upsampling resize x2, BigTIFF to BigTIFF ({chunks}-pixel deflate tiles)",
        "vips": "vips resize x2 --kernel linear, BigTIFF to BigTIFF (same tiles)",
    }
    rows = [
        [
            labels[name],
            statistics.median(t for t, _ in runs),
            max(rss for _, rss in runs),
        ]
        for name, runs in times.items()
    ]
    gib_in, gib_out = edge * edge * 3 / 2**30, 4 * edge * edge * 3 / 2**30
    table = markdown_table(["job", "wall s (median)", "peak RSS MiB"], rows)
    notes = [
        f"{edge}x{edge} uint8 RGB: {gib_in:.2f} GiB in, {gib_out:.2f} GiB out; inputs made in "
        f"{made:.0f} s; {rounds} round(s); an interior period of each output of ours checked "
        "against the in-memory result"
    ]
    if "ours" in ratio:
        notes.append(f"time ours / read+write: {ratio['ours']:.2f} (median of per-round ratios)")
    if "ours tif" in ratio:
        notes.append(f"time ours / vips (BigTIFF): {ratio['ours tif']:.2f}")
    elif "tiff" in kinds:
        notes.append("vips not found (apt-get install libvips-tools): no libvips comparison")
    return table + "\n\n" + "\n".join(notes)


def _region(path: Path, lo: int, hi: int) -> np.ndarray:
    """``[lo:hi, lo:hi]`` of a Zarr or TIFF output, read alone."""
    import tifffile
    import zarr

    if path.is_dir():
        return zarr.open_array(str(path), mode="r")[lo:hi, lo:hi]
    with tifffile.imread(path, aszarr=True) as store:
        return zarr.open_array(store, mode="r")[lo:hi, lo:hi]


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 photos, one round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the photo case")
    parser.add_argument("--big", action="store_true", help="also the image beyond memory")
    parser.add_argument("--no-photos", action="store_true", help="skip the folder of photos")
    parser.add_argument("--edge", type=int, default=32768, help="side of the big image")
    parser.add_argument("--big-rounds", type=int, default=1)
    parser.add_argument("--chunks", type=int, default=1024, help="ours: --chunks")
    parser.add_argument("--no-tiff", action="store_true", help="skip BigTIFF and vips")
    parser.add_argument("--no-zarr", action="store_true", help="skip Zarr and the baseline")
    parser.add_argument("--tmp", type=Path, default=None, help="folder for the files")
    args = parser.parse_args()
    set_threads(THREADS)
    count, rounds = (20, 1) if args.quick else (50, args.rounds)
    tmp = Path(tempfile.mkdtemp(prefix="upsampling-resize-bench-", dir=args.tmp))
    try:
        print(f"{os.cpu_count()} CPUs visible, {THREADS} threads everywhere\n")
        if args.big:
            kinds = {"zarr", "tiff"} - {k for k in ("zarr", "tiff") if getattr(args, f"no_{k}")}
            print(big(tmp, args.edge, args.big_rounds, kinds, args.chunks), "\n")
        if not args.no_photos:
            print(photos(tmp, count, rounds))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
