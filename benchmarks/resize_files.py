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
2. Beyond memory. An S x S uint8 RGB image (S = 8192: 192 MiB; ``--quick``: 4096) stored as
   Zarr in 1024-pixel chunks, resized x2 by ``upsampling resize --format zarr`` in a subprocess
   (forced through Dask by ``--max-memory``), against a baseline subprocess that reads the same
   Zarr and writes an output of the same size once (``np.repeat`` x2 per chunk, no arithmetic).
   Wall time and peak RSS of each subprocess (``resource.getrusage(RUSAGE_CHILDREN)``).

Numbers are for this machine at the time of the run (say how many cores and whether shared).

    python benchmarks/resize_files.py [--quick] [--rounds 3] [--size 8192]
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


BASELINE = """
import sys, numpy as np, dask.array as da
src, dst = sys.argv[1], sys.argv[2]
x = da.from_zarr(src)
y = x.map_blocks(lambda b: np.repeat(np.repeat(b, 2, 0), 2, 1),
                 chunks=tuple(tuple(2 * c for c in cs) if i < 2 else cs
                              for i, cs in enumerate(x.chunks)))
y.rechunk((1024, 1024, 3)).to_zarr(dst, overwrite=True)
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


def big(tmp: Path, size: int) -> str:
    import zarr

    src = tmp / "big.zarr"
    z = zarr.create_array(str(src), shape=(size, size, 3), chunks=(1024, 1024, 3), dtype="u1")
    tile = np.random.default_rng(0).integers(0, 256, (1024, 1024, 3), dtype=np.uint8)
    for i in range(0, size, 1024):
        for j in range(0, size, 1024):
            z[i : i + 1024, j : j + 1024] = np.roll(tile, i + j, axis=1)
    cli = [
        sys.executable,
        "-m",
        "upsampling",
        "resize",
        str(src),
        "--scale",
        "2",
        "--format",
        "zarr",
        "--out",
        str(tmp / "out"),
        "--chunks",
        "1024",
        "--force",
        "--max-memory",
        "64MB",
        "--json",
    ]
    ours_s, ours_rss = child(cli)
    base_s, base_rss = child([sys.executable, "-c", BASELINE, str(src), str(tmp / "copy.zarr")])
    mib_in, mib_out = size * size * 3 / 2**20, 4 * size * size * 3 / 2**20
    rows = [
        [f"upsampling resize x2 ({size}x{size} RGB)", ours_s, ours_rss],
        ["read + write the same sizes once (baseline)", base_s, base_rss],
    ]
    table = markdown_table(["job", "wall s", "peak RSS MiB"], rows)
    return (
        table + f"\n\n{mib_in:.0f} MiB in, {mib_out:.0f} MiB out; time ratio {ours_s / base_s:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 photos, one round, 4096 big")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", type=int, default=None)
    args = parser.parse_args()
    set_threads(THREADS)
    count, rounds = (20, 1) if args.quick else (50, args.rounds)
    size = args.size or (4096 if args.quick else 8192)
    tmp = Path(tempfile.mkdtemp(prefix="upsampling-resize-bench-"))
    try:
        print(f"{os.cpu_count()} CPUs visible, {THREADS} threads everywhere\n")
        print(big(tmp, size), "\n")
        print(photos(tmp, count, rounds))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
