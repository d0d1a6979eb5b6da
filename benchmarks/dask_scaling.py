"""Dask: the overhead against the in-memory call, and throughput against chunk size and workers.

1. Overhead. A float32 ``(1, 3, S, S)`` array that fits in memory (S = 2048 by default), each
   operator called on it in memory and on the same array in Dask, chunked ``(1, 3, c, c)`` for
   several chunk sizes ``c`` and persisted as contiguous chunks (what reading Zarr gives; the
   views that ``da.from_array`` hands out would add one more copy of the input to every task),
   threaded scheduler with 2 workers. Two ways to finish the Dask graph:
   ``compute()`` (Dask then concatenates the chunks into one more array) and ``da.store`` into
   a preallocated array (what writing to Zarr costs, without the disk). "Dask's floor" is the
   same ``da.store`` of the output chunks computed beforehand: what Dask alone costs to deliver
   the result, whatever the operator. Each round times the in-memory call and the Dask call
   back to back; the table gives the median of the per-round ratios (Dask / in memory: below
   1.5 is the target at chunks of 256x256 and up).
2. Scaling. Bilinear x2 throughput (output megapixels per second, every chunk computed and
   reduced to a sum where it was computed, so no result travels) against chunk size and
   against the worker count: the threaded scheduler with 1 and 2 threads, and
   ``dask.distributed.LocalCluster`` with 1 and 2 worker processes of one thread each.

The numbers are for this machine at the time of the run: say how many cores it has and whether
they were shared (CI runs on 2 cores; other jobs share them), and compare ratios, not times.

    python benchmarks/dask_scaling.py [--size 2048] [--repeat 5] [--quick] [--no-distributed]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import dask
import dask.array as da
import numpy as np

import upsampling as up
from upsampling.conv import conv, conv_transpose
from upsampling.interpolate import interpolate
from upsampling.unpool import unpool

from common import markdown_table


def _operators(rng) -> dict[str, object]:
    wt = rng.standard_normal((3, 3, 4, 4)).astype(np.float32) / 16
    w = rng.standard_normal((3, 3, 3, 3)).astype(np.float32) / 9
    return {
        "bilinear x2": lambda a: interpolate(a, scale_factor=2, mode="bilinear"),
        "bicubic x1.5": lambda a: interpolate(a, scale_factor=1.5, mode="bicubic"),
        "unpool x2": lambda a: unpool(a, 2),
        "conv_transpose k4 s2": lambda a: conv_transpose(a, wt, stride=2, padding=1),
        "conv k3 same": lambda a: conv(a, w, padding="same"),
    }


def _persisted(x: np.ndarray, c: int):
    """``x`` in Dask as contiguous ``(1, 3, c, c)`` chunks held in memory."""
    chunked = da.from_array(x, chunks=(1, 3, c, c)).map_blocks(np.ascontiguousarray)
    return chunked.persist(scheduler="threads")


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def overhead(x: np.ndarray, chunk_sizes, repeat: int, rng) -> str:
    rows = []
    for name, op in _operators(rng).items():
        expected = op(x)  # also compiles the kernels
        for c in chunk_sizes:
            y = op(_persisted(x, c))
            target = np.empty(y.shape, y.dtype)

            def run_compute(y=y):
                return y.compute(scheduler="threads", num_workers=2)

            def run_store(y=y, target=target):
                da.store(y, target, lock=False, scheduler="threads", num_workers=2)

            done = y.persist(scheduler="threads", num_workers=2)

            def run_floor(done=done, target=target):
                da.store(done, target, lock=False, scheduler="threads", num_workers=2)

            run_compute(), run_store(), run_floor()  # warm: the per-chunk tables and layouts
            ratios_c, ratios_s, ratios_f, mem = [], [], [], []
            for _ in range(repeat):
                t_mem = _timed(lambda op=op: op(x))
                ratios_c.append(_timed(run_compute) / t_mem)
                t_mem2 = _timed(lambda op=op: op(x))
                ratios_s.append(_timed(run_store) / t_mem2)
                t_mem3 = _timed(lambda op=op: op(x))
                ratios_f.append(_timed(run_floor) / t_mem3)
                mem += [t_mem, t_mem2, t_mem3]
            del done
            np.testing.assert_allclose(target, expected, rtol=1e-5, atol=1e-5)
            rows.append(
                [
                    name,
                    f"{c}x{c}",
                    y.npartitions,
                    f"{statistics.median(mem) * 1e3:.0f}",
                    statistics.median(ratios_c),
                    statistics.median(ratios_s),
                    statistics.median(ratios_f),
                ]
            )
    header = [
        "operator",
        "chunks",
        "tasks",
        "in memory (ms)",
        "compute() / mem",
        "store / mem",
        "Dask's floor / mem",
    ]
    return markdown_table(header, rows)


def _throughput(run, pixels: int, repeat: int) -> float:
    run()
    return pixels / statistics.median(_timed(run) for _ in range(repeat)) / 1e6


def scaling(x: np.ndarray, chunk_sizes, repeat: int, distributed: bool) -> str:
    """The input is persisted in chunks first (in the workers' memory on a cluster)."""
    op = _operators(np.random.default_rng(0))["bilinear x2"]
    pixels = 4 * x.size
    rows = [["in memory (2 kernel threads)", "-", _throughput(lambda: op(x).sum(), pixels, repeat)]]
    for c in chunk_sizes:
        y = op(_persisted(x, c)).sum()
        for workers in (1, 2):
            with dask.config.set(scheduler="threads", num_workers=workers):
                rows.append(
                    [f"threads x{workers}", f"{c}x{c}", _throughput(y.compute, pixels, repeat)]
                )
    if distributed:
        from distributed import Client, LocalCluster

        c = chunk_sizes[len(chunk_sizes) // 2]
        for workers in (1, 2):
            with (
                LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
                ) as cluster,
                Client(cluster) as client,
            ):
                # made on the workers (from_array would ship the whole array inside the graph)
                rng = da.random.default_rng(0)
                d = client.persist(rng.random(x.shape, dtype=x.dtype, chunks=(1, 3, c, c)))
                y = op(d).sum()
                rows.append(
                    [
                        f"distributed, {workers} worker process(es)",
                        f"{c}x{c}",
                        _throughput(lambda y=y: y.compute(), pixels, repeat),
                    ]
                )
    return markdown_table(["scheduler", "chunks", "output Mpx/s"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="size 1024, 3 rounds")
    parser.add_argument("--no-distributed", action="store_true")
    args = parser.parse_args()
    size, repeat = (1024, 3) if args.quick else (args.size, args.repeat)
    rng = np.random.default_rng(0)
    x = rng.random((1, 3, size, size), dtype=np.float32)
    chunk_sizes = [c for c in (128, 256, 512, 1024) if c <= size]
    print(
        f"# Dask scaling: float32 (1, 3, {size}, {size}); {os.cpu_count()} CPUs visible, "
        f"{up.get_num_threads()} kernel threads per call; dask {dask.__version__}\n"
    )
    print(overhead(x, chunk_sizes, repeat, rng), "\n")
    print(scaling(x, chunk_sizes, repeat, not args.no_distributed))


if __name__ == "__main__":
    main()
