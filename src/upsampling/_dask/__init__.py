"""Dask arrays through the operators, equal to the in-memory result at every chunk seam.

The public functions hand a ``dask.array.Array`` here (:func:`upsampling._backend.is_dask`;
this package is the only place that imports dask, and only when such an array arrives). Each
operator becomes one lazy array, one task per output chunk (:mod:`.graph`), whose chunks run
the NumPy path (:mod:`.operators`; ``deblur``, which cannot be exact everywhere, in
:mod:`.deblurring`):

* Chunks along ``N`` and ``C`` stay as they are (``conv`` and ``conv_transpose`` mix channels:
  ``C`` becomes one chunk there).
* Along each spatial axis the output chunk boundaries are the input's times the scale,
  ``b * out // in`` (:func:`upsampling.shapes.chunk_bounds`), and each output chunk is computed
  from the input positions its outputs read, in global coordinates (the "span":
  :func:`upsampling.shapes.conv_span`, :func:`upsampling.shapes.conv_transpose_span`, and for
  interpolation the taps of the global per-axis weight tables). That is a halo of the filter
  support, the kernel extent, or anything at all (a region of interest, a down-sampling
  antialiasing kernel): the span is gathered from the input chunks it overlaps, so no halo
  depth has to fit in a chunk and chunks of one pixel work.
* Every output element is therefore the same sum of the same products as in memory.
  Interpolation applies the rows of the global tables in the global pass order: bit for bit.
  Unpooling copies. Convolutions run im2col + BLAS on the chunk: BLAS may block a smaller
  product differently, so they agree to float rounding (most chunkings come out bit for bit).
* A task holds its input span and output chunk: memory per worker is set by the chunk size
  times the scale, not by the array, so arrays larger than the cluster's memory stream through
  (``examples/dask_volume.py`` writes one to Zarr).
"""

from .deblurring import deblur
from .operators import conv, conv_transpose, interpolate, unpool

__all__ = ["conv", "conv_transpose", "deblur", "interpolate", "unpool"]
