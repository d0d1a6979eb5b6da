"""Up-sample a volume larger than the workers' memory with Dask and write it to Zarr.

A synthetic float32 volume ``(1, 1, S, S, S)`` is generated chunk by chunk inside the workers
(nothing of it ever exists in one piece), up-sampled by ``up.interpolate`` (trilinear by
default), and written chunk by chunk to a Zarr store by a ``dask.distributed.LocalCluster``
whose workers together get less memory than the output takes (by default 2 workers of 768 MiB,
an output of 1.6 GiB; a worker process holds about 250 MiB before any data: keep the limit well
above that, or the workers pause). A progress bar follows the tasks. At the end one corner of
the store is checked against the in-memory call on the input positions it reads.

    python examples/dask_volume.py [--size 384] [--scale 2] [--chunk 64] [--workers 2]
                                   [--memory-limit 768MiB] [--mode trilinear] [--out volume.zarr]

Needs the ``dask`` extra (``pip install upsampling[dask]``: dask, distributed, zarr).
"""

from __future__ import annotations

import argparse
import shutil
import time

import dask.array as da
import numpy as np
import zarr
from dask.utils import format_bytes
from distributed import Client, LocalCluster, progress

import upsampling as up


def synthetic_block(block: np.ndarray, block_info=None) -> np.ndarray:
    """A smooth volume with some detail, from the global coordinates of the block."""
    _, _, *where = block_info[None]["array-location"]  # N and C: one chunk each
    axes = np.meshgrid(*(np.arange(a, b, dtype=np.float32) for a, b in where), indexing="ij")
    d, h, w = (a / s for a, s in zip(axes, block_info[None]["shape"][2:], strict=True))
    value = np.sin(9 * d) * np.cos(7 * h) + 0.5 * np.sin(23 * (w + d * h)) + 0.25 * w
    return value[None, None].astype(np.float32)


def volume(size: int, chunk: int) -> da.Array:
    shape = (1, 1, size, size, size)
    empty = da.empty(shape, chunks=(1, 1, chunk, chunk, chunk), dtype=np.float32)
    return empty.map_blocks(synthetic_block, dtype=np.float32, meta=np.empty((0,) * 5, np.float32))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=384, help="input edge length")
    parser.add_argument("--scale", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=64, help="input chunk edge length")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="768MiB", help="per worker")
    parser.add_argument("--mode", default="trilinear")
    parser.add_argument("--out", default="volume.zarr")
    args = parser.parse_args()

    x = volume(args.size, args.chunk)
    y = up.interpolate(x, scale_factor=args.scale, mode=args.mode)  # lazy: nothing computed yet
    print(
        f"input {x.shape} {format_bytes(x.nbytes)} -> output {y.shape} {format_bytes(y.nbytes)} "
        f"in chunks of {y.chunksize} ({format_bytes(y.nbytes // y.npartitions)} each); "
        f"{args.workers} workers with {args.memory_limit} each"
    )
    shutil.rmtree(args.out, ignore_errors=True)
    with (
        LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=args.memory_limit,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        start = time.perf_counter()
        stored = client.compute(y.to_zarr(args.out, compute=False))
        progress(stored)  # a text progress bar in a terminal, a widget in a notebook
        stored.result()
        seconds = time.perf_counter() - start
    print(f"\nwrote {args.out} in {seconds:.1f} s ({y.nbytes / seconds / 2**20:.0f} MiB/s)")

    # Check a corner: its outputs read the input positions 0..n/scale+1 (filter support 1).
    n = min(2 * args.chunk, args.size * args.scale)
    reach = min(args.size, n // args.scale + 2)
    corner = x[:, :, :reach, :reach, :reach].compute()
    expected = up.interpolate(corner, scale_factor=args.scale, mode=args.mode)[..., :n, :n, :n]
    stored = zarr.open_array(args.out, mode="r")[:, :, :n, :n, :n]
    print(f"corner {stored.shape} equals the in-memory result: {np.array_equal(stored, expected)}")


if __name__ == "__main__":
    main()
