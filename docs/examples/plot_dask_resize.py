"""
Resizing an image larger than memory with Dask
==============================================

A Dask array in gives a lazy Dask array out: :func:`upsampling.interpolate` builds a graph in
which every output chunk reads only the input chunks (plus the few pixels of halo) that its
filter reaches, so an image that does not fit in memory is resized chunk by chunk and written
to disk as it goes. The sizes here are small so that the page builds in seconds; the code is
the same for a 100 000 x 100 000 scan (and ``upsampling resize`` does it from the command
line).
"""

import tempfile
from pathlib import Path

import dask
import dask.array as da
import matplotlib.pyplot as plt
import numpy as np

import upsampling as up


def tile(block_info=None):
    """One chunk of a synthetic image, computed from its global position (never all at once)."""
    (n0, n1), (c0, c1), (y0, y1), (x0, x1) = block_info[None]["array-location"]
    y, x = np.mgrid[y0:y1, x0:x1].astype(np.float32) / 97.0
    value = 0.5 + 0.25 * np.sin(y * 3.1) * np.cos(x * 2.3) + 0.25 * np.sin(x * y / 7)
    return np.broadcast_to(value, (n1 - n0, c1 - c0, *value.shape)).astype(np.float32)


shape, chunks = (1, 1, 1024, 1024), (1, 1, 256, 256)
image = da.zeros(shape, chunks=chunks, dtype=np.float32).map_blocks(
    lambda b, block_info=None: tile(block_info), dtype=np.float32
)
big = up.interpolate(image, scale_factor=2, mode="bicubic")
print(type(big).__name__, big.shape, big.dtype, "chunks", big.chunksize)
mib = 2**20
print(f"input {image.nbytes / mib:.0f} MiB, output {big.nbytes / mib:.0f} MiB, ", end="")
print(f"{len(big.__dask_graph__())} tasks")

# %%
# Store it chunk by chunk (Zarr is the usual target; a NumPy memory map works the same way),
# then check a region against the in-memory call on the input region it reads.

with tempfile.TemporaryDirectory() as tmp:
    target = np.lib.format.open_memmap(
        Path(tmp) / "big.npy", mode="w+", dtype=np.float32, shape=big.shape
    )
    with dask.config.set(scheduler="threads", num_workers=2):
        da.store(big, target, lock=False)
    # output rows/columns 1000..1100 read input pixels near 500..550: take 480..580
    corner = image[:, :, 480:580, 480:580].compute()
    reference = up.interpolate(corner, scale_factor=2, mode="bicubic")
    inside = reference[:, :, 40:-40, 40:-40]  # away from the crop's own edges
    stored = np.asarray(target[:, :, 1000:1120, 1000:1120])
    print("stored output equals the in-memory call:", np.array_equal(stored, inside))

    fig, axes = plt.subplots(1, 2, figsize=(8, 4), layout="constrained")
    axes[0].imshow(image[0, 0, ::4, ::4], cmap="magma")
    axes[0].set_title("input 1024x1024 (every 4th pixel)", fontsize=10)
    axes[1].imshow(np.asarray(target[0, 0, 1000:1100, 1000:1100]), cmap="magma")
    axes[1].set_title("output 2048x2048, a 100x100 window", fontsize=10)
    for ax in axes:
        ax.axis("off")
    plt.show()
